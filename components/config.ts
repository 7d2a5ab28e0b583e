// Reads and validates the stack's configuration before any resource exists. Pure apart from the
// `ConfigSource` it is handed, so every bad-input case is unit-testable. Every problem is reported
// at once, each with the key, the bad value and the `pulumi config set` command that fixes it.
import { Fail2banSettings, OsName, UpgradeSettings } from "./render/model";
import { defaultIdentityFile } from "./render/sshConfig";
import { ACCEPTED_USER_KEY_TYPES, CRYPTO_PROFILES, CryptoProfile } from "./render/crypto";
import { bastionUserDataBytes, LONGEST_REGION_STAND_IN, USER_DATA_LIMIT_BYTES } from "./render/userDataSize";

/** As long as a real `ssh-ed25519` CA line, so the user-data size check counts each role's key. */
const CA_PUBLIC_KEY_STAND_IN = `ssh-ed25519 ${"A".repeat(68)}`;
import { PACKAGES } from "./render/cloudInit";
import { AccessSettings, readAccess, roleReach } from "./accessConfig";
import { auditLogGroupName } from "./render/auditNames";
import { Cidr, cidrProblem, formatCidr, hostAt, isAnywhere, overlaps, parseCidr, size, subnet } from "./net/cidr";

/** Where raw values come from: `pulumi.Config#get` in the program, a plain map in tests. */
export type ConfigSource = (key: string) => string | undefined;

export type NatGatewayMode = "none" | "single" | "perAz";
export type Architecture = "arm64" | "x86_64";

export interface TargetSettings {
    name: string;
    instanceType: string;
}

/** One hop of the bastion chain; the first is the public one, the others sit in management subnets. */
export interface BastionHopSettings {
    name: string;
    instanceType: string;
}

/** A declared port forward through the last bastion hop to one target's port. */
export interface TunnelSettings {
    name: string;
    /** Target name. */
    target: string;
    remotePort: number;
    localPort: number;
}

export interface NewNetworkSettings {
    kind: "new";
    vpcCidr: string;
    azCount: number;
    natGateways: NatGatewayMode;
    flowLogRetentionDays: number;
}

export interface ExistingNetworkSettings {
    kind: "existing";
    vpcId: string;
    publicSubnetIds: string[];
    privateSubnetIds: string[];
}

/** The validated configuration of one stack. */
export interface JumpgateSettings {
    stack: string;
    allowedCidrs: string[];
    allowSshFromAnywhere: boolean;
    sshPort: number;
    network: NewNetworkSettings | ExistingNetworkSettings;
    os: OsName;
    cryptoProfile: CryptoProfile;
    bastionInstanceType: string;
    /** The bastion chain, outermost first; one hop named `bastion` by default. */
    bastions: BastionHopSettings[];
    targets: TargetSettings[];
    tunnels: TunnelSettings[];
    operatorPublicKeys: string[];
    /** Named operators and roles; when set, hosts trust the stack's user CA instead of operatorPublicKeys. */
    access?: AccessSettings;
    jumpUser: string;
    loginUser: string;
    controlMaster: boolean;
    identityFile: string;
    rootVolumeSizeGb: number;
    fail2ban: Fail2banSettings;
    upgrades: UpgradeSettings;
    tags: Record<string, string>;
    /** Pinned images by `<os>/<arch>` (only keys of `os`); unpinned architectures use the recorded lookup. */
    amiIds: Record<string, string>;
    /** Elastic IPs the account may hold in the region (the bastion's and every NAT gateway's count). */
    elasticIpQuota: number;
    /** The audit trail in CloudWatch Logs; undefined when `audit` is false. */
    audit?: AuditSettings;
}

/** The stack's audit trail: log group, retention, alarms and who they mail. */
export interface AuditSettings {
    /** Days CloudWatch Logs keeps the records (0 = never expire). */
    logRetentionDays: number;
    /** Address the alarm topic mails (a subscription AWS asks to confirm); none when undefined. */
    alertEmail?: string;
    /** Failed authentications in one minute, over all hosts, that raise the alarm. */
    authFailuresPerMinute: number;
    /** Minutes without a heartbeat from the bastion before its alarm fires (hosts write one every 5). */
    heartbeatMinutes: number;
}

/** Defaults, mirrored by the `config:` section of Pulumi.yaml (a test keeps the two equal). */
export const DEFAULTS = {
    allowSshFromAnywhere: false,
    sshPort: 22,
    vpcCidr: "10.42.0.0/16",
    azCount: 2,
    natGateways: "single" as NatGatewayMode,
    flowLogRetentionDays: 90,
    os: "debian-13" as OsName,
    cryptoProfile: "compatible" as CryptoProfile,
    bastionInstanceType: "t4g.nano",
    targets: [{ name: "app-1", instanceType: "t4g.micro" }] as TargetSettings[],
    tunnels: [] as TunnelSettings[],
    targetInstanceType: "t4g.micro",
    operatorPublicKeys: [] as string[],
    jumpUser: "jump",
    loginUser: "ops",
    controlMaster: true,
    rootVolumeSizeGb: 8,
    fail2banMaxRetry: 5,
    fail2banFindTimeSeconds: 600,
    fail2banBanTimeSeconds: 3600,
    fail2banBanTimeMaxSeconds: 604800,
    fail2banIgnoreIps: [] as string[],
    upgradesRebootTime: "",
    elasticIpQuota: 5,
    allowPrivateHostsWithoutPackages: false,
    audit: true,
    auditLogRetentionDays: 365,
    auditAuthFailuresPerMinute: 10,
    auditHeartbeatMinutes: 15,
};

