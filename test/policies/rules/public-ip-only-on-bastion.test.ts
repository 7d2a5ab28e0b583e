import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange } from "../../helpers/policyHarness";

const POLICY = "public-ip-only-on-bastion";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const publicIp = (name: string, value: boolean | undefined) =>
        withChange(run, T.instance, name, (p) => {
            if (value === undefined) delete p.associatePublicIpAddress;
            else p.associatePublicIpAddress = value;
        });

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches a target with a public IP", async () => {
        expect(await messages(publicIp("test-app-1", true))).toEqual([
            [
                "test-app-1",
                "instance (jumpgate:role=target) sets associatePublicIpAddress: true; only the bastion may have a " +
                    "public IP. Set it to false and reach the host through the bastion.",
            ],
        ]);
    });

    it("catches a target that leaves the choice to the subnet", async () => {
        expect(await messages(publicIp("test-app-1", undefined))).toEqual([
            [
                "test-app-1",
                "instance (jumpgate:role=target) leaves associatePublicIpAddress unset, so the subnet's " +
                    "mapPublicIpOnLaunch decides whether it gets a public IP; set it to false.",
            ],
        ]);
    });

    it("lets the bastion have one", async () => {
        expect(await messages(publicIp("test-bastion-instance", true))).toEqual([]);
    });

    it("holds an instance without a role tag to the targets' rule", async () => {
        const untagged = withChange(publicIp("test-app-1", true), T.instance, "test-app-1", (p) => {
            const tags = p.tags as Record<string, string>;
            delete tags["jumpgate:role"];
        });
        expect((await messages(untagged))[0]![1]).toMatch(
            /^instance \(no jumpgate:role tag\) sets associatePublicIpAddress: true;/,
        );
    });
});
