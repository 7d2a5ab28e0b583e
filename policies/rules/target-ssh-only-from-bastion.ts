// Targets take SSH from the bastion's security group only. A CIDR rule - even a private one - lets in
// whatever else lives in that range (other VPC hosts, peered networks, a VPN) without the bastion's
// logging, fail2ban and PermitOpen list.
import { StackValidationPolicy } from "@pulumi/policy";
import { StackGraph } from "../lib/graph";
import { admitsTcpPort, describeSource } from "../lib/ingress";
import { BASTION, describeRole, ROLE_TAG } from "../lib/roles";

export interface TargetSshOnlyFromBastionConfig {
    /** Port the targets' sshd listens on. */
    targetSshPort?: number;
}

export const targetSshOnlyFromBastion: StackValidationPolicy = {
    name: "target-ssh-only-from-bastion",
    description:
        "A target's SSH ingress must come only from the bastion's security group, never from a CIDR or another " +
        "group: anything else reaches the targets without passing the bastion's controls and logs.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: {
        properties: { targetSshPort: { type: "integer", minimum: 1, maximum: 65535, default: 22 } },
    },
    validateStack: (args, reportViolation) => {
        const port = args.getConfig<TargetSshOnlyFromBastionConfig>().targetSshPort ?? 22;
        const graph = new StackGraph(args.resources);
        const bastionGroups = new Set(graph.bastions().flatMap((b) => graph.groupsOf(b).managed));
        for (const target of graph.targets()) {
            for (const group of graph.groupsOf(target).managed) {
                for (const located of graph.ingressOf(group)) {
                    const { rule, resource } = located;
                    if (!admitsTcpPort(rule, port)) continue;
                    for (const source of rule.sources) {
                        const from = graph.sourceGroup(source, located, group);
                        if (from && bastionGroups.has(from)) continue;
                        const what =
                            source.kind === "group" || source.kind === "self"
                                ? from
                                    ? `security group ${from.name}, which is not the bastion's (${ROLE_TAG}=${BASTION})`
                                    : `${describeSource(source)}, which is not a group of this stack's bastion`
                                : describeSource(source);
                        reportViolation(
                            `target ${target.name} (${describeRole(target.props)}): ${rule.where} on security group ` +
                                `${group.name} lets SSH (port ${port}) in from ${what}; targets accept SSH only from ` +
                                `the bastion's security group.`,
                            resource.urn,
                        );
                    }
                }
            }
        }
    },
};
