// The hosts: operating system and pinned images, crypto profile, instance types and the targets.
import { OsName } from "../render/model";
import { CRYPTO_PROFILES, CryptoProfile } from "../render/crypto";
import { formatCidr } from "../net/cidr";
import { ConfigReader, ReportProblem, set, setPath } from "./reader";
import { planSubnets, targetCapacity } from "./network";
import { Architecture, DEFAULTS, JumpgateSettings, NAME_PATTERN, NAME_RULE, OS_NAMES, TargetSettings } from "./types";

/** Architecture of an EC2 instance type, or undefined when no supported AMI exists for it. */
export function architectureOf(instanceType: string): Architecture | undefined {
    const family = instanceType.split(".")[0] ?? "";
    if (family.startsWith("mac")) return undefined; // Mac instances need macOS AMIs
    // Graviton families carry a `g` right after the generation digit (t4g, m7gd, c6gn, x2gd, im4gn), or are a1.
    if (family === "a1" || /^[a-z]+\d+g[a-z]*$/.test(family)) return "arm64";
    return "x86_64";
}

/** `os`, `cryptoProfile` and `amiIds`: what every host boots and how its sshd negotiates. */
export function readImage(r: ConfigReader): {
    os: OsName;
    cryptoProfile: CryptoProfile;
    amiIds: Record<string, string>;
} {
    const os = r.str("os", DEFAULTS.os) as OsName;
    if (!OS_NAMES.includes(os)) r.problem("os", os, `must be one of ${OS_NAMES.join(", ")}`, set("os", DEFAULTS.os));
    const cryptoProfile = r.str("cryptoProfile", DEFAULTS.cryptoProfile) as CryptoProfile;
    if (!CRYPTO_PROFILES.includes(cryptoProfile))
        r.problem(
            "cryptoProfile",
            cryptoProfile,
            `must be one of ${CRYPTO_PROFILES.join(", ")}`,
            set("cryptoProfile", DEFAULTS.cryptoProfile),
        );
    const amiIds = readAmiPins(r.json<unknown>("amiIds", {}, amiPinCommand(os, "arm64")), os, r.problem);
    return { os, cryptoProfile, amiIds };
}

/** `bastionInstanceType`: the default for every hop of the chain. */
export function readBastionInstanceType(r: ConfigReader): string {
    const bastionInstanceType = r.str("bastionInstanceType", DEFAULTS.bastionInstanceType);
    checkInstanceType(
        r.problem,
        "bastionInstanceType",
        bastionInstanceType,
        set("bastionInstanceType", DEFAULTS.bastionInstanceType),
    );
    return bastionInstanceType;
}

/** An EC2 instance type (family.size) of a family with a Debian or Ubuntu image. */
export function checkInstanceType(problem: ReportProblem, key: string, value: string, fix: string): void {
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value)) {
        problem(key, value, "is not an EC2 instance type (family.size, e.g. t4g.nano)", fix);
    } else if (!architectureOf(value)) {
        problem(key, value, "has no Debian or Ubuntu AMI (Mac instances are not supported)", fix);
    }
}

/** `targets`: named private hosts, each with an instance type; they must fit the planned private subnets. */
export function readTargets(
    r: ConfigReader,
    network: JumpgateSettings["network"],
    management: boolean,
): TargetSettings[] {
    const rawTargets = r.json<unknown>("targets", DEFAULTS.targets, setPath("targets[0].name", "app-1"));
    if (!Array.isArray(rawTargets)) {
        r.problem(
            "targets",
            JSON.stringify(rawTargets),
            "must be a list of {name, instanceType}",
            setPath("targets[0].name", "app-1"),
        );
        return [];
    }
    const targets: TargetSettings[] = [];
    const seen = new Set<string>();
    rawTargets.forEach((t: unknown, i) => {
        const target = readTarget(t, i, seen, r.problem);
        if (target) targets.push(target);
    });
    if (network.kind === "new" && !r.hasProblem("vpcCidr")) {
        checkTargetCapacity(rawTargets.length, network.vpcCidr, network.azCount, management, r.problem);
    }
    return targets;
}

/** One `targets` entry (a name, or `{name, instanceType}`); `seen` holds the names read so far. */
function readTarget(t: unknown, i: number, seen: Set<string>, problem: ReportProblem): TargetSettings | undefined {
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
        return undefined;
    }
    if (name === "bastion" || name.startsWith("tunnel-")) {
        problem(`${key}.name`, name, "is reserved for the bastion's SSH alias", setPath(`${key}.name`, `app-${i + 1}`));
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
        return undefined;
    }
    checkInstanceType(
        problem,
        `${key}.instanceType`,
        instanceType,
        setPath(`${key}.instanceType`, DEFAULTS.targetInstanceType),
    );
    return { name, instanceType };
}

/** Every target gets a fixed address in the private subnets of a new VPC. */
function checkTargetCapacity(
    count: number,
    vpcCidr: string,
    azCount: number,
    management: boolean,
    problem: ReportProblem,
): void {
    const { privateCidrs } = planSubnets(vpcCidr, azCount, management);
    const capacity = targetCapacity(privateCidrs[0]!) * privateCidrs.length;
    if (count > capacity) {
        problem(
            "targets",
            `${count} targets`,
            `only ${capacity} fit in ${privateCidrs.length} private subnet(s) of ${formatCidr(privateCidrs[0]!)}`,
            `${set("vpcCidr", "10.42.0.0/16")} or ${set("azCount", String(azCount + 1))}`,
        );
    }
}

/** `pulumi config set` pinning the image of one OS and architecture (brackets: OS names contain dots). */
export function amiPinCommand(os: string, arch: string, amiId = "ami-0123456789abcdef0"): string {
    return `pulumi config set --path 'amiIds["${os}/${arch}"]' ${amiId}`;
}

/** `amiIds`: `{"<os>/<arch>": "ami-..."}`; a pin of another OS than `os` is refused, never silently used or kept. */
function readAmiPins(value: unknown, os: OsName, problem: ReportProblem): Record<string, string> {
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

/** `rootVolumeSizeGb`: every host's encrypted root volume. */
export function readRootVolumeSizeGb(r: ConfigReader): number {
    return r.int("rootVolumeSizeGb", DEFAULTS.rootVolumeSizeGb, 8, 16384);
}