/** Every key of the `jumpgate:` namespace; anything else set there is a typo and refused. */
export const CONFIG_KEYS: readonly string[] = [
    "allowedCidrs",
    "allowSshFromAnywhere",
    "sshPort",
    "vpcCidr",
    "azCount",
    "natGateways",
    "flowLogRetentionDays",
    "existingVpc",
    "os",
    "amiIds",
    "cryptoProfile",
    "bastionInstanceType",
    "targets",
    "bastions",
    "tunnels",
    "operatorPublicKeys",
    "operators",
    "roles",
    "userCa",
    "kmsRequireMfa",
    "revokedCertificates",
    "identityFile",
    "jumpUser",
    "loginUser",
    "controlMaster",
    "rootVolumeSizeGb",
    "fail2banMaxRetry",
    "fail2banFindTimeSeconds",
    "fail2banBanTimeSeconds",
    "fail2banBanTimeMaxSeconds",
    "fail2banIgnoreIps",
    "upgradesRebootTime",
    "tags",
    "elasticIpQuota",
    "allowPrivateHostsWithoutPackages",
    "audit",
    "auditLogRetentionDays",
    "alertEmail",
    "auditAuthFailuresPerMinute",
    "auditHeartbeatMinutes",
];

export const OS_NAMES: readonly OsName[] = ["debian-13", "debian-12", "ubuntu-24.04"];
const NAT_MODES: readonly NatGatewayMode[] = ["none", "single", "perAz"];
/** CloudWatch Logs accepts only these retention periods (0 = never expire). */
export const LOG_RETENTION_DAYS = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** First host offset used for fixed addresses; AWS reserves the first four of each subnet. */
export const FIRST_HOST_OFFSET = 10;

/** Names of hops, targets and tunnels: they become SSH aliases and resource names. */
const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const NAME_RULE = "must be 2-32 characters of lowercase letters, digits and inner hyphens, starting with a letter";
/** Longest bastion chain (outer plus inner hops). */
export const MAX_BASTION_HOPS = 4;

/** One problem with one key. */
export interface ConfigProblem {
    key: string;
    value: string | undefined;
    message: string;
    fix: string;
}

/** Thrown with every problem found; its message is what the user sees. */
export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

function formatProblems(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
        return `  - ${p.key} = ${shown}: ${p.message}\n      fix: ${p.fix}`;
    });
    const n = problems.length;
    return `jumpgate: ${n} configuration problem${n === 1 ? "" : "s"}, nothing was created:\n${lines.join("\n")}`;
}

/** Architecture of an EC2 instance type, or undefined when no supported AMI exists for it. */
export function architectureOf(instanceType: string): Architecture | undefined {
    const family = instanceType.split(".")[0] ?? "";
    if (family.startsWith("mac")) return undefined; // Mac instances need macOS AMIs
    // Graviton families carry a `g` right after the generation digit (t4g, m7gd, c6gn, x2gd, im4gn), or are a1.
    if (family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family)) return "arm64";
    return "x86_64";
}

/**
 * Subnet CIDRs a new VPC is carved into: public ones first, private ones in the upper half, and with
 * `management` (a bastion chain) management subnets for the inner hops right after the public ones.
 */
export function planSubnets(
    vpcCidr: string,
    azCount: number,
    management = false,
): { publicCidrs: Cidr[]; managementCidrs: Cidr[]; privateCidrs: Cidr[] } {
    const vpc = parseCidr(vpcCidr);
    const newBits = Math.ceil(Math.log2((management ? 4 : 2) * azCount));
    const half = 2 ** newBits / 2;
    const block = (i: number) => subnet(vpc, newBits, i);
    const publicCidrs = Array.from({ length: azCount }, (_, i) => block(i));
    const managementCidrs = management ? Array.from({ length: azCount }, (_, i) => block(azCount + i)) : [];
    const privateCidrs = Array.from({ length: azCount }, (_, i) => block(half + i));
    return { publicCidrs, managementCidrs, privateCidrs };
}

/** How many fixed target addresses fit in a subnet (offsets from FIRST_HOST_OFFSET up to the last usable one). */
export function targetCapacity(c: Cidr): number {
    return Math.max(0, Number(size(c)) - 1 - FIRST_HOST_OFFSET);
}

/** Subnet index and host offset of the `index`-th target, spread round-robin over `subnetCount` subnets. */
export function targetPlacement(index: number, subnetCount: number): { subnetIndex: number; offset: number } {
    return { subnetIndex: index % subnetCount, offset: FIRST_HOST_OFFSET + Math.floor(index / subnetCount) };
}

/**
 * Reads, defaults and validates every key; throws ConfigError listing all problems. `presentKeys` are the
 * keys set in the `jumpgate:` namespace (without the prefix), so an unknown one (a typo) is refused.
 */
