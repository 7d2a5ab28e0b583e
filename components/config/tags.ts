// User tags on every resource, within what AWS takes next to jumpgate's own tags.
import { ConfigReader, setPath } from "./reader";
import { ConfigProblem } from "./types";

/** `tags`: a map of string to string. */
export function readTags(r: ConfigReader): Record<string, string> {
    const tags = r.json<unknown>("tags", {}, setPath("tags.CostCenter", "platform"));
    if (
        tags === null ||
        typeof tags !== "object" ||
        Array.isArray(tags) ||
        !Object.values(tags).every((v) => typeof v === "string")
    ) {
        r.problem(
            "tags",
            JSON.stringify(tags),
            "must be a map of string to string",
            setPath("tags.CostCenter", "platform"),
        );
    }
    return tags as Record<string, string>;
}

/**
 * Most tags jumpgate adds to one resource (a bastion hop: Name, jumpgate:stack/role/hop/bastion/image,
 * ManagedBy, Project).
 */
export const OWN_TAGS_MAX = 8;

/** AWS takes at most 50 tags per resource, keys up to 128 and values up to 256 characters, no `aws:` keys. */
export function tagProblems(tags: unknown): ConfigProblem[] {
    if (tags === null || typeof tags !== "object" || Array.isArray(tags)) return [];
    const entries = Object.entries(tags as Record<string, string>);
    const problems: ConfigProblem[] = [];
    const room = 50 - OWN_TAGS_MAX;
    if (entries.length > room) {
        const extra = entries.length - room;
        problems.push({
            key: "tags",
            value: `${entries.length} tags`,
            message: `AWS takes at most 50 tags per resource and jumpgate adds up to ${OWN_TAGS_MAX}, so at most ${room} fit`,
            fix:
                `pulumi config rm --path 'tags.${entries[entries.length - 1]![0]}'` +
                (extra > 1 ? `  (and ${extra - 1} more)` : ""),
        });
    }
    for (const [key, value] of entries) {
        const why = key.toLowerCase().startsWith("aws:")
            ? "starts with aws:, a prefix AWS reserves for its own tags"
            : key.length > 128
              ? `is ${key.length} characters long; AWS allows tag keys of at most 128`
              : value.length > 256
                ? `has a value of ${value.length} characters; AWS allows at most 256`
                : undefined;
        if (why)
            problems.push({ key: `tags.${key}`, value, message: why, fix: `pulumi config rm --path 'tags.${key}'` });
    }
    return problems;
}
