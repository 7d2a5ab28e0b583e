// The pack as the Pulumi CLI serves it (run-policy-pack, ts-node type checking, gRPC) reports exactly
// what the offline harness reports: the harness is a faithful stand-in for `pulumi preview --policy-pack`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../offline/run";
import { plan, T } from "../helpers/program";
import {
    evaluatePack,
    harnessResources,
    HarnessResource,
    PACK_NAME,
    policies,
    withChange,
} from "../helpers/policyHarness";
import { ServedDiagnostic, ServedPack, startServedPack } from "../../policies/testing/served";
import { PackConfig } from "../../policies/testing/evaluate";

describe("the served pack", () => {
    let pack: ServedPack;
    let run: OfflineRun;
    beforeAll(async () => {
        [pack, run] = await Promise.all([
            startServedPack(),
            plan({ "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }] }),
        ]);
    }, 180_000);
    afterAll(() => pack?.stop());

    const served = async (resources: HarnessResource[], config: PackConfig = {}): Promise<ServedDiagnostic[]> => {
        await pack.configure(config);
        const out: ServedDiagnostic[] = [];
        for (const r of resources) out.push(...(await pack.analyze(r)));
        out.push(...(await pack.analyzeStack(resources)));
        return out;
    };
    const offline = async (resources: HarnessResource[], config: PackConfig = {}): Promise<ServedDiagnostic[]> =>
        (await evaluatePack(resources, { config })).violations.map(
            ({ policyName, enforcementLevel, diagnostic, urn }) => ({
                policyName,
                enforcementLevel,
                diagnostic,
                urn,
            }),
        );

    it("loads as the CLI loads it, with every policy at its level", async () => {
        const info = await pack.info();
        expect(info.name).toBe(PACK_NAME);
        expect(info.policies).toEqual(policies.map((p) => ({ name: p.name, enforcementLevel: p.enforcementLevel })));
    });

    it("agrees with the harness on the default stack (advisories only)", async () => {
        const resources = harnessResources(run);
        const diagnostics = await served(resources);
        expect(diagnostics.map((d) => d.enforcementLevel)).toEqual(["advisory", "advisory", "advisory"]);
        expect(diagnostics).toEqual(await offline(resources));
    });

    it("agrees on violations of resource and stack policies, and on config", async () => {
        let bad = withChange(run, T.ingress, "test-bastion-ssh-in-0", (p) => (p.cidrIpv4 = "0.0.0.0/0"));
        bad = withChange(bad, T.instance, "test-app-1", (p) => (p.associatePublicIpAddress = true));
        bad = withChange(bad, T.ingress, "test-targets-ssh-from-bastion", (p) => {
            delete p.referencedSecurityGroupId;
            p.cidrIpv4 = "10.0.0.0/8";
        });
        const resources = harnessResources(bad);
        const diagnostics = await served(resources);
        expect(new Set(diagnostics.filter((d) => d.enforcementLevel === "mandatory").map((d) => d.policyName))).toEqual(
            new Set([
                "ssh-not-open-to-world",
                "public-ip-only-on-bastion",
                "target-ssh-only-from-bastion",
                "targets-not-reachable-from-outside",
            ]),
        );
        expect(diagnostics).toEqual(await offline(resources));
        const config: PackConfig = {
            "ssh-not-open-to-world": { allowSshFromAnywhere: true },
            "required-tags": "disabled",
        };
        expect(await served(resources, config)).toEqual(await offline(resources, config));
    });

    it("agrees in a first preview, where unknown values stop the user-data checks", async () => {
        const resources = harnessResources(run, { preview: true });
        const diagnostics = await served(resources);
        expect(diagnostics.some((d) => d.diagnostic.includes("can't be known during preview"))).toBe(true);
        expect(diagnostics).toEqual(await offline(resources));
    });
});
