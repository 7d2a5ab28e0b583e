// IMDSv2 only: with IMDSv1 any SSRF or forwarded request on the host can read the instance role's
// credentials with a plain GET.
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

type MetadataOptions = { httpEndpoint?: string; httpTokens?: string } | undefined;

function check(what: string, options: MetadataOptions, reportViolation: (message: string) => void): void {
    if (options?.httpEndpoint === "disabled") return;
    const tokens = options?.httpTokens;
    if (tokens === "required") return;
    reportViolation(
        `${what} metadataOptions.httpTokens is ${tokens === undefined ? "unset (AWS then accepts IMDSv1)" : `"${tokens}"`}; ` +
            `set it to "required" so the instance metadata service answers IMDSv2 session requests only.`,
    );
}

export const instanceImdsv2Required: ResourceValidationPolicy = {
    name: "instance-imdsv2-required",
    description:
        "Every instance must require IMDSv2 (metadataOptions.httpTokens = required): IMDSv1 hands the instance " +
        "role's credentials to any request forged from the host (SSRF, forwarded traffic).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: [
        validateResourceOfType(aws.ec2.Instance, (instance, _args, reportViolation) =>
            check("instance", instance.metadataOptions, reportViolation),
        ),
        validateResourceOfType(aws.ec2.LaunchTemplate, (template, _args, reportViolation) =>
            check("launch template", template.metadataOptions, reportViolation),
        ),
    ],
};
