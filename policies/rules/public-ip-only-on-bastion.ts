// Only the bastion faces the internet. A target with a public address is reachable around the bastion,
// whatever its security group says today.
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { describeRole, isBastion, ROLE_TAG, BASTION } from "../lib/roles";

export const publicIpOnlyOnBastion: ResourceValidationPolicy = {
    name: "public-ip-only-on-bastion",
    description:
        `Only instances tagged ${ROLE_TAG}=${BASTION} may get a public IP: any other host with one can be reached ` +
        "without going through the bastion as soon as a security group rule allows it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, reportViolation) => {
        if (isBastion(args.props)) return;
        const value = instance.associatePublicIpAddress;
        if (value === true) {
            reportViolation(
                `instance (${describeRole(args.props)}) sets associatePublicIpAddress: true; only the bastion may ` +
                    `have a public IP. Set it to false and reach the host through the bastion.`,
            );
        } else if (value === undefined) {
            reportViolation(
                `instance (${describeRole(args.props)}) leaves associatePublicIpAddress unset, so the subnet's ` +
                    `mapPublicIpOnLaunch decides whether it gets a public IP; set it to false.`,
            );
        }
    }),
};
