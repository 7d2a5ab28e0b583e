import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "bastion-count";
const messages = async (run: OfflineRun, config: Record<string, unknown> = {}) =>
    (await evaluatePack(run, { config: { [POLICY]: config } })).of(POLICY).map((v) => [v.urn, v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const role = (name: string, value: string | undefined) =>
        withChange(run, T.instance, name, (p) => {
            const tags = p.tags as Record<string, string>;
            if (value === undefined) delete tags["jumpgate:role"];
            else tags["jumpgate:role"] = value;
        });

    it("passes the default stack: exactly one bastion", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches a second bastion", async () => {
        expect(await messages(role("test-app-1", "bastion"))).toEqual([
            [
                undefined,
                "expected exactly 1 bastion (instances tagged jumpgate:role=bastion), found 2: test-app-1, test-bastion-instance.",
            ],
        ]);
    });

    it("catches a stack without a bastion", async () => {
        expect(await messages(role("test-bastion-instance", undefined))).toEqual([
            [undefined, "expected exactly 1 bastion (instances tagged jumpgate:role=bastion), found 0."],
        ]);
    });

    it("takes the expected count from the pack's config", async () => {
        expect(await messages(role("test-app-1", "bastion"), { expectedBastions: 2 })).toEqual([]);
        expect(await messages(run, { expectedBastions: 2 })).toEqual([
            [
                undefined,
                "expected exactly 2 bastions (instances tagged jumpgate:role=bastion), found 1: test-bastion-instance.",
            ],
        ]);
    });
});
