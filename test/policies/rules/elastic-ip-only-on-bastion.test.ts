import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange, withResource } from "../../helpers/policyHarness";

const POLICY = "elastic-ip-only-on-bastion";
const messages = async (run: OfflineRun, preview = false) =>
    (await evaluatePack(run, { preview })).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const eipToTarget = () =>
        withChange(
            run,
            T.eipAssociation,
            "test-bastion-eip",
            (p) => (p.instanceId = named(run, T.instance, "test-app-1").id),
        );

    it("passes the default stack, whose bastion has the only Elastic IP", async () => {
        expect(await messages(run)).toEqual([]);
        expect(await messages(run, true)).toEqual([]);
    });

    const toTarget = [
        "test-bastion-eip",
        "test-bastion-eip gives instance test-app-1 (jumpgate:role=target) an Elastic IP; only the bastion may have a public address.",
    ];

    it("catches an EipAssociation that points at a target", async () => {
        expect(await messages(eipToTarget())).toEqual([toTarget]);
    });

    it("catches it in a first preview too, from the property dependencies (IDs unknown)", async () => {
        expect(await messages(eipToTarget(), true)).toEqual([toTarget]);
    });

    it("catches an Eip attached with its instance property", async () => {
        const bad = withResource(run, {
            type: T.eip,
            name: "direct",
            inputs: { domain: "vpc", instance: named(run, T.instance, "test-app-1").id },
        });
        expect(await messages(bad)).toEqual([
            [
                "direct",
                "direct gives instance test-app-1 (jumpgate:role=target) an Elastic IP; only the bastion may have a public address.",
            ],
        ]);
    });

    it("catches an association with an instance the stack does not manage", async () => {
        const bad = withChange(
            run,
            T.eipAssociation,
            "test-bastion-eip",
            (p) => (p.instanceId = "i-0123456789abcdef0"),
        );
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-eip",
                "test-bastion-eip attaches an Elastic IP to i-0123456789abcdef0, which is not an instance of this stack, " +
                    "so it cannot be shown to be the bastion.",
            ],
        ]);
    });
});
