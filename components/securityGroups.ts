// Who may talk to whom, as security groups: one rule per flow of the stack's flow model (net/flows.ts),
// which each host's own firewall is rendered from too. The outer bastion accepts SSH only from the
// allowed CIDRs; each hop of a bastion chain accepts SSH only from the hop before it and may open SSH
// only to the next; targets accept SSH only from the last hop's group (a group reference, never a
// CIDR). Declared tunnels add exactly one port from the last hop to one target. An existing host's own
// group gets one rule (SSH from the last hop's group) and nothing else. One resource per rule, so each
// rule shows up, diffs and can be reviewed on its own.
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

/** A host jumpgate does not build, as the security groups see it. */
export interface ExistingHostRule {
    name: string;
    privateIp: pulumi.Input<string>;
    /** The host's own group (not jumpgate's): it gets one ingress rule from the last hop. */
    securityGroupId: pulumi.Input<string>;
    /** Port the host's sshd listens on. */
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
    /** Existing hosts the last hop reaches. Defaults to none. */
    existingHosts?: ExistingHostRule[];
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
        // Typed `jumpgate:network:SshAccess` before every component took the package's `index` module; the alias keeps
        // existing stacks' resources (and, through the parent, their children's URNs).
        super(
            "jumpgate:index:SshAccess",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "jumpgate:network:SshAccess" }],
            },
        );
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
        const peerIps = new Map<string, pulumi.Input<string>>([
            ...(args.tunnels ?? []).map((t) => [`tunnel:${t.name}`, t.targetIp] as const),
            ...(args.existingHosts ?? []).map((h) => [`existing:${h.name}`, h.privateIp] as const),
        ]);
        const flows = allowedFlows({
            allowedCidrs: args.allowedCidrs,
            sshPort: args.sshPort ?? 22,
            hops,
            tunnels: args.tunnels ?? [],
            existingHosts: (args.existingHosts ?? []).map((h) => ({ name: h.name, port: h.port })),
        });
        for (const f of flows) flowRule(scope, f, groups, peerIps);
        existingHostIngress(scope, hops[hops.length - 1]!, hopGroups[hops.length - 1]!, args.existingHosts ?? []);

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
    peerIps: Map<string, pulumi.Input<string>>,
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
                return { cidr: pulumi.output(peerIps.get(`tunnel:${f.peer.tunnel}`)!).apply((ip) => `${ip}/32`) };
            case "existing":
                return { cidr: pulumi.output(peerIps.get(`existing:${f.peer.host}`)!).apply((ip) => `${ip}/32`) };
            case "internet":
                return { cidr: "0.0.0.0/0" };
        }
    })();
    sshRule(scope, f.direction, `${scope.name}-${f.ruleName}`, groupOf(f.group), f.description, f.port, peer);
}

/**
 * Each existing host's own group admits SSH from the last hop's group: the one rule jumpgate adds to a
 * group it does not own (the last hop's way out to it is a flow). Hosts sharing a group and port share
 * that rule (EC2 refuses a second identical one).
 */
function existingHostIngress(
    scope: RuleScope,
    last: string,
    lastGroup: aws.ec2.SecurityGroup,
    hosts: ExistingHostRule[],
): void {
    const opened = new Set<string>();
    // One output object passed for several hosts (e.g. `group.id`) is one group, known before it resolves.
    const outputIds = new Map<object, number>();
    const groupKey = (id: pulumi.Input<string>) =>
        typeof id === "string" ? id : `output#${outputIds.get(id) ?? outputIds.set(id, outputIds.size).size - 1}`;
    for (const h of hosts) {
        const shared = `${groupKey(h.securityGroupId)}:${h.port}`;
        if (opened.has(shared)) continue;
        opened.add(shared);
        sshRule(
            scope,
            "in",
            `${scope.name}-${h.name}-ssh-from-${last}`,
            typeof h.securityGroupId === "string" ? h.securityGroupId : unsharedGroupId(h, hosts),
            `jumpgate ${scope.name}: SSH from its ${last} hop group only`,
            h.port,
            { groupId: lastGroup.id },
        );
    }
}

/**
 * A group ID given as an output, checked when it resolves: two hosts with the same group and port would
 * need one shared rule, which cannot be decided before the IDs are known, and EC2 refuses the second.
 */
function unsharedGroupId(h: ExistingHostRule, hosts: ExistingHostRule[]): pulumi.Output<string> {
    return pulumi.all(hosts.map((x) => pulumi.output(x.securityGroupId))).apply((ids) => {
        const i = hosts.indexOf(h);
        // The same output object given twice already shares this host's rule.
        const other = hosts.findIndex(
            (x, j) => j !== i && ids[j] === ids[i] && x.port === h.port && x.securityGroupId !== h.securityGroupId,
        );
        if (other >= 0) {
            throw new Error(
                `existing hosts ${hosts[other]!.name} and ${h.name} have the same security group ${ids[i]} and SSH port ` +
                    `${h.port}, and ${h.name}'s is an output: EC2 takes that ingress rule only once, and which hosts share ` +
                    `it must be known before outputs resolve. Give both hosts the same securityGroupId value (one output ` +
                    `object, e.g. group.id, or one plain string): jumpgate then adds one rule for them.`,
            );
        }
        return ids[i]!;
    });
}
