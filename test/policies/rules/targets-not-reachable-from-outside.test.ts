import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange, withResource } from "../../helpers/policyHarness";

const POLICY = "targets-not-reachable-from-outside";
const messages = async (run: OfflineRun, preview = false) =>
    (await evaluatePack(run, { preview })).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);
const app = "target test-app-1 (jumpgate:role=target)";

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const target = (change: (p: Record<string, unknown>) => void) => withChange(run, T.instance, "test-app-1", change);
    const targetIngress = (inputs: Record<string, unknown>) =>
        withResource(run, {
            type: T.ingress,
            name: "extra",
            inputs: { securityGroupId: named(run, T.sg, "test-targets").id, ipProtocol: "tcp", ...inputs },
        });

    it("passes the default stack, after deployment and in a first preview", async () => {
        expect(await messages(run)).toEqual([]);
        expect(await messages(run, true)).toEqual([]);
    });

    it("catches a target with a public IP", async () => {
        expect(await messages(target((p) => (p.associatePublicIpAddress = true)))).toEqual([
            ["test-app-1", `${app} has a public IP (associatePublicIpAddress: true).`],
        ]);
    });

    it("catches a target in a subnet that hands out public IPs", async () => {
        const bad = withChange(
            target((p) => delete p.associatePublicIpAddress),
            T.subnet,
            "test-private-0",
            (p) => (p.mapPublicIpOnLaunch = true),
        );
        expect(await messages(bad)).toEqual([
            ["test-app-1", `${app} gets a public IP from subnet test-private-0 (mapPublicIpOnLaunch: true).`],
        ]);
    });

    it("catches a target with an Elastic IP", async () => {
        const bad = withChange(
            run,
            T.eipAssociation,
            "test-bastion-eip",
            (p) => (p.instanceId = named(run, T.instance, "test-app-1").id),
        );
        expect(await messages(bad)).toEqual([["test-bastion-eip", `${app} has an Elastic IP (test-bastion-eip).`]]);
    });

    it("catches ingress from outside the VPC on any port, but not from inside it", async () => {
        const outside = targetIngress({ fromPort: 443, toPort: 443, cidrIpv4: "203.0.113.0/24" });
        expect(await messages(outside)).toEqual([
            [
                "extra",
                `${app} is reachable from 203.0.113.0/24 (extra on security group test-targets): outside the VPC's 10.42.0.0/16.`,
            ],
        ]);
        expect(await messages(outside, true)).toEqual(await messages(outside));
        const inside = targetIngress({ fromPort: 443, toPort: 443, cidrIpv4: "10.42.128.0/18" });
        expect(await messages(inside)).toEqual([]);
        const v6 = targetIngress({ fromPort: 443, toPort: 443, cidrIpv6: "2001:db8::/32" });
        expect((await messages(v6))[0]![1]).toContain(
            "is reachable from 2001:db8::/32 (extra on security group test-targets)",
        );
    });

    it("catches a target whose security groups the stack cannot check", async () => {
        expect(await messages(target((p) => (p.vpcSecurityGroupIds = [])))).toEqual([
            [
                "test-app-1",
                `${app} names no security group, so AWS puts it in the VPC's default group, which this stack cannot check.`,
            ],
        ]);
        const external = target(
            (p) => (p.vpcSecurityGroupIds = [...(p.vpcSecurityGroupIds as string[]), "sg-0123456789abcdef0"]),
        );
        expect(await messages(external)).toEqual([
            [
                "test-app-1",
                `${app} uses security group sg-0123456789abcdef0, which this stack does not manage, so its rules cannot be checked.`,
            ],
        ]);
    });

    it("holds an untagged instance to the same rule", async () => {
        const bad = target((p) => {
            delete (p.tags as Record<string, string>)["jumpgate:role"];
            p.associatePublicIpAddress = true;
        });
        expect(await messages(bad)).toEqual([
            [
                "test-app-1",
                "target test-app-1 (no jumpgate:role tag) has a public IP (associatePublicIpAddress: true).",
            ],
        ]);
    });

    it("in an existing VPC, whose range the stack does not know, refuses any CIDR ingress to a target", async () => {
        const existing = await plan({
            "jumpgate:existingVpc": {
                vpcId: "vpc-0123456789abcdef0",
                publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
            },
        });
        expect(await messages(existing)).toEqual([]);
        const bad = withResource(existing, {
            type: T.ingress,
            name: "extra",
            inputs: {
                securityGroupId: named(existing, T.sg, "test-targets").id,
                ipProtocol: "tcp",
                fromPort: 443,
                toPort: 443,
                cidrIpv4: "172.31.0.0/16",
            },
        });
        expect(await messages(bad)).toEqual([
            [
                "extra",
                `${app} is reachable from 172.31.0.0/16 (extra on security group test-targets): the VPC is not managed ` +
                    "by this stack, so no CIDR can be shown to be inside it.",
            ],
        ]);
    });
});
