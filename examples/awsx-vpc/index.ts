// An awsx VPC with two hosts of its own, and jumpgate added for them: a bastion in the VPC's first public
// subnet, one SSH ingress rule (from the bastion's group) on the hosts' own security group, and a
// ProxyJump client config that reaches both. Copy this directory into a project of its own and
// `npm install jumpgate @pulumi/awsx @pulumi/aws @pulumi/pulumi`: it imports jumpgate as any program does.
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { Jumpgate } from "jumpgate";

const config = new pulumi.Config();
const allowedCidrs = config.requireObject<string[]>("allowedCidrs");
const operatorPublicKey = config.require("operatorPublicKey");
// Named, not left to awsx: it takes the first zones the region lists, and an opted-in Local Zone sorts
// before the regular ones.
const zones = config.requireObject<string[]>("availabilityZones");

// awsx's default layout: one public and one private subnet per zone (Legacy, named so a future change of
// awsx's default strategy cannot move them), and one NAT gateway for the hosts' package updates.
const vpc = new awsx.ec2.Vpc("app", {
    cidrBlock: "10.0.0.0/16",
    availabilityZoneNames: zones,
    subnetStrategy: awsx.types.enums.ec2.SubnetAllocationStrategy.Legacy,
    natGateways: { strategy: awsx.types.enums.ec2.NatGatewayStrategy.Single },
});

/**
 * The `i`-th id of an awsx id list. awsx hands out `Output<string[]>`, jumpgate takes a list of Inputs
 * (its length decides what it builds before any id is known); with the default layout the length is the
 * number of zones, so each entry is one element of awsx's list, checked when it resolves.
 */
function subnetId(ids: pulumi.Output<string[]>, i: number, kind: "public" | "private"): pulumi.Output<string> {
    return ids.apply((list) => {
        const id = list[i];
        if (id === undefined) throw new Error(`the VPC has ${list.length} ${kind} subnets; expected one per zone`);
        return id;
    });
}
const publicSubnetIds = zones.map((_, i) => subnetId(vpc.publicSubnetIds, i, "public"));
const privateSubnetIds = zones.map((_, i) => subnetId(vpc.privateSubnetIds, i, "private"));

// The hosts' own group: outbound for updates; jumpgate adds the only inbound rule (SSH from its last hop).
const hostsGroup = new aws.ec2.SecurityGroup("app-hosts", {
    vpcId: vpc.vpcId,
    description: "App hosts: SSH only from the jumpgate bastion",
});
new aws.vpc.SecurityGroupEgressRule("app-hosts-out", {
    securityGroupId: hostsGroup.id,
    ipProtocol: "-1",
    cidrIpv4: "0.0.0.0/0",
    description: "Package updates through the NAT gateway",
});

const operatorKey = new aws.ec2.KeyPair("operator", { publicKey: operatorPublicKey });
const debian = aws.ec2.getAmiOutput({
    owners: ["136693071363"], // Debian's official cloud account
    mostRecent: true,
    filters: [
        { name: "name", values: ["debian-13-arm64-*"] },
        { name: "architecture", values: ["arm64"] },
    ],
});
const hosts = ["app-1", "app-2"].map((name, i) => ({
    name,
    instance: new aws.ec2.Instance(name, {
        ami: debian.id,
        instanceType: "t4g.micro",
        subnetId: privateSubnetIds[i % privateSubnetIds.length]!,
        vpcSecurityGroupIds: [hostsGroup.id],
        keyName: operatorKey.keyName,
        metadataOptions: { httpTokens: "required" },
        rootBlockDevice: { encrypted: true, volumeType: "gp3" },
        tags: { Name: name },
    }),
}));

const edge = new Jumpgate("edge", {
    allowedCidrs,
    operatorPublicKeys: [operatorPublicKey],
    network: { vpcId: vpc.vpcId, publicSubnetIds, privateSubnetIds },
    // Existing hosts to jumpgate: it builds none of them. Their host keys are not known before they boot,
    // so their known_hosts entries are unpinned, with the command that pins them.
    hosts: hosts.map(({ name, instance }) => ({
        name,
        privateIp: instance.privateIp,
        securityGroupId: hostsGroup.id,
        loginUser: "admin", // the Debian cloud images' login
    })),
});

export const bastionPublicIp = edge.bastionPublicIp;
export const sshConfig = edge.sshConfig;
export const knownHosts = edge.knownHosts;
