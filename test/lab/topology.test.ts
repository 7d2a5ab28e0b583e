// The lab's layout from a plan: names, peer addresses, routers, routes, the NAT and the mirror (pure).
import { onlyPackageStageFailed } from "../../lab/lab";
import { beforeAll, describe, expect, it } from "vitest";
import type { LabPlan } from "../../lab/model";
import { labTopology, natAddresses, nsName, peer } from "../../lab/topology";
import { programLabPlan } from "../helpers/labFixture";

let plan: LabPlan;
beforeAll(async () => {
    plan = await programLabPlan();
});

describe("labTopology", () => {
    it("lays the fixture out: public bridge peers, VPC router per subnet, routes only between subnets", () => {
        const t = labTopology(plan);
        expect(t.namespaces).toEqual([
            "jg-e2e-inet",
            "jg-e2e-vpc",
            "jg-e2e-client",
            "jg-e2e-attack",
            "jg-e2e-hostile",
            "jg-e2e-bastion",
            "jg-e2e-app-1",
            "jg-e2e-db-1",
        ]);
        expect(peer(t, "client")?.ip).toBe("203.0.113.10");
        expect(peer(t, "hostile")?.ip).toBe("203.0.113.66");
        expect(peer(t, "attacker")?.ip).toBe("192.0.2.66");
        expect(t.subnets.map((s) => [s.cidr, s.gateway])).toEqual([
            ["10.42.0.0/18", "10.42.0.1"],
            ["10.42.128.0/18", "10.42.128.1"],
            ["10.42.192.0/18", "10.42.192.1"],
        ]);
        const bastion = t.hosts.find((h) => h.role === "bastion");
        const planned = plan.hosts.find((h) => h.role === "bastion")!;
        expect(planned.publicIp).toMatch(/^198\.51\.100\.\d+$/);
        expect(bastion).toMatchObject({ publicIp: planned.publicIp, publicIf: "pub0", privateIf: "priv0" });
        expect(bastion?.routes).toEqual(["10.42.128.0/18", "10.42.192.0/18"]);
        const app = t.hosts.find((h) => h.name === "app-1");
        expect(app?.publicIp).toBeUndefined();
        // As EC2's DHCP sets it: everything through the VPC router, whose route tables decide.
        expect(app?.routes).toEqual(["default"]);
        expect(t.notes).toEqual([]);
        for (const ns of t.namespaces) expect(ns.length).toBeLessThanOrEqual(15);
    });

    it("puts the mirror on a documentation address outside allowedCidrs, and targets behind the plan's NAT", () => {
        const t = labTopology(plan);
        expect(t.mirrorIp).toBe("192.0.2.80");
        const taken = [...t.peers.map((p) => p.ip), ...plan.hosts.flatMap((h) => [h.privateIp, h.publicIp])];
        expect(taken).not.toContain(t.mirrorIp);
        // The private subnets leave through the NAT gateway's Elastic IP; the bastion's subnet has none.
        const natIp = plan.hosts.find((h) => h.name === "app-1")?.natPublicIp;
        expect(natIp).toMatch(/^198\.51\.100\.\d+$/);
        expect(natIp).not.toBe(plan.hosts[0].publicIp);
        expect(plan.hosts[0].natPublicIp).toBeUndefined();
        expect(t.subnets.map((s) => s.natIp)).toEqual([undefined, natIp, natIp]);
        expect(natAddresses(t)).toEqual([natIp]);
    });

    it("gives a subnet without a default route no NAT, and a NAT the plan does not name a documentation address", () => {
        const unrouted = structuredClone(plan);
        for (const h of unrouted.hosts.slice(1)) {
            h.internetRoute = false;
            delete h.natPublicIp;
        }
        const none = labTopology(unrouted);
        expect(none.subnets.map((s) => s.natIp)).toEqual([undefined, undefined, undefined]);
        expect(natAddresses(none)).toEqual([]);

        const unnamed = structuredClone(plan);
        for (const h of unnamed.hosts) delete h.natPublicIp;
        const own = labTopology(unnamed);
        expect(natAddresses(own)).toEqual(["192.0.2.40"]);
        expect(own.subnets.map((s) => s.natIp)).toEqual([undefined, "192.0.2.40", "192.0.2.40"]);
    });

    it("refuses a subnet whose hosts disagree on their way out (one route table per subnet)", () => {
        const twoInOne = structuredClone(plan);
        twoInOne.hosts[2].subnetCidr = twoInOne.hosts[1].subnetCidr;
        twoInOne.hosts[2].privateIp = "10.42.128.11";
        expect(() => labTopology(twoInOne)).not.toThrow();
        twoInOne.hosts[2].internetRoute = false;
        expect(() => labTopology(twoInOne)).toThrow(/disagree on internetRoute/);
        twoInOne.hosts[2].internetRoute = true;
        twoInOne.hosts[2].natPublicIp = "198.51.100.250";
        expect(() => labTopology(twoInOne)).toThrow(/different NAT addresses/);
    });

    it("shortens long names with a hash, keeping them unique and at most 15 characters", () => {
        const a = nsName("production-eu-west", "bastion");
        const b = nsName("production-eu-east", "bastion");
        expect(a).toMatch(/^jg-[0-9a-f]{6}-basti$/);
        expect(a).not.toBe(b);
        expect(nsName("dev", "bastion")).toBe("jg-dev-bastion");
        const t = labTopology({ ...plan, stack: "production-eu-west" });
        for (const ns of t.namespaces) expect(ns.length).toBeLessThanOrEqual(15);
    });

    it("picks peers inside the plan's own allowed range when it holds no documentation address", () => {
        const t = labTopology({ ...plan, allowedCidrs: ["100.64.7.0/29"] });
        expect(peer(t, "client")?.ip).toBe("100.64.7.1");
        expect(peer(t, "hostile")?.ip).toBe("100.64.7.4");
        expect(peer(t, "attacker")?.ip).toBe("192.0.2.66");
    });

    it("says when it cannot make a hostile or an attacker peer", () => {
        const single = labTopology({ ...plan, allowedCidrs: ["203.0.113.7/32"] });
        expect(peer(single, "client")?.ip).toBe("203.0.113.7");
        expect(peer(single, "hostile")).toBeUndefined();
        expect(single.notes.join()).toMatch(/single address/);
        const open = labTopology({ ...plan, allowedCidrs: ["0.0.0.0/0"] });
        expect(peer(open, "attacker")).toBeUndefined();
        expect(open.notes.join()).toMatch(/no attacker/);
    });

    it("refuses plans it cannot stand up", () => {
        const edit = (f: (p: LabPlan) => void): LabPlan => {
            const p = structuredClone(plan);
            f(p);
            return p;
        };
        expect(() => labTopology(edit((p) => (p.hosts[1].name = "client")))).toThrow(/reserved/);
        expect(() => labTopology(edit((p) => (p.hosts[1].privateIp = "10.42.0.99")))).toThrow(/not in/);
        expect(() => labTopology(edit((p) => (p.hosts[1].privateIp = "10.42.128.1")))).toThrow(/reserved address/);
        expect(() => labTopology(edit((p) => delete p.hosts[0].publicIp))).toThrow(
            /one bastion with a public IP, got 0/,
        );
        expect(() => labTopology(edit((p) => (p.hosts[1].publicIp = "198.51.100.99")))).toThrow(/got 2 public host/);
        expect(() => labTopology(edit((p) => (p.hosts[0].publicIp = "2001:db8::1")))).toThrow(/no IPv4 publicIp/);
        expect(() => labTopology(edit((p) => (p.hosts = p.hosts.slice(1))))).toThrow(/exactly one bastion/);
        expect(() => labTopology(edit((p) => (p.allowedCidrs = ["10.42.0.0/16"])))).toThrow(/no usable client/);
    });
});

describe("a host without a route out", () => {
    const status = (errors: string) =>
        `status: error\nextended_status: error - done\nerrors:\n${errors}recoverable_errors:\nWARNING:\n\t- Failure\n`;

    it("counts only the package module's failure as the missing route's (a note, not a boot failure)", () => {
        expect(
            onlyPackageStageFailed(status("\t- ('package-update-upgrade-install', PackageInstallerError('x'))\n")),
        ).toBe(true);
        expect(
            onlyPackageStageFailed(
                status(
                    "\t- ('package-update-upgrade-install', PackageInstallerError('x'))\n\t- ('runcmd', RuntimeError('y'))\n",
                ),
            ),
        ).toBe(false);
        expect(onlyPackageStageFailed("status: done\n")).toBe(false);
    });
});