export function readSettings(source: ConfigSource, stack: string, presentKeys: readonly string[]): JumpgateSettings {
    const problems: ConfigProblem[] = [];
    // A key read here is known even before it is listed in CONFIG_KEYS (a test keeps the list complete).
    const read = new Set<string>();
    const get: ConfigSource = (key) => {
        read.add(key);
        return source(key);
    };
    const problem = (key: string, value: string | undefined, message: string, fix: string) =>
        problems.push({ key, value, message, fix });
    const set = (key: string, value: string) => `pulumi config set ${key} ${value}`;
    const setPath = (path: string, value: string) => `pulumi config set --path '${path}' ${value}`;

    function json<T>(key: string, fallback: T, example: string): T {
        const raw = get(key);
        if (raw === undefined || raw === "") return fallback;
        try {
            return JSON.parse(raw) as T;
        } catch {
            problem(key, raw, "is not valid JSON (lists and objects are set with --path)", example);
            return fallback;
        }
    }
    function str(key: string, fallback: string): string {
        return get(key) ?? fallback;
    }
    function bool(key: string, fallback: boolean): boolean {
        const raw = get(key);
        if (raw === undefined || raw === "") return fallback;
        if (raw === "true" || raw === "false") return raw === "true";
        problem(key, raw, "must be true or false", set(key, String(fallback)));
        return fallback;
    }
    function int(key: string, fallback: number, min: number, max: number): number {
        const raw = get(key);
        if (raw === undefined || raw === "") return fallback;
        const n = Number(raw);
        if (!Number.isInteger(n) || n < min || n > max) {
            problem(key, raw, `must be a whole number from ${min} to ${max}`, set(key, String(fallback)));
            return fallback;
        }
        return n;
    }
    function stringList(key: string, fallback: string[], example: string): string[] {
        const value = json<unknown>(key, fallback, setPath(`${key}[0]`, example));
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
        problem(key, JSON.stringify(value), "must be a list of strings", setPath(`${key}[0]`, example));
        return fallback;
    }

    // --- who may reach the bastion
    const allowSshFromAnywhere = bool("allowSshFromAnywhere", DEFAULTS.allowSshFromAnywhere);
    const allowedCidrs = stringList("allowedCidrs", [], "203.0.113.7/32");
    if (get("allowedCidrs") === undefined) {
        problem(
            "allowedCidrs",
            undefined,
            "is required: the CIDRs (IPv4 or IPv6) that may reach the bastion's SSH port",
            setPath("allowedCidrs[0]", "<your-public-ip>/32"),
        );
    } else if (allowedCidrs.length === 0 && problems.every((p) => p.key !== "allowedCidrs")) {
        problem("allowedCidrs", "[]", "must list at least one CIDR", setPath("allowedCidrs[0]", "<your-public-ip>/32"));
    }
    const parsedAllowed: { text: string; cidr: Cidr }[] = [];
    allowedCidrs.forEach((text, i) => {
        const key = `allowedCidrs[${i}]`;
        const why = cidrProblem(text);
        if (why) {
            const suggestion = /network is (\S+)/.exec(why)?.[1] ?? "203.0.113.7/32";
            problem(key, text, why, setPath(key, suggestion));
            return;
        }
        const cidr = parseCidr(text);
        if (cidr.version === 6) {
            problem(
                key,
                text,
                "is IPv6, but the network is IPv4-only (VPC, subnets, bastion and its Elastic IP have no IPv6 " +
                    "addresses; dual-stack is not built yet), so this rule would let nobody in",
                setPath(key, "<your-public-ipv4>/32"),
            );
            return;
        }
        if (isAnywhere(cidr) && !allowSshFromAnywhere) {
            problem(
                key,
                text,
                "opens SSH to the whole internet; list your own addresses, or opt in explicitly",
                `${setPath(key, "<your-public-ip>/32")}  (or: ${set("allowSshFromAnywhere", "true")})`,
            );
        }
        const clash = parsedAllowed.find((p) => overlaps(p.cidr, cidr));
        if (clash) {
            problem(key, text, `overlaps ${clash.text}; list each range once`, `pulumi config rm --path '${key}'`);
        }
        parsedAllowed.push({ text, cidr });
    });

    const sshPort = int("sshPort", DEFAULTS.sshPort, 1, 65535);

    // The chain's length decides the subnet layout, so read it before the network.
    const rawBastions = json<unknown>("bastions", undefined, setPath("bastions[0].name", "bastion"));
    const management = Array.isArray(rawBastions) && rawBastions.length > 1;

    // --- network: a new VPC or an existing one
    let network: JumpgateSettings["network"];
    const existing = json<unknown>("existingVpc", undefined, setPath("existingVpc.vpcId", "vpc-0123456789abcdef0"));
    if (existing !== undefined) {
        network = readExistingVpc(existing, problem, setPath);
    } else {
        const vpcCidr = str("vpcCidr", DEFAULTS.vpcCidr);
        const azCount = int("azCount", DEFAULTS.azCount, 1, 6);
        const natGateways = str("natGateways", DEFAULTS.natGateways) as NatGatewayMode;
        if (!NAT_MODES.includes(natGateways)) {
            problem("natGateways", natGateways, `must be one of ${NAT_MODES.join(", ")}`, set("natGateways", "single"));
        }
        const flowLogRetentionDays = int("flowLogRetentionDays", DEFAULTS.flowLogRetentionDays, 0, 3653);
        if (!LOG_RETENTION_DAYS.includes(flowLogRetentionDays)) {
            problem(
                "flowLogRetentionDays",
                String(flowLogRetentionDays),
                `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")}`,
                set("flowLogRetentionDays", "90"),
            );
        }
        const why = cidrProblem(vpcCidr);
        if (why) {
            problem("vpcCidr", vpcCidr, why, set("vpcCidr", /network is (\S+)/.exec(why)?.[1] ?? DEFAULTS.vpcCidr));
        } else {
            const vpc = parseCidr(vpcCidr);
            if (vpc.version !== 4 || vpc.prefix < 16 || vpc.prefix > 28) {
                problem(
                    "vpcCidr",
                    vpcCidr,
                    "must be an IPv4 block from /16 to /28 (AWS VPC limits)",
                    set("vpcCidr", DEFAULTS.vpcCidr),
                );
            } else {
                const { privateCidrs } = planSubnets(vpcCidr, azCount, management);
                if (privateCidrs[0]!.prefix > 28) {
                    problem(
                        "vpcCidr",
                        vpcCidr,
                        `is too small for ${2 * azCount} subnets of at least /28 (azCount = ${azCount})`,
                        set("vpcCidr", DEFAULTS.vpcCidr),
                    );
                }
            }
        }
        network = { kind: "new", vpcCidr, azCount, natGateways, flowLogRetentionDays };
    }

    // --- hosts
    const os = str("os", DEFAULTS.os) as OsName;
    if (!OS_NAMES.includes(os)) problem("os", os, `must be one of ${OS_NAMES.join(", ")}`, set("os", DEFAULTS.os));
    const cryptoProfile = str("cryptoProfile", DEFAULTS.cryptoProfile) as CryptoProfile;
    if (!CRYPTO_PROFILES.includes(cryptoProfile))
        problem(
            "cryptoProfile",
            cryptoProfile,
            `must be one of ${CRYPTO_PROFILES.join(", ")}`,
            set("cryptoProfile", DEFAULTS.cryptoProfile),
        );

    const amiIds = readAmiPins(json<unknown>("amiIds", {}, amiPinCommand(os, "arm64")), os, problem);

    const bastionInstanceType = str("bastionInstanceType", DEFAULTS.bastionInstanceType);
    checkInstanceType(
        "bastionInstanceType",
        bastionInstanceType,
        set("bastionInstanceType", DEFAULTS.bastionInstanceType),
    );

    const rawTargets = json<unknown>("targets", DEFAULTS.targets, setPath("targets[0].name", "app-1"));
    const targets: TargetSettings[] = [];
    if (!Array.isArray(rawTargets)) {
        problem(
            "targets",
            JSON.stringify(rawTargets),
            "must be a list of {name, instanceType}",
            setPath("targets[0].name", "app-1"),
        );
    } else {
        const seen = new Set<string>();
        rawTargets.forEach((t: unknown, i) => {
            const key = `targets[${i}]`;
            const entry = (typeof t === "string" ? { name: t } : t) as {
                name?: unknown;
                instanceType?: unknown;
            } | null;
            const name = entry?.name;
            if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
                problem(
                    `${key}.name`,
                    typeof name === "string" ? name : JSON.stringify(name),
                    NAME_RULE,
                    setPath(`${key}.name`, `app-${i + 1}`),
                );
                return;
            }
            if (name === "bastion" || name.startsWith("tunnel-")) {
                problem(
                    `${key}.name`,
                    name,
                    "is reserved for the bastion's SSH alias",
                    setPath(`${key}.name`, `app-${i + 1}`),
                );
            }
            if (seen.has(name)) {
                problem(
                    `${key}.name`,
                    name,
                    "is used by another target; names must be unique",
                    setPath(`${key}.name`, `${name}-${i + 1}`),
                );
            }
            seen.add(name);
            const instanceType = entry?.instanceType ?? DEFAULTS.targetInstanceType;
            if (typeof instanceType !== "string") {
                problem(
                    `${key}.instanceType`,
                    JSON.stringify(instanceType),
                    "must be a string",
                    setPath(`${key}.instanceType`, "t4g.micro"),
                );
                return;
            }
            checkInstanceType(
                `${key}.instanceType`,
                instanceType,
                setPath(`${key}.instanceType`, DEFAULTS.targetInstanceType),
            );
            targets.push({ name, instanceType });
        });
        if (network.kind === "new" && problems.every((p) => p.key !== "vpcCidr")) {
            const { privateCidrs } = planSubnets(network.vpcCidr, network.azCount, management);
            const capacity = targetCapacity(privateCidrs[0]!) * privateCidrs.length;
            if (rawTargets.length > capacity) {
                problem(
                    "targets",
                    `${rawTargets.length} targets`,
                    `only ${capacity} fit in ${privateCidrs.length} private subnet(s) of ${formatCidr(privateCidrs[0]!)}`,
                    `${set("vpcCidr", "10.42.0.0/16")} or ${set("azCount", String(network.azCount + 1))}`,
                );
            }
        }
    }

    // --- the bastion chain: outermost first
    const bastions: BastionHopSettings[] = [];
    if (rawBastions === undefined) {
        bastions.push({ name: "bastion", instanceType: bastionInstanceType });
    } else if (!Array.isArray(rawBastions) || rawBastions.length < 1 || rawBastions.length > MAX_BASTION_HOPS) {
        problem(
            "bastions",
            JSON.stringify(rawBastions),
            `must be a list of 1 to ${MAX_BASTION_HOPS} hops {name, instanceType}, outermost first`,
            setPath("bastions[0].name", "bastion"),
        );
    } else {
        const targetNames = new Set(targets.map((t) => t.name));
        rawBastions.forEach((b: unknown, i) => {
            const key = `bastions[${i}]`;
            const entry = (typeof b === "string" ? { name: b } : b) as {
                name?: unknown;
                instanceType?: unknown;
            } | null;
            const name = entry?.name;
            if (typeof name !== "string" || !NAME_PATTERN.test(name) || name.startsWith("tunnel-")) {
                problem(
                    `${key}.name`,
                    JSON.stringify(name),
                    NAME_RULE,
                    setPath(`${key}.name`, i === 0 ? "bastion" : `inner-${i}`),
                );
                return;
            }
            if (bastions.some((h) => h.name === name) || targetNames.has(name)) {
                problem(
                    `${key}.name`,
                    name,
                    "is used by another hop or a target; SSH aliases must be unique",
                    setPath(`${key}.name`, `inner-${i}`),
                );
            }
            const instanceType = entry?.instanceType ?? bastionInstanceType;
            if (typeof instanceType !== "string") {
                problem(
                    `${key}.instanceType`,
                    JSON.stringify(instanceType),
                    "must be a string",
                    setPath(`${key}.instanceType`, DEFAULTS.bastionInstanceType),
                );
                return;
            }
            checkInstanceType(
                `${key}.instanceType`,
                instanceType,
                setPath(`${key}.instanceType`, DEFAULTS.bastionInstanceType),
            );
            bastions.push({ name, instanceType });
        });
    }

    // --- declared tunnels through the last hop
    const rawTunnels = json<unknown>("tunnels", DEFAULTS.tunnels, setPath("tunnels[0].name", "db"));
    const tunnels: TunnelSettings[] = [];
    if (!Array.isArray(rawTunnels)) {
        problem(
            "tunnels",
            JSON.stringify(rawTunnels),
            "must be a list of {name, target, remotePort, localPort}",
            setPath("tunnels[0].name", "db"),
        );
    } else {
        rawTunnels.forEach((t: unknown, i) => {
            const key = `tunnels[${i}]`;
            const entry = (t ?? {}) as { name?: unknown; target?: unknown; remotePort?: unknown; localPort?: unknown };
            const before = problems.length;
            if (typeof entry.name !== "string" || !NAME_PATTERN.test(entry.name)) {
                problem(`${key}.name`, JSON.stringify(entry.name), NAME_RULE, setPath(`${key}.name`, `tunnel${i + 1}`));
            } else if (tunnels.some((x) => x.name === entry.name)) {
                problem(
                    `${key}.name`,
                    entry.name,
                    "is used by another tunnel; names must be unique",
                    setPath(`${key}.name`, `${entry.name}-${i + 1}`),
                );
            }
            if (typeof entry.target !== "string" || !targets.some((x) => x.name === entry.target)) {
                problem(
                    `${key}.target`,
                    JSON.stringify(entry.target),
                    `must name a target (${targets.map((x) => x.name).join(", ")})`,
                    setPath(`${key}.target`, targets[0]?.name ?? "app-1"),
                );
            }
            for (const port of ["remotePort", "localPort"] as const) {
                const v = entry[port];
                if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
                    problem(
                        `${key}.${port}`,
                        JSON.stringify(v),
                        "must be a port number from 1 to 65535",
                        setPath(`${key}.${port}`, "5432"),
                    );
                }
            }
            if (typeof entry.localPort === "number" && tunnels.some((x) => x.localPort === entry.localPort)) {
                problem(
                    `${key}.localPort`,
                    String(entry.localPort),
                    "is used by another tunnel on this machine",
                    setPath(`${key}.localPort`, String(entry.localPort + 1)),
                );
            }
            if (problems.length === before) {
                tunnels.push({
                    name: String(entry.name),
                    target: String(entry.target),
                    remotePort: Number(entry.remotePort),
                    localPort: Number(entry.localPort),
                });
            }
        });
    }

    const operatorPublicKeys = stringList(
        "operatorPublicKeys",
        DEFAULTS.operatorPublicKeys,
        "'ssh-ed25519 AAAA... you@laptop'",
    );
    operatorPublicKeys.forEach((key, i) => {
        const why = publicKeyProblem(key);
        if (why)
            problem(
                `operatorPublicKeys[${i}]`,
                key.slice(0, 40) + (key.length > 40 ? "..." : ""),
                why,
                setPath(`operatorPublicKeys[${i}]`, `"$(cat ~/.ssh/id_ed25519.pub)"`),
            );
    });

    const jumpUser = str("jumpUser", DEFAULTS.jumpUser);
    const loginUser = str("loginUser", DEFAULTS.loginUser);
    for (const [key, value, fallback] of [
        ["jumpUser", jumpUser, DEFAULTS.jumpUser],
        ["loginUser", loginUser, DEFAULTS.loginUser],
    ] as const) {
        if (
            !/^[a-z_][a-z0-9_-]{0,31}$/.test(value) ||
            ["root", "admin", "debian", "ubuntu", "nobody"].includes(value)
        ) {
            problem(
                key,
                value,
                "must be a new POSIX user name (lowercase, at most 32 characters, not root or a distro default user)",
                set(key, fallback),
            );
        }
    }

    const access = readAccess(
        {
            operators: json<unknown>("operators", undefined, setPath("operators[0].name", "alice")),
            roles: json<unknown>("roles", undefined, setPath("roles[0].name", "ops")),
            userCa: get("userCa"),
            kmsRequireMfa: get("kmsRequireMfa"),
            revoked: json<unknown>(
                "revokedCertificates",
                undefined,
                setPath("revokedCertificates.serials[0]", "'\"1234\"'"),
            ),
            sharedKeysSet: get("operatorPublicKeys") !== undefined,
            loginUser,
        },
        targets.map((t) => t.name),
        publicKeyProblem,
        problem,
    );

    const controlMaster = bool("controlMaster", DEFAULTS.controlMaster);
    const identityFile = str("identityFile", "") || defaultIdentityFile(stack);
    if (/\s/.test(identityFile)) {
        problem(
            "identityFile",
            identityFile,
            "must be a path without whitespace",
            set("identityFile", defaultIdentityFile(stack)),
        );
    }
    const rootVolumeSizeGb = int("rootVolumeSizeGb", DEFAULTS.rootVolumeSizeGb, 8, 16384);

    const fail2ban: Fail2banSettings = {
        maxRetry: int("fail2banMaxRetry", DEFAULTS.fail2banMaxRetry, 1, 100),
        findTimeSeconds: int("fail2banFindTimeSeconds", DEFAULTS.fail2banFindTimeSeconds, 1, 31_536_000),
        banTimeSeconds: int("fail2banBanTimeSeconds", DEFAULTS.fail2banBanTimeSeconds, 1, 31_536_000),
        banTimeMaxSeconds: int("fail2banBanTimeMaxSeconds", DEFAULTS.fail2banBanTimeMaxSeconds, 1, 31_536_000),
        ignoreIps: stringList("fail2banIgnoreIps", DEFAULTS.fail2banIgnoreIps, "198.51.100.0/24"),
    };
    if (fail2ban.banTimeMaxSeconds < fail2ban.banTimeSeconds) {
        problem(
            "fail2banBanTimeMaxSeconds",
            String(fail2ban.banTimeMaxSeconds),
            "must be at least fail2banBanTimeSeconds",
            set(
                "fail2banBanTimeMaxSeconds",
                String(Math.max(fail2ban.banTimeSeconds, DEFAULTS.fail2banBanTimeMaxSeconds)),
            ),
        );
    }
    fail2ban.ignoreIps.forEach((ip, i) => {
        const text = ip.includes("/") ? ip : `${ip}/${ip.includes(":") ? 128 : 32}`;
        const why = cidrProblem(text);
        if (why) problem(`fail2banIgnoreIps[${i}]`, ip, why, setPath(`fail2banIgnoreIps[${i}]`, "198.51.100.0/24"));
    });

    const rebootTime = str("upgradesRebootTime", DEFAULTS.upgradesRebootTime);
    if (rebootTime !== "" && !/^([01]\d|2[0-3]):[0-5]\d$/.test(rebootTime)) {
        problem(
            "upgradesRebootTime",
            rebootTime,
            "must be HH:MM (24h) or empty for never",
            set("upgradesRebootTime", "04:30"),
        );
    }

    const tags = json<unknown>("tags", {}, setPath("tags.CostCenter", "platform"));
    if (
        tags === null ||
        typeof tags !== "object" ||
        Array.isArray(tags) ||
        !Object.values(tags).every((v) => typeof v === "string")
    ) {
        problem(
            "tags",
            JSON.stringify(tags),
            "must be a map of string to string",
            setPath("tags.CostCenter", "platform"),
        );
    }

    const elasticIpQuota = int("elasticIpQuota", DEFAULTS.elasticIpQuota, 1, 10000);
    const allowPrivateHostsWithoutPackages = bool(
        "allowPrivateHostsWithoutPackages",
        DEFAULTS.allowPrivateHostsWithoutPackages,
    );
    const audit = readAudit(get, problem, int, bool);
    problems.push(...unknownKeyProblems(presentKeys, new Set([...CONFIG_KEYS, ...read])));

    const settings: JumpgateSettings = {
        stack,
        allowedCidrs,
        allowSshFromAnywhere,
        sshPort,
        network,
        os,
        cryptoProfile,
        bastionInstanceType,
        bastions,
        targets,
        tunnels,
        operatorPublicKeys,
        ...(access === undefined ? {} : { access }),
        jumpUser,
        loginUser,
        controlMaster,
        identityFile,
        rootVolumeSizeGb,
        fail2ban,
        upgrades: rebootTime === "" ? {} : { rebootTime },
        tags: tags as Record<string, string>,
        amiIds,
        elasticIpQuota,
        ...(audit === undefined ? {} : { audit }),
    };
    // Limits of the whole stack. Rendering the bastion's user data needs every key valid.
    problems.push(
        ...elasticIpProblems(settings),
        ...packageRouteProblems(settings, allowPrivateHostsWithoutPackages),
        ...iamNameProblems(settings),
        ...tagProblems(settings.tags),
    );
    if (problems.length === 0) problems.push(...userDataProblems(settings, management));
    if (problems.length > 0) throw new ConfigError(problems);
    return settings;

    function checkInstanceType(key: string, value: string, fix: string): void {
        if (!/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value)) {
            problem(key, value, "is not an EC2 instance type (family.size, e.g. t4g.nano)", fix);
        } else if (!architectureOf(value)) {
            problem(key, value, "has no Debian or Ubuntu AMI (Mac instances are not supported)", fix);
        }
    }
}

