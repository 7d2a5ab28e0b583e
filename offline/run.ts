// Runs the real program (the function index.ts calls) under Pulumi's mock runtime against the simulated
// AWS, and returns what it registered: resources with their parents, invokes, and resolved stack outputs
// with which ones are secret. Used by `npm run plan`, the tests, the policy tests and the lab.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { DEFAULTS, readSettings } from "../components/config";
import { jumpgateKeys, jumpgateProgram } from "../components/program";
import { SimCall, SimResource, SimulatedAws, SimulatedAwsOptions } from "./simulatedAws";

export const PROJECT = "jumpgate";

export interface OfflineRunOptions {
    stack: string;
    /** Stack config as in `Pulumi.<stack>.yaml` (`jumpgate:key` or plain `key`, `aws:region`). */
    config: Record<string, unknown>;
    /** Deterministic keys for plans and tests, random keys for hosts that will really run. Defaults to deterministic. */
    keys?: SimulatedAwsOptions["keys"];
    existingSubnets?: SimulatedAwsOptions["existingSubnets"];
    /** Security groups that exist already; defaults to each configured existing host's, in the existing VPC. */
    existingSecurityGroups?: SimulatedAwsOptions["existingSecurityGroups"];
    /** Publication date of the newest image of every AMI series (see SimulatedAwsOptions). */
    newestImage?: string;
    /**
     * What earlier deploys recorded in Stash resources, by resource name, as a stack's state holds it.
     * Without an entry a Stash is new and records its input, as on a first `pulumi up`.
     */
    stashed?: Record<string, unknown>;
    /**
     * Another program to run instead of the standalone one (an example, or a test's own use of the
     * library): it returns its stack outputs. Its config is not pre-validated here; it validates itself.
     */
    program?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
    /** The project name of `program` (URNs and `pulumi.getProject()`). Defaults to `jumpgate`. */
    project?: string;
    /**
     * Component types (e.g. `jumpgate:index:Jumpgate`) whose output properties to resolve into
     * `OfflineRun.componentOutputs`: what a program's own use of a component produced, whatever it exports.
     */
    componentOutputs?: string[];
}

/** Pulumi's built-in Stash: its output is the input it was created with, until it is replaced. */
const STASH = "pulumi:index:Stash";

/** A registered resource and the component it belongs to. */
export interface PlannedResource extends SimResource {
    /** `type::name` of the parent resource, undefined for the stack itself. */
    parent?: string;
    /** `type::name` of each resource named in its `dependsOn` option. */
    dependsOn: string[];
    /** Input names in its `ignoreChanges` option: Pulumi keeps their prior value on update and replace. */
    ignoreChanges: string[];
    /** `type::name` of each alias in its `aliases` option: earlier identities Pulumi keeps its state under. */
    aliases: string[];
}

export interface OfflineRun {
    stack: string;
    region: string;
    resources: PlannedResource[];
    calls: SimCall[];
    /** Stack outputs, resolved (secrets in clear: check `secretOutputs` before showing them). */
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    /** With `componentOutputs`: each such component's resolved output properties (secrets in clear), by resource key. */
    componentOutputs?: Record<string, Record<string, unknown>>;
}

/** `resourceKey(type, name)` is how `parent` refers to a resource. */
export const resourceKey = (type: string, name: string) => `${type}::${name}`;

/** Reads `Pulumi.<stack>.yaml` from the project directory (the working directory, as for the Pulumi CLI). */
export function readStackConfig(stack: string, dir = process.cwd()): Record<string, unknown> {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch {
        throw new Error(`no stack config ${file}; create it (see Pulumi.dev.yaml) or pass another --stack`);
    }
    const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    return doc.config ?? {};
}

/** Config values as the Pulumi engine hands them to the program: namespaced keys, JSON for non-strings. */
function engineConfig(config: Record<string, unknown>, project: string): Record<string, string> {
    return Object.fromEntries(
        Object.entries(config).map(([key, value]) => [
            key.includes(":") ? key : `${project}:${key}`,
            typeof value === "string" ? value : JSON.stringify(value),
        ]),
    );
}

/**
 * Subnets for an existing-VPC stack planned offline: every listed subnet exists in the configured VPC,
 * with /20 blocks of 172.31.0.0/16 (the shape of a default VPC), public ones first.
 */
