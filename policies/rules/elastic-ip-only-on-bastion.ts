// The Elastic IP half of "only the bastion faces the internet": an EIP can be attached to any instance
// after the fact, through aws.ec2.EipAssociation or Eip.instance, so this is checked across the stack.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE, StackGraph } from "../lib/graph";
import { asString, peek } from "../lib/props";
import { BASTION, describeRole, isBastion, ROLE_TAG } from "../lib/roles";

export const elasticIpOnlyOnBastion: StackValidationPolicy = {
    name: "elastic-ip-only-on-bastion",
    description:
        `Only instances tagged ${ROLE_TAG}=${BASTION} may have an Elastic IP: an EIP on any other host makes it ` +
        "reachable from the internet without the bastion.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args, reportViolation) => {
        const graph = new StackGraph(args.resources);
        const instances = graph.instances();
        const check = (r: PolicyResource, instanceProp: string, eniProp: string) => {
            const attached = graph.referenced(r, instanceProp, [RESOURCE.instance]);
            const eni = asString(peek(r.props, eniProp));
            if (eni) attached.push(...instances.filter((i) => peek(i.props, "primaryNetworkInterfaceId") === eni));
            for (const instance of attached.filter((i) => !isBastion(i.props))) {
                reportViolation(
                    `${r.name} gives instance ${instance.name} (${describeRole(instance.props)}) an Elastic IP; ` +
                        `only the bastion may have a public address.`,
                    r.urn,
                );
            }
            if (attached.length > 0) return;
            const external = asString(peek(r.props, instanceProp)) ?? eni;
            if (external) {
                reportViolation(
                    `${r.name} attaches an Elastic IP to ${external}, which is not an instance of this stack, so it ` +
                        `cannot be shown to be the bastion.`,
                    r.urn,
                );
            }
        };
        for (const r of graph.ofType(RESOURCE.eipAssociation)) check(r, "instanceId", "networkInterfaceId");
        for (const r of graph.ofType(RESOURCE.eip)) check(r, "instance", "networkInterface");
    },
};