/** Addresses SNS's email protocol takes: one address, no display name (a loose check; AWS mails it to confirm). */
const EMAIL = /^[^@\s<>"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** `audit` and its settings; undefined when the audit trail is off. */
function readAudit(
    get: ConfigSource,
    problem: (key: string, value: string | undefined, message: string, fix: string) => void,
    int: (key: string, fallback: number, min: number, max: number) => number,
    bool: (key: string, fallback: boolean) => boolean,
): AuditSettings | undefined {
    const on = bool("audit", DEFAULTS.audit);
    const logRetentionDays = int("auditLogRetentionDays", DEFAULTS.auditLogRetentionDays, 0, 3653);
    if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
        const next = LOG_RETENTION_DAYS.find((d) => d > logRetentionDays) ?? 3653;
        problem(
            "auditLogRetentionDays",
            String(logRetentionDays),
            `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")} (0 = never expire)`,
            `pulumi config set auditLogRetentionDays ${next}`,
        );
    }
    const alertEmail = get("alertEmail");
    if (alertEmail !== undefined && alertEmail !== "" && !EMAIL.test(alertEmail)) {
        problem(
            "alertEmail",
            alertEmail,
            "must be one email address (name@example.com) for the alarm topic's subscription",
            "pulumi config set alertEmail ops@example.com",
        );
    }
    const authFailuresPerMinute = int("auditAuthFailuresPerMinute", DEFAULTS.auditAuthFailuresPerMinute, 1, 100000);
    const heartbeatMinutes = int("auditHeartbeatMinutes", DEFAULTS.auditHeartbeatMinutes, 10, 1440);
    if (heartbeatMinutes % 5 !== 0) {
        problem(
            "auditHeartbeatMinutes",
            String(heartbeatMinutes),
            "must be a multiple of 5: hosts write a heartbeat every 5 minutes and the alarm counts 5-minute periods",
            `pulumi config set auditHeartbeatMinutes ${Math.ceil(heartbeatMinutes / 5) * 5}`,
        );
    }
    if (!on) return undefined;
    return {
        logRetentionDays,
        ...(alertEmail ? { alertEmail } : {}),
        authFailuresPerMinute,
        heartbeatMinutes,
    };
}

