// What a host needs to ship its audit trail: the stack's log group and the permission to write its own
// stream there, and nothing else (no `*` resource).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hostStreamPolicy } from "./auditTrail";

/** The log group a host ships to and the host's stream name in it. */
export interface HostAuditShipping {
    logGroupName: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
    /** The host's name in the stack; its stream is named so. */
    host: string;
}

/** EC2 may assume the role (instance profiles). */
export const EC2_ASSUME_ROLE = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** An inline policy on `role`: CreateLogStream and PutLogEvents on the host's own stream only. */
export function shipOwnAuditStream(
    name: string,
    role: aws.iam.Role,
    audit: HostAuditShipping,
    parent: pulumi.Resource,
): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
        `${name}-audit-stream`,
        {
            role: role.id,
            policy: pulumi.output(audit.logGroupArn).apply((arn) => hostStreamPolicy(arn, audit.host)),
        },
        { parent },
    );
}
