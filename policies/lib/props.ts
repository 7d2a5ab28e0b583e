// Reading resource properties that may not be known yet. During `pulumi preview` of resources that do
// not exist yet, IDs and other outputs are unknown and the policy SDK's proxy throws UnknownValueError
// on access; these helpers turn that into an explicit UNKNOWN so a policy can fall back to the
// resource graph (property dependencies) instead of giving up.
import { UnknownValueError } from "./sdk";

/** A value that is not known until the resource is created. */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** `obj[key]`, or UNKNOWN when the preview proxy says it is not known yet. */
export function peek(obj: unknown, key: string | number): unknown {
    if (typeof obj !== "object" || obj === null) return undefined;
    try {
        return (obj as Record<string | number, unknown>)[key];
    } catch (e) {
        if (e instanceof UnknownValueError) return UNKNOWN;
        throw e;
    }
}

/** The elements of the list at `obj[key]` (each possibly UNKNOWN); UNKNOWN if the list itself is; [] if absent. */
export function peekList(obj: unknown, key: string): unknown[] | Unknown {
    const list = peek(obj, key);
    if (list === UNKNOWN) return UNKNOWN;
    if (!Array.isArray(list)) return [];
    const out: unknown[] = [];
    for (let i = 0; i < list.length; i++) out.push(peek(list, i));
    return out;
}

/** The strings of a list property, ignoring unknown elements (callers that care use peekList). */
export function knownStrings(obj: unknown, key: string): string[] {
    const list = peekList(obj, key);
    return list === UNKNOWN ? [] : list.filter((v): v is string => typeof v === "string");
}

export function asString(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** A resource's tags: `tagsAll` (provider default tags included) overlaid with `tags`; unknown values skipped. */
export function tagsOf(props: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of ["tagsAll", "tags"]) {
        const tags = peek(props, key);
        if (typeof tags !== "object" || tags === null) continue;
        for (const name of Object.keys(tags)) {
            const value = peek(tags, name);
            if (typeof value === "string") out[name] = value;
        }
    }
    return out;
}