function readExistingVpc(
    value: unknown,
    problem: (key: string, value: string | undefined, message: string, fix: string) => void,
    setPath: (path: string, value: string) => string,
): ExistingNetworkSettings {
    const v = (value ?? {}) as { vpcId?: unknown; publicSubnetIds?: unknown; privateSubnetIds?: unknown };
    const vpcId = typeof v.vpcId === "string" ? v.vpcId : "";
    if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) {
        problem(
            "existingVpc.vpcId",
            JSON.stringify(v.vpcId),
            "must be a VPC ID (vpc-...)",
            setPath("existingVpc.vpcId", "vpc-0123456789abcdef0"),
        );
    }
    const lists: Record<"publicSubnetIds" | "privateSubnetIds", string[]> = {
        publicSubnetIds: [],
        privateSubnetIds: [],
    };
    for (const key of ["publicSubnetIds", "privateSubnetIds"] as const) {
        const list = v[key];
        const path = `existingVpc.${key}`;
        if (!Array.isArray(list) || list.length === 0) {
            problem(
                path,
                JSON.stringify(list),
                "must list at least one subnet ID",
                setPath(`${path}[0]`, "subnet-0123456789abcdef0"),
            );
            continue;
        }
        list.forEach((id: unknown, i) => {
            if (typeof id !== "string" || !/^subnet-[0-9a-f]{8,17}$/.test(id)) {
                problem(
                    `${path}[${i}]`,
                    JSON.stringify(id),
                    "must be a subnet ID (subnet-...)",
                    setPath(`${path}[${i}]`, "subnet-0123456789abcdef0"),
                );
            } else if (lists[key].includes(id)) {
                problem(`${path}[${i}]`, id, "is listed twice", `pulumi config rm --path '${path}[${i}]'`);
            } else {
                lists[key].push(id);
            }
        });
    }
    lists.privateSubnetIds.forEach((id, i) => {
        if (lists.publicSubnetIds.includes(id)) {
            problem(
                `existingVpc.privateSubnetIds[${i}]`,
                id,
                "is also listed as a public subnet; targets must not share the bastion's public subnets",
                `pulumi config rm --path 'existingVpc.privateSubnetIds[${i}]'`,
            );
        }
    });
    return { kind: "existing", vpcId, ...lists };
}

