// The policy pack over what the program registers offline: turns an OfflineRun into the resources a
// policy pack sees (URNs, inputs, outputs, parents, property dependencies), evaluates the pack, and
// builds fixtures by changing one property of a compliant resource.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as path from "node:path";
import { OfflineRun, PlannedResource, PROJECT, resourceKey } from "../../offline/run";
import { PACK_NAME, packArgs, policies } from "../../policies/pack";
import {
    evaluatePolicies,
    Evaluation,
    EvaluateOptions,
    HarnessResource,
    UNKNOWN_STRING,
    Violation,
} from "../../policies/testing/evaluate";

export { PACK_NAME, policies };
export type { Evaluation, HarnessResource, Violation };

const STACK_TYPE = "pulumi:pulumi:Stack";
/** The pack's version, as the SDK reads it from policies/package.json. */
export const PACK_VERSION = (
    JSON.parse(readFileSync(path.resolve(__dirname, "../../policies/package.json"), "utf8")) as { version: string }
).version;

export interface HarnessOptions {
    /**
     * Describe the resources as a first `pulumi preview` does: none exists yet, so their IDs and other
     * computed outputs, and every input built from them, are unknown. Default false (as after `up`).
     */
    preview?: boolean;
}

/** Strings a resource's creation produces (its ID and computed outputs) that other resources may carry. */
function computedStrings(r: PlannedResource): string[] {
    if (!r.custom) return [];
    const out = [r.id];
    for (const [k, v] of Object.entries(r.state)) {
        if (!(k in r.inputs) && typeof v === "string" && v.length >= 12) out.push(v);
    }
    return out;
}

/** The text inside a base64 gzip string (user data sent gzipped), else undefined. */
function gzippedText(value: string): string | undefined {
    if (value.length < 8 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
    const bytes = Buffer.from(value, "base64");
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : undefined;
}

/**
 * Whether `value` (deeply) carries one of `strings`: equal to one, or containing a long one (an ARN in a
 * policy), also inside gzipped user data (a host key there makes it unknown in a first preview).
 */
function carries(value: unknown, strings: string[]): boolean {
    if (typeof value === "string") {
        const text = gzippedText(value) ?? value;
        return strings.some((s) => value === s || (s.length >= 20 && text.includes(s)));
    }
    if (Array.isArray(value)) return value.some((v) => carries(v, strings));
    if (typeof value === "object" && value !== null) return Object.values(value).some((v) => carries(v, strings));
    return false;
}

/** `value` with every string that carries a computed string replaced by the unknown sentinel. */
function unknownIfDerived(value: unknown, strings: string[]): unknown {
    if (typeof value === "string") return carries(value, strings) ? UNKNOWN_STRING : value;
    if (Array.isArray(value)) return value.map((v) => unknownIfDerived(v, strings));
    if (typeof value === "object" && value !== null)
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unknownIfDerived(v, strings)]));
    return value;
}

/**
 * The run's resources as the engine hands them to a policy pack. Property dependencies are derived from
 * values: a property depends on every resource whose ID or computed output it carries (IDs and ARNs
 * here are unique hashes, so this matches what the engine records from the program's Outputs).
 */
export function harnessResources(run: OfflineRun, options: HarnessOptions = {}): HarnessResource[] {
    const byKey = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r]));
    const stack = run.resources.find((r) => r.type === STACK_TYPE);
    const parentOf = (r: PlannedResource): PlannedResource | undefined =>
        r.type === STACK_TYPE ? undefined : r.parent ? byKey.get(r.parent) : stack;
    const urnOf = (r: PlannedResource): string => {
        const types: string[] = [];
        for (let p = parentOf(r); p && p.type !== STACK_TYPE; p = parentOf(p)) types.unshift(p.type);
        return `urn:pulumi:${run.stack}::${PROJECT}::${[...types, r.type].join("$")}::${r.name}`;
    };
    const computed = run.resources.map((r) => ({ r, strings: computedStrings(r) })).filter((c) => c.strings.length);
    const allComputed = computed.flatMap((c) => c.strings);

    return run.resources.map((r): HarnessResource => {
        const propertyDependencies: Record<string, string[]> = {};
        for (const [prop, value] of Object.entries(r.inputs)) {
            const deps = computed.filter((c) => c.r !== r && carries(value, c.strings)).map((c) => urnOf(c.r));
            if (deps.length) propertyDependencies[prop] = deps;
        }
        const inputs = options.preview
            ? (unknownIfDerived(r.inputs, allComputed) as Record<string, unknown>)
            : structuredClone(r.inputs);
        const own = computedStrings(r);
        const outputs: Record<string, unknown> = { ...inputs };
        for (const [k, v] of Object.entries(r.state)) {
            if (!(k in r.inputs))
                outputs[k] = options.preview && typeof v === "string" && own.includes(v) ? UNKNOWN_STRING : v;
        }
        if (r.custom) outputs.id = options.preview ? UNKNOWN_STRING : r.id;
        const parent = parentOf(r);
        return {
            type: r.type,
            name: r.name,
            urn: urnOf(r),
            inputs,
            outputs,
            parent: parent ? urnOf(parent) : undefined,
            propertyDependencies,
        };
    });
}

export interface PackEvaluation extends Evaluation {
    /** Violations of one policy. */
    of(policyName: string): Violation[];
    /** Mandatory violations (what fails `pulumi preview`). */
    mandatory(): Violation[];
}

/** Evaluates the whole pack over a run (or prepared resources), with the pack's own default enforcement. */
export async function evaluatePack(
    input: OfflineRun | HarnessResource[],
    options: EvaluateOptions & HarnessOptions = {},
): Promise<PackEvaluation> {
    const resources = Array.isArray(input) ? input : harnessResources(input, options);
    const result = await evaluatePolicies(policies, resources, {
        packEnforcementLevel: packArgs.enforcementLevel,
        pack: { name: PACK_NAME, version: PACK_VERSION },
        ...options,
    });
    return {
        ...result,
        of: (name) => result.violations.filter((v) => v.policyName === name),
        mandatory: () => result.violations.filter((v) => v.enforcementLevel === "mandatory"),
    };
}

/** A copy of the run in which `change` has edited one resource's properties (inputs, and the same in its state). */
export function withChange(
    run: OfflineRun,
    type: string,
    name: string,
    change: (props: Record<string, unknown>) => void,
): OfflineRun {
    const copy = structuredClone(run);
    const r = copy.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name} in the run`);
    change(r.inputs);
    change(r.state);
    return copy;
}

/** A copy of the run with one more resource (as the program would register it, under `parent`). */
export function withResource(
    run: OfflineRun,
    resource: { type: string; name: string; inputs: Record<string, unknown>; parent?: PlannedResource },
): OfflineRun {
    const copy = structuredClone(run);
    const id = `${resource.type.split(":").pop()!.toLowerCase()}-fixture-${resource.name}`;
    copy.resources.push({
        type: resource.type,
        name: resource.name,
        custom: true,
        id,
        inputs: structuredClone(resource.inputs),
        secretInputs: [],
        state: structuredClone(resource.inputs),
        parent: resource.parent ? resourceKey(resource.parent.type, resource.parent.name) : undefined,
        dependsOn: [],
        ignoreChanges: [],
        aliases: [],
    });
    return copy;
}

/** A copy of the run without one resource. */
export function without(run: OfflineRun, type: string, name: string): OfflineRun {
    const copy = structuredClone(run);
    const before = copy.resources.length;
    copy.resources = copy.resources.filter((r) => !(r.type === type && r.name === name));
    if (copy.resources.length === before) throw new Error(`no ${type} named ${name} in the run`);
    return copy;
}
