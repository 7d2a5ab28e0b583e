// A stack without NAT gateways (`natGateways: none`, allowed with `allowPrivateHostsWithoutPackages`) has
// targets with no route to any package mirror. Booted for real, the target's package stage fails because the
// lab's VPC router, like AWS's, has no route out for its subnet (no NAT, nothing refused by hand); the bastion
// still reaches the mirror through its public leg. apt-get update only warns, and the lab's image already
// holds every package, so cloud-init itself finishes; the lab must still report the failure on that host
// (and only there).
import { mkdtempSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runIn } from "../../lab/exec";
import { labStatus, labUp, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { natAddresses } from "../../lab/topology";
import { programLabPlan, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "nn";
const gate = toolsAvailable("ip", "nft", "nsenter", "systemd-nspawn") && isRootOrFail();

describe.runIf(gate)("lab: a target without NAT fails its package stage visibly", () => {
    let plan: LabPlan | undefined;
    let state: LabState | undefined;
    const dir = mkdtempSync("/tmp/jg-lab-nonat-");

    afterAll(async () => {
        await tearDownLab(plan?.stack, dir);
    }, 60_000);

    it("the plan marks the target unrouted and the bastion routed, and the lab has no NAT", async () => {
        plan = await programLabPlan({
            stack: STACK,
            config: {
                "jumpgate:targets": [{ name: "app-1" }],
                "jumpgate:natGateways": "none",
                "jumpgate:allowPrivateHostsWithoutPackages": true,
            },
        });
        expect(plan.hosts.map((h) => [h.name, h.internetRoute, h.natPublicIp])).toEqual([
            ["bastion", true, undefined],
            ["app-1", false, undefined],
        ]);
    }, 60_000);

    it("lab up reports the target's package stage failure (no route to the mirror), and not the bastion's", async () => {
        expect(plan).toBeDefined();
        state = (await labUp(plan as LabPlan, dir)).state;
        const notes = (name: string) => state!.hosts.find((h) => h.name === name)!.notes;
        console.log(`no-NAT lab notes: ${JSON.stringify(state.hosts.map((h) => [h.name, h.notes]))}`);
        expect(notes("app-1").join("\n")).toMatch(
            /package stage: W: Failed to fetch http:\/\/deb\.debian\.org\/.*Network is unreachable/,
        );
        expect(notes("bastion").filter((n) => n.startsWith("package stage"))).toEqual([]);
        // The status report shows it too.
        const status = await labStatus(STACK, dir);
        expect(JSON.stringify(status)).toMatch(/package stage: W: Failed to fetch/);
    }, 240_000);

    it("the failure is the VPC router's missing route, not a refusal: no NAT, no filter, the bastion got through", () => {
        const topo = state!.topology;
        const app = topo.hosts.find((h) => h.name === "app-1")!;
        expect(natAddresses(topo)).toEqual([]);
        expect(runIn(topo.vpcNs, "nft", ["list", "ruleset"]).stdout.trim()).toBe("");
        const route = runIn(
            topo.vpcNs,
            "ip",
            ["route", "get", topo.mirrorIp, "from", app.privateIp, "iif", app.subnet.bridge],
            { check: false },
        );
        expect(route.status).not.toBe(0);
        expect(route.stderr).toMatch(/Network is unreachable/);
        // Only the bastion's Elastic IP ever reached the mirror.
        const clients = readFileSync(state!.mirror!.log, "utf8")
            .split("\n")
            .map((l) => l.split(" "))
            .filter((f) => f.length === 5)
            .map((f) => f[1]);
        expect(clients.length).toBeGreaterThan(0);
        expect(new Set(clients)).toEqual(new Set([plan!.hosts[0].publicIp]));
    });
});
