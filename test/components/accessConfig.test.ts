// Team access config: operators and roles are refused before any resource, every problem at once,
// each with its key, the bad value and the `pulumi config set --path` that fixes it.
import { describe, expect, it } from "vitest";
import { ConfigError, readSettings } from "../../components/config";
import { matchTargets, operatorPrincipals, roleSigners } from "../../components/accessConfig";

const ALICE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPgcPxffI2idXW8LzCZGLrW9whC5VPh63Wf0tHvsFk0c alice@laptop";
const TARGETS = [{ name: "app-1" }, { name: "app-2" }, { name: "db-1" }];

/** Stack config; with operators the stack CA unless `userCa` is given (the kms tests below set it). */
function settingsFrom(values: Record<string, unknown>) {
    const ca = values.operators !== undefined && !("userCa" in values) ? { userCa: "stack" } : {};
    const all: Record<string, unknown> = { allowedCidrs: ["203.0.113.0/24"], targets: TARGETS, ...ca, ...values };
    const get = (key: string) => {
        const v = all[key];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    };
    return readSettings(get, "dev", Object.keys(all));
}

function problemsOf(values: Record<string, unknown>) {
    try {
        settingsFrom(values);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
}

describe("operators and roles", () => {
    it("without operators keeps the single shared key path (no access settings)", () => {
        expect(settingsFrom({ operatorPublicKeys: [ALICE_KEY] }).access).toBeUndefined();
    });

    it("resolves built-in and configured roles, globs included, and gives each operator its role as principal", () => {
        const s = settingsFrom({
            operators: [
                { name: "alice", role: "admin", publicKeys: [ALICE_KEY] },
                { name: "bob", role: "dba", awsPrincipals: ["arn:aws:iam::123456789012:user/bob"] },
                { name: "carol", role: "developer", publicKeys: [ALICE_KEY] },
            ],
            roles: [{ name: "dba", sudo: true, targets: ["db-*"] }],
        });
        expect(s.access!.roles).toEqual([
            { name: "admin", sudo: true, targets: ["app-1", "app-2", "db-1"], awsPrincipals: [] },
            { name: "developer", sudo: false, targets: ["app-1", "app-2", "db-1"], awsPrincipals: [] },
            { name: "dba", sudo: true, targets: ["db-1"], awsPrincipals: [] },
        ]);
        expect(operatorPrincipals(s.access!)).toEqual({ alice: ["admin"], bob: ["dba"], carol: ["developer"] });
    });

    it("lets a configured role replace a built-in one", () => {
        const s = settingsFrom({
            operators: [{ name: "alice", role: "developer", publicKeys: [ALICE_KEY] }],
            roles: [{ name: "developer", targets: ["app-*"] }],
        });
        expect(s.access!.roles.find((r) => r.name === "developer")).toEqual({
            name: "developer",
            sudo: false,
            targets: ["app-1", "app-2"],
            awsPrincipals: [],
        });
    });

    it("reports every bad operator and role at once, each with key, value and fix", () => {
        const problems = problemsOf({
            operators: [
                { name: "alice", role: "admin", publicKeys: [ALICE_KEY] },
                { name: "alice", role: "admin", publicKeys: [ALICE_KEY] },
                { name: "bob", role: "nope", publicKeys: ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ bob"] },
                { name: "carol", role: "developer" },
                { name: "dave", role: "developer", awsPrincipals: ["dave"] },
            ],
            roles: [
                { name: "dba", targets: ["db-9"] },
                { name: "web", targets: ["web-*"] },
                { name: "ops", sudo: "yes", targets: [] },
                { name: "dba", targets: ["db-1"] },
            ],
        });
        const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
        expect(Object.keys(byKey).sort()).toEqual(
            [
                "roles[0].targets[0]",
                "roles[1].targets[0]",
                "roles[2].sudo",
                "roles[2].targets",
                "roles[3].name",
                "operators[1].name",
                "operators[2].role",
                "operators[2].publicKeys[0]",
                "operators[3]",
                "operators[4].awsPrincipals[0]",
            ].sort(),
        );
        expect(byKey["roles[0].targets[0]"]).toMatchObject({ value: "db-9" });
        expect(byKey["roles[0].targets[0]"]!.message).toContain("is not a target");
        expect(byKey["roles[1].targets[0]"]!.message).toContain("matches no target");
        expect(byKey["roles[2].targets"]!.message).toContain("must list the targets");
        expect(byKey["operators[1].name"]!.message).toContain("unique");
        expect(byKey["operators[2].role"]!.message).toContain("must name a role (admin, developer, dba, web, ops)");
        expect(byKey["operators[2].role"]!.fix).toBe("pulumi config set --path 'operators[2].role' developer");
        expect(byKey["operators[2].publicKeys[0]"]!.message).toContain("ssh-rsa");
        expect(byKey["operators[2].publicKeys[0]"]!.fix).toContain(
            "pulumi config set --path 'operators[2].publicKeys[0]'",
        );
        expect(byKey["operators[3]"]!.message).toContain("neither publicKeys nor awsPrincipals");
        for (const p of problems) expect(p.fix).toMatch(/^pulumi config (set --path|rm --path) '/);
        expect(problems).toHaveLength(10);
    });

    it("refuses a key that is not an OpenSSH public key", () => {
        const [p] = problemsOf({ operators: [{ name: "alice", role: "admin", publicKeys: ["not a key"] }] });
        expect(p).toMatchObject({ key: "operators[0].publicKeys[0]", value: "not a key" });
    });

    it("refuses operators next to the shared key, and roles without operators", () => {
        const both = problemsOf({
            operatorPublicKeys: [ALICE_KEY],
            operators: [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }],
        });
        expect(both.map((p) => [p.key, p.fix])).toEqual([
            ["operatorPublicKeys", "pulumi config rm operatorPublicKeys"],
        ]);
        const rolesOnly = problemsOf({ roles: [{ name: "dba", targets: ["db-1"] }] });
        expect(rolesOnly.map((p) => p.key)).toEqual(["roles"]);
        const empty = problemsOf({ operators: [] });
        expect(empty.map((p) => p.key)).toEqual(["operators"]);
    });

    it("refuses a role whose target account would be longer than POSIX allows", () => {
        const problems = problemsOf({
            loginUser: "operations-staff",
            operators: [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }],
            roles: [{ name: "database-administrators", targets: ["db-1"] }],
        });
        expect(problems.map((p) => [p.key, p.value, p.fix])).toEqual([
            ["roles[0].name", "database-administrators", "pulumi config set --path 'roles[0].name' database-admini"],
        ]);
    });
});

it("refuses a loginUser too long for the built-in roles' accounts", () => {
    const problems = problemsOf({
        loginUser: "a-very-long-login-user-name",
        operators: [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }],
    });
    expect(problems.map((p) => p.key)).toEqual(["loginUser"]);
    expect(problems[0]!.message).toContain("a-very-long-login-user-name-developer");
});

