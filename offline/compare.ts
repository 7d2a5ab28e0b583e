// Compares the program's offline run with a plan saved earlier: per resource, which inputs change and
// whether the change replaces it (from the providers' force-new arguments in ./forceNew), plus what is
// created and destroyed. Replacement cascades: a resource that reads a replaced resource's id, ARN or
// key gets a new value too, as it would under `pulumi up`.
import { FORCE_NEW, coveredBy } from "./forceNew";
import { SavedPlan, SavedResource, isSecretDigest, secretDigest, secretInputNames } from "./planFile";
import { OfflineRun, PlannedResource, resourceKey } from "./run";

export type Action = "create" | "delete" | "replace" | "update" | "same";

export interface InputChange {
    /** Dot-separated input path (`rootBlockDevice.volumeSize`). */
    path: string;
    /** Shown values; absent for secrets. */
    before?: unknown;
    after?: unknown;
    secret: boolean;
    forcesReplacement: boolean;
    /** Why it replaces, why it is ignored, or what an in-place update does. */
    note?: string;
    /** In the resource's `ignoreChanges`: Pulumi keeps the prior value. */
    ignored: boolean;
    /** The new value comes from a replaced resource and is known only after apply. */
    afterApply?: boolean;
}

export interface ResourceChange {
    type: string;
    name: string;
    action: Action;
    changes: InputChange[];
    /** Replacement reasons that are not one input (parent moved, unknown type). */
    notes: string[];
}

