// Runs the pack's policies the way the policy SDK's analyzer server does (server.js in @pulumi/policy),
// without the Pulumi CLI: every resource policy's validateResource on each resource's inputs, then
// every stack policy's validateStack on all resources' outputs with parents and property dependencies
// linked. Enforcement levels, per-policy config, not-applicable results and the "can't run during
// preview" advisory for unknown values follow the SDK. Used by the offline tests (test/policies).
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "../lib/sdk";

/** The wire value of an unknown string (what `pulumi preview` sends for a not-yet-known output). */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource as the engine describes it to a policy pack. */
export interface HarnessResource {
    type: string;
    name: string;
    urn: string;
    /** What resource policies see (`analyze`): the resource's inputs. */
    inputs: Record<string, unknown>;
    /** What stack policies see (`analyzeStack`): the resource's outputs, `id` included. */
    outputs: Record<string, unknown>;
    /** URN of the parent resource. */
    parent?: string;
    /** Top-level property name to the URNs of the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
    /** URNs this resource depends on; defaults to every property dependency. */
    dependencies?: string[];
    opts?: Partial<PolicyResourceOptions>;
}

/** Per-policy config as in a `--policy-pack-config` file: a level, or settings with an optional level. */
export type PackConfig = Record<
    string,
    EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

export interface EvaluateOptions {
    config?: PackConfig;
    /** The pack's default enforcement level. Defaults to `advisory`, as in the SDK. */
    packEnforcementLevel?: EnforcementLevel;
    stackTags?: Record<string, string>;
    /** The pack's name and package.json version, which the SDK quotes in its preview advisories. */
    pack?: { name: string; version: string };
}

export interface Violation {
    policyName: string;
    enforcementLevel: EnforcementLevel;
    /** The text the policy passed to reportViolation. */
    message: string;
    /** What the CLI shows: the policy's description, a newline, then the message. */
    diagnostic: string;
    /** The resource in violation: the one validated, or the one a stack policy named. */
    urn?: string;
    phase: "resource" | "stack";
    /** True when the policy could not run because it read a value that is unknown during preview. */
    unknown: boolean;
}

export interface NotApplicable {
    policyName: string;
    urn?: string;
    reason?: string;
}

export interface Evaluation {
    violations: Violation[];
    notApplicable: NotApplicable[];
}

class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

/** The resource class's type token, as validateResourceOfType and isType compare it. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const cls = resourceClass as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
    if (typeof cls.__pulumiType === "string" && cls.__pulumiType.length > 0) return cls.__pulumiType === type;
    return typeof cls.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

const DEFAULT_OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
    return "validateResource" in p && p.validateResource !== undefined;
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return "validateStack" in p && typeof p.validateStack === "function";
}

/** Rejects config the CLI would reject: unknown policies, or keys the policy's schema does not declare. */
function checkConfig(policies: Policies, config: PackConfig): void {
    for (const [name, value] of Object.entries(config)) {
        const policy = policies.find((p) => p.name === name);
        if (!policy) throw new Error(`config for unknown policy ${name}`);
        if (typeof value === "string") continue;
        for (const [key, v] of Object.entries(value)) {
            if (key === "enforcementLevel") continue;
            const schema = policy.configSchema?.properties[key];
            if (!schema) throw new Error(`policy ${name} has no config property ${key}`);
            const type = Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
            const allowed = [schema.type ?? type].flat();
            if (!allowed.includes(type) && !(type === "integer" && allowed.includes("number")))
                throw new Error(`policy ${name}: config ${key} must be ${allowed.join(" or ")}, not ${type}`);
        }
    }
}

