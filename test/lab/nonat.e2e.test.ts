// A stack without NAT gateways (`natGateways: none`, allowed with `allowPrivateHostsWithoutPackages`) has
// targets with no route to any package mirror. Booted for real, the target's package stage fails: apt cannot
// fetch the index. apt-get update only warns, and the lab's image already holds every package, so cloud-init
// itself finishes; the lab must still report the failure on that host (and only there).
import { mkdtempSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { labStatus, labUp } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { programLabPlan, tearDownLab } from "../helpers/labFixture";
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

    it("lab up reports the target's package stage failure (apt could not fetch), and not the bastion's", async () => {
        expect(plan).toBeDefined();
        const { state } = await labUp(plan as LabPlan, dir);
        const notes = (name: string) => state.hosts.find((h) => h.name === name)!.notes;
        console.log(`no-NAT lab notes: ${JSON.stringify(state.hosts.map((h) => [h.name, h.notes]))}`);
        expect(notes("app-1").join("\n")).toMatch(/package stage: W: Failed to fetch http:\/\/deb\.debian\.org\//);
        expect(notes("bastion").filter((n) => n.startsWith("package stage"))).toEqual([]);
        // The status report shows it too.
        const status = await labStatus(STACK, dir);
        expect(JSON.stringify(status)).toMatch(/package stage: W: Failed to fetch/);
    }, 240_000);
});
