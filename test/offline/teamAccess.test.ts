// Team access on the real program under mocks: operators come, go and change role without touching an
// instance, because hosts know only the stack's user CA and the roles.
import { beforeAll, describe, expect, it } from "vitest";
import { comparePlans } from "../../offline/compare";
import { SavedPlan, toSavedPlan } from "../../offline/planFile";
import { OfflineRun } from "../../offline/run";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { T, plan } from "../helpers/program";

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
        expect(JSON.stringify(base.outputs)).not.toContain("PRIVATE KEY");
    });

    it("a single-key stack has none of them", async () => {
        const single = await plan({ "jumpgate:operatorPublicKeys": [key("solo")] });
        expect(single.outputs.userCaPublicKey).toBeUndefined();
        expect(single.outputs.operatorPrincipals).toBeUndefined();
        expect(single.resources.some((r) => r.name === "test-user-ca")).toBe(false);
    });
});