export interface Comparison {
    stack: string;
    region: string;
    saved: { stack: string; region: string; savedAt: string };
    resources: ResourceChange[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Changed leaf paths between two input values; arrays are compared whole. */
function leafChanges(prior: unknown, next: unknown, path: string): { path: string; before: unknown; after: unknown }[] {
    if (isObject(prior) && isObject(next)) {
        const keys = [...new Set([...Object.keys(prior), ...Object.keys(next)])].sort();
        return keys.flatMap((k) => leafChanges(prior[k], next[k], `${path}.${k}`));
    }
    if (isObject(next) && prior === undefined) return leafChanges({}, next, path);
    if (isObject(prior) && next === undefined) return leafChanges(prior, {}, path);
    return JSON.stringify(prior) === JSON.stringify(next) ? [] : [{ path, before: prior, after: next }];
}

/** Decides replacement for one changed path of a resource of `type`. */
function judge(
    type: string,
    path: string,
    next: Record<string, unknown>,
    prior: Record<string, unknown>,
): Pick<InputChange, "forcesReplacement" | "note"> {
    const rule = FORCE_NEW[type];
    if (!rule) return { forcesReplacement: true, note: `no force-new list for ${type}: assumed to replace` };
    if (coveredBy(path, rule.paths)) return { forcesReplacement: true, note: "force-new argument" };
    const top = path.split(".")[0]!;
    const conditional = rule.conditional?.find((c) => c.paths.includes(top));
    if (conditional?.when(next, prior)) return { forcesReplacement: true, note: conditional.because };
    const inPlace = rule.inPlaceNotes?.[top];
    return { forcesReplacement: false, ...(inPlace ? { note: inPlace } : {}) };
}

function inputChanges(saved: SavedResource, current: PlannedResource, salt: string): InputChange[] {
    const secret = secretInputNames(current);
    const keys = [...new Set([...Object.keys(saved.inputs), ...Object.keys(current.inputs)])].sort();
    const changes: InputChange[] = [];
    for (const key of keys) {
        const prior = saved.inputs[key];
        const next = current.inputs[key];
        if (secret.has(key) || isSecretDigest(prior)) {
            const priorDigest = isSecretDigest(prior) ? prior.secretDigest : secretDigest(prior, salt).secretDigest;
            if (priorDigest === secretDigest(next, salt).secretDigest) continue;
            changes.push({
                path: key,
                secret: true,
                ...judge(current.type, key, current.inputs, saved.inputs),
                ignored: false,
            });
            continue;
        }
        for (const c of leafChanges(prior, next, key)) {
            changes.push({
                ...c,
                secret: false,
                ...judge(current.type, c.path, current.inputs, saved.inputs),
                ignored: false,
            });
        }
    }
    return changes.map((c) =>
        current.ignoreChanges.includes(c.path.split(".")[0]!)
            ? { ...c, forcesReplacement: false, ignored: true, note: "in ignoreChanges: Pulumi keeps the prior value" }
            : c,
    );
}

const actionOf = (changes: InputChange[], notes: string[]): Action =>
    notes.length > 0 || changes.some((c) => c.forcesReplacement)
        ? "replace"
        : changes.some((c) => !c.ignored)
          ? "update"
          : "same";

/** Values a replaced resource hands to others that a new resource would not keep: its id and outputs. */
function newValuesOf(r: PlannedResource): string[] {
    const outputs = Object.entries(r.state)
        .filter(([k, v]) => !(k in r.inputs) && typeof v === "string")
        .map(([, v]) => v as string);
    return [r.id, ...outputs].filter((v) => v.length >= 8);
}

const WORD = /[A-Za-z0-9]/;

/** True when `token` occurs in `text` as a whole: `10.42.0.10` is not in `10.42.0.100`. */
function containsToken(text: string, token: string): boolean {
    for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
        const before = text[at - 1] ?? "";
        const after = text[at + token.length] ?? "";
        if (!WORD.test(before) && !WORD.test(after)) return true;
    }
    return false;
}

function stringLeaves(v: unknown): string[] {
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.flatMap(stringLeaves);
    return isObject(v) ? Object.values(v).flatMap(stringLeaves) : [];
}

/** Top-level inputs of `r` whose value contains one of `values`. */
function inputsReading(r: PlannedResource, values: string[]): string[] {
    return Object.entries(r.inputs)
        .filter(([, v]) => stringLeaves(v).some((text) => values.some((x) => containsToken(text, x))))
        .map(([k]) => k);
}

/** Marks inputs that read a replaced resource's values as changing, until nothing new is replaced. */
function cascade(changes: Map<string, ResourceChange>, current: PlannedResource[]): void {
    const byKey = new Map(current.map((r) => [resourceKey(r.type, r.name), r]));
    const done = new Set<string>();
    for (;;) {
        const fresh = [...changes.entries()].filter(([k, c]) => c.action === "replace" && !done.has(k));
        if (fresh.length === 0) return;
        for (const [key] of fresh) {
            done.add(key);
            const replaced = byKey.get(key);
            if (!replaced) continue;
            const values = newValuesOf(replaced);
            for (const r of current) {
                const k = resourceKey(r.type, r.name);
                const change = changes.get(k);
                if (!change || change.action === "create" || k === key || !r.custom) continue;
                for (const input of inputsReading(r, values)) {
                    if (change.changes.some((c) => c.path === input)) continue;
                    const verdict = judge(r.type, input, r.inputs, r.inputs);
                    const ignored = r.ignoreChanges.includes(input);
                    const secret = secretInputNames(r).has(input);
                    change.changes.push({
                        path: input,
                        ...(secret ? {} : { before: r.inputs[input] }),
                        afterApply: true,
                        secret,
                        forcesReplacement: verdict.forcesReplacement && !ignored,
                        note: `gets new values from replaced ${replaced.name}${verdict.note ? `; ${verdict.note}` : ""}`,
                        ignored,
                    });
                }
                change.action = actionOf(change.changes, change.notes);
            }
        }
    }
}

/** Keys of `key`'s ancestors, nearest first, in `parentOf`. */
function ancestors(key: string | undefined, parentOf: Map<string, string | undefined>): string[] {
    const chain: string[] = [];
    for (let k = key; k !== undefined && !chain.includes(k); k = parentOf.get(k)) chain.push(k);
    return chain;
}

/**
 * Whether a resource keeps its URN: the URN holds the types of all its ancestors, so each ancestor must be
 * the saved one, or carry it as an alias (Pulumi derives the children's aliases from the parent's).
 */
function sameLineage(
    savedParent: string | undefined,
    saved: SavedPlan,
    currentParent: string | undefined,
    run: OfflineRun,
): boolean {
    const before = ancestors(savedParent, new Map(saved.resources.map((r) => [resourceKey(r.type, r.name), r.parent])));
    const after = ancestors(currentParent, new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r.parent])));
    const aliasesOf = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r.aliases]));
    return (
        before.length === after.length &&
        after.every((k, i) => k === before[i] || (aliasesOf.get(k) ?? []).includes(before[i]!))
    );
}

export function comparePlans(saved: SavedPlan, run: OfflineRun): Comparison {
    const customOnly = <T extends { custom: boolean }>(xs: T[]) => xs.filter((r) => r.custom);
    const savedByKey = new Map(customOnly(saved.resources).map((r) => [resourceKey(r.type, r.name), r]));
    const current = customOnly(run.resources);
    const changes = new Map<string, ResourceChange>();
    for (const r of current) {
        const key = resourceKey(r.type, r.name);
        const prior = savedByKey.get(key);
        if (!prior) {
            changes.set(key, { type: r.type, name: r.name, action: "create", changes: [], notes: [] });
            continue;
        }
        const inputs = inputChanges(prior, r, saved.salt);
        const notes = sameLineage(prior.parent, saved, r.parent, run)
            ? []
            : [`parent changes (${prior.parent} -> ${r.parent}): a new URN`];
        changes.set(key, { type: r.type, name: r.name, action: actionOf(inputs, notes), changes: inputs, notes });
    }
    cascade(changes, current);
    for (const [key, r] of savedByKey) {
        if (!changes.has(key))
            changes.set(key, { type: r.type, name: r.name, action: "delete", changes: [], notes: [] });
    }
    return {
        stack: run.stack,
        region: run.region,
        saved: { stack: saved.stack, region: saved.region, savedAt: saved.savedAt },
        resources: [...changes.values()],
    };
}