it("counts each narrow role's reach in the bastion's 16 KiB of user data", () => {
    // Past 16 KiB as text the user data goes gzipped: 900 targets fit, not with 450 more permitopen entries.
    const targets = Array.from({ length: 900 }, (_, i) => ({ name: `app-${i + 1}` }));
    const operators = [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }];
    // Without the audit trail's agent, whose 3 KB would leave room for fewer than 300 targets anyway.
    const audit = false;
    // Roles reaching every target add a bare line each: still fits.
    expect(settingsFrom({ targets, operators, audit }).access?.roles).toHaveLength(2);
    const half = { name: "half", targets: targets.slice(0, 450).map((t) => t.name) };
    const [p, ...rest] = problemsOf({ targets, operators, audit, roles: [half] });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ key: "targets", value: "900 targets, 0 tunnels" });
    expect(p!.message).toContain("again for each role that reaches only some");
});

describe("matchTargets", () => {
    it("matches exact names and *-globs only", () => {
        const names = ["app-1", "app-10", "db-1"];
        expect(matchTargets("app-1", names)).toEqual(["app-1"]);
        expect(matchTargets("app-*", names)).toEqual(["app-1", "app-10"]);
        expect(matchTargets("*-1", names)).toEqual(["app-1", "db-1"]);
        expect(matchTargets("a.p-1", ["app-1"])).toEqual([]);
    });
});

