// One shape for every way AWS lets traffic into a security group: inline `ingress` blocks of
// aws.ec2.SecurityGroup / DefaultSecurityGroup, aws.ec2.SecurityGroupRule (type "ingress") and
// aws.vpc.SecurityGroupIngressRule. Checks written against IngressRule cannot miss a rule shape.
import { asString, peek, peekList, Unknown, UNKNOWN } from "./props";

export const TYPE = {
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
} as const;

/** Where traffic may come from. */
export type Source =
    | { kind: "cidr"; cidr: string }
    | { kind: "prefix-list"; id: string }
    /** Another security group: `id` when known, `prop` names the property that references it. */
    | { kind: "group"; id: string | Unknown; prop: string }
    | { kind: "self" }
    /** A source not known until the resource is created. */
    | { kind: "unknown"; prop: string };

export interface IngressRule {
    /** Where the rule is written, for messages: `ingress[0]`, or the rule resource's name. */
    where: string;
    /** `all`, `tcp`, another protocol name/number, or UNKNOWN. */
    protocol: string | Unknown;
    fromPort: number | Unknown | undefined;
    toPort: number | Unknown | undefined;
    sources: Source[];
}

function normalizeProtocol(p: unknown): string | Unknown {
    if (p === UNKNOWN) return UNKNOWN;
    const s = String(p ?? "").toLowerCase();
    if (s === "-1" || s === "all") return "all";
    if (s === "6") return "tcp";
    return s;
}

function port(v: unknown): number | Unknown | undefined {
    if (v === UNKNOWN) return UNKNOWN;
    return typeof v === "number" ? v : undefined;
}

function cidrs(list: unknown[] | Unknown, prop: string): Source[] {
    if (list === UNKNOWN) return [{ kind: "unknown", prop }];
    return list.map((v): Source => (typeof v === "string" ? { kind: "cidr", cidr: v } : { kind: "unknown", prop }));
}

function single(value: unknown, prop: string, make: (v: string) => Source): Source[] {
    if (value === UNKNOWN) return [{ kind: "unknown", prop }];
    const s = asString(value);
    return s ? [make(s)] : [];
}

/** The inline ingress rules of an aws.ec2.SecurityGroup or DefaultSecurityGroup. */
export function inlineIngress(props: unknown): IngressRule[] {
    const list = peekList(props, "ingress");
    if (list === UNKNOWN)
        return [
            {
                where: "ingress",
                protocol: UNKNOWN,
                fromPort: UNKNOWN,
                toPort: UNKNOWN,
                sources: [{ kind: "unknown", prop: "ingress" }],
            },
        ];
    return list.map((rule, i) => {
        const groups = peekList(rule, "securityGroups");
        const sources: Source[] = [
            ...cidrs(peekList(rule, "cidrBlocks"), "ingress"),
            ...cidrs(peekList(rule, "ipv6CidrBlocks"), "ingress"),
            ...(groups === UNKNOWN
                ? [{ kind: "group", id: UNKNOWN, prop: "ingress" } as const]
                : groups.map((g): Source => ({
                      kind: "group",
                      id: typeof g === "string" ? g : UNKNOWN,
                      prop: "ingress",
                  }))),
            ...knownPrefixLists(peekList(rule, "prefixListIds")),
            ...(peek(rule, "self") === true ? [{ kind: "self" } as const] : []),
        ];
        return {
            where: `ingress[${i}]`,
            protocol: normalizeProtocol(peek(rule, "protocol")),
            fromPort: port(peek(rule, "fromPort")),
            toPort: port(peek(rule, "toPort")),
            sources,
        };
    });
}

function knownPrefixLists(list: unknown[] | Unknown): Source[] {
    if (list === UNKNOWN) return [{ kind: "unknown", prop: "prefixListIds" }];
    return list.map((v): Source =>
        typeof v === "string" ? { kind: "prefix-list", id: v } : { kind: "unknown", prop: "prefixListIds" },
    );
}

