// Team access on the real program under mocks: operators come, go and change role without touching an
// instance, because hosts know only the stack's user CA and the roles.
import { beforeAll, describe, expect, it } from "vitest";
import { comparePlans } from "../../offline/compare";
import { SavedPlan, toSavedPlan } from "../../offline/planFile";
import { OfflineRun } from "../../offline/run";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { stackCaSigner } from "../../components/render/caKeys";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { PRINCIPALS_DIR } from "../../components/render/sshd";
import { T, named, plan } from "../helpers/program";

const key = (who: string) => ed25519KeyPair(seedFrom(`team-${who}`)).publicKeyOpenssh;
const TARGETS = [{ name: "app-1" }, { name: "db-1" }];
const ROLES = [{ name: "dba", sudo: true, targets: ["db-*"] }];
const TEAM = [
    { name: "alice", role: "admin", publicKeys: [key("alice")] },
    { name: "bob", role: "developer", publicKeys: [key("bob")] },
];
const config = (operators: unknown[]) => ({
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
        const doc = (name: string) => parseCloudConfig(String(named(run, T.instance, name).inputs.userData));
        const principals = (name: string) =>
            doc(name)
                .write_files.find((f) => f.path === `${PRINCIPALS_DIR}/jump`)!
                .content.trim()
                .split("\n");
        const ips = run.outputs.targets as Record<string, string>;
        // The outer hop forwards only to the next one, which every role reaches.
        expect(principals("test-edge-instance")).toEqual(["admin", "developer", "dba"]);
        expect(principals("test-mgmt-instance")).toEqual([
            "admin",
            "developer",
            `permitopen="${ips["db-1"]}:22",permitopen="${ips["db-1"]}:5432" dba`,
        ]);
        for (const r of run.resources.filter((x) => x.type === T.instance)) {
            const text = String(r.inputs.userData);
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