function simulatedExistingSubnets(raw: string | undefined): SimulatedAwsOptions["existingSubnets"] {
    if (!raw) return undefined;
    const vpc = JSON.parse(raw) as { vpcId?: string; publicSubnetIds?: string[]; privateSubnetIds?: string[] };
    const ids = [...(vpc.publicSubnetIds ?? []), ...(vpc.privateSubnetIds ?? [])];
    return Object.fromEntries(
        ids.map((id, i) => [id, { vpcId: vpc.vpcId ?? "", cidrBlock: `172.31.${(i * 16) % 256}.0/20` }]),
    );
}

/** `type::name` of the object aliases (a URN alias names no type here: the program uses none). */
function aliasKeys(type: string, name: string, aliases: pulumi.ResourceOptions["aliases"]): string[] {
    return (aliases ?? []).flatMap((a) => {
        if (typeof a === "string" || pulumi.Output.isInstance(a)) return [];
        const alias = a as pulumi.Alias;
        const aliasType = typeof alias.type === "string" ? alias.type : type;
        const aliasName = typeof alias.name === "string" ? alias.name : name;
        return [resourceKey(aliasType, aliasName)];
    });
}

/**
 * The account's Elastic IP quota as the stack config states it (`jumpgate:elasticIpQuota`, also when the
 * standalone program runs as a program directory), else AWS's default.
 */
function configuredQuota(config: Record<string, string>): number {
    const quota = Number(config[`${PROJECT}:elasticIpQuota`]);
    return Number.isInteger(quota) && quota > 0 ? quota : DEFAULTS.elasticIpQuota;
}

/** An existing-VPC stack planned offline: each existing host's security group exists in the configured VPC. */
function simulatedExistingSecurityGroups(
    rawVpc: string | undefined,
    rawHosts: string | undefined,
): SimulatedAwsOptions["existingSecurityGroups"] {
    if (!rawVpc || !rawHosts) return undefined;
    const vpcId = (JSON.parse(rawVpc) as { vpcId?: string }).vpcId ?? "";
    const hosts = JSON.parse(rawHosts) as { securityGroupId?: string }[];
    return Object.fromEntries(hosts.map((h) => [String(h.securityGroupId), { vpcId }]));
}