export async function evaluatePolicies(
    policies: Policies,
    resources: HarnessResource[],
    options: EvaluateOptions = {},
): Promise<Evaluation> {
    const config = options.config ?? {};
    checkConfig(policies, config);
    const stackTags: ReadonlyMap<string, string> = new Map(Object.entries(options.stackTags ?? {}));
    const violations: Violation[] = [];
    const notApplicable: NotApplicable[] = [];

    const levelOf = (p: Policies[number]): EnforcementLevel => {
        const c = config[p.name];
        const configured = typeof c === "string" ? c : c?.enforcementLevel;
        const level = configured ?? p.enforcementLevel ?? options.packEnforcementLevel ?? "advisory";
        // A violation left after remediation is reported as mandatory, as the SDK does.
        return level === "remediate" ? "mandatory" : level;
    };
    const getConfigFor =
        (p: Policies[number]) =>
        <T extends object>(): T => {
            const c = config[p.name];
            if (c === undefined || typeof c === "string") return {} as T;
            const { enforcementLevel: _level, ...properties } = c;
            return properties as T;
        };
    const reporter =
        (
            p: Policies[number],
            level: EnforcementLevel,
            phase: Violation["phase"],
            defaultUrn?: string,
        ): ReportViolation =>
        (message: string, urn?: string) => {
            violations.push({
                policyName: p.name,
                enforcementLevel: level,
                message,
                diagnostic: message ? `${p.description}\n${message}` : p.description,
                // Resource validations always report against the resource being validated.
                urn: phase === "resource" ? defaultUrn : urn,
                phase,
                unknown: false,
            });
        };
    const handle = (p: Policies[number], e: unknown, phase: Violation["phase"], urn?: string): void => {
        if (e instanceof NotApplicableError) {
            notApplicable.push({ policyName: p.name, urn, reason: e.reason });
        } else if (e instanceof UnknownValueError) {
            const from = options.pack ? ` from policy pack '${options.pack.name}@v${options.pack.version}'` : "";
            const message = `can't run policy '${p.name}'${from} during preview: ${e.message}`;
            violations.push({
                policyName: p.name,
                enforcementLevel: "advisory",
                message,
                diagnostic: message,
                urn,
                phase,
                unknown: true,
            });
        } else {
            throw e;
        }
    };

    for (const r of resources) {
        for (const p of policies) {
            const level = levelOf(p);
            if (level === "disabled" || !isResourcePolicy(p)) continue;
            const validations = [p.validateResource ?? []].flat();
            for (const validation of validations) {
                const props = unknownCheckingProxy(structuredClone(r.inputs));
                const args = {
                    type: r.type,
                    props,
                    urn: r.urn,
                    name: r.name,
                    opts: { ...DEFAULT_OPTIONS, parent: r.parent, ...r.opts },
                    stackTags,
                    isType: (resourceClass: unknown) => isTypeOf(r.type, resourceClass),
                    asType: (resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? props : undefined),
                    getConfig: getConfigFor(p),
                    notApplicable: throwNotApplicable,
                } as ResourceValidationArgs;
                try {
                    await validation(args, reporter(p, level, "resource", r.urn));
                } catch (e) {
                    handle(p, e, "resource", r.urn);
                }
            }
        }
    }

    for (const p of policies) {
        const level = levelOf(p);
        if (level === "disabled" || !isStackPolicy(p)) continue;
        const args: StackValidationArgs = {
            resources: stackResources(resources),
            stackTags,
            getConfig: getConfigFor(p),
            notApplicable: throwNotApplicable,
        };
        try {
            await p.validateStack(args, reporter(p, level, "stack"));
        } catch (e) {
            handle(p, e, "stack");
        }
    }
    return { violations, notApplicable };
}

/** The resources as analyzeStack builds them: outputs behind the unknown-checking proxy, links resolved. */
function stackResources(resources: HarnessResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const list = resources.map((r) => {
        const props = unknownCheckingProxy(structuredClone(r.outputs));
        const resource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: { ...DEFAULT_OPTIONS, parent: r.parent, ...r.opts },
            dependencies: [],
            propertyDependencies: {},
            isType: (resourceClass: unknown) => isTypeOf(r.type, resourceClass),
            asType: (resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? props : undefined),
        } as unknown as PolicyResource;
        byUrn.set(r.urn, resource);
        return resource;
    });
    const resolve = (urns: string[]) => urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => !!x);
    resources.forEach((r, i) => {
        const resource = list[i]!;
        if (r.parent) resource.parent = byUrn.get(r.parent);
        resource.propertyDependencies = Object.fromEntries(
            Object.entries(r.propertyDependencies).map(([k, urns]) => [k, resolve(urns)]),
        );
        resource.dependencies = resolve(r.dependencies ?? [...new Set(Object.values(r.propertyDependencies).flat())]);
    });
    return list;
}
