// A stack without NAT gateways (`natGateways: none`, allowed with `allowPrivateHostsWithoutPackages`) has
// targets with no route to any package mirror. Booted for real, the target's cloud-init package stage must
// fail visibly: `lab up` stops with cloud-init's own error naming apt, and leaves nothing behind.
import { mkdtempSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { labUp } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { labLeftovers, programLabPlan, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "nn";
const gate = toolsAvailable("ip", "nft", "nsenter", "systemd-nspawn") && isRootOrFail();

describe.runIf(gate)("lab: a target without NAT fails its package stage visibly", () => {
    let plan: LabPlan | undefined;
    const dir = mkdtempSync("/tmp/jg-lab-nonat-");

    afterAll(async () => {
        await tearDownLab(plan?.stack, dir);
    }, 60_000);

    it("the plan marks the target unrouted and the bastion routed", async () => {
        plan = await programLabPlan({
            stack: STACK,
            config: {
                "jumpgate:targets": [{ name: "app-1" }],
                "jumpgate:natGateways": "none",
                "jumpgate:allowPrivateHostsWithoutPackages": true,
            },
        });
        expect(plan.hosts.map((h) => [h.name, h.internetRoute])).toEqual([
            ["bastion", true],
            ["app-1", false],
        ]);
    }, 60_000);

    it("lab up fails with the target's cloud-init error naming apt, and tears itself down", async () => {
        expect(plan).toBeDefined();
        const up = labUp(plan as LabPlan, dir);
        await expect(up).rejects.toThrow(/app-1: cloud-init exit [12]:[\s\S]*apt/);
        const err = await up.catch((e: Error) => e.message);
        console.log(`no-NAT lab up error:\n${String(err)}`);
        expect(String(err)).not.toMatch(/bastion: cloud-init exit/);
        expect(labLeftovers(STACK, "")).toEqual([]);
    }, 240_000);
});
