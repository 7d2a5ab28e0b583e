import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange, withResource } from "../../helpers/policyHarness";

const POLICY = "target-ssh-only-from-bastion";
const messages = async (run: OfflineRun, preview = false) =>
    (await evaluatePack(run, { preview })).of(POLICY).map((v) => [v.urn?.split("::").pop(), v.message]);
const tail = "targets accept SSH only from the bastion's security group.";

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan({ "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }] });
    });
    const fromCidr = () =>
        withChange(run, T.ingress, "test-targets-ssh-from-bastion", (p) => {
            delete p.referencedSecurityGroupId;
            p.cidrIpv4 = "10.42.0.0/16";
        });
    const cidrMessages = (rule: string, group: string, from: string) =>
        ["app-1", "db-1"].map((t) => [
            rule,
            `target test-${t} (jumpgate:role=target): ${rule} on security group ${group} lets SSH (port 22) in ` +
                `from ${from}; ${tail}`,
        ]);

    it("passes the default stack, after deployment and in a first preview", async () => {
        expect(await messages(run)).toEqual([]);
        expect(await messages(run, true)).toEqual([]);
    });

    it("catches target SSH ingress from a CIDR, even the VPC's own", async () => {
        expect(await messages(fromCidr())).toEqual(
            cidrMessages("test-targets-ssh-from-bastion", "test-targets", "10.42.0.0/16"),
        );
    });

    it("catches it in a first preview, resolving the rule's group from property dependencies", async () => {
        expect(await messages(fromCidr(), true)).toEqual(
            cidrMessages("test-targets-ssh-from-bastion", "test-targets", "10.42.0.0/16"),
        );
    });

    it("catches SSH from a group other than the bastion's (here the targets' own)", async () => {
        const bad = withChange(run, T.ingress, "test-targets-ssh-from-bastion", (p) => {
            p.referencedSecurityGroupId = named(run, T.sg, "test-targets").id;
        });
        const from = "security group test-targets, which is not the bastion's (jumpgate:role=bastion)";
        expect(await messages(bad)).toEqual(cidrMessages("test-targets-ssh-from-bastion", "test-targets", from));
    });

    it("catches an aws.ec2.SecurityGroupRule and an inline rule on the targets' group", async () => {
        const rule = withResource(run, {
            type: "aws:ec2/securityGroupRule:SecurityGroupRule",
            name: "office",
            inputs: {
                type: "ingress",
                securityGroupId: named(run, T.sg, "test-targets").id,
                protocol: "tcp",
                fromPort: 22,
                toPort: 22,
                cidrBlocks: ["192.0.2.0/24"],
            },
        });
        expect(await messages(rule)).toEqual(cidrMessages("office", "test-targets", "192.0.2.0/24"));
        const inline = withChange(run, T.sg, "test-targets", (p) => {
            p.ingress = [{ protocol: "-1", fromPort: 0, toPort: 0, prefixListIds: ["pl-0123456789abcdef0"] }];
        });
        const targetsGroupUrnTail = "test-targets";
        expect(await messages(inline)).toEqual(
            cidrMessages("ingress[0]", "test-targets", "prefix list pl-0123456789abcdef0").map(([, m]) => [
                targetsGroupUrnTail,
                m,
            ]),
        );
    });

    it("checks the existing-VPC variant the same way", async () => {
        const existing = await plan({
            "jumpgate:existingVpc": {
                vpcId: "vpc-0123456789abcdef0",
                publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
            },
        });
        expect(await messages(existing)).toEqual([]);
        const bad = withChange(existing, T.ingress, "test-targets-ssh-from-bastion", (p) => {
            delete p.referencedSecurityGroupId;
            p.cidrIpv4 = "172.31.0.0/16";
        });
        expect(await messages(bad)).toEqual([
            [
                "test-targets-ssh-from-bastion",
                "target test-app-1 (jumpgate:role=target): test-targets-ssh-from-bastion on security group test-targets " +
                    `lets SSH (port 22) in from 172.31.0.0/16; ${tail}`,
            ],
        ]);
    });
});
