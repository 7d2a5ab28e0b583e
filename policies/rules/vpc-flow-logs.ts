// Flow logs are the record of who talked to the bastion and the targets; without them an incident has
// no network evidence.
import { StackValidationPolicy } from "@pulumi/policy";
import { RESOURCE, StackGraph } from "../lib/graph";

export const vpcFlowLogs: StackValidationPolicy = {
    name: "vpc-flow-logs",
    description:
        "Every VPC the stack creates must have a flow log: it is the only record of which addresses reached the " +
        "bastion and the targets, and incident response starts there.",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateStack: (args, reportViolation) => {
        const graph = new StackGraph(args.resources);
        const vpcs = graph.ofType(RESOURCE.vpc);
        if (vpcs.length === 0)
            args.notApplicable(
                "the stack creates no VPC (existingVpc): the existing VPC's flow logs are its owner's to keep",
            );
        const flowLogs = graph.ofType(RESOURCE.flowLog);
        for (const vpc of vpcs) {
            if (!flowLogs.some((f) => graph.refersTo(f, "vpcId", vpc))) {
                reportViolation(
                    `VPC ${vpc.name} has no flow log; add an aws.ec2.FlowLog with vpcId set to it (trafficType ALL).`,
                    vpc.urn,
                );
            }
        }
    },
};
