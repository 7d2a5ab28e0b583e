// A plan saved to a file by `npm run plan -- --save`: every resource with its type, name, parent and
// inputs, so a later run can be compared against it. Secret inputs (user data carries the host private
// keys) are replaced by a salted SHA-256 digest: the file holds no secret, yet a changed secret still
// shows as changed. The salt is random per file, so digests cannot be looked up in precomputed tables.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { OfflineRun } from "./run";

export const PLAN_FORMAT = "jumpgate-offline-plan/1";

/** Stands in for a secret input's value. */
export interface SecretDigest {
    secretDigest: string;
}

export interface SavedResource {
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    /** Inputs as the program registered them, secrets replaced by a `SecretDigest`. */
    inputs: Record<string, unknown>;
}

export interface SavedPlan {
    format: typeof PLAN_FORMAT;
    savedAt: string;
    stack: string;
    region: string;
    /** Hex salt of every digest in this file. */
    salt: string;
    resources: SavedResource[];
}

/** Key order does not change a value; JSON with sorted keys is its canonical form. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

export function secretDigest(value: unknown, salt: string): SecretDigest {
    return { secretDigest: `sha256:${createHash("sha256").update(salt).update(canonical(value)).digest("hex")}` };
}

export function isSecretDigest(value: unknown): value is SecretDigest {
    return (
        typeof value === "object" &&
        value !== null &&
        typeof (value as Record<string, unknown>).secretDigest === "string" &&
        Object.keys(value).length === 1
    );
}

/** Secret inputs of a resource: those the program marked secret, and any holding a private key regardless. */
export function secretInputNames(r: { inputs: Record<string, unknown>; secretInputs: string[] }): Set<string> {
    const names = new Set(r.secretInputs);
    for (const [k, v] of Object.entries(r.inputs)) {
        if (JSON.stringify(v ?? null).includes("PRIVATE KEY")) names.add(k);
    }
    return names;
}

/** The inputs with every secret replaced by its digest under `salt`. */
export function redactedInputs(
    r: { inputs: Record<string, unknown>; secretInputs: string[] },
    salt: string,
): Record<string, unknown> {
    const secret = secretInputNames(r);
    return Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, secret.has(k) ? secretDigest(v, salt) : v]));
}

export function toSavedPlan(run: OfflineRun, salt = randomBytes(16).toString("hex")): SavedPlan {
    return {
        format: PLAN_FORMAT,
        savedAt: new Date().toISOString(),
        stack: run.stack,
        region: run.region,
        salt,
        resources: run.resources.map((r) => ({
            type: r.type,
            name: r.name,
            custom: r.custom,
            ...(r.parent ? { parent: r.parent } : {}),
            inputs: redactedInputs(r, salt),
        })),
    };
}

/** Reads a file written by `--save`; a clear error for anything else. */
export function readSavedPlan(file: string): SavedPlan {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`cannot read saved plan ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const plan = parsed as Partial<SavedPlan>;
    if (plan.format !== PLAN_FORMAT || typeof plan.salt !== "string" || !Array.isArray(plan.resources)) {
        throw new Error(
            `${file} is not a saved jumpgate plan (${PLAN_FORMAT}); write one with: npm run plan -- --save ${file}`,
        );
    }
    return plan as SavedPlan;
}
