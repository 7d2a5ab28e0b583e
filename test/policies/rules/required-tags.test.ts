import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "required-tags";
const messages = async (run: OfflineRun, config: Record<string, unknown> = {}) =>
    (await evaluatePack(run, { config: { [POLICY]: config } }))
        .of(POLICY)
        .map((v) => [v.urn?.split("::").pop(), v.message]);
const hint = "jumpgate tags every resource it creates, add them to anything you add.";

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches a resource missing one required tag", async () => {
        const bad = withChange(
            run,
            T.subnet,
            "test-private-0",
            (p) => delete (p.tags as Record<string, string>).ManagedBy,
        );
        expect(await messages(bad)).toEqual([
            [
                "test-private-0",
                `missing required tag ManagedBy (required: jumpgate:stack, ManagedBy, Project); ${hint}`,
            ],
        ]);
    });

    it("catches a taggable resource with no tags at all", async () => {
        const bad = withChange(run, T.flowLog, "test-flow-log", (p) => delete p.tags);
        expect(await messages(bad)).toEqual([
            [
                "test-flow-log",
                `missing required tags jumpgate:stack, ManagedBy, Project (required: jumpgate:stack, ManagedBy, Project); ${hint}`,
            ],
        ]);
    });

    it("takes the list from the pack's config, and the program's tags satisfy it", async () => {
        const config = { requiredTags: ["CostCenter"] };
        const untagged = await messages(run, config);
        expect(untagged.length).toBeGreaterThan(20);
        expect(untagged[0]![1]).toBe(`missing required tag CostCenter (required: CostCenter); ${hint}`);
        const tagged = await plan({ "jumpgate:tags": { CostCenter: "platform" } });
        expect(await messages(tagged, config)).toEqual([]);
    });
});
