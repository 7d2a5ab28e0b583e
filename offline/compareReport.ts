// Renders an offline plan comparison as text: destroyed and replaced hosts first and loudly, then each
// resource with the inputs that change. Secret inputs show that they change, never their value.
import { Action, Comparison, InputChange, ResourceChange } from "./compare";

const INSTANCE = "aws:ec2/instance:Instance";
const ORDER: Action[] = ["delete", "replace", "update", "create"];
const MARK: Record<Action, string> = { delete: "-  ", replace: "-/+", update: "~  ", create: "+  ", same: "   " };
const WORD: Record<Action, string> = {
    delete: "DELETE",
    replace: "REPLACE",
    update: "update in place",
    create: "create",
    same: "unchanged",
};

function shown(value: unknown): string {
    if (value === undefined) return "(unset)";
    const text = JSON.stringify(value);
    return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

function changeLine(c: InputChange): string {
    const after = c.afterApply ? "(known after apply)" : shown(c.after);
    const what = c.secret ? "changes (secret, value not shown)" : `${shown(c.before)} -> ${after}`;
    const verdict = c.ignored ? "ignored" : c.forcesReplacement ? "FORCES REPLACEMENT" : "in place";
    return `      ${c.path}: ${what}  [${verdict}${c.note ? `: ${c.note}` : ""}]`;
}

/** Loud lines for hosts that go away: a deleted or replaced instance loses its disk and running state. */
function warnings(resources: ResourceChange[]): string[] {
    const hosts = (action: Action) => resources.filter((r) => r.type === INSTANCE && r.action === action);
    const lines: string[] = [];
    const deleted = hosts("delete");
    if (deleted.length > 0) {
        lines.push(
            `!!! ${deleted.length} instance(s) will be DESTROYED: ${deleted.map((r) => r.name).join(", ")}`,
            "!!! Their root volumes are deleted with them (deleteOnTermination); copy off anything you need first.",
        );
    }
    const replaced = hosts("replace");
    if (replaced.length > 0) {
        lines.push(
            `!!! ${replaced.length} instance(s) will be REPLACED (destroyed, then booted anew): ${replaced.map((r) => r.name).join(", ")}`,
        );
        const keptAmi = replaced.filter((r) => r.changes.some((c) => c.ignored && c.path === "ami"));
        if (keptAmi.length > 0) {
            lines.push(
                `!!! The new image is ignored (ignoreChanges: ami) for ${keptAmi.map((r) => r.name).join(", ")}: the replacement boots the image recorded in state, not the new one.`,
            );
        }
    }
    return lines;
}

function resourceBlock(r: ResourceChange): string[] {
    return [
        `${MARK[r.action]} ${WORD[r.action]}  ${r.type}  ${r.name}`,
        ...r.notes.map((n) => `      ${n}  [FORCES REPLACEMENT]`),
        ...r.changes.map(changeLine),
    ];
}

export function renderComparison(c: Comparison, savedFile: string): string {
    const count = (a: Action) => c.resources.filter((r) => r.action === a).length;
    const header = [
        `jumpgate offline plan comparison: stack ${c.stack}, region ${c.region}`,
        `Compared with ${savedFile} (stack ${c.saved.stack}, region ${c.saved.region}, saved ${c.saved.savedAt}).`,
        "Offline: the program under Pulumi's mock runtime against a simulated AWS; replacement follows the",
        "providers' force-new arguments (offline/forceNew.ts). Not a preview of the deployed stack.",
    ];
    if (c.saved.region !== c.region) header.push(`!!! The region differs (${c.saved.region} -> ${c.region}).`);
    const body = ORDER.flatMap((a) => c.resources.filter((r) => r.action === a).flatMap(resourceBlock));
    const summary =
        `Summary: ${count("create")} to create, ${count("update")} to update in place, ` +
        `${count("replace")} to replace, ${count("delete")} to delete, ${count("same")} unchanged.`;
    const warned = warnings(c.resources);
    return [
        ...header,
        "",
        ...warned,
        ...(warned.length ? [""] : []),
        ...body,
        ...(body.length ? [""] : []),
        summary,
        "",
    ].join("\n");
}
