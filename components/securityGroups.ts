// Who may talk to whom, as security groups: one rule per flow of the stack's flow model (net/flows.ts),
// which each host's own firewall is rendered from too. The outer bastion accepts SSH only from the
// allowed CIDRs; each hop of a bastion chain accepts SSH only from the hop before it and may open SSH
// only to the next; targets accept SSH only from the last hop's group (a group reference, never a
// CIDR). Declared tunnels add exactly one port from the last hop to one target. One resource per rule,
// so each rule shows up, diffs and can be reviewed on its own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { allowedFlows, Flow, TARGETS_GROUP } from "./net/flows";

export { TARGET_SSH_PORT } from "./net/flows";

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

/** What every rule is built with: the component's name, tags and parent. */
interface RuleScope {
    name: string;
    tags: Record<string, string>;
    parent: pulumi.CustomResourceOptions;
}

/** One TCP port, in or out of a group, to or from a CIDR or another group: one resource per rule. */
function sshRule(
    scope: RuleScope,
    kind: "in" | "out",
    ruleName: string,
    groupId: pulumi.Input<string>,
    description: string,
    port: number,
    peer: { cidr?: pulumi.Input<string>; groupId?: pulumi.Input<string> },
): aws.vpc.SecurityGroupIngressRule | aws.vpc.SecurityGroupEgressRule {
    const ruleArgs = {
        securityGroupId: groupId,
        description,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: peer.cidr,
        referencedSecurityGroupId: peer.groupId,
        tags: scope.tags,
    };
    return kind === "in"
        ? new aws.vpc.SecurityGroupIngressRule(ruleName, ruleArgs, scope.parent)
        : new aws.vpc.SecurityGroupEgressRule(ruleName, ruleArgs, scope.parent);
}

export class SshAccess extends pulumi.ComponentResource {
    /** The outer bastion's group. */
    readonly bastionSecurityGroupId: pulumi.Output<string>;
    /** Each hop's group, by hop name. */
    readonly hopSecurityGroupIds: Record<string, pulumi.Output<string>>;
    readonly targetSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: SshAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:network:SshAccess", name, {}, opts);
        const hops = args.hops ?? ["bastion"];
        const scope: RuleScope = { name, tags: args.tags ?? {}, parent: { parent: this } };
        const hopGroups = hops.map((_, k) => hopGroup(scope, args.vpcId, hops, k));
        const targetGroup = new aws.ec2.SecurityGroup(
            `${name}-targets`,
            {
                vpcId: args.vpcId,
                description: "jumpgate targets: SSH in from the bastion only",
                tags: { ...scope.tags, Name: `${name}-targets` },
            },
            scope.parent,
        );

        const groups = new Map<string, aws.ec2.SecurityGroup>([
            ...hops.map((h, k) => [h, hopGroups[k]!] as const),
            [TARGETS_GROUP, targetGroup],
        ]);
        const tunnelIps = new Map((args.tunnels ?? []).map((t) => [t.name, t.targetIp]));
        const flows = allowedFlows({
            allowedCidrs: args.allowedCidrs,
            sshPort: args.sshPort ?? 22,
            hops,
            tunnels: args.tunnels ?? [],
        });
        for (const f of flows) flowRule(scope, f, groups, tunnelIps);

        this.bastionSecurityGroupId = hopGroups[0]!.id;
        this.hopSecurityGroupIds = Object.fromEntries(hops.map((h, k) => [h, hopGroups[k]!.id]));
        this.targetSecurityGroupId = targetGroup.id;
        this.registerOutputs({
            bastionSecurityGroupId: this.bastionSecurityGroupId,
            targetSecurityGroupId: this.targetSecurityGroupId,
        });
    }
}

/** Hop `k`'s group (rules are separate resources). */
function hopGroup(scope: RuleScope, vpcId: pulumi.Input<string>, hops: string[], k: number): aws.ec2.SecurityGroup {
    const hop = hops[k]!;
    return new aws.ec2.SecurityGroup(
        `${scope.name}-${hop}`,
        {
            vpcId,
            description:
                k === 0
                    ? "jumpgate bastion: SSH in from allowed CIDRs, SSH out to the next hop only"
                    : `jumpgate inner bastion ${hop}: SSH in from ${hops[k - 1]} only, SSH out to the next hop only`,
            tags: { ...scope.tags, Name: `${scope.name}-${hop}` },
        },
        scope.parent,
    );
}

/** The rule of one flow: its group's, to or from a CIDR or another group. */
function flowRule(
    scope: RuleScope,
    f: Flow,
    groups: Map<string, aws.ec2.SecurityGroup>,
    tunnelIps: Map<string, pulumi.Input<string>>,
): void {
    const groupOf = (name: string) => {
        const group = groups.get(name);
        if (!group) throw new Error(`flow ${f.ruleName} names no group ${name}`);
        return group.id;
    };
    const peer = ((): { cidr?: pulumi.Input<string>; groupId?: pulumi.Input<string> } => {
        switch (f.peer.kind) {
            case "cidr":
                return { cidr: f.peer.cidr };
            case "hop":
                return { groupId: groupOf(f.peer.hop) };
            case "targets":
                return { groupId: groupOf(TARGETS_GROUP) };
            case "tunnel":
                return { cidr: pulumi.output(tunnelIps.get(f.peer.tunnel)!).apply((ip) => `${ip}/32`) };
            case "internet":
                return { cidr: "0.0.0.0/0" };
        }
    })();
    sshRule(scope, f.direction, `${scope.name}-${f.ruleName}`, groupOf(f.group), f.description, f.port, peer);
}
