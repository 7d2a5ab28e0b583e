// From a program's `JumpgateArgs` to validated settings, and from stack config to `JumpgateArgs`. The
// arguments are written out as the stack config they mirror and read by the same reader, so a library
// user gets every problem at once with the same messages, named by argument. Inputs that are not yet
// known (outputs of the user's resources) stand in as valid placeholders and are checked on resolve.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigProblem, ConfigSource, CONFIG_KEYS, JumpgateSettings, readSettings } from "./config";
import { hostPublicKeyProblem, privateIpProblem, securityGroupIdProblem } from "./config/existingHosts";
import { subnetIdProblem, vpcIdProblem } from "./config/network";
import { HostArgs, JumpgateArgs, NetworkArgs } from "./jumpgateArgs";

/** Keys of NetworkArgs and the config key each stands for. */
const NETWORK_KEYS: Record<keyof NetworkArgs, string> = {
    vpcCidr: "vpcCidr",
    azCount: "azCount",
    natGateways: "natGateways",
    flowLogRetentionDays: "flowLogRetentionDays",
    vpcId: "existingVpc.vpcId",
    publicSubnetIds: "existingVpc.publicSubnetIds",
    privateSubnetIds: "existingVpc.privateSubnetIds",
};
const HOST_KEYS: readonly (keyof HostArgs)[] = [
    "name",
    "instanceType",
    "privateIp",
    "securityGroupId",
    "loginUser",
    "sshPort",
    "hostPublicKey",
];
const EXISTING_ONLY: readonly (keyof HostArgs)[] = ["securityGroupId", "loginUser", "sshPort", "hostPublicKey"];
/** Top-level arguments that are config keys as they are. */
const PLAIN_KEYS = CONFIG_KEYS.filter(
    (k) =>
        ![
            "vpcCidr",
            "azCount",
            "natGateways",
            "flowLogRetentionDays",
            "existingVpc",
            "targets",
            "existingHosts",
        ].includes(k),
);

/** Thrown with every problem of a program's arguments; nothing has been created. */
export class JumpgateArgsError extends pulumi.RunError {
    constructor(
        readonly component: string,
        readonly problems: ConfigProblem[],
    ) {
        // A RunError is shown without a stack trace: the message says everything.
        super(formatArgProblems(component, problems));
        this.name = "JumpgateArgsError";
    }
}

function formatArgProblems(component: string, problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
        // Config commands do not apply to a program; any other fix does.
        const fix = p.fix.startsWith("pulumi config") ? "" : `\n      fix: ${p.fix}`;
        return `  - ${p.key} = ${shown}: ${p.message}${fix}`;
    });
    const n = problems.length;
    return `jumpgate: ${n} problem${n === 1 ? "" : "s"} with the arguments of Jumpgate "${component}", nothing was created:\n${lines.join("\n")}`;
}

/** An Input checked now when it is a plain string, else when it resolves (same message either way). */
interface Deferred {
    key: string;
    value: pulumi.Input<string>;
    why: (v: string) => string | undefined;
}

/** Where each built and existing host of `hosts` landed in the config lists (to name problems by argument). */
interface HostIndex {
    targets: number[];
    existing: number[];
}

/** The config a program's arguments stand for, with placeholders for Inputs not known yet. */
export function configOfArgs(args: JumpgateArgs): {
    values: Record<string, string>;
    deferred: Deferred[];
    hostIndex: HostIndex;
    problems: ConfigProblem[];
} {
    const values: Record<string, string> = {};
    const deferred: Deferred[] = [];
    const problems: ConfigProblem[] = [];
    const put = (key: string, v: unknown) => {
        if (v === undefined) return;
        if (pulumi.Output.isInstance(v) || v instanceof Promise) {
            problems.push({
                key,
                value: undefined,
                message: "must be a plain value, not an output: it decides which resources exist",
                fix: `pass ${key} as a value known when the program runs`,
            });
            return;
        }
        values[key] = typeof v === "string" ? v : JSON.stringify(v);
    };
    for (const key of Object.keys(args)) {
        if (!PLAIN_KEYS.includes(key) && key !== "network" && key !== "hosts" && key !== "environment")
            problems.push(unknown(key, "Jumpgate"));
    }
    for (const key of PLAIN_KEYS) put(key, (args as Record<string, unknown>)[key]);
    networkConfig(args.network, put, deferred, problems);
    const hostIndex = hostsConfig(args.hosts, put, deferred, problems);
    return { values, deferred, hostIndex, problems };
}

function unknown(key: string, of: string): ConfigProblem {
    return { key, value: undefined, message: `is not an argument of ${of}`, fix: `remove ${key}` };
}

/** A placeholder for an Input that is not a string yet; the real value is checked when it resolves. */
function known(value: pulumi.Input<string>, placeholder: string): string {
    return typeof value === "string" ? value : placeholder;
}

