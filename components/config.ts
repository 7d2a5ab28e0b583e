// Reads and validates the stack's configuration before any resource exists. Pure apart from the
// `ConfigSource` it is handed, so every bad-input case is unit-testable. Every problem is reported
// at once, each with the key, the bad value and the `pulumi config set` command that fixes it.
import { Fail2banSettings, OsName, UpgradeSettings } from "./render/model";
import { defaultIdentityFile } from "./render/sshConfig";
import { ACCEPTED_USER_KEY_TYPES, CRYPTO_PROFILES, CryptoProfile } from "./render/crypto";
import { Cidr, cidrProblem, formatCidr, isAnywhere, overlaps, parseCidr, size, subnet } from "./net/cidr";

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
    jumpUser: string;
    loginUser: string;
    controlMaster: boolean;
    identityFile: string;
    rootVolumeSizeGb: number;
    fail2ban: Fail2banSettings;
    upgrades: UpgradeSettings;
    tags: Record<string, string>;
}

/** Defaults, mirrored by the `config:` section of Pulumi.yaml (a test keeps the two equal). */
export const DEFAULTS = {
    allowSshFromAnywhere: false,
    sshPort: 22,
    vpcCidr: "10.42.0.0/16",
    azCount: 2,
    natGateways: "single" as NatGatewayMode,
    flowLogRetentionDays: 90,
    os: "debian-12" as OsName,
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
};

export const OS_NAMES: readonly OsName[] = ["debian-13", "debian-12", "ubuntu-24.04"];
const NAT_MODES: readonly NatGatewayMode[] = ["none", "single", "perAz"];
/** CloudWatch Logs accepts only these retention periods (0 = never expire). */
const LOG_RETENTION_DAYS = [
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

/** Reads, defaults and validates every key; throws ConfigError listing all problems. */
export function readSettings(get: ConfigSource, stack: string): JumpgateSettings {
    const problems: ConfigProblem[] = [];
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

    if (problems.length > 0) throw new ConfigError(problems);
    return {
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
        jumpUser,
        loginUser,
        controlMaster,
        identityFile,
        rootVolumeSizeGb,
        fail2ban,
        upgrades: rebootTime === "" ? {} : { rebootTime },
        tags: tags as Record<string, string>,
    };

    function checkInstanceType(key: string, value: string, fix: string): void {
        if (!/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value)) {
            problem(key, value, "is not an EC2 instance type (family.size, e.g. t4g.nano)", fix);
        } else if (!architectureOf(value)) {
            problem(key, value, "has no Debian or Ubuntu AMI (Mac instances are not supported)", fix);
        }
    }
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
