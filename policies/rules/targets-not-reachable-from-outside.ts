// Nothing outside the VPC reaches a target directly: no public address, no Elastic IP, and no ingress
// rule (on any port) from outside the VPC's own range. The bastion is the only way in.
import { StackValidationPolicy } from "@pulumi/policy";
import { StackGraph } from "../lib/graph";
import { ipv4Within } from "../lib/cidr";
import { describeSource, Source } from "../lib/ingress";
import { asString, peek } from "../lib/props";
import { describeRole } from "../lib/roles";

export const targetsNotReachableFromOutside: StackValidationPolicy = {
    name: "targets-not-reachable-from-outside",
    description:
        "No target may be reachable from outside the VPC: no public IP, no Elastic IP, no security group the stack " +
        "cannot check, and no ingress rule from a CIDR outside the VPC. Targets are reached through the bastion only.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateStack: (args, reportViolation) => {
        const graph = new StackGraph(args.resources);
        for (const target of graph.targets()) {
            const report = (problem: string, urn: string = target.urn) =>
                reportViolation(`target ${target.name} (${describeRole(target.props)}) ${problem}`, urn);

            const publicIp = peek(target.props, "associatePublicIpAddress");
            if (publicIp === true) report("has a public IP (associatePublicIpAddress: true).");
            else if (publicIp === undefined) {
                const subnet = graph.subnetOf(target);
                if (subnet && peek(subnet.props, "mapPublicIpOnLaunch") === true)
                    report(`gets a public IP from subnet ${subnet.name} (mapPublicIpOnLaunch: true).`);
                else if (!subnet)
                    report(
                        "leaves associatePublicIpAddress unset in a subnet this stack does not manage, which may " +
                            "hand out public IPs; set it to false.",
                    );
            }
            for (const eip of graph.elasticIpsOf(target)) report(`has an Elastic IP (${eip.name}).`, eip.urn);

            const groups = graph.groupsOf(target);
            if (groups.none)
                report(
                    "names no security group, so AWS puts it in the VPC's default group, which this stack cannot check.",
                );
            for (const id of groups.external)
                report(`uses security group ${id}, which this stack does not manage, so its rules cannot be checked.`);
            if (groups.unresolved > 0)
                report("uses a security group that cannot be resolved in this stack, so its rules cannot be checked.");

            for (const group of groups.managed) {
                const vpc = graph.vpcOf(group);
                const vpcCidr = vpc ? asString(peek(vpc.props, "cidrBlock")) : undefined;
                for (const { rule, resource } of graph.ingressOf(group)) {
                    for (const source of rule.sources) {
                        const outside = outsideVpc(source, vpcCidr);
                        if (outside)
                            report(
                                `is reachable from ${describeSource(source)} (${rule.where} on security group ` +
                                    `${group.name}): ${outside}.`,
                                resource.urn,
                            );
                    }
                }
            }
        }
    },
};

/** Why `source` may be outside the VPC, or undefined when it is inside (a group, or a CIDR within the VPC's). */
function outsideVpc(source: Source, vpcCidr: string | undefined): string | undefined {
    switch (source.kind) {
        case "group":
        case "self":
            return undefined;
        case "cidr":
            if (vpcCidr === undefined)
                return "the VPC is not managed by this stack, so no CIDR can be shown to be inside it";
            return ipv4Within(source.cidr, vpcCidr) ? undefined : `outside the VPC's ${vpcCidr}`;
        case "prefix-list":
            return "a prefix list can name any address";
        case "unknown":
            return "not known until deployment";
    }
}