function networkConfig(
    network: NetworkArgs | undefined,
    put: (key: string, v: unknown) => void,
    deferred: Deferred[],
    problems: ConfigProblem[],
): void {
    if (network === undefined) return;
    for (const key of Object.keys(network))
        if (!(key in NETWORK_KEYS)) problems.push(unknown(`network.${key}`, "NetworkArgs"));
    put("vpcCidr", network.vpcCidr);
    put("azCount", network.azCount);
    put("natGateways", network.natGateways);
    put("flowLogRetentionDays", network.flowLogRetentionDays);
    const { vpcId, publicSubnetIds, privateSubnetIds } = network;
    if (vpcId === undefined && publicSubnetIds === undefined && privateSubnetIds === undefined) return;
    // Placeholders differ between the lists, which must not share a subnet.
    const ids = (list: pulumi.Input<string>[] | undefined, key: string, prefix: string) =>
        list?.map((id, i) => {
            deferred.push({ key: `network.${key}[${i}]`, value: id, why: subnetIdProblem });
            return known(id, `subnet-${prefix}${i.toString(16).padStart(7, "0")}`);
        });
    if (vpcId !== undefined) deferred.push({ key: "network.vpcId", value: vpcId, why: vpcIdProblem });
    put("existingVpc", {
        vpcId: vpcId === undefined ? undefined : known(vpcId, "vpc-00000000"),
        publicSubnetIds: ids(publicSubnetIds, "publicSubnetIds", "a"),
        privateSubnetIds: ids(privateSubnetIds, "privateSubnetIds", "b"),
    });
}

function hostsConfig(
    hosts: HostArgs[] | undefined,
    put: (key: string, v: unknown) => void,
    deferred: Deferred[],
    problems: ConfigProblem[],
): HostIndex {
    const index: HostIndex = { targets: [], existing: [] };
    if (hosts === undefined) return index;
    const targets: unknown[] = [];
    const existing: unknown[] = [];
    hosts.forEach((h, i) => {
        const key = `hosts[${i}]`;
        for (const k of Object.keys(h))
            if (!(HOST_KEYS as string[]).includes(k)) problems.push(unknown(`${key}.${k}`, "HostArgs"));
        if (h.privateIp === undefined) {
            for (const k of EXISTING_ONLY)
                if (h[k] !== undefined)
                    problems.push({
                        key: `${key}.${k}`,
                        value: undefined,
                        message: "applies only to an existing host (one with privateIp)",
                        fix: `remove ${k}, or give the existing host's privateIp`,
                    });
            index.targets.push(i);
            targets.push({ name: h.name, ...(h.instanceType === undefined ? {} : { instanceType: h.instanceType }) });
            return;
        }
        if (h.instanceType !== undefined)
            problems.push({
                key: `${key}.instanceType`,
                value: h.instanceType,
                message: "an existing host (one with privateIp) is not built, so it has no instance type",
                fix: "remove instanceType, or privateIp to have jumpgate build the host",
            });
        index.existing.push(i);
        existing.push(existingHostConfig(h, key, deferred));
    });
    put("targets", targets);
    if (existing.length > 0) put("existingHosts", existing);
    return index;
}

function existingHostConfig(h: HostArgs, key: string, deferred: Deferred[]): Record<string, unknown> {
    deferred.push({ key: `${key}.privateIp`, value: h.privateIp!, why: privateIpProblem });
    if (h.securityGroupId !== undefined)
        deferred.push({ key: `${key}.securityGroupId`, value: h.securityGroupId, why: securityGroupIdProblem });
    if (h.hostPublicKey !== undefined)
        deferred.push({ key: `${key}.hostPublicKey`, value: h.hostPublicKey, why: hostPublicKeyProblem });
    return {
        name: h.name,
        privateIp: known(h.privateIp!, "10.0.0.1"),
        securityGroupId: h.securityGroupId === undefined ? undefined : known(h.securityGroupId, "sg-00000000"),
        loginUser: h.loginUser,
        sshPort: h.sshPort,
        // A key not known yet is checked on resolve; the reader only sees known ones.
        hostPublicKey: typeof h.hostPublicKey === "string" ? h.hostPublicKey : undefined,
    };
}

/** A config key of a problem, as the argument it came from. */
function argKey(key: string, hostIndex: HostIndex): string {
    for (const [arg, configKey] of Object.entries(NETWORK_KEYS))
        if (key === configKey || key.startsWith(`${configKey}[`)) return `network.${arg}${key.slice(configKey.length)}`;
    if (key === "existingVpc") return "network";
    const m = /^(targets|existingHosts)(?:\[(\d+)\])?(.*)$/.exec(key);
    if (!m) return key;
    if (m[2] === undefined) return "hosts";
    const list = m[1] === "targets" ? hostIndex.targets : hostIndex.existing;
    return `hosts[${list[Number(m[2])] ?? m[2]}]${m[3]}`;
}

/**
 * Validated settings of a program's arguments; throws JumpgateArgsError listing every problem. Inputs
 * that are outputs go into the settings as checked outputs: a bad value fails the update when it
 * resolves, with the message it would have had as a plain value.
 */
