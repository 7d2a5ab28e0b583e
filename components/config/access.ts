// Who may reach the bastion and who may log in: allowed CIDRs and the SSH port, the shared operator keys,
// the account names on the hosts, and named operators and roles (read in ../accessConfig).
import { ACCEPTED_USER_KEY_TYPES } from "../render/crypto";
import { AccessSettings, readAccess } from "../accessConfig";
import { Cidr, cidrProblem, isAnywhere, overlaps, parseCidr } from "../net/cidr";
import { ConfigReader, ReportProblem, set, setPath } from "./reader";
import { DEFAULTS } from "./types";

/** `allowSshFromAnywhere`, `allowedCidrs` (required) and `sshPort`: the bastion's SSH ingress. */
export function readIngress(r: ConfigReader): {
    allowSshFromAnywhere: boolean;
    allowedCidrs: string[];
    sshPort: number;
} {
    const allowSshFromAnywhere = r.bool("allowSshFromAnywhere", DEFAULTS.allowSshFromAnywhere);
    const allowedCidrs = r.stringList("allowedCidrs", [], "203.0.113.7/32");
    if (r.get("allowedCidrs") === undefined) {
        r.problem(
            "allowedCidrs",
            undefined,
            "is required: the CIDRs (IPv4 or IPv6) that may reach the bastion's SSH port",
            setPath("allowedCidrs[0]", "<your-public-ip>/32"),
        );
    } else if (allowedCidrs.length === 0 && !r.hasProblem("allowedCidrs")) {
        r.problem(
            "allowedCidrs",
            "[]",
            "must list at least one CIDR",
            setPath("allowedCidrs[0]", "<your-public-ip>/32"),
        );
    }
    const parsed: { text: string; cidr: Cidr }[] = [];
    allowedCidrs.forEach((text, i) => {
        const cidr = checkAllowedCidr(text, `allowedCidrs[${i}]`, allowSshFromAnywhere, parsed, r.problem);
        if (cidr) parsed.push({ text, cidr });
    });
    const sshPort = r.int("sshPort", DEFAULTS.sshPort, 1, 65535);
    return { allowSshFromAnywhere, allowedCidrs, sshPort };
}

/** One allowed CIDR: valid, IPv4, not the whole internet unless opted in, no overlap with an earlier one. */
function checkAllowedCidr(
    text: string,
    key: string,
    allowSshFromAnywhere: boolean,
    earlier: readonly { text: string; cidr: Cidr }[],
    problem: ReportProblem,
): Cidr | undefined {
    const why = cidrProblem(text);
    if (why) {
        const suggestion = /network is (\S+)/.exec(why)?.[1] ?? "203.0.113.7/32";
        problem(key, text, why, setPath(key, suggestion));
        return undefined;
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
        return undefined;
    }
    if (isAnywhere(cidr) && !allowSshFromAnywhere) {
        problem(
            key,
            text,
            "opens SSH to the whole internet; list your own addresses, or opt in explicitly",
            `${setPath(key, "<your-public-ip>/32")}  (or: ${set("allowSshFromAnywhere", "true")})`,
        );
    }
    const clash = earlier.find((p) => overlaps(p.cidr, cidr));
    if (clash) {
        problem(key, text, `overlaps ${clash.text}; list each range once`, `pulumi config rm --path '${key}'`);
    }
    return cidr;
}

/** `operatorPublicKeys`: keys every operator shares (when no named operators are set). */
export function readOperatorPublicKeys(r: ConfigReader): string[] {
    const operatorPublicKeys = r.stringList(
        "operatorPublicKeys",
        DEFAULTS.operatorPublicKeys,
        "'ssh-ed25519 AAAA... you@laptop'",
    );
    operatorPublicKeys.forEach((key, i) => {
        const why = publicKeyProblem(key);
        if (why)
            r.problem(
                `operatorPublicKeys[${i}]`,
                key.slice(0, 40) + (key.length > 40 ? "..." : ""),
                why,
                setPath(`operatorPublicKeys[${i}]`, `"$(cat ~/.ssh/id_ed25519.pub)"`),
            );
    });
    return operatorPublicKeys;
}

/** `jumpUser` and `loginUser`: new accounts on the hops and the targets, never a system or distro user. */
export function readAccounts(r: ConfigReader): { jumpUser: string; loginUser: string } {
    const jumpUser = r.str("jumpUser", DEFAULTS.jumpUser);
    const loginUser = r.str("loginUser", DEFAULTS.loginUser);
    for (const [key, value, fallback] of [
        ["jumpUser", jumpUser, DEFAULTS.jumpUser],
        ["loginUser", loginUser, DEFAULTS.loginUser],
    ] as const) {
        if (
            !/^[a-z_][a-z0-9_-]{0,31}$/.test(value) ||
            ["root", "admin", "debian", "ubuntu", "nobody"].includes(value)
        ) {
            r.problem(
                key,
                value,
                "must be a new POSIX user name (lowercase, at most 32 characters, not root or a distro default user)",
                set(key, fallback),
            );
        }
    }
    return { jumpUser, loginUser };
}

/** `operators`, `roles`, `userCa`, `kmsRequireMfa` and `revokedCertificates`; undefined when none are set. */
export function readNamedAccess(
    r: ConfigReader,
    loginUser: string,
    targets: readonly { name: string }[],
): AccessSettings | undefined {
    return readAccess(
        {
            operators: r.json<unknown>("operators", undefined, setPath("operators[0].name", "alice")),
            roles: r.json<unknown>("roles", undefined, setPath("roles[0].name", "ops")),
            userCa: r.get("userCa"),
            kmsRequireMfa: r.get("kmsRequireMfa"),
            revoked: r.json<unknown>(
                "revokedCertificates",
                undefined,
                setPath("revokedCertificates.serials[0]", "'\"1234\"'"),
            ),
            sharedKeysSet: r.get("operatorPublicKeys") !== undefined,
            loginUser,
        },
        targets.map((t) => t.name),
        publicKeyProblem,
        r.problem,
    );
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
