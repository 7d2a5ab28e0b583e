// Who may talk to whom: the outer bastion accepts SSH only from the allowed CIDRs; each hop of a
// bastion chain accepts SSH only from the hop before it and may open SSH only to the next; targets
// accept SSH only from the last hop's group (a group reference, never a CIDR). Declared tunnels add
// exactly one port from the last hop to one target. One resource per rule, so each rule shows up,
// diffs and can be reviewed on its own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "./net/cidr";

/** A declared tunnel as the security groups see it. */
export interface TunnelRule {
    name: string;
    /** The target's private address. */
    targetIp: pulumi.Input<string>;
    port: number;
}

export interface SshAccessArgs {
    /** VPC the groups live in. Required. */
    vpcId: pulumi.Input<string>;
    /** IPv4 CIDRs allowed to reach the outer bastion's SSH port (the network has no IPv6). Required. */
    allowedCidrs: string[];
    /** Port the outer bastion's sshd listens on (inner hops and targets use 22). Defaults to 22. */
    sshPort?: number;
    /** Bastion hop names, outermost first. Defaults to `["bastion"]`. */
    hops?: string[];
    /** Ports opened from the last hop to single targets. Defaults to none. */
    tunnels?: TunnelRule[];
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
}

/** Ports hosts may reach on the internet (through the IGW or NAT): package mirrors. */
const UPDATE_PORTS = [80, 443];
/** Port the targets' and inner hops' sshd listens on. */
export const TARGET_SSH_PORT = 22;

export class SshAccess extends pulumi.ComponentResource {
    /** The outer bastion's group. */
    readonly bastionSecurityGroupId: pulumi.Output<string>;
    /** Each hop's group, by hop name. */
    readonly hopSecurityGroupIds: Record<string, pulumi.Output<string>>;
    readonly targetSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: SshAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:network:SshAccess", name, {}, opts);
        const sshPort = args.sshPort ?? 22;
        const hops = args.hops ?? ["bastion"];
        const tags = args.tags ?? {};
        const parent = { parent: this };
        const rule = (
            kind: "in" | "out",
            ruleName: string,
            groupId: pulumi.Input<string>,
            description: string,
            port: number,
            peer: { cidr?: pulumi.Input<string>; groupId?: pulumi.Input<string> },
        ) => {
            const ruleArgs = {
                securityGroupId: groupId,
                description,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                cidrIpv4: peer.cidr,
                referencedSecurityGroupId: peer.groupId,
                tags,
            };
            return kind === "in"
                ? new aws.vpc.SecurityGroupIngressRule(ruleName, ruleArgs, parent)
                : new aws.vpc.SecurityGroupEgressRule(ruleName, ruleArgs, parent);
        };

        const hopGroups = hops.map(
            (hop, k) =>
                new aws.ec2.SecurityGroup(
                    `${name}-${hop}`,
                    {
                        vpcId: args.vpcId,
                        description:
                            k === 0
                                ? "jumpgate bastion: SSH in from allowed CIDRs, SSH out to the next hop only"
                                : `jumpgate inner bastion ${hop}: SSH in from ${hops[k - 1]} only, SSH out to the next hop only`,
                        tags: { ...tags, Name: `${name}-${hop}` },
                    },
                    parent,
                ),
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

        const outer = hops[0]!;
        args.allowedCidrs.forEach((cidr, i) => {
            if (parseCidr(cidr).version !== 4)
                throw new Error(`allowed CIDR ${cidr} is not IPv4; the bastion has no IPv6 address to reach`);
            rule("in", `${name}-${outer}-ssh-in-${i}`, hopGroups[0]!.id, `SSH from allowed CIDR ${cidr}`, sshPort, {
                cidr,
            });
        });
        hops.forEach((hop, k) => {
            const next = hops[k + 1];
            if (next) {
                rule(
                    "out",
                    `${name}-${hop}-ssh-to-${next}`,
                    hopGroups[k]!.id,
                    `SSH to the next hop (${next}) only`,
                    TARGET_SSH_PORT,
                    { groupId: hopGroups[k + 1]!.id },
                );
                rule(
                    "in",
                    `${name}-${next}-ssh-from-${hop}`,
                    hopGroups[k + 1]!.id,
                    `SSH from the previous hop (${hop}) only`,
                    TARGET_SSH_PORT,
                    { groupId: hopGroups[k]!.id },
                );
            }
        });
        const last = hops[hops.length - 1]!;
        const lastGroup = hopGroups[hops.length - 1]!;
        // Descriptions: EC2 accepts only a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (no apostrophes).
        rule("out", `${name}-${last}-ssh-to-targets`, lastGroup.id, "SSH to the targets group only", TARGET_SSH_PORT, {
            groupId: targetSecurityGroup.id,
        });
        rule(
            "in",
            `${name}-targets-ssh-from-${last}`,
            targetSecurityGroup.id,
            `SSH from the ${last} group only`,
            TARGET_SSH_PORT,
            { groupId: lastGroup.id },
        );
        for (const t of args.tunnels ?? []) {
            rule(
                "out",
                `${name}-${last}-tunnel-${t.name}`,
                lastGroup.id,
                `Tunnel ${t.name}: port ${t.port} of one target`,
                t.port,
                { cidr: pulumi.output(t.targetIp).apply((ip) => `${ip}/32`) },
            );
            rule(
                "in",
                `${name}-targets-tunnel-${t.name}`,
                targetSecurityGroup.id,
                `Tunnel ${t.name}: port ${t.port} from the bastion only`,
                t.port,
                { groupId: lastGroup.id },
            );
        }
        for (const [role, group] of [
            ...hops.map((h, k) => [h, hopGroups[k]!] as const),
            ["targets", targetSecurityGroup] as const,
        ]) {
            for (const port of UPDATE_PORTS) {
                rule("out", `${name}-${role}-updates-${port}`, group.id, `Package updates over port ${port}`, port, {
                    cidr: "0.0.0.0/0",
                });
            }
        }

        this.bastionSecurityGroupId = hopGroups[0]!.id;
        this.hopSecurityGroupIds = Object.fromEntries(hops.map((h, k) => [h, hopGroups[k]!.id]));
        this.targetSecurityGroupId = targetSecurityGroup.id;
        this.registerOutputs({
            bastionSecurityGroupId: this.bastionSecurityGroupId,
            targetSecurityGroupId: this.targetSecurityGroupId,
        });
    }
}
