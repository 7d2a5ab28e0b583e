// Components once had their own modules in their type tokens (`jumpgate:bastion:Bastion`); now every one
// is `jumpgate:index:<Name>`. A stack deployed before keeps every resource because each renamed
// component carries its old type as an alias; without the aliases every child would get a new URN.
import { beforeAll, describe, expect, it } from "vitest";
import { comparePlans } from "../../offline/compare";
import { SavedPlan, toSavedPlan } from "../../offline/planFile";
import { OfflineRun } from "../../offline/run";
import { plan } from "../helpers/program";

const RENAMED: Record<string, string> = {
    "jumpgate:index:Bastion": "jumpgate:bastion:Bastion",
    "jumpgate:index:Keys": "jumpgate:keys:Keys",
    "jumpgate:index:Network": "jumpgate:network:Network",
    "jumpgate:index:SshAccess": "jumpgate:network:SshAccess",
    "jumpgate:index:Targets": "jumpgate:targets:Targets",
};

/** The plan as a stack deployed with the old type tokens holds it. */
function savedWithOldTypes(run: OfflineRun): SavedPlan {
    const saved = toSavedPlan(run);
    const old = (key?: string) => {
        if (key === undefined) return undefined;
        const [type, ...name] = key.split("::");
        return [RENAMED[type!] ?? type, ...name].join("::");
    };
    return {
        ...saved,
        resources: saved.resources.map((r) => ({ ...r, type: RENAMED[r.type] ?? r.type, parent: old(r.parent) })),
    };
}

describe("renamed component types", () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan({ "jumpgate:bastions": ["edge", "mgmt"], "jumpgate:targets": ["app-1", "db-1"] }, "aliases");
    });

    it("every renamed component carries its old type as an alias", () => {
        for (const [type, oldType] of Object.entries(RENAMED)) {
            const components = run.resources.filter((r) => r.type === type);
            expect(components.length, type).toBeGreaterThan(0);
            for (const c of components) expect(c.aliases).toContain(`${oldType}::${c.name}`);
        }
    });

    it("a stack saved with the old types keeps every resource", () => {
        const comparison = comparePlans(savedWithOldTypes(run), run);
        const changed = comparison.resources.filter((r) => r.action !== "same");
        expect(changed).toEqual([]);
        expect(comparison.resources.length).toBeGreaterThan(30);
    });

    it("without the aliases, the renamed components' children would be replaced", () => {
        const bare = { ...run, resources: run.resources.map((r) => ({ ...r, aliases: [] })) };
        const replaced = comparePlans(savedWithOldTypes(run), bare).resources.filter((r) => r.action === "replace");
        expect(replaced.map((r) => r.type)).toEqual(
            expect.arrayContaining(["aws:ec2/instance:Instance", "aws:ec2/vpc:Vpc", "tls:index/privateKey:PrivateKey"]),
        );
    });
});
