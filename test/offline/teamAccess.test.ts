import { userDataOf } from "../helpers/userData";
// Team access on the real program under mocks: operators come, go and change role without touching an
// instance, because hosts know only each role's CA key and the roles (the stack CA and the KMS CA alike).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { comparePlans } from "../../offline/compare";
import { SavedPlan, toSavedPlan } from "../../offline/planFile";
import { OfflineRun } from "../../offline/run";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { stackCaSigner } from "../../components/render/caKeys";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { AUTHORIZED_CAS_DIR } from "../../components/render/sshd";
import { T, named, plan } from "../helpers/program";
import { toolsAvailable } from "../helpers/tools";

const key = (who: string) => ed25519KeyPair(seedFrom(`team-${who}`)).publicKeyOpenssh;
const TARGETS = [{ name: "app-1" }, { name: "db-1" }];
const ROLES = [{ name: "dba", sudo: true, targets: ["db-*"] }];
const TEAM = [
    { name: "alice", role: "admin", publicKeys: [key("alice")] },
    { name: "bob", role: "developer", publicKeys: [key("bob")] },
];
const config = (operators: unknown[]) => ({
    "jumpgate:userCa": "stack",
    "jumpgate:targets": TARGETS,
    "jumpgate:roles": ROLES,
    "jumpgate:operators": operators,
});

let base: OfflineRun;
let saved: SavedPlan;

beforeAll(async () => {
    base = await plan(config(TEAM));
    saved = toSavedPlan(base);
});

/** Resources whose plan differs from the saved one, as `action type name`. */
async function changesWith(operators: unknown[]): Promise<string[]> {
    const c = comparePlans(saved, await plan(config(operators)));
    return c.resources.filter((r) => r.action !== "same").map((r) => `${r.action} ${r.type} ${r.name}`);
}

describe("operator changes touch no instance", () => {
    it("the team stack has the CA key in state, and no operator key", () => {
        const keys = base.resources.filter((r) => r.type === T.privateKey).map((r) => r.name);
        expect(keys).toContain("test-user-ca");
        expect(keys).not.toContain("test-operator");
        expect(base.resources.filter((r) => r.type === T.instance)).toHaveLength(3);
    });

    it("adding an operator changes nothing", async () => {
        expect(await changesWith([...TEAM, { name: "carol", role: "dba", publicKeys: [key("carol")] }])).toEqual([]);
    });

    it("removing an operator changes nothing", async () => {
        expect(await changesWith([TEAM[0]])).toEqual([]);
    });

    it("re-roling an operator changes nothing", async () => {
        expect(await changesWith([TEAM[0], { ...TEAM[1]!, role: "dba" }])).toEqual([]);
    });

    it("changing what a role reaches does change hosts (the control that the comparison sees user data)", async () => {
        const c = comparePlans(
            saved,
            await plan({ ...config(TEAM), "jumpgate:roles": [{ name: "dba", sudo: false, targets: ["db-*"] }] }),
        );
        const touched = c.resources.filter((r) => r.action !== "same").map((r) => `${r.action} ${r.name}`);
        expect(touched).toContain("replace test-db-1");
        expect(touched).not.toContain("replace test-app-1");
    });
});

describe("outputs for the CLI", () => {
    it("publish the CA public key and each operator's principals as plain outputs, never a private key", () => {
        const ca = base.resources.find((r) => r.name === "test-user-ca")!;
        expect(base.outputs.userCaPublicKey).toMatch(/^ssh-ed25519 AAAA\S+$/);
        expect(String(ca.state.publicKeyOpenssh).trim()).toBe(base.outputs.userCaPublicKey);
        expect(base.outputs.operatorPrincipals).toEqual({ alice: ["admin"], bob: ["developer"] });
        expect(base.outputs.roleAccounts).toEqual({ admin: "ops-admin", developer: "ops-developer", dba: "ops-dba" });
        expect(base.secretOutputs).not.toContain("userCaPublicKey");
        expect(base.outputs.privateKeyOpenssh).toBeUndefined();
        // The CA's private key leaves state only as a secret output, for signing with login's stack CA.
        expect(base.secretOutputs).toContain("userCaPrivateKeyOpenssh");
        const plain = Object.entries(base.outputs).filter(([k]) => !base.secretOutputs.includes(k));
        expect(JSON.stringify(plain)).not.toContain("PRIVATE KEY");
    });

    it("the secret CA key is one login's stack signer reads, and its public half is what hosts trust", async () => {
        const signer = stackCaSigner(String(base.outputs.userCaPrivateKeyOpenssh));
        expect(await signer.caPublicKey()).toBe(String(base.outputs.userCaPublicKey).split(" ").slice(0, 2).join(" "));
    });

    it("a single-key stack has none of them", async () => {
        const single = await plan({ "jumpgate:operatorPublicKeys": [key("solo")] });
        expect(single.outputs.userCaPublicKey).toBeUndefined();
        expect(single.outputs.operatorPrincipals).toBeUndefined();
        expect(single.resources.some((r) => r.name === "test-user-ca")).toBe(false);
    });
});