describe("the kms CA (userCa kms, the default with operators)", () => {
    const arn = (who: string) => `arn:aws:iam::123456789012:user/${who}`;
    const SSO =
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef";
    const kms = (values: Record<string, unknown>) => ({ userCa: undefined, ...values });
    const byKey = <P extends { key: string }>(problems: P[]) => Object.fromEntries(problems.map((p) => [p.key, p]));

    it("is the default; an operator signs through their own principal or their role's, the role's key lists both", () => {
        const s = settingsFrom(
            kms({
                operators: [
                    { name: "alice", role: "admin", awsPrincipals: [arn("alice")] },
                    { name: "bob", role: "developer" },
                    { name: "carol", role: "developer", awsPrincipals: [arn("carol")] },
                ],
                roles: [{ name: "developer", targets: ["*"], awsPrincipals: [SSO] }],
            }),
        );
        expect(s.access).toMatchObject({ userCa: "kms", kmsRequireMfa: false });
        expect(roleSigners(s.access!, "admin")).toEqual([arn("alice")]);
        expect(roleSigners(s.access!, "developer")).toEqual([SSO, arn("carol")].sort());
    });

    it("reports every kms problem at once: who cannot sign, ARN shapes, the backend and the MFA switch", () => {
        const problems = problemsOf(
            kms({
                userCa: "vault",
                kmsRequireMfa: "yes",
                operators: [
                    { name: "alice", role: "admin", publicKeys: [ALICE_KEY] },
                    { name: "bob", role: "developer", awsPrincipals: ["arn:aws:iam::123456789012:group/devs"] },
                ],
                roles: [{ name: "developer", targets: ["*"], awsPrincipals: ["*", "arn:aws:iam::1234:user/x"] }],
            }),
        );
        const p = byKey(problems);
        expect(Object.keys(p).sort()).toEqual(
            [
                "userCa",
                "kmsRequireMfa",
                "operators[0].awsPrincipals",
                "operators[1].awsPrincipals[0]",
                "roles[0].awsPrincipals[0]",
                "roles[0].awsPrincipals[1]",
            ].sort(),
        );
        expect(p.userCa).toMatchObject({ value: "vault", fix: "pulumi config set userCa kms" });
        expect(p["operators[0].awsPrincipals"]!.message).toContain("nobody could sign alice's certificates");
        expect(p["operators[0].awsPrincipals"]!.fix).toBe(
            "pulumi config set --path 'operators[0].awsPrincipals[0]' arn:aws:iam::123456789012:user/alice" +
                "  (or, for solo use: pulumi config set userCa stack)",
        );
        expect(p["roles[0].awsPrincipals[0]"]).toMatchObject({
            value: "*",
            message: expect.stringContaining("IAM user, role"),
        });
    });

    it("accepts the principal shapes a key policy takes: users, roles with paths, assumed-role sessions", () => {
        const principals = [
            arn("alice"),
            SSO,
            "arn:aws:sts::123456789012:assumed-role/Developers/alice@example.com",
            "arn:aws-us-gov:iam::123456789012:role/ops",
        ];
        const s = settingsFrom(kms({ operators: [{ name: "alice", role: "admin", awsPrincipals: principals }] }));
        expect(roleSigners(s.access!, "admin")).toEqual([...principals].sort());
    });

    it("refuses KMS-only settings with the stack CA, and backend settings without operators", () => {
        const stack = problemsOf({
            userCa: "stack",
            kmsRequireMfa: "true",
            operators: [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }],
            roles: [{ name: "dba", targets: ["db-1"], awsPrincipals: [arn("dba")] }],
        });
        expect(stack.map((p) => p.key).sort()).toEqual(["kmsRequireMfa", "roles[0].awsPrincipals"]);
        for (const p of stack) expect(p.message).toContain("applies only to userCa kms");
        const alone = problemsOf({ userCa: "kms", kmsRequireMfa: "true" });
        expect(alone.map((p) => [p.key, p.fix])).toEqual([
            ["userCa", "pulumi config rm userCa"],
            ["kmsRequireMfa", "pulumi config rm kmsRequireMfa"],
        ]);
    });

    it("refuses a role whose key policy would pass KMS's 32 KB before any key exists", () => {
        const many = Array.from({ length: 600 }, (_, i) => arn(`person-number-${i}`));
        const [p, ...rest] = problemsOf(
            kms({
                operators: [{ name: "alice", role: "admin", awsPrincipals: [arn("alice")] }],
                roles: [{ name: "developer", targets: ["*"], awsPrincipals: many }],
            }),
        );
        expect(rest).toEqual([]);
        expect(p).toMatchObject({ key: "operators", value: "role developer: 600 AWS principals" });
        expect(p!.message).toMatch(/key policy \d+ bytes; KMS accepts at most 32768/);
        // Two thirds as many fit.
        expect(() =>
            settingsFrom(
                kms({
                    operators: [{ name: "alice", role: "admin", awsPrincipals: [arn("alice")] }],
                    roles: [{ name: "developer", targets: ["*"], awsPrincipals: many.slice(0, 400) }],
                }),
            ),
        ).not.toThrow();
    });
});