/** `pulumi config set` pinning the image of one OS and architecture (brackets: OS names contain dots). */
export function amiPinCommand(os: string, arch: string, amiId = "ami-0123456789abcdef0"): string {
    return `pulumi config set --path 'amiIds["${os}/${arch}"]' ${amiId}`;
}

/** `amiIds`: `{"<os>/<arch>": "ami-..."}`; a pin of another OS than `os` is refused, never silently used or kept. */
function readAmiPins(
    value: unknown,
    os: OsName,
    problem: (key: string, value: string | undefined, message: string, fix: string) => void,
): Record<string, string> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        problem(
            "amiIds",
            JSON.stringify(value),
            'must be a map {"<os>/<arch>": "ami-..."}',
            amiPinCommand(os, "arm64"),
        );
        return {};
    }
    const pins: Record<string, string> = {};
    for (const [key, id] of Object.entries(value as Record<string, unknown>)) {
        const path = `amiIds["${key}"]`;
        const [keyOs, arch] = key.split("/");
        const remove = `pulumi config rm --path '${path}'`;
        if (
            !OS_NAMES.includes(keyOs as OsName) ||
            (arch !== "arm64" && arch !== "x86_64") ||
            key.split("/").length !== 2
        ) {
            problem(
                path,
                JSON.stringify(id),
                `key must be <os>/<arch>, os one of ${OS_NAMES.join(", ")}, arch arm64 or x86_64`,
                remove,
            );
        } else if (keyOs !== os) {
            problem(
                path,
                JSON.stringify(id),
                `pins a ${keyOs} image, but os is ${os}: hosts boot ${os} (every host is replaced) and this pin would be ignored`,
                `${remove}  (and pin the ${os} image the plan shows: ${amiPinCommand(os, arch, "<ami-id>")})`,
            );
        } else if (typeof id !== "string" || !/^ami-[0-9a-f]{8,17}$/.test(id)) {
            problem(
                path,
                JSON.stringify(id),
                "must be an AMI ID: ami- and 8 to 17 lowercase hex digits",
                amiPinCommand(os, arch),
            );
        } else {
            pins[key] = id;
        }
    }
    return pins;
}

