// A failed run leaves Pulumi's mock runtime unusable for the rest of the file, so each run that must
// fail has a file of its own.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { Jumpgate } from "../../components/jumpgate";
import { runOffline } from "../../offline/run";

const BASE = { allowedCidrs: ["203.0.113.0/24"] };
const existingSubnets = {
    "subnet-0aaaaaaaaaaaaaaa1": { vpcId: "vpc-0aaaaaaaaaaaaaaa1", cidrBlock: "172.31.0.0/20" },
    "subnet-0bbbbbbbbbbbbbbb1": { vpcId: "vpc-0aaaaaaaaaaaaaaa1", cidrBlock: "172.31.16.0/20" },
};

describe("Jumpgate in a program of its own", () => {
    it("checks an output-valued address when it resolves, with the message a plain value gets", async () => {
        const run = runOffline({
            stack: "lib",
            project: "platform",
            config: { "aws:region": "eu-central-1" },
            existingSubnets,
            existingSecurityGroups: { "sg-0123456789abcdef0": { vpcId: "vpc-0aaaaaaaaaaaaaaa1" } },
            program: () => {
                const jg = new Jumpgate("edge", {
                    ...BASE,
                    network: {
                        vpcId: pulumi.output("vpc-0aaaaaaaaaaaaaaa1"),
                        publicSubnetIds: [pulumi.output("subnet-0aaaaaaaaaaaaaaa1")],
                        privateSubnetIds: [pulumi.output("subnet-0bbbbbbbbbbbbbbb1")],
                    },
                    hosts: [
                        {
                            name: "legacy",
                            privateIp: pulumi.output("8.8.8.8"),
                            securityGroupId: "sg-0123456789abcdef0",
                        },
                    ],
                });
                return { config: jg.sshConfig };
            },
        });
        await expect(run).rejects.toThrow(
            /hosts\[0\]\.privateIp = "8\.8\.8\.8": is not a private address \(10\/8, 172\.16\/12 or 192\.168\/16\)/,
        );
    });
});
