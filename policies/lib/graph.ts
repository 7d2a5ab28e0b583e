// The stack as a graph, for stack policies: which security groups an instance uses, which rules let
// traffic into a group, which Elastic IPs point at an instance. A reference is resolved from the
// engine's property dependencies first (they are there even in a preview, when IDs are still unknown),
// then by comparing IDs when both are known.
import { PolicyResource } from "@pulumi/policy";
import { ingressRulesOf, IngressRule, Source, TYPE } from "./ingress";
import { isBastion } from "./roles";
import { asString, peek, peekList, UNKNOWN } from "./props";

export const RESOURCE = {
    ...TYPE,
    instance: "aws:ec2/instance:Instance",
    subnet: "aws:ec2/subnet:Subnet",
    vpc: "aws:ec2/vpc:Vpc",
    eip: "aws:ec2/eip:Eip",
    eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
    flowLog: "aws:ec2/flowLog:FlowLog",
} as const;

const GROUP_TYPES: readonly string[] = [RESOURCE.securityGroup, RESOURCE.defaultSecurityGroup];

/** An ingress rule together with the resource that writes it. */
export interface LocatedRule {
    rule: IngressRule;
    resource: PolicyResource;
}

/** The security groups an instance uses. */
export interface InstanceGroups {
    /** Groups this stack manages. */
    managed: PolicyResource[];
    /** IDs of groups this stack does not manage (their rules cannot be checked). */
    external: string[];
    /** Unknown IDs the property dependencies could not resolve either. */
    unresolved: number;
    /** True when the instance names no group at all (AWS then uses the VPC's default group). */
    none: boolean;
}

export class StackGraph {
    constructor(readonly resources: PolicyResource[]) {}

    ofType(type: string): PolicyResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    instances(): PolicyResource[] {
        return this.ofType(RESOURCE.instance);
    }

    bastions(): PolicyResource[] {
        return this.instances().filter((i) => isBastion(i.props));
    }

    /** Every instance not tagged as the bastion: an untagged host is held to the targets' rules. */
    targets(): PolicyResource[] {
        return this.instances().filter((i) => !isBastion(i.props));
    }

    /** Whether `from.props[prop]` (a string or a list of strings) refers to `to`. */
    refersTo(from: PolicyResource, prop: string, to: PolicyResource): boolean {
        if ((from.propertyDependencies[prop] ?? []).some((d) => d.urn === to.urn)) return true;
        const id = asString(peek(to.props, "id"));
        if (id === undefined) return false;
        const value = peek(from.props, prop);
        if (value === id) return true;
        const list = peekList(from.props, prop);
        return list !== UNKNOWN && list.includes(id);
    }

    /** Resources of one of `types` that `from.props[prop]` refers to. */
    referenced(from: PolicyResource, prop: string, types: readonly string[]): PolicyResource[] {
        return this.resources.filter((r) => types.includes(r.type) && this.refersTo(from, prop, r));
    }

    /** The resource with this known ID, among `types`. */
    byId(id: string, types: readonly string[]): PolicyResource | undefined {
        return this.resources.find((r) => types.includes(r.type) && peek(r.props, "id") === id);
    }

    groupsOf(instance: PolicyResource): InstanceGroups {
        const result: InstanceGroups = { managed: [], external: [], unresolved: 0, none: true };
        for (const prop of ["vpcSecurityGroupIds", "securityGroups"]) {
            const values = peekList(instance.props, prop);
            const managed = this.referenced(instance, prop, GROUP_TYPES);
            for (const g of managed) if (!result.managed.includes(g)) result.managed.push(g);
            if (values === UNKNOWN) {
                result.none = false;
                if (managed.length === 0) result.unresolved++;
                continue;
            }
            if (values.length > 0) result.none = false;
            const idOf = (g: PolicyResource) => asString(peek(g.props, "id"));
            const known = new Set(managed.flatMap((g) => [idOf(g), asString(peek(g.props, "name"))]));
            let unknowns = 0;
            for (const v of values) {
                // A string that is none of the managed groups' IDs (or names, for `securityGroups`) is a
                // group this stack does not manage.
                if (typeof v === "string") {
                    if (!known.has(v)) result.external.push(v);
                } else unknowns++;
            }
            // Each unknown ID is accounted for by a managed group the property dependencies name.
            const matchedById = managed.filter((g) => values.includes(idOf(g))).length;
            result.unresolved += Math.max(0, unknowns - (managed.length - matchedById));
        }
        return result;
    }

    /** Every ingress rule of `group`: its inline rules and the rule resources attached to it. */
    ingressOf(group: PolicyResource): LocatedRule[] {
        const rules: LocatedRule[] = ingressRulesOf(group.type, group.name, group.props).map((rule) => ({
            rule,
            resource: group,
        }));
        for (const r of this.resources) {
            if (r.type !== RESOURCE.ingressRule && r.type !== RESOURCE.securityGroupRule) continue;
            if (!this.refersTo(r, "securityGroupId", group)) continue;
            for (const rule of ingressRulesOf(r.type, r.name, r.props)) rules.push({ rule, resource: r });
        }
        return rules;
    }

    /** The group a `group` or `self` source refers to, if this stack manages it. */
    sourceGroup(source: Source, rule: LocatedRule, owner: PolicyResource): PolicyResource | undefined {
        if (source.kind === "self") return owner;
        if (source.kind !== "group") return undefined;
        if (typeof source.id === "string") return this.byId(source.id, GROUP_TYPES);
        const candidates = this.referenced(rule.resource, source.prop, GROUP_TYPES);
        return candidates.length === 1 ? candidates[0] : undefined;
    }

    /** The VPC (managed by this stack) that `resource.props.vpcId` refers to. */
    vpcOf(resource: PolicyResource): PolicyResource | undefined {
        return this.referenced(resource, "vpcId", [RESOURCE.vpc])[0];
    }

    /** The subnet (managed by this stack) an instance is placed in. */
    subnetOf(instance: PolicyResource): PolicyResource | undefined {
        return this.referenced(instance, "subnetId", [RESOURCE.subnet])[0];
    }

    /** Elastic IPs and associations that attach a public address to `instance`. */
    elasticIpsOf(instance: PolicyResource): PolicyResource[] {
        const eni = asString(peek(instance.props, "primaryNetworkInterfaceId"));
        return this.resources.filter(
            (r) =>
                (r.type === RESOURCE.eip &&
                    (this.refersTo(r, "instance", instance) ||
                        (eni !== undefined && peek(r.props, "networkInterface") === eni))) ||
                (r.type === RESOURCE.eipAssociation &&
                    (this.refersTo(r, "instanceId", instance) ||
                        (eni !== undefined && peek(r.props, "networkInterfaceId") === eni))),
        );
    }
}