export function settingsFromArgs(component: string, args: JumpgateArgs, environment: string): JumpgateSettings {
    const { values, deferred, hostIndex, problems } = configOfArgs(args);
    // Plain values go to the reader, which checks them; only outputs wait for `checkedInputs`.
    let settings: JumpgateSettings | undefined;
    try {
        settings = readSettings((k) => values[k], environment, Object.keys(values));
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems.map((p) => ({ ...p, key: argKey(p.key, hostIndex) })));
    }
    if (problems.length > 0 || settings === undefined) throw new JumpgateArgsError(component, problems);
    return withInputs(settings, args, checkedInputs(component, deferred));
}

/** Each deferred Input as an Output that fails on resolve with its problem. */
function checkedInputs(component: string, deferred: Deferred[]): Map<string, pulumi.Input<string>> {
    const checked = new Map<string, pulumi.Input<string>>();
    // One input object given for several arguments (a group's id for two hosts) stays one object, so the
    // component can still tell that the hosts share it.
    const byInput = new Map<object, pulumi.Output<string>>();
    for (const d of deferred) {
        if (typeof d.value === "string") {
            checked.set(d.key, d.value);
            continue;
        }
        const same = byInput.get(d.value);
        if (same !== undefined) {
            checked.set(d.key, same);
            continue;
        }
        byInput.set(
            d.value,
            pulumi.output(d.value).apply((v) => {
                const why = d.why(v);
                if (why !== undefined)
                    throw new JumpgateArgsError(component, [{ key: d.key, value: v, message: why, fix: "" }]);
                return v;
            }),
        );
        checked.set(d.key, byInput.get(d.value)!);
    }
    return checked;
}

/** The settings the reader made from placeholders, with the program's real (checked) Inputs put back. */
function withInputs(
    settings: JumpgateSettings,
    args: JumpgateArgs,
    checked: Map<string, pulumi.Input<string>>,
): JumpgateSettings {
    const get = (key: string) => checked.get(key)!;
    const network =
        settings.network.kind === "existing"
            ? {
                  kind: "existing" as const,
                  vpcId: get("network.vpcId"),
                  publicSubnetIds: settings.network.publicSubnetIds.map((_, i) => get(`network.publicSubnetIds[${i}]`)),
                  privateSubnetIds: settings.network.privateSubnetIds.map((_, i) =>
                      get(`network.privateSubnetIds[${i}]`),
                  ),
              }
            : settings.network;
    const hostAt = (name: string) => (args.hosts ?? []).findIndex((h) => h.name === name);
    const existingHosts = settings.existingHosts.map((h) => {
        const key = `hosts[${hostAt(h.name)}]`;
        const hostPublicKey = checked.get(`${key}.hostPublicKey`);
        const { hostPublicKey: _placeholder, ...rest } = h;
        return {
            ...rest,
            privateIp: get(`${key}.privateIp`),
            securityGroupId: get(`${key}.securityGroupId`),
            ...(hostPublicKey === undefined ? {} : { hostPublicKey }),
        };
    });
    return { ...settings, network, existingHosts };
}

/** The arguments a validated stack config stands for: what the standalone program passes to `Jumpgate`. */
export function argsOfConfig(source: ConfigSource): JumpgateArgs {
    const raw = (key: string): unknown => {
        const v = source(key);
        if (v === undefined || v === "") return undefined;
        try {
            return JSON.parse(v);
        } catch {
            return v; // a plain string value
        }
    };
    const args: Record<string, unknown> = {};
    for (const key of PLAIN_KEYS) {
        const v = source(key);
        // Strings stay strings (a tag value "123" is not a number); the rest is JSON.
        if (v !== undefined && v !== "") args[key] = STRING_KEYS.includes(key) ? v : raw(key);
    }
    const existingVpc = raw("existingVpc") as NetworkArgs | undefined;
    const network: NetworkArgs = { ...existingVpc };
    for (const key of ["vpcCidr", "azCount", "natGateways", "flowLogRetentionDays"] as const) {
        const v = key === "vpcCidr" || key === "natGateways" ? source(key) : raw(key);
        if (v !== undefined && v !== "") (network as Record<string, unknown>)[key] = v;
    }
    if (Object.keys(network).length > 0) args.network = network;
    const targets = raw("targets") as (string | HostArgs)[] | undefined;
    const existingHosts = raw("existingHosts") as HostArgs[] | undefined;
    if (targets !== undefined || existingHosts !== undefined) {
        args.hosts = [
            ...(targets ?? DEFAULT_TARGETS).map((t) => (typeof t === "string" ? { name: t } : t)),
            ...(existingHosts ?? []),
        ];
    }
    return args as JumpgateArgs;
}

/** Config keys whose values are strings even when they look like JSON. */
const STRING_KEYS = [
    "os",
    "cryptoProfile",
    "bastionInstanceType",
    "userCa",
    "identityFile",
    "jumpUser",
    "loginUser",
    "upgradesRebootTime",
    "alertEmail",
];
const DEFAULT_TARGETS: HostArgs[] = [{ name: "app-1" }];
