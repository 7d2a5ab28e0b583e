// Hosts jumpgate reaches but does not build: a name, a private address in the existing VPC, the security
// group jumpgate opens to the last hop, the account to log in as, and the host key when it is known.
import { ConfigReader, ReportProblem, setPath } from "./reader";
import {
    BastionHopSettings,
    ExistingHostSettings,
    JumpgateSettings,
    NAME_PATTERN,
    NAME_RULE,
    TargetSettings,
} from "./types";

/** Host key types an OpenSSH client pins in known_hosts. */
export const HOST_KEY_TYPES = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
] as const;

interface RawExistingHost {
    name?: unknown;
    privateIp?: unknown;
    securityGroupId?: unknown;
    loginUser?: unknown;
    sshPort?: unknown;
    hostPublicKey?: unknown;
}

/** Why `ip` is not a private IPv4 address (RFC 1918) a host in a VPC can have, or undefined. */
export function privateIpProblem(ip: string): string | undefined {
    const parts = ip.split(".");
    const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
    if (parts.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return "is not an IPv4 address (a.b.c.d)";
    const [a, b] = octets as [number, number, number, number];
    const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
    return isPrivate ? undefined : "is not a private address (10/8, 172.16/12 or 192.168/16) a host in a VPC has";
}

/** Why `id` is not a security group ID, or undefined. */
export function securityGroupIdProblem(id: string): string | undefined {
    return /^sg-[0-9a-f]{8,17}$/.test(id) ? undefined : "must be a security group ID (sg- and 8 to 17 hex digits)";
}

/** Why `key` is not an OpenSSH host public key (`type base64 [comment]`) a client can pin, or undefined. */
export function hostPublicKeyProblem(key: string): string | undefined {
    const m = /^([a-z][a-z0-9@.-]*) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/.exec(key.trim());
    if (!m) return "is not an OpenSSH host public key (expected 'ssh-ed25519 AAAA...', as in /etc/ssh/*.pub)";
    const [, type, b64] = m as unknown as [string, string, string];
    if (!(HOST_KEY_TYPES as readonly string[]).includes(type))
        return `is a ${type} key; host keys are one of ${HOST_KEY_TYPES.join(", ")}`;
    const blob = Buffer.from(b64, "base64");
    const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (len !== type.length || blob.subarray(4, 4 + len).toString() !== type)
        return `has a damaged key blob (its base64 does not encode a ${type} key)`;
    return undefined;
}

/** Names already used for SSH aliases: targets and bastion hops. */
type TakenNames = { targets: readonly TargetSettings[]; bastions: readonly BastionHopSettings[] };

/** `existingHosts`: hosts of an existing VPC reached through the last hop; an entry with any problem is left out. */
export function readExistingHosts(
    r: ConfigReader,
    network: JumpgateSettings["network"],
    loginUser: string,
    taken: TakenNames,
): ExistingHostSettings[] {
    const example = setPath("existingHosts[0].name", "legacy-1");
    const raw = r.json<unknown>("existingHosts", [], example);
    if (!Array.isArray(raw)) {
        r.problem(
            "existingHosts",
            JSON.stringify(raw),
            "must be a list of {name, privateIp, securityGroupId}",
            example,
        );
        return [];
    }
    if (raw.length > 0 && network.kind !== "existing") {
        r.problem(
            "existingHosts",
            `${raw.length} host(s)`,
            "existing hosts live in an existing VPC; jumpgate's own VPC has none",
            setPath("existingVpc.vpcId", "vpc-0123456789abcdef0"),
        );
    }
    const hosts: ExistingHostSettings[] = [];
    raw.forEach((entry: unknown, i) => {
        const before = r.problems.length;
        const host = readExistingHost((entry ?? {}) as RawExistingHost, `existingHosts[${i}]`, loginUser, r.problem);
        const name = host.name;
        if (taken.targets.some((t) => t.name === name) || taken.bastions.some((b) => b.name === name))
            r.problem(
                `existingHosts[${i}].name`,
                name,
                "is already a target or bastion hop; names must be unique",
                example,
            );
        else if (hosts.some((h) => h.name === name))
            r.problem(
                `existingHosts[${i}].name`,
                name,
                "is used by another existing host; names must be unique",
                example,
            );
        if (r.problems.length === before) hosts.push(host);
    });
    return hosts;
}

/** One `existingHosts` entry; problems are reported, the entry is returned as read. */
function readExistingHost(
    e: RawExistingHost,
    key: string,
    defaultLoginUser: string,
    problem: ReportProblem,
): ExistingHostSettings {
    const str = (field: keyof RawExistingHost, why: (v: string) => string | undefined, example: string) => {
        const value = e[field];
        const reason = typeof value === "string" ? why(value) : "must be a string";
        if (reason !== undefined)
            problem(`${key}.${field}`, JSON.stringify(value), reason, setPath(`${key}.${field}`, example));
        return typeof value === "string" ? value : "";
    };
    const name = str(
        "name",
        (v) =>
            !NAME_PATTERN.test(v) || v.startsWith("tunnel-")
                ? NAME_RULE
                : // Its security group rule would take the name of the targets group's rule.
                  v === "targets"
                  ? "is reserved for the targets jumpgate builds; pick another name"
                  : undefined,
        "legacy-1",
    );
    const privateIp = str("privateIp", privateIpProblem, "10.0.1.5");
    const securityGroupId = str("securityGroupId", securityGroupIdProblem, "sg-0123456789abcdef0");
    const loginUser =
        e.loginUser === undefined
            ? defaultLoginUser
            : str(
                  "loginUser",
                  (v) => (/^[a-z_][a-z0-9_-]{0,31}$/.test(v) ? undefined : "must be a POSIX user name"),
                  "admin",
              );
    const sshPort = e.sshPort ?? 22;
    if (typeof sshPort !== "number" || !Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535)
        problem(
            `${key}.sshPort`,
            JSON.stringify(sshPort),
            "must be a port from 1 to 65535",
            setPath(`${key}.sshPort`, "22"),
        );
    const hostPublicKey =
        e.hostPublicKey === undefined ? undefined : str("hostPublicKey", hostPublicKeyProblem, "'ssh-ed25519 AAAA...'");
    return {
        name,
        privateIp,
        securityGroupId,
        loginUser,
        sshPort: Number(sshPort),
        ...(hostPublicKey === undefined ? {} : { hostPublicKey }),
    };
}