describe("a bastion chain with a tunnel", () => {
    it("lets every role on to the next hop, narrows per role on the last, and lists no operator key anywhere", async () => {
        const run = await plan({
            ...config(TEAM),
            "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
            "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
        });
        const doc = (name: string) => parseCloudConfig(userDataOf(named(run, T.instance, name).inputs));
        // Each line: `cert-authority,principals="<role>"[,permitopen=...] <CA key> <comment>`; the key is checked elsewhere.
        const principals = (name: string) =>
            doc(name)
                .write_files.find((f) => f.path === `${AUTHORIZED_CAS_DIR}/jump`)!
                .content.trim()
                .split("\n")
                .map((l) => l.split(" ")[0]!.replace(/^cert-authority,principals="([^"]+)"(,)?(.*)$/, "$3$2$1"));
        const ips = run.outputs.targets as Record<string, string>;
        // The outer hop forwards only to the next one, which every role reaches.
        expect(principals("test-edge-instance")).toEqual(["admin", "developer", "dba"]);
        expect(principals("test-mgmt-instance")).toEqual([
            "admin",
            "developer",
            `permitopen="${ips["db-1"]}:22",permitopen="${ips["db-1"]}:5432",dba`,
        ]);
        for (const r of run.resources.filter((x) => x.type === T.instance)) {
            const text = userDataOf(r.inputs);
            for (const who of ["alice", "bob"]) expect(text).not.toContain(key(who).split(" ")[1]);
        }
        expect(doc("test-db-1").users.map((u) => (u === "default" ? u : u.name))).toEqual([
            "ops-admin",
            "ops-developer",
            "ops-dba",
        ]);
        expect(doc("test-app-1").users.map((u) => (u === "default" ? u : u.name))).toEqual([
            "ops-admin",
            "ops-developer",
        ]);
    });
});