/** Levenshtein distance, to name the known key closest to a typo. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
            current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
        }
        previous = current;
    }
    return previous[b.length]!;
}

/** Keys set in the `jumpgate:` namespace that the program does not read: typos, silently ignored otherwise. */
function unknownKeyProblems(present: readonly string[], known: ReadonlySet<string>): ConfigProblem[] {
    return present
        .filter((key) => !known.has(key))
        .map((key) => {
            const [closest] = [...known]
                .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
                .sort((x, y) => x.d - y.d);
            const near = closest && closest.d <= Math.max(2, Math.floor(key.length / 3)) ? closest.k : undefined;
            return {
                key,
                // Not echoed: an unknown key may hold a secret, and this message ends up in logs.
                value: "(hidden)",
                message: near
                    ? `is not a jumpgate setting, so it would be ignored; did you mean ${near}?`
                    : "is not a jumpgate setting, so it would be ignored (Pulumi.yaml lists every key)",
                fix:
                    `pulumi config rm ${key}` +
                    (near ? `  (and set the value again as ${near}: pulumi config set ${near} ...)` : ""),
            };
        });
}

/** NAT gateways a new VPC gets. */
export function natGatewayCount(mode: NatGatewayMode, azCount: number): number {
    return mode === "none" ? 0 : mode === "single" ? 1 : azCount;
}

/** The bastion's Elastic IP plus one per NAT gateway must fit the region's Elastic IP quota. */
function elasticIpProblems(s: JumpgateSettings): ConfigProblem[] {
    const net = s.network;
    if (net.kind === "new" && !NAT_MODES.includes(net.natGateways)) return [];
    const nat = net.kind === "new" ? natGatewayCount(net.natGateways, net.azCount) : 0;
    const needed = 1 + nat;
    if (needed <= s.elasticIpQuota) return [];
    const raise =
        `raise "EC2-VPC Elastic IPs" in Service Quotas (Amazon EC2) to at least ${needed}, then ` +
        `pulumi config set elasticIpQuota ${needed}`;
    const perAz = net.kind === "new" && net.natGateways === "perAz";
    return [
        {
            key: perAz ? "natGateways" : "elasticIpQuota",
            value: perAz ? "perAz" : String(s.elasticIpQuota),
            message:
                `needs ${needed} Elastic IPs (1 for the bastion, ${nat} for NAT gateways) but the region's quota is ` +
                `${s.elasticIpQuota} (elasticIpQuota; AWS's default is 5, and addresses the account already holds ` +
                "there count too)",
            fix: perAz ? `pulumi config set natGateways single  (or ${raise})` : raise,
        },
    ];
}

/** With `natGateways: none` the private subnets have no way out: their hosts never get their packages. */
function packageRouteProblems(s: JumpgateSettings, allowed: boolean): ConfigProblem[] {
    if (s.network.kind !== "new" || s.network.natGateways !== "none" || allowed) return [];
    const hosts = [...s.bastions.slice(1), ...s.targets].map((h) => h.name);
    if (hosts.length === 0) return [];
    return [
        {
            key: "natGateways",
            value: "none",
            message:
                `leaves the private subnets without a route to the package mirrors: the hosts ${hosts.join(", ")} install ` +
                `${PACKAGES.join(", ")} at first boot and would run without them (no fail2ban bans, no security updates` +
                `${s.audit ? ", and no CloudWatch agent: their audit records would stay on the hosts" : ""})`,
            fix:
                "pulumi config set natGateways single  (or, if the hosts get packages another way or you accept " +
                "running them without: pulumi config set allowPrivateHostsWithoutPackages true)",
        },
    ];
}

/** IAM role names are at most 64 characters; Pulumi appends `-` and 7 random characters to the logical name. */
const MAX_ROLE_LOGICAL_NAME = 64 - 8;