describe("FIDO2 roles and revoked certificates", () => {
    const operators = [{ name: "alice", role: "admin", publicKeys: [ALICE_KEY] }];

    it("reads mfa: fido2 on a role, and refuses any other value with the fix", () => {
        const s = settingsFrom({ operators, roles: [{ name: "sec", targets: ["db-1"], mfa: "fido2" }] });
        expect(s.access!.roles.find((r) => r.name === "sec")).toEqual({
            name: "sec",
            sudo: false,
            targets: ["db-1"],
            awsPrincipals: [],
            mfa: "fido2",
        });
        expect(problemsOf({ operators, roles: [{ name: "sec", targets: ["db-1"], mfa: "totp" }] })).toEqual([
            expect.objectContaining({
                key: "roles[0].mfa",
                value: "totp",
                fix: "pulumi config set --path 'roles[0].mfa' fido2",
            }),
        ]);
    });

    it("reads serials (strings, up to 2^64-1), key IDs and public keys, without duplicates", () => {
        const s = settingsFrom({
            operators,
            revokedCertificates: {
                serials: ["18446744073709551615", 42, "42"],
                keyIds: ["jumpgate-dev:bob"],
                publicKeys: [ALICE_KEY],
            },
        });
        expect(s.access!.revoked).toEqual({
            serials: ["18446744073709551615", "42"],
            keyIds: ["jumpgate-dev:bob"],
            publicKeys: [ALICE_KEY],
        });
        expect(settingsFrom({ operators }).access!.revoked).toEqual({ serials: [], keyIds: [], publicKeys: [] });
    });

    it("refuses bad entries, every one at once, and revocations on a stack without operators", () => {
        const problems = problemsOf({
            operators,
            revokedCertificates: { serials: ["0", "18446744073709551616", "12ab"], keyIds: [""], publicKeys: ["nope"] },
        });
        expect(problems.map((p) => [p.key, p.value])).toEqual([
            ["revokedCertificates.serials[0]", "0"],
            ["revokedCertificates.serials[1]", "18446744073709551616"],
            ["revokedCertificates.serials[2]", "12ab"],
            ["revokedCertificates.keyIds[0]", ""],
            ["revokedCertificates.publicKeys[0]", "nope"],
        ]);
        expect(problemsOf({ operators, revokedCertificates: { serial: ["1"] } })[0]).toMatchObject({
            key: "revokedCertificates",
        });
        expect(
            problemsOf({ operatorPublicKeys: [ALICE_KEY], revokedCertificates: { keyIds: ["x"] } })[0],
        ).toMatchObject({ key: "revokedCertificates", fix: "pulumi config rm revokedCertificates" });
    });
});
