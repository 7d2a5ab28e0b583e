// The platform team's own policy pack, with jumpgate's policies in it next to one of its own. Its
// tsconfig skips library checks, as @pulumi/policy's own declarations need (they name stripped internals).
import { PolicyPack, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { policies as jumpgatePolicies } from "jumpgate/policies";

const smallInstancesOnly: ResourceValidationPolicy = {
    name: "small-instances-only",
    description: "Instances are t4g.small or smaller: the platform's budget.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, _args, reportViolation) => {
        if (!["t4g.nano", "t4g.micro", "t4g.small"].includes(instance.instanceType ?? "")) {
            reportViolation(`instance type ${instance.instanceType} is larger than t4g.small`);
        }
    }),
};

new PolicyPack("platform-guardrails", { policies: [...jumpgatePolicies, smallInstancesOnly] });
