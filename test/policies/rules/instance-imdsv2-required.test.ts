import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange, withResource } from "../../helpers/policyHarness";

const POLICY = "instance-imdsv2-required";
const messages = async (run: OfflineRun) =>
    (await evaluatePack(run)).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const metadata = (name: string, options: Record<string, unknown> | undefined) =>
        withChange(run, T.instance, name, (p) => {
            if (options === undefined) delete p.metadataOptions;
            else p.metadataOptions = options;
        });

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches httpTokens optional", async () => {
        const bad = metadata("test-app-1", { httpEndpoint: "enabled", httpTokens: "optional" });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                'instance metadataOptions.httpTokens is "optional"; set it to "required" so the instance metadata ' +
                    "service answers IMDSv2 session requests only.",
            ],
        ]);
    });

    it("treats unset httpTokens as a violation", async () => {
        const bad = metadata("test-bastion-instance", undefined);
        expect(await messages(bad)).toEqual([
            [
                "test-bastion-instance",
                'instance metadataOptions.httpTokens is unset (AWS then accepts IMDSv1); set it to "required" so the ' +
                    "instance metadata service answers IMDSv2 session requests only.",
            ],
        ]);
    });

    it("accepts an instance with the metadata service turned off", async () => {
        expect(await messages(metadata("test-app-1", { httpEndpoint: "disabled" }))).toEqual([]);
    });

    it("checks launch templates too", async () => {
        const bad = withResource(run, {
            type: "aws:ec2/launchTemplate:LaunchTemplate",
            name: "spare",
            inputs: { metadataOptions: { httpTokens: "optional" }, tags: {} },
        });
        expect(await messages(bad)).toEqual([
            [
                "spare",
                'launch template metadataOptions.httpTokens is "optional"; set it to "required" so the instance ' +
                    "metadata service answers IMDSv2 session requests only.",
            ],
        ]);
    });
});
