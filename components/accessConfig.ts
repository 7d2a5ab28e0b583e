// Team access in config: named operators, each with one role, and roles that say which targets they
// reach and whether they get sudo there. Hosts trust the stack's user CA and know roles only (as
// certificate principals), so operators come and go without touching an instance. Pure: readSettings
// hands in the raw values and collects the problems.

/** Second factor a role's logins must show: `fido2` = a FIDO key that verified its user (PIN) and was touched. */
export type RoleMfa = "fido2";

/** What a role may do: reach these targets (names, resolved from globs), with or without sudo. */
export interface RoleSettings {
    name: string;
    sudo: boolean;
    /** Target names, in config order. */
    targets: string[];
    /** IAM principals that may sign for the whole role (kms), e.g. an IAM Identity Center permission set's role. */
    awsPrincipals: string[];
    /** Absent: any certified key logs in. */
    mfa?: RoleMfa;
}

/** One person: a role, and how they prove who they are when the CLI asks for a certificate. */
export interface OperatorSettings {
    name: string;
    role: string;
    /** OpenSSH public keys a certificate may be issued for. */
    publicKeys: string[];
    /** IAM principal ARNs allowed to obtain this operator's certificates. */
    awsPrincipals: string[];
}

/** Which CA signs certificates: one AWS KMS key per role, or one ED25519 key held as a Pulumi secret. */
export type UserCaBackend = "kms" | "stack";
export const USER_CA_BACKENDS: readonly UserCaBackend[] = ["kms", "stack"];
/** Teams get KMS (signatures in CloudTrail, no CA key anyone can copy); solo use and the lab set `stack`. */
export const DEFAULT_USER_CA: UserCaBackend = "kms";

/** Certificates refused before they expire (a KRL on the bastion hops); serials as decimal strings (uint64). */
export interface RevocationSettings {
    serials: string[];
    keyIds: string[];
    /** OpenSSH public keys: every certificate of these keys is refused. */
    publicKeys: string[];
}

/** Team access: present only when `operators` is set (otherwise the single shared key is used). */
export interface AccessSettings {
    operators: OperatorSettings[];
    /** Built-in roles (unless redefined) and the configured ones, every one reaching at least one target. */
    roles: RoleSettings[];
    userCa: UserCaBackend;
    /** kms: kms:Sign only from MFA-authenticated AWS sessions. */
    kmsRequireMfa: boolean;
    revoked: RevocationSettings;
}

/** Roles every stack has; a configured role of the same name replaces one. */
export const BUILT_IN_ROLES: readonly { name: string; sudo: boolean; targets: string[] }[] = [
    { name: "admin", sudo: true, targets: ["*"] },
    { name: "developer", sudo: false, targets: ["*"] },
];

import { KMS_KEY_POLICY_MAX_BYTES, renderUserCaKeyPolicy } from "./render/kmsKeyPolicy";

/** Role and operator names: certificate principals and parts of account names. */
const ACCESS_NAME = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;
const ACCESS_NAME_RULE =
    "must be 2-24 characters of lowercase letters, digits and inner hyphens, starting with a letter";
/** IAM users, roles and assumed-role sessions; KMS key policies name these. */
const AWS_PRINCIPAL =
    /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;

type Report = (key: string, value: string | undefined, message: string, fix: string) => void;
const setPath = (path: string, value: string) => `pulumi config set --path '${path}' ${value}`;
const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Target names a `targets` entry of a role stands for: an exact name, or a `*`-glob. */
export function matchTargets(pattern: string, targetNames: readonly string[]): string[] {
    if (!pattern.includes("*")) return targetNames.includes(pattern) ? [pattern] : [];
    const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
    return targetNames.filter((t) => re.test(t));
}

