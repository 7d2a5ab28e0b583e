// A platform team's own program (not one of jumpgate's): its VPC, subnets and an app server, with
// jumpgate added in front of the app server and one host of its own.
import * as aws from "@pulumi/aws";
import { HostOs, Jumpgate } from "jumpgate";

const vpc = new aws.ec2.Vpc("shop", { cidrBlock: "10.20.0.0/16", enableDnsHostnames: true });
const edge = new aws.ec2.Subnet("shop-edge", {
    vpcId: vpc.id,
    cidrBlock: "10.20.0.0/24",
    availabilityZone: "eu-central-1a",
});
const apps = ["a", "b"].map(
    (zone, i) =>
        new aws.ec2.Subnet(`shop-apps-${zone}`, {
            vpcId: vpc.id,
            cidrBlock: `10.20.${16 + i}.0/24`,
            availabilityZone: `eu-central-1${zone}`,
        }),
);
const appGroup = new aws.ec2.SecurityGroup("shop-app", { vpcId: vpc.id, description: "shop app servers" });
const app = new aws.ec2.Instance("shop-app", {
    ami: "ami-0123456789abcdef0",
    instanceType: "t4g.small",
    subnetId: apps[0]!.id,
    vpcSecurityGroupIds: [appGroup.id],
});

const gate = new Jumpgate("shop", {
    allowedCidrs: ["203.0.113.0/24"],
    os: HostOs.Debian13,
    network: { vpcId: vpc.id, publicSubnetIds: [edge.id], privateSubnetIds: apps.map((s) => s.id) },
    hosts: [
        { name: "app", privateIp: app.privateIp, securityGroupId: appGroup.id, loginUser: "admin" },
        { name: "batch-1", instanceType: "t4g.micro" },
    ],
});

export const bastionPublicIp = gate.bastionPublicIp;
export const sshConfig = gate.sshConfig;
export const knownHosts = gate.knownHosts;