describe("the kms CA: one KMS key per role", () => {
    const arn = (who: string) => `arn:aws:iam::123456789012:user/${who}`;
    const SSO_DEVELOPERS =
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef";
    const KMS_TEAM = [
        { name: "alice", role: "admin", awsPrincipals: [arn("alice")] },
        { name: "bob", role: "developer" },
    ];
    const kmsConfig = (operators: unknown[], more: Record<string, unknown> = {}) => ({
        "jumpgate:targets": TARGETS,
        "jumpgate:roles": [...ROLES, { name: "developer", targets: ["*"], awsPrincipals: [SSO_DEVELOPERS] }],
        "jumpgate:operators": operators,
        ...more,
    });
    const KEY = "aws:kms/key:Key";
    let kms: OfflineRun;
    let kmsSaved: SavedPlan;

    beforeAll(async () => {
        kms = await plan(kmsConfig(KMS_TEAM));
        kmsSaved = toSavedPlan(kms);
    });

    const policyOf = (run: OfflineRun, role: string) =>
        JSON.parse(String(named(run, KEY, `test-user-ca-${role}`).inputs.policy)) as {
            Statement: { Sid: string; Principal: { AWS: string | string[] }; Action: string[]; Condition?: unknown }[];
        };

    it("is the default with operators: an Ed25519 signing key and an alias per role, no CA key in state", () => {
        // The user CA keys, one per role (the audit trail's log key is the other KMS key).
        const keys = kms.resources.filter((r) => r.type === KEY && r.name.startsWith("test-user-ca-"));
        expect(keys.map((k) => k.name).sort()).toEqual([
            "test-user-ca-admin",
            "test-user-ca-dba",
            "test-user-ca-developer",
        ]);
        for (const k of keys) {
            expect(k.inputs).toMatchObject({ customerMasterKeySpec: "ECC_NIST_EDWARDS25519", keyUsage: "SIGN_VERIFY" });
        }
        const aliases = kms.resources.filter((r) => r.type === "aws:kms/alias:Alias").map((a) => a.inputs.name);
        expect(aliases.sort()).toEqual([
            "alias/jumpgate/test/admin",
            "alias/jumpgate/test/dba",
            "alias/jumpgate/test/developer",
        ]);
        expect(kms.resources.filter((r) => r.type === T.privateKey).map((r) => r.name)).not.toContain("test-user-ca");
    });

    it("each key policy: the account administers, only the role's principals sign (the operator's and the role's own)", () => {
        const admin = policyOf(kms, "admin");
        expect(admin.Statement[0]!.Principal.AWS).toBe("arn:aws:iam::123456789012:root");
        expect(admin.Statement[0]!.Action).not.toContain("kms:Sign");
        expect(admin.Statement[0]!.Action.some((a) => /^kms:(\*|Sign|Create\*|CreateGrant)$/.test(a))).toBe(false);
        expect(admin.Statement[1]).toMatchObject({
            Principal: { AWS: [arn("alice")] },
            Action: ["kms:Sign", "kms:GetPublicKey"],
        });
        expect(policyOf(kms, "developer").Statement[1]!.Principal.AWS).toEqual([SSO_DEVELOPERS]);
        // Nobody may sign for dba yet: no signing statement at all.
        expect(policyOf(kms, "dba").Statement).toHaveLength(1);
        expect(admin.Statement[1]!.Condition).toBeUndefined();
    });

    it("kmsRequireMfa puts aws:MultiFactorAuthPresent on every signing statement", async () => {
        const run = await plan(kmsConfig(KMS_TEAM, { "jumpgate:kmsRequireMfa": "true" }));
        for (const role of ["admin", "developer"])
            expect(policyOf(run, role).Statement[1]!.Condition).toEqual({
                Bool: { "aws:MultiFactorAuthPresent": "true" },
            });
    });

    it("hosts get each role's KMS public key, bound to that role's principal; outputs name the key ARNs", () => {
        const ipsDoc = (name: string) => parseCloudConfig(userDataOf(named(kms, T.instance, name).inputs));
        const caFile = (doc: ReturnType<typeof ipsDoc>, account: string) =>
            doc.write_files.find((f) => f.path === `${AUTHORIZED_CAS_DIR}/${account}`)!.content;
        const keys = kms.outputs.userCaPublicKeys as Record<string, string>;
        expect(Object.keys(keys).sort()).toEqual(["admin", "dba", "developer"]);
        expect(new Set(Object.values(keys)).size).toBe(3);
        for (const k of Object.values(keys)) expect(k).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\S+$/);
        const jump = caFile(ipsDoc("test-bastion-instance"), "jump");
        for (const [role, k] of Object.entries(keys))
            expect(jump).toMatch(
                new RegExp(`^cert-authority,principals="${role}"\\S* ${k.replace(/\+/g, "\\+")} `, "m"),
            );
        expect(caFile(ipsDoc("test-db-1"), "ops-dba")).toBe(
            `cert-authority,principals="dba" ${keys.dba} jumpgate-ca-dba\n`,
        );
        expect(kms.outputs.userCa).toBe("kms");
        const arns = kms.outputs.userCaKmsKeyArns as Record<string, string>;
        expect(arns.admin).toBe(named(kms, KEY, "test-user-ca-admin").state.arn);
        expect(Object.keys(arns).sort()).toEqual(["admin", "dba", "developer"]);
        expect(kms.outputs.userCaPrivateKeyOpenssh).toBeUndefined();
        expect(kms.outputs.userCaPublicKey).toBeUndefined();
        expect(kms.secretOutputs).not.toContain("userCaKmsKeyArns");
    });

    const kmsChanges = async (operators: unknown[]) =>
        comparePlans(kmsSaved, await plan(kmsConfig(operators)))
            .resources.filter((r) => r.action !== "same")
            .map((r) => `${r.action} ${r.type} ${r.name}`);

    it("adding an operator with an AWS principal updates one key policy in place, no instance", async () => {
        expect(await kmsChanges([...KMS_TEAM, { name: "carol", role: "dba", awsPrincipals: [arn("carol")] }])).toEqual([
            `update ${KEY} test-user-ca-dba`,
        ]);
    });

    it("removing an operator (offboarding) updates their role's key policy, no instance", async () => {
        expect(await kmsChanges([KMS_TEAM[1]])).toEqual([`update ${KEY} test-user-ca-admin`]);
    });

    it("an operator signing through the role's principal comes and goes without any change", async () => {
        expect(await kmsChanges([...KMS_TEAM, { name: "dan", role: "developer" }])).toEqual([]);
    });

    it.runIf(toolsAvailable("ssh-keygen"))(
        "revocations: the KRL revokes each serial and key ID under every role's KMS key (ssh-keygen -Q -l)",
        async () => {
            const run = await plan(
                kmsConfig(KMS_TEAM, {
                    "jumpgate:revokedCertificates": { serials: ["77"], keyIds: ["jumpgate-test:bob"] },
                }),
            );
            const association = named(run, "aws:ssm/association:Association", "test-revoked-keys");
            const commands = String((association.inputs.parameters as Record<string, unknown>).commands);
            const work = mkdtempSync(join(tmpdir(), "jgt-kms-krl-"));
            try {
                writeFileSync(join(work, "krl"), Buffer.from(/printf '%s' '([^']+)'/.exec(commands)![1]!, "base64"));
                const listing = spawnSync("ssh-keygen", ["-Q", "-l", "-f", join(work, "krl")], { encoding: "utf8" });
                expect(listing.status, listing.stderr).toBe(0);
                const sections = listing.stdout.split(/^# CA key /m).slice(1);
                const fingerprints = Object.values(kms.outputs.userCaPublicKeys as Record<string, string>).map((k) => {
                    writeFileSync(join(work, "ca.pub"), `${k}\n`);
                    return spawnSync("ssh-keygen", ["-l", "-f", join(work, "ca.pub")], {
                        encoding: "utf8",
                    }).stdout.split(" ")[1]!;
                });
                expect(sections.map((x) => /SHA256:\S+/.exec(x)![0]).sort()).toEqual(fingerprints.sort());
                for (const x of sections) expect(x).toMatch(/serial: 77\n[\s\S]*id: jumpgate-test:bob/);
            } finally {
                rmSync(work, { recursive: true, force: true });
            }
        },
    );
});

