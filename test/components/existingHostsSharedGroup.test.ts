// A failed run leaves Pulumi's mock runtime unusable for the rest of the file: this run has a file of its own.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Jumpgate } from "../../components/jumpgate";
import { runOffline } from "../../offline/run";

const VPC = "vpc-0123456789abcdef0";
const SG = "sg-0aaaaaaaaaaaaaaa1";

describe("existing hosts sharing a security group given as an output", () => {
    it("fails when the IDs resolve, naming both hosts and the fix, instead of at EC2's duplicate rule", async () => {
        const run = runOffline({
            stack: "lib",
            project: "platform",
            config: { "aws:region": "eu-central-1" },
            existingSubnets: {
                "subnet-0aaaaaaaaaaaaaaa1": { vpcId: VPC, cidrBlock: "172.31.0.0/20" },
                "subnet-0bbbbbbbbbbbbbbb1": { vpcId: VPC, cidrBlock: "172.31.16.0/20" },
            },
            existingSecurityGroups: { [SG]: { vpcId: VPC } },
            program: () => {
                const jg = new Jumpgate("edge", {
                    allowedCidrs: ["203.0.113.0/24"],
                    network: {
                        vpcId: VPC,
                        publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                        privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
                    },
                    hosts: [
                        { name: "web-1", privateIp: "172.31.40.5", securityGroupId: pulumi.output(SG) },
                        { name: "web-2", privateIp: "172.31.40.6", securityGroupId: pulumi.output(SG) },
                    ],
                });
                return { sshConfig: jg.sshConfig };
            },
        });
        await expect(run).rejects.toThrow(
            `existing hosts web-2 and web-1 have the same security group ${SG} and SSH port 22, and web-1's is an output`,
        );
    });
});
