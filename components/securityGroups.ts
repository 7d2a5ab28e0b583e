// Who may talk to whom: the outer bastion accepts SSH only from the allowed CIDRs; each hop of a
// bastion chain accepts SSH only from the hop before it and may open SSH only to the next; targets
// accept SSH only from the last hop's group (a group reference, never a CIDR). Declared tunnels add
// exactly one port from the last hop to one target. An existing host's own group gets one rule (SSH
// from the last hop's group) and nothing else. One resource per rule, so each rule shows up, diffs and
// can be reviewed on its own.
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

/** Ports hosts may reach on the internet (through the IGW or NAT): package mirrors. */
const UPDATE_PORTS = [80, 443];
/** Port the targets' and inner hops' sshd listens on. */
export const TARGET_SSH_PORT = 22;

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

        allowedCidrRules(scope, hops[0]!, hopGroups[0]!, args.allowedCidrs, args.sshPort ?? 22);
        chainRules(scope, hops, hopGroups);
        targetRules(scope, hops[hops.length - 1]!, hopGroups[hops.length - 1]!, targetGroup, args.tunnels ?? []);
        existingHostRules(scope, hops[hops.length - 1]!, hopGroups[hops.length - 1]!, args.existingHosts ?? []);
        updateRules(scope, [...hops.map((h, k) => [h, hopGroups[k]!] as const), ["targets", targetGroup]]);

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

/** The outer hop's SSH port, open to each allowed CIDR (IPv4 only: the network has no IPv6). */
function allowedCidrRules(
    scope: RuleScope,
    outer: string,
    outerGroup: aws.ec2.SecurityGroup,
    allowedCidrs: string[],
    sshPort: number,
): void {
    allowedCidrs.forEach((cidr, i) => {
        if (parseCidr(cidr).version !== 4)
            throw new Error(`allowed CIDR ${cidr} is not IPv4; the bastion has no IPv6 address to reach`);
        sshRule(
            scope,
            "in",
            `${scope.name}-${outer}-ssh-in-${i}`,
            outerGroup.id,
            `SSH from allowed CIDR ${cidr}`,
            sshPort,
            {
                cidr,
            },
        );
    });
}

/** Each hop of a chain may open SSH only to the next, which accepts it only from that hop. */
function chainRules(scope: RuleScope, hops: string[], hopGroups: aws.ec2.SecurityGroup[]): void {
    hops.forEach((hop, k) => {
        const next = hops[k + 1];
        if (next) {
            sshRule(
                scope,
                "out",
                `${scope.name}-${hop}-ssh-to-${next}`,
                hopGroups[k]!.id,
                `SSH to the next hop (${next}) only`,
                TARGET_SSH_PORT,
                { groupId: hopGroups[k + 1]!.id },
            );
            sshRule(
                scope,
                "in",
                `${scope.name}-${next}-ssh-from-${hop}`,
                hopGroups[k + 1]!.id,
                `SSH from the previous hop (${hop}) only`,
                TARGET_SSH_PORT,
                { groupId: hopGroups[k]!.id },
            );
        }
    });
}

/** The last hop reaches the targets' SSH port by group, and each tunnel's one port of one target. */
function targetRules(
    scope: RuleScope,
    last: string,
    lastGroup: aws.ec2.SecurityGroup,
    targetGroup: aws.ec2.SecurityGroup,
    tunnels: TunnelRule[],
): void {
    const name = scope.name;
    // Descriptions: EC2 accepts only a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (no apostrophes).
    sshRule(
        scope,
        "out",
        `${name}-${last}-ssh-to-targets`,
        lastGroup.id,
        "SSH to the targets group only",
        TARGET_SSH_PORT,
        {
            groupId: targetGroup.id,
        },
    );
    sshRule(
        scope,
        "in",
        `${name}-targets-ssh-from-${last}`,
        targetGroup.id,
        `SSH from the ${last} group only`,
        TARGET_SSH_PORT,
        {
            groupId: lastGroup.id,
        },
    );
    for (const t of tunnels) {
        sshRule(
            scope,
            "out",
            `${name}-${last}-tunnel-${t.name}`,
            lastGroup.id,
            `Tunnel ${t.name}: port ${t.port} of one target`,
            t.port,
            { cidr: pulumi.output(t.targetIp).apply((ip) => `${ip}/32`) },
        );
        sshRule(
            scope,
            "in",
            `${name}-targets-tunnel-${t.name}`,
            targetGroup.id,
            `Tunnel ${t.name}: port ${t.port} from the bastion only`,
            t.port,
            { groupId: lastGroup.id },
        );
    }
}

/**
 * The last hop may open SSH to each existing host's address and port, and the host's own group admits
 * it from the last hop's group: the one rule jumpgate adds to a group it does not own. Hosts sharing a
 * group and port share that rule (EC2 refuses a second identical one); that is known only for group IDs
 * given as plain strings.
 */
function existingHostRules(
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
        sshRule(
            scope,
            "out",
            `${scope.name}-${last}-ssh-to-${h.name}`,
            lastGroup.id,
            `SSH to existing host ${h.name} only`,
            h.port,
            { cidr: pulumi.output(h.privateIp).apply((ip) => `${ip}/32`) },
        );
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

/** Every host may reach the package mirrors (through the IGW or NAT), and nothing else on the internet. */
function updateRules(scope: RuleScope, groups: (readonly [string, aws.ec2.SecurityGroup])[]): void {
    for (const [role, group] of groups) {
        for (const port of UPDATE_PORTS) {
            sshRule(
                scope,
                "out",
                `${scope.name}-${role}-updates-${port}`,
                group.id,
                `Package updates over port ${port}`,
                port,
                {
                    cidr: "0.0.0.0/0",
                },
            );
        }
    }
}