describe("revoked certificates reach the bastion hops without touching an instance", () => {
    const ASSOCIATION = "aws:ssm/association:Association";

    it("an SSM association runs the KRL install on every bastion hop, and only there", async () => {
        const run = await plan({ ...config(TEAM), "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }] });
        const association = named(run, ASSOCIATION, "test-revoked-keys");
        const hops = ["test-edge-instance", "test-mgmt-instance"].map((n) => named(run, T.instance, n).id);
        expect(association.inputs).toMatchObject({
            name: "AWS-RunShellScript",
            targets: [{ key: "InstanceIds", values: hops }],
        });
        expect(String((association.inputs.parameters as Record<string, unknown>).commands)).toContain(
            "/etc/ssh/jumpgate-revoked-keys",
        );
    });

    it("revoking a serial, key ID or key updates the association in place, and changes no instance", async () => {
        const c = comparePlans(
            saved,
            await plan({
                ...config(TEAM),
                "jumpgate:revokedCertificates": {
                    serials: ["1234"],
                    keyIds: ["jumpgate-test:bob"],
                    publicKeys: [key("bob")],
                },
            }),
        );
        const touched = c.resources.filter((r) => r.action !== "same");
        expect(touched.map((r) => `${r.action} ${r.type} ${r.name}`)).toEqual([
            `update ${ASSOCIATION} test-revoked-keys`,
        ]);
        expect(touched[0]!.changes.map((ch) => [ch.path, ch.forcesReplacement])).toEqual([
            ["parameters.commands", false],
        ]);
    });

    it("a stack without operators has no association", async () => {
        const single = await plan({ "jumpgate:operatorPublicKeys": [key("solo")] });
        expect(single.resources.filter((r) => r.type === ASSOCIATION)).toEqual([]);
    });
});