function escapeRegExp(text: string): string {
    return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** Reads `roles`: a list of {name, sudo, targets}. Invalid entries are reported and left out. */
export function readRoles(raw: unknown, targetNames: readonly string[], report: Report): RoleSettings[] {
    if (raw === undefined) return BUILT_IN_ROLES.map((r) => resolveBuiltIn(r, targetNames));
    if (!Array.isArray(raw)) {
        report("roles", shown(raw), "must be a list of {name, sudo, targets}", setPath("roles[0].name", "ops"));
        return BUILT_IN_ROLES.map((r) => resolveBuiltIn(r, targetNames));
    }
    const configured: RoleSettings[] = [];
    const seen = new Set<string>();
    raw.forEach((entry: unknown, i) => {
        const name = (entry as { name?: unknown } | null)?.name;
        if (typeof name === "string" && seen.has(name)) {
            report(
                `roles[${i}].name`,
                name,
                "is used by another role; names must be unique",
                `pulumi config rm --path 'roles[${i}]'`,
            );
            return;
        }
        if (typeof name === "string") seen.add(name);
        const role = readRole(entry, `roles[${i}]`, targetNames, report);
        if (role) configured.push(role);
    });
    const builtIn = BUILT_IN_ROLES.filter((b) => !configured.some((r) => r.name === b.name));
    return [...builtIn.map((r) => resolveBuiltIn(r, targetNames)), ...configured];
}

function resolveBuiltIn(role: (typeof BUILT_IN_ROLES)[number], targetNames: readonly string[]): RoleSettings {
    return { name: role.name, sudo: role.sudo, targets: [...targetNames], awsPrincipals: [] };
}

function readRole(
    entry: unknown,
    key: string,
    targetNames: readonly string[],
    report: Report,
): RoleSettings | undefined {
    const e = (entry ?? {}) as {
        name?: unknown;
        sudo?: unknown;
        targets?: unknown;
        awsPrincipals?: unknown;
        mfa?: unknown;
    };
    let failed = false;
    const fail: Report = (...args) => {
        failed = true;
        report(...args);
    };
    if (typeof e.name !== "string" || !ACCESS_NAME.test(e.name))
        fail(`${key}.name`, shown(e.name), ACCESS_NAME_RULE, setPath(`${key}.name`, "ops"));
    const sudo = e.sudo ?? false;
    if (typeof sudo !== "boolean")
        fail(`${key}.sudo`, shown(sudo), "must be true or false", setPath(`${key}.sudo`, "false"));
    const targets = readReach(e.targets, `${key}.targets`, targetNames, fail);
    const awsPrincipals = readAwsPrincipals(e.awsPrincipals, `${key}.awsPrincipals`, fail);
    if (e.mfa !== undefined && e.mfa !== "fido2")
        fail(`${key}.mfa`, shown(e.mfa), 'must be "fido2" (or unset)', setPath(`${key}.mfa`, "fido2"));
    if (failed) return undefined;
    const mfa: { mfa?: RoleMfa } = e.mfa === "fido2" ? { mfa: "fido2" } : {};
    return { name: e.name as string, sudo: sudo as boolean, targets, awsPrincipals, ...mfa };
}

/** A role's `targets`: each entry must name a target or match one; a role that reaches nothing is refused. */
function readReach(raw: unknown, key: string, targetNames: readonly string[], report: Report): string[] {
    const known = `known targets: ${targetNames.join(", ")}`;
    if (!Array.isArray(raw) || raw.length === 0) {
        report(
            key,
            shown(raw),
            `must list the targets the role reaches (names or *-globs); ${known}`,
            setPath(`${key}[0]`, targetNames[0] ?? "app-1"),
        );
        return [];
    }
    const reach = new Set<string>();
    raw.forEach((pattern: unknown, i) => {
        const path = `${key}[${i}]`;
        if (typeof pattern !== "string" || !/^[a-z0-9*-]+$/.test(pattern)) {
            report(
                path,
                shown(pattern),
                "must be a target name or a *-glob of lowercase letters, digits and hyphens",
                setPath(path, "'app-*'"),
            );
            return;
        }
        const matched = matchTargets(pattern, targetNames);
        if (matched.length === 0) {
            const what = pattern.includes("*") ? "matches no target" : "is not a target";
            report(
                path,
                pattern,
                `${what}, so the role would reach nothing through it; ${known}`,
                setPath(path, targetNames[0] ?? "app-1"),
            );
        }
        matched.forEach((t) => reach.add(t));
    });
    return targetNames.filter((t) => reach.has(t));
}

/** Reads `operators`: a list of {name, role, publicKeys?, awsPrincipals?}. Invalid entries are reported and left out. */
export function readOperators(
    raw: unknown,
    roleNames: readonly string[],
    keyProblem: (key: string) => string | undefined,
    report: Report,
): OperatorSettings[] {
    if (!Array.isArray(raw) || raw.length === 0) {
        report(
            "operators",
            shown(raw),
            "must be a list of at least one {name, role, publicKeys, awsPrincipals}",
            setPath("operators[0].name", "alice"),
        );
        return [];
    }
    const seen = new Set<string>();
    return raw.flatMap((entry: unknown, i) => {
        const operator = readOperator(entry, `operators[${i}]`, seen, roleNames, keyProblem, report);
        return operator === undefined ? [] : [operator];
    });
}

type RawOperator = { name?: unknown; role?: unknown; publicKeys?: unknown; awsPrincipals?: unknown };

function readOperator(
    entry: unknown,
    key: string,
    seen: Set<string>,
    roleNames: readonly string[],
    keyProblem: (key: string) => string | undefined,
    report: Report,
): OperatorSettings | undefined {
    const e = (entry ?? {}) as RawOperator;
    let ok = true;
    const fail: Report = (...args) => {
        ok = false;
        report(...args);
    };
    if (typeof e.name !== "string" || !ACCESS_NAME.test(e.name)) {
        fail(`${key}.name`, shown(e.name), ACCESS_NAME_RULE, setPath(`${key}.name`, "alice"));
    } else if (seen.has(e.name)) {
        const fix = setPath(`${key}.name`, `${e.name}-2`);
        fail(`${key}.name`, e.name, "is used by another operator; names must be unique", fix);
    } else {
        seen.add(e.name);
    }
    if (typeof e.role !== "string" || !roleNames.includes(e.role)) {
        const why = `must name a role (${roleNames.join(", ")})`;
        fail(`${key}.role`, shown(e.role), why, setPath(`${key}.role`, "developer"));
    }
    const { publicKeys, awsPrincipals } = readCredentials(e, key, keyProblem, fail);
    return ok ? { name: e.name as string, role: e.role as string, publicKeys, awsPrincipals } : undefined;
}

/** How an operator proves who they are to get a certificate: their public keys and/or IAM principals. */
function readCredentials(
    e: RawOperator,
    key: string,
    keyProblem: (key: string) => string | undefined,
    fail: Report,
): { publicKeys: string[]; awsPrincipals: string[] } {
    const ownKey = `"$(cat ~/.ssh/id_ed25519.pub)"`;
    const publicKeys = stringList(e.publicKeys, `${key}.publicKeys`, fail, "'ssh-ed25519 AAAA... alice@laptop'");
    publicKeys.forEach((k, j) => {
        const why = keyProblem(k);
        const path = `${key}.publicKeys[${j}]`;
        if (why) fail(path, k.slice(0, 40) + (k.length > 40 ? "..." : ""), why, setPath(path, ownKey));
    });
    const awsPrincipals = readAwsPrincipals(e.awsPrincipals, `${key}.awsPrincipals`, fail);
    return { publicKeys, awsPrincipals };
}

const EXAMPLE_ARN = "arn:aws:iam::123456789012:user/alice";

/** IAM principal ARNs, each of a shape a KMS key policy accepts. */
function readAwsPrincipals(raw: unknown, key: string, fail: Report): string[] {
    const awsPrincipals = stringList(raw, key, fail, EXAMPLE_ARN);
    awsPrincipals.forEach((arn, j) => {
        const path = `${key}[${j}]`;
        if (!AWS_PRINCIPAL.test(arn))
            fail(path, arn, "must be an IAM user, role or assumed-role ARN", setPath(path, EXAMPLE_ARN));
    });
    return awsPrincipals;
}

function stringList(raw: unknown, key: string, report: Report, example: string): string[] {
    if (raw === undefined) return [];
    if (Array.isArray(raw) && raw.length > 0 && raw.every((v) => typeof v === "string")) return raw as string[];
    report(key, shown(raw), "must be a non-empty list of strings", setPath(`${key}[0]`, example));
    return [];
}

/** The raw values team access is read from. */
export interface RawAccess {
    operators: unknown;
    roles: unknown;
    /** `userCa` as set, or undefined. */
    userCa: string | undefined;
    /** `kmsRequireMfa` as set, or undefined. */
    kmsRequireMfa: string | undefined;
    /** `revokedCertificates` as set, or undefined. */
    revoked: unknown;
    /** `operatorPublicKeys` is set too, which would be silently ignored. */
    sharedKeysSet: boolean;
    loginUser: string;
}

/** Team access from the raw values; undefined when `operators` is not set (the single shared key). */
export function readAccess(
    raw: RawAccess,
    targetNames: readonly string[],
    keyProblem: (key: string) => string | undefined,
    report: Report,
): AccessSettings | undefined {
    if (raw.operators === undefined) {
        const fix = setPath("operators[0].name", "alice") + "  (and .role, .awsPrincipals[0])";
        if (raw.roles !== undefined)
            report("roles", shown(raw.roles), "applies only to operators, and none are configured", fix);
        for (const key of ["userCa", "kmsRequireMfa"] as const)
            if (raw[key] !== undefined)
                report(key, raw[key], "applies only to operators, and none are configured", `pulumi config rm ${key}`);
        if (raw.revoked !== undefined)
            report(
                "revokedCertificates",
                shown(raw.revoked),
                "revokes certificates, which only a stack with operators issues",
                "pulumi config rm revokedCertificates",
            );
        return undefined;
    }
    if (raw.sharedKeysSet)
        report(
            "operatorPublicKeys",
            "(set)",
            "is the single shared key, which operators replace: hosts trust the stack's user CA instead",
            "pulumi config rm operatorPublicKeys",
        );
    const roles = readRoles(raw.roles, targetNames, report);
    accountLengthProblems(roles, raw.roles, raw.loginUser, report);
    // A declared role that failed is reported once, not again for each operator who has it.
    const declared = Array.isArray(raw.roles)
        ? raw.roles.map((r: unknown) => (r as { name?: unknown } | null)?.name).filter((n) => typeof n === "string")
        : [];
    const roleNames = [...new Set([...roles.map((r) => r.name), ...(declared as string[])])];
    const operators = readOperators(raw.operators, roleNames, keyProblem, report);
    const { userCa, kmsRequireMfa } = readBackend(raw, report);
    const revoked = readRevocations(raw.revoked, keyProblem, report);
    const access = { operators, roles, userCa, kmsRequireMfa, revoked };
    if (userCa === "kms") {
        kmsSignerProblems(access, raw.operators, report);
        keyPolicySizeProblems(access, report);
    } else stackCaProblems(access, raw, report);
    return access;
}

function readBackend(raw: RawAccess, report: Report): { userCa: UserCaBackend; kmsRequireMfa: boolean } {
    const userCa = (raw.userCa ?? DEFAULT_USER_CA) as UserCaBackend;
    if (!USER_CA_BACKENDS.includes(userCa))
        report(
            "userCa",
            userCa,
            "must be kms (one AWS KMS key per role) or stack (one CA key held as a Pulumi secret)",
            "pulumi config set userCa kms",
        );
    const mfa = raw.kmsRequireMfa ?? "false";
    if (mfa !== "true" && mfa !== "false")
        report("kmsRequireMfa", mfa, "must be true or false", "pulumi config set kmsRequireMfa true");
    return { userCa: USER_CA_BACKENDS.includes(userCa) ? userCa : DEFAULT_USER_CA, kmsRequireMfa: mfa === "true" };
}

/** kms: every operator must be able to sign with their role's key, through their own principal or the role's. */
function kmsSignerProblems(access: AccessSettings, rawOperators: unknown, report: Report): void {
    const raw = Array.isArray(rawOperators) ? rawOperators : [];
    access.operators.forEach((o) => {
        const role = access.roles.find((r) => r.name === o.role);
        if (o.awsPrincipals.length > 0 || (role?.awsPrincipals.length ?? 0) > 0) return;
        const i = raw.findIndex((x) => (x as { name?: unknown } | null)?.name === o.name);
        const path = `operators[${i}].awsPrincipals[0]`;
        report(
            `operators[${i}].awsPrincipals`,
            "(not set)",
            `neither ${o.name} nor role ${o.role} names an AWS principal, so nobody could sign ${o.name}'s ` +
                "certificates with the role's KMS key (userCa is kms, the default for teams)",
            `${setPath(path, `arn:aws:iam::123456789012:user/${o.name}`)}  (or, for solo use: pulumi config set userCa stack)`,
        );
    });
}

/** stack: certificates are issued for operators' public keys; KMS-only settings would be silently ignored. */
function stackCaProblems(access: AccessSettings, raw: RawAccess, report: Report): void {
    const rawOps = Array.isArray(raw.operators) ? raw.operators : [];
    access.operators.forEach((o) => {
        if (o.publicKeys.length > 0 || o.awsPrincipals.length > 0) return;
        const i = rawOps.findIndex((x) => (x as { name?: unknown } | null)?.name === o.name);
        const why = "has neither publicKeys nor awsPrincipals, so no certificate could ever be issued to them";
        report(
            `operators[${i}]`,
            o.name,
            why,
            setPath(`operators[${i}].publicKeys[0]`, `"$(cat ~/.ssh/id_ed25519.pub)"`),
        );
    });
    const kmsOnly = "applies only to userCa kms (the stack CA signs with a key held as a Pulumi secret)";
    if (raw.kmsRequireMfa !== undefined)
        report(
            "kmsRequireMfa",
            raw.kmsRequireMfa,
            kmsOnly,
            "pulumi config rm kmsRequireMfa  (or: pulumi config set userCa kms)",
        );
    const rawRoles = Array.isArray(raw.roles) ? raw.roles : [];
    rawRoles.forEach((r: unknown, i) => {
        if ((r as { awsPrincipals?: unknown } | null)?.awsPrincipals !== undefined)
            report(
                `roles[${i}].awsPrincipals`,
                shown((r as { awsPrincipals: unknown }).awsPrincipals),
                kmsOnly,
                `pulumi config rm --path 'roles[${i}].awsPrincipals'  (or: pulumi config set userCa kms)`,
            );
    });
}

/** kms: each role's key policy lists its signers, and KMS takes policies of at most 32 KB. */
function keyPolicySizeProblems(access: AccessSettings, report: Report): void {
    for (const role of access.roles) {
        // The longest partition name stands in: the size must not depend on where the stack runs.
        const policy = renderUserCaKeyPolicy({
            partition: "aws-us-gov",
            accountId: "123456789012",
            role: role.name,
            signers: roleSigners(access, role.name),
            requireMfa: access.kmsRequireMfa,
        });
        const bytes = Buffer.byteLength(policy, "utf8");
        if (bytes <= KMS_KEY_POLICY_MAX_BYTES) continue;
        report(
            "operators",
            `role ${role.name}: ${roleSigners(access, role.name).length} AWS principals`,
            `make the role's KMS key policy ${bytes} bytes; KMS accepts at most ${KMS_KEY_POLICY_MAX_BYTES}`,
            `pulumi config set --path 'roles[0].awsPrincipals[0]' <one IAM role the team assumes>  (instead of one principal per operator)`,
        );
    }
}

/** kms: who may sign with a role's key: the role's own principals and those of its operators, sorted. */
export function roleSigners(access: AccessSettings, role: string): string[] {
    const own = access.roles.find((r) => r.name === role)?.awsPrincipals ?? [];
    const operators = access.operators.filter((o) => o.role === role).flatMap((o) => o.awsPrincipals);
    return [...new Set([...own, ...operators])].sort();
}

/** The largest certificate serial (uint64). */
const MAX_SERIAL = (1n << 64n) - 1n;

/** Reads `revokedCertificates`: {serials?, keyIds?, publicKeys?}; every entry is checked. */
export function readRevocations(
    raw: unknown,
    keyProblem: (key: string) => string | undefined,
    report: Report,
): RevocationSettings {
    const none: RevocationSettings = { serials: [], keyIds: [], publicKeys: [] };
    if (raw === undefined) return none;
    const e = raw as { serials?: unknown; keyIds?: unknown; publicKeys?: unknown } | null;
    const extra = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? Object.keys(raw) : ["?"];
    if (extra.some((k) => !["serials", "keyIds", "publicKeys"].includes(k))) {
        const why = "must be an object with serials, keyIds and/or publicKeys (lists)";
        report("revokedCertificates", shown(raw), why, setPath("revokedCertificates.serials[0]", "'\"1234\"'"));
        return none;
    }
    const key = (k: string) => `revokedCertificates.${k}`;
    // Serials are uint64: above 2^53 a JSON number loses digits, so they are written as strings.
    const serials = stringOrNumberList(e?.serials, key("serials"), report).filter((s, i) => {
        const ok = /^[0-9]{1,20}$/.test(s) && BigInt(s) > 0n && BigInt(s) <= MAX_SERIAL;
        const why = "must be a certificate serial (1 to 2^64-1, as login prints it), written as a string";
        if (!ok) report(`${key("serials")}[${i}]`, s, why, setPath(`${key("serials")}[${i}]`, "'\"1234\"'"));
        return ok;
    });
    const keyIds = stringList(e?.keyIds, key("keyIds"), report, "jumpgate-prod:bob").filter((id, i) => {
        const ok = id.trim() !== "" && !/[\n\r]/.test(id);
        if (!ok)
            report(
                `${key("keyIds")}[${i}]`,
                id,
                "must be a certificate key ID (one line)",
                setPath(`${key("keyIds")}[${i}]`, "jumpgate-prod:bob"),
            );
        return ok;
    });
    const publicKeys = stringList(e?.publicKeys, key("publicKeys"), report, "'ssh-ed25519 AAAA... bob@laptop'").filter(
        (k, i) => {
            const why = keyProblem(k);
            const path = `${key("publicKeys")}[${i}]`;
            if (why)
                report(path, k.slice(0, 40) + (k.length > 40 ? "..." : ""), why, `pulumi config rm --path '${path}'`);
            return why === undefined;
        },
    );
    return { serials: [...new Set(serials)], keyIds: [...new Set(keyIds)], publicKeys: [...new Set(publicKeys)] };
}

function stringOrNumberList(raw: unknown, key: string, report: Report): string[] {
    if (raw === undefined) return [];
    if (
        Array.isArray(raw) &&
        raw.every((v) => typeof v === "string" || (typeof v === "number" && Number.isSafeInteger(v)))
    )
        return raw.map((v) => String(v));
    report(key, shown(raw), "must be a list of serials as strings", setPath(`${key}[0]`, "'\"1234\"'"));
    return [];
}

/** The account a role logs in as on the targets (its principal is the role name). */
export function targetAccount(loginUser: string, role: string): string {
    return `${loginUser}-${role}`;
}

/** Certificate principals of each operator: the role name, so hosts never list people. */
export function operatorPrincipals(access: AccessSettings): Record<string, string[]> {
    return Object.fromEntries(access.operators.map((o) => [o.name, [o.role]]));
}

/**
 * Roles as hosts see them: each role's targets, plus the tunnels on those targets (`tunnel-<name>`, the
 * bastion's endpoint names). Role names only: adding or removing an operator changes none of this.
 */
export function roleReach(
    access: AccessSettings,
    tunnels: readonly { name: string; target: string }[],
): { name: string; sudo: boolean; reach: string[]; mfa?: RoleMfa }[] {
    return access.roles.map((r) => ({
        name: r.name,
        sudo: r.sudo,
        ...(r.mfa === undefined ? {} : { mfa: r.mfa }),
        reach: [...r.targets, ...tunnels.filter((t) => r.targets.includes(t.target)).map((t) => `tunnel-${t.name}`)],
    }));
}

/** Target accounts are `<loginUser>-<role>`, and POSIX user names are at most 32 characters. */
function accountLengthProblems(
    roles: readonly RoleSettings[],
    rawRoles: unknown,
    loginUser: string,
    report: Report,
): void {
    const why = (account: string) =>
        `makes the target account ${account} ${account.length} characters long; POSIX allows 32`;
    const builtInTooLong: string[] = [];
    for (const r of roles) {
        const account = targetAccount(loginUser, r.name);
        if (account.length <= 32) continue;
        const i = Array.isArray(rawRoles) ? rawRoles.findIndex((x) => (x as { name?: unknown })?.name === r.name) : -1;
        if (i < 0) builtInTooLong.push(account);
        else
            report(
                `roles[${i}].name`,
                r.name,
                why(account),
                setPath(`roles[${i}].name`, r.name.slice(0, 31 - loginUser.length)),
            );
    }
    // Built-in roles are renamed by no one: the login user is what to shorten (reported once).
    const longest = builtInTooLong.sort((x, y) => y.length - x.length)[0];
    if (longest !== undefined) report("loginUser", loginUser, why(longest), "pulumi config set loginUser ops");
}
