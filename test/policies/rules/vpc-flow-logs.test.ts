import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange, without } from "../../helpers/policyHarness";

const POLICY = "vpc-flow-logs";
const messages = async (run: OfflineRun, preview = false) =>
    (await evaluatePack(run, { preview })).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);
const missing = [
    "test-vpc",
    "VPC test-vpc has no flow log; add an aws.ec2.FlowLog with vpcId set to it (trafficType ALL).",
];

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });

    it("passes the default stack, after deployment and in a first preview", async () => {
        expect(await messages(run)).toEqual([]);
        expect(await messages(run, true)).toEqual([]);
    });

    it("catches a VPC without a flow log", async () => {
        expect(await messages(without(run, T.flowLog, "test-flow-log"))).toEqual([missing]);
        expect(await messages(without(run, T.flowLog, "test-flow-log"), true)).toEqual([missing]);
    });

    it("catches a flow log that watches another VPC", async () => {
        expect(
            await messages(withChange(run, T.flowLog, "test-flow-log", (p) => (p.vpcId = "vpc-0fffffffffffffff0"))),
        ).toEqual([missing]);
    });

    it("does not apply to an existing VPC, which the stack does not own", async () => {
        const existing = await plan({
            "jumpgate:existingVpc": {
                vpcId: "vpc-0123456789abcdef0",
                publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
            },
        });
        const evaluation = await evaluatePack(existing);
        expect(evaluation.of(POLICY)).toEqual([]);
        expect(evaluation.notApplicable.filter((n) => n.policyName === POLICY)).toEqual([
            {
                policyName: POLICY,
                urn: undefined,
                reason: "the stack creates no VPC (existingVpc): the existing VPC's flow logs are its owner's to keep",
            },
        ]);
    });
});