/** Runs the program once, offline. Rejects with the program's error (e.g. the config validation message). */
export async function runOffline(options: OfflineRunOptions): Promise<OfflineRun> {
    const config = engineConfig(options.config, options.project ?? PROJECT);
    // Validate first, outside the runtime: a failed run leaves the mock runtime unusable for the next
    // run in the same process. The program validates again itself, exactly as under `pulumi up`.
    const settings =
        options.program === undefined
            ? readSettings((key) => config[`${PROJECT}:${key}`], options.stack, jumpgateKeys(config))
            : undefined;
    const region = config["aws:region"] ?? "us-east-1";
    const sim = new SimulatedAws({
        stack: options.stack,
        region,
        keys: options.keys ?? "deterministic",
        elasticIpQuota: settings?.elasticIpQuota ?? configuredQuota(config),
        existingSubnets: options.existingSubnets ?? simulatedExistingSubnets(config[`${PROJECT}:existingVpc`]),
        existingSecurityGroups:
            options.existingSecurityGroups ??
            simulatedExistingSecurityGroups(config[`${PROJECT}:existingVpc`], config[`${PROJECT}:existingHosts`]),
        newestImage: options.newestImage,
    });
    // The engine, not AWS, keeps a Stash's value; the simulated AWS still records the resource.
    const engine: pulumi.runtime.Mocks = {
        call: (args) => sim.call(args),
        newResource: (args) => {
            const result = sim.newResource(args) as { id: string | undefined; state: Record<string, unknown> };
            if (args.type === STASH) {
                const inputs = args.inputs as { input?: unknown };
                result.state.output = options.stashed?.[args.name] ?? inputs.input;
            }
            return result;
        },
    };
    pulumi.runtime.setAllConfig(config);
    await pulumi.runtime.setMocks(engine, options.project ?? PROJECT, options.stack, false);

    const parents = new Map<string, string | undefined>();
    const dependsOn = new Map<string, string[]>();
    const ignoreChanges = new Map<string, string[]>();
    const aliases = new Map<string, string[]>();
    // Constructor order is deterministic; the order registrations reach the engine is not.
    const order = new Map<string, number>();

    const keyOf = new WeakMap<pulumi.Resource, string>();
    const components: [string, pulumi.Resource][] = [];
    const secretOutputs: string[] = [];
    let programError: unknown;
    let componentOutputs: OfflineRun["componentOutputs"];
    // An apply that throws (e.g. an existing subnet in another VPC) fails `pulumi up` through an
    // unhandled rejection; here it fails the run the same way.
    // A resource whose input failed is never registered, so the stack would wait forever: fail the run.
    let failRun: (reason: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (failRun = reject));
    const onRejection = (reason: unknown) => {
        programError ??= reason;
        failRun(programError);
    };
    process.on("unhandledRejection", onRejection);
    const running = pulumi.runtime
        .runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation((args) => {
                const key = resourceKey(args.type, args.name);
                keyOf.set(args.resource, key);
                if (options.componentOutputs?.includes(args.type)) components.push([key, args.resource]);
                order.set(key, order.size);

                parents.set(key, args.opts.parent ? keyOf.get(args.opts.parent) : undefined);
                ignoreChanges.set(key, args.opts.ignoreChanges ?? []);
                aliases.set(key, aliasKeys(args.type, args.name, args.opts.aliases));
                const explicit = args.opts.dependsOn;
                const list = Array.isArray(explicit) ? explicit : explicit ? [explicit] : [];
                dependsOn.set(
                    key,
                    list.flatMap((d) => (pulumi.Resource.isInstance(d) ? [keyOf.get(d) ?? "?"] : [])),
                );
                return undefined;
            });
            try {
                const outs = await (options.program ?? jumpgateProgram)();
                for (const [name, value] of Object.entries(outs)) {
                    if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value as pulumi.Output<unknown>))) {
                        secretOutputs.push(name);
                    }
                }
                if (options.componentOutputs) componentOutputs = await resolveComponentOutputs(components);
                return outs;
            } catch (e) {
                programError = e;
                throw e;
            }
        })
        .catch((e: unknown) => {
            throw programError ?? e;
        });
    const outputs = await Promise.race([running, failed]).catch(async (e: unknown) => {
        // One failed input fails every resource that reads it, each on a later turn: they belong to this
        // failed run (as `pulumi up` reports one error), so they drain here before the handler goes.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        process.off("unhandledRejection", onRejection);
        throw e;
    });
    // Let the stack's own output registration drain, or it lands in the next run's mock monitor.
    await pulumi.runtime.disconnect();
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    if (programError) throw programError;

    // A remote component's children (e.g. awsx.ec2.Vpc's) never pass the program: they rank with it.
    const byKey = new Map(sim.resources.map((r) => [resourceKey(r.type, r.name), r]));
    const rank = (r: SimResource): number => {
        const own = order.get(resourceKey(r.type, r.name));
        const parent = r.parent ? byKey.get(r.parent) : undefined;
        return own ?? (parent ? rank(parent) : -1);
    };
    const resources = [...sim.resources]
        .sort((a, b) => rank(a) - rank(b))
        .map((r) => {
            const key = resourceKey(r.type, r.name);
            return {
                ...r,
                parent: parents.get(key) ?? r.parent,
                dependsOn: dependsOn.get(key) ?? [],
                ignoreChanges: ignoreChanges.get(key) ?? [],
                aliases: aliases.get(key) ?? [],
            };
        });
    return {
        stack: options.stack,
        region,
        resources,
        calls: sim.calls,
        outputs: Object.fromEntries(Object.entries(outputs ?? {}).filter(([, v]) => v !== undefined)),
        secretOutputs,
        ...(componentOutputs === undefined ? {} : { componentOutputs }),
    };
}

/** The `Output` properties a component set on itself (its public outputs), resolved. */
async function resolveComponentOutputs(
    components: [string, pulumi.Resource][],
): Promise<Record<string, Record<string, unknown>>> {
    const resolved: Record<string, Record<string, unknown>> = {};
    for (const [key, resource] of components) {
        const entries = Object.entries(resource).filter(
            ([name, value]) => name !== "urn" && !name.startsWith("__") && pulumi.Output.isInstance(value),
        ) as [string, pulumi.Output<unknown>][];
        const values = await Promise.all(
            entries.map(([, value]) => new Promise<unknown>((resolve) => value.apply((v) => resolve(v)))),
        );
        resolved[key] = Object.fromEntries(
            entries.map(([name], i) => [name, values[i]]).filter(([, v]) => v !== undefined),
        );
    }
    return resolved;
}
