// Who may talk to whom: the bastion accepts SSH only from the allowed CIDRs and may only open SSH to
// the targets' group; targets accept SSH only from the bastion's group (a group reference, never a
// CIDR). One resource per rule, so each rule shows up, diffs and can be reviewed on its own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "./net/cidr";

export interface SshAccessArgs {
    /** VPC the groups live in. Required. */
    vpcId: pulumi.Input<string>;
    /** CIDRs (IPv4 or IPv6) allowed to reach the bastion's SSH port. Required. */
    allowedCidrs: string[];
    /** Port the bastion's sshd listens on. Defaults to 22. */
    sshPort?: number;
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
}

/** Ports hosts may reach on the internet (through the IGW or NAT): package mirrors. */
const UPDATE_PORTS = [80, 443];
/** Port the targets' sshd listens on. */
export const TARGET_SSH_PORT = 22;

export class SshAccess extends pulumi.ComponentResource {
    readonly bastionSecurityGroupId: pulumi.Output<string>;
    readonly targetSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: SshAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:network:SshAccess", name, {}, opts);
        const sshPort = args.sshPort ?? 22;
        const tags = args.tags ?? {};
        const parent = { parent: this };

        const bastionSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-bastion`,
            {
                vpcId: args.vpcId,
                description: "jumpgate bastion: SSH in from allowed CIDRs, SSH out to targets only",
                tags: { ...tags, Name: `${name}-bastion` },
            },
            parent,
        );
        const targetSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-targets`,
            {
                vpcId: args.vpcId,
                description: "jumpgate targets: SSH in from the bastion only",
                tags: { ...tags, Name: `${name}-targets` },
            },
            parent,
        );

        args.allowedCidrs.forEach((cidr, i) => {
            const v6 = parseCidr(cidr).version === 6;
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-bastion-ssh-in-${i}`,
                {
                    securityGroupId: bastionSecurityGroup.id,
                    description: `SSH from allowed CIDR ${cidr}`,
                    ipProtocol: "tcp",
                    fromPort: sshPort,
                    toPort: sshPort,
                    ...(v6 ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
                    tags,
                },
                parent,
            );
        });
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-bastion-ssh-to-targets`,
            {
                securityGroupId: bastionSecurityGroup.id,
                description: "SSH to the targets' group only",
                ipProtocol: "tcp",
                fromPort: TARGET_SSH_PORT,
                toPort: TARGET_SSH_PORT,
                referencedSecurityGroupId: targetSecurityGroup.id,
                tags,
            },
            parent,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-targets-ssh-from-bastion`,
            {
                securityGroupId: targetSecurityGroup.id,
                description: "SSH from the bastion's group only",
                ipProtocol: "tcp",
                fromPort: TARGET_SSH_PORT,
                toPort: TARGET_SSH_PORT,
                referencedSecurityGroupId: bastionSecurityGroup.id,
                tags,
            },
            parent,
        );
        for (const [role, group] of [
            ["bastion", bastionSecurityGroup],
            ["targets", targetSecurityGroup],
        ] as const) {
            for (const port of UPDATE_PORTS) {
                new aws.vpc.SecurityGroupEgressRule(
                    `${name}-${role}-updates-${port}`,
                    {
                        securityGroupId: group.id,
                        description: `Package updates over port ${port}`,
                        ipProtocol: "tcp",
                        fromPort: port,
                        toPort: port,
                        cidrIpv4: "0.0.0.0/0",
                        tags,
                    },
                    parent,
                );
            }
        }

        this.bastionSecurityGroupId = bastionSecurityGroup.id;
        this.targetSecurityGroupId = targetSecurityGroup.id;
        this.registerOutputs({
            bastionSecurityGroupId: this.bastionSecurityGroupId,
            targetSecurityGroupId: this.targetSecurityGroupId,
        });
    }
}