/** Role names come from the stack and hop names (`<stack>-<hop>-role`, `<stack>-flow-logs`; see bastion.ts, network.ts). */
function iamNameProblems(s: JumpgateSettings): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const tooLong = (role: string) =>
        `makes the IAM role name ${role}-<7 random characters> ${role.length + 8} characters long; IAM allows 64`;
    s.bastions.forEach((hop, i) => {
        const role = `${s.stack}-${hop.name}-role`;
        if (role.length <= MAX_ROLE_LOGICAL_NAME) return;
        const room = MAX_ROLE_LOGICAL_NAME - `${s.stack}--role`.length;
        const shorter = hop.name.slice(0, room).replace(/-+$/, "");
        const key = `bastions[${i}].name`;
        const fix =
            room >= 2
                ? `pulumi config set --path '${key}' ${shorter}  (or use a shorter stack name)`
                : "use a stack name of at most 40 characters (pulumi stack rename <shorter>)";
        problems.push({ key, value: hop.name, message: tooLong(role), fix });
    });
    const flowLogRole = `${s.stack}-flow-logs`;
    if (s.network.kind === "new" && flowLogRole.length > MAX_ROLE_LOGICAL_NAME) {
        problems.push({
            key: "(stack name)",
            value: s.stack,
            message: tooLong(flowLogRole),
            fix: "use a stack name of at most 46 characters (pulumi stack rename <shorter>)",
        });
    }
    return problems;
}

/**
 * Most tags jumpgate adds to one resource (a bastion hop: Name, jumpgate:stack/role/hop/bastion/image,
 * ManagedBy, Project).
 */
export const OWN_TAGS_MAX = 8;

/** AWS takes at most 50 tags per resource, keys up to 128 and values up to 256 characters, no `aws:` keys. */
function tagProblems(tags: unknown): ConfigProblem[] {
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

/** Target addresses as the program will place them; in an existing VPC the widest IPv4 text (an upper bound). */
function plannedTargetAddresses(s: JumpgateSettings, management: boolean): string[] {
    const net = s.network;
    if (net.kind === "existing") return s.targets.map(() => "255.255.255.255");
    const { privateCidrs } = planSubnets(net.vpcCidr, net.azCount, management);
    return s.targets.map((_, i) => {
        const { subnetIndex, offset } = targetPlacement(i, privateCidrs.length);
        return hostAt(privateCidrs[subnetIndex]!, offset);
    });
}

/** The last hop's user data lists every target and tunnel (PermitOpen); EC2 takes at most 16 KiB of it. */
function userDataProblems(s: JumpgateSettings, management: boolean): ConfigProblem[] {
    const ips = plannedTargetAddresses(s, management);
    const ipOf = (name: string) => ips[s.targets.findIndex((t) => t.name === name)]!;
    const endpoints = [
        ...s.targets.map((t, i) => ({ name: t.name, privateIp: ips[i]!, port: 22 })),
        ...s.tunnels.map((t) => ({ name: `tunnel-${t.name}`, privateIp: ipOf(t.target), port: t.remotePort })),
    ];
    const spec = {
        os: s.os,
        sshPort: s.bastions.length === 1 ? s.sshPort : 22,
        jumpUser: s.jumpUser,
        operatorPublicKeys: s.operatorPublicKeys,
        fail2ban: s.fail2ban,
        upgrades: s.upgrades,
        ssmAgentRegion: LONGEST_REGION_STAND_IN,
        cryptoProfile: s.cryptoProfile,
        userCa: s.access && {
            roles: roleReach(s.access, s.tunnels).map((r) => ({ ...r, caPublicKey: CA_PUBLIC_KEY_STAND_IN })),
        },
        auditShipping: s.audit && {
            region: LONGEST_REGION_STAND_IN,
            logGroupName: auditLogGroupName(s.stack),
            logStreamName: s.bastions[s.bastions.length - 1]!.name,
        },
        // The last hop lists every target (and their names for the audit records).
        audit: { stack: s.stack, host: s.bastions[s.bastions.length - 1]!.name },
    };
    const bytes = bastionUserDataBytes({ ...spec, targets: endpoints });
    if (bytes <= USER_DATA_LIMIT_BYTES) return [];
    // Past the limit the document is gzipped: what one more endpoint costs, gzipped both ways.
    const perEndpoint = (bytes - bastionUserDataBytes({ ...spec, targets: [] }, true)) / endpoints.length;
    const fewer = Math.ceil((bytes - USER_DATA_LIMIT_BYTES) / perEndpoint);
    const last = s.targets.length - 1;
    return [
        {
            key: "targets",
            value: `${s.targets.length} targets, ${s.tunnels.length} tunnels`,
            message:
                `make the bastion's user data ${bytes} bytes (at most): ` +
                `it lists every target and tunnel${s.access ? " (again for each role that reaches only some)" : ""}, ` +
                `and EC2 accepts at most ${USER_DATA_LIMIT_BYTES} bytes; ` +
                `about ${fewer} fewer targets or tunnels fit`,
            fix: `pulumi config rm --path 'targets[${last}]'  (repeat, or split the targets over two stacks)`,
        },
    ];
}

/** Why `key` is not an OpenSSH public key the hardened sshd accepts, or undefined. */
export function publicKeyProblem(key: string): string | undefined {
    const m = /^([a-z][a-z0-9@.-]*) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/.exec(key.trim());
    if (!m) return "is not an OpenSSH public key (expected 'ssh-ed25519 AAAA... comment')";
    const [, type, b64] = m as unknown as [string, string, string];
    if (!ACCEPTED_USER_KEY_TYPES.includes(type)) {
        return `is a ${type} key; the hardened sshd accepts only ${ACCEPTED_USER_KEY_TYPES.join(" and ")} (ssh-keygen -t ed25519)`;
    }
    // The blob starts with the length-prefixed key type; a mismatch means a damaged or mislabelled key.
    const blob = Buffer.from(b64, "base64");
    const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (len !== type.length || blob.subarray(4, 4 + len).toString() !== type)
        return "has a damaged key blob (its base64 does not encode a " + type + " key)";
    return undefined;
}