/** The rule an aws.vpc.SecurityGroupIngressRule adds. */
export function vpcIngressRule(name: string, props: unknown): IngressRule {
    const sources: Source[] = [
        ...single(peek(props, "cidrIpv4"), "cidrIpv4", (cidr) => ({ kind: "cidr", cidr })),
        ...single(peek(props, "cidrIpv6"), "cidrIpv6", (cidr) => ({ kind: "cidr", cidr })),
        ...single(peek(props, "prefixListId"), "prefixListId", (id) => ({ kind: "prefix-list", id })),
    ];
    const referenced = peek(props, "referencedSecurityGroupId");
    if (referenced === UNKNOWN || typeof referenced === "string")
        sources.push({ kind: "group", id: referenced, prop: "referencedSecurityGroupId" });
    return {
        where: name,
        protocol: normalizeProtocol(peek(props, "ipProtocol")),
        fromPort: port(peek(props, "fromPort")),
        toPort: port(peek(props, "toPort")),
        sources,
    };
}

/** The rule an aws.ec2.SecurityGroupRule adds, if it is an ingress rule. */
export function securityGroupRuleIngress(name: string, props: unknown): IngressRule | undefined {
    const type = peek(props, "type");
    if (type !== "ingress" && type !== UNKNOWN) return undefined;
    const sources: Source[] = [
        ...cidrs(peekList(props, "cidrBlocks"), "cidrBlocks"),
        ...cidrs(peekList(props, "ipv6CidrBlocks"), "ipv6CidrBlocks"),
        ...knownPrefixLists(peekList(props, "prefixListIds")),
        ...(peek(props, "self") === true ? [{ kind: "self" } as const] : []),
    ];
    const referenced = peek(props, "sourceSecurityGroupId");
    if (referenced === UNKNOWN || typeof referenced === "string")
        sources.push({ kind: "group", id: referenced, prop: "sourceSecurityGroupId" });
    return {
        where: name,
        protocol: normalizeProtocol(peek(props, "protocol")),
        fromPort: port(peek(props, "fromPort")),
        toPort: port(peek(props, "toPort")),
        sources,
    };
}

/** The ingress rules a resource of `type` writes (inline or its own), [] for other types. */
export function ingressRulesOf(type: string, name: string, props: unknown): IngressRule[] {
    switch (type) {
        case TYPE.securityGroup:
        case TYPE.defaultSecurityGroup:
            return inlineIngress(props);
        case TYPE.ingressRule:
            return [vpcIngressRule(name, props)];
        case TYPE.securityGroupRule: {
            const rule = securityGroupRuleIngress(name, props);
            return rule ? [rule] : [];
        }
        default:
            return [];
    }
}

/**
 * Whether the rule admits TCP traffic to `tcpPort`. Unknown protocol or ports count as admitting it:
 * a guardrail that cannot tell says no.
 */
export function admitsTcpPort(rule: IngressRule, tcpPort: number): boolean {
    if (rule.protocol === UNKNOWN) return true;
    if (rule.protocol === "all") return true;
    if (rule.protocol !== "tcp") return false;
    const from = rule.fromPort;
    const to = rule.toPort;
    if (from === UNKNOWN || to === UNKNOWN) return true;
    // An inline or classic rule with ports 0-0 means all ports only for protocol -1; for tcp it is port 0.
    return (from ?? 0) <= tcpPort && tcpPort <= (to ?? 65535);
}

/** A source for messages: `0.0.0.0/0`, `prefix list pl-1`, `security group sg-1`, `itself`. */
export function describeSource(s: Source): string {
    switch (s.kind) {
        case "cidr":
            return s.cidr;
        case "prefix-list":
            return `prefix list ${s.id}`;
        case "group":
            return `security group ${s.id === UNKNOWN ? `(${s.prop}, not known yet)` : s.id}`;
        case "self":
            return "its own group (self)";
        case "unknown":
            return `a source not known until deployment (${s.prop})`;
    }
}
