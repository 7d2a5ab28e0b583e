// Every taggable resource carries the tags that tie it to its stack and owner: cost reports, cleanup
// of leftovers and incident response all start from tags.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { tagsOf } from "../lib/props";

export interface RequiredTagsConfig {
    /** Tag keys every taggable resource must have. */
    requiredTags?: string[];
}

export const DEFAULT_REQUIRED_TAGS = ["jumpgate:stack", "ManagedBy", "Project"];

/** AWS resource types that take tags (checked even when the program passes none). */
const TAGGABLE = new Set([
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/instance:Instance",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/eip:Eip",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/networkInterface:NetworkInterface",
    "aws:ec2/volume:Volume",
    "aws:ec2/keyPair:KeyPair",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:iam/role:Role",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/policy:Policy",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
]);

export const requiredTags: ResourceValidationPolicy = {
    name: "required-tags",
    description:
        "Every taggable AWS resource must carry the required tags (default: jumpgate:stack, ManagedBy, Project): " +
        "they tie a resource to its stack and owner for cost reports, cleanup and incident response.",
    enforcementLevel: "mandatory",
    severity: "low",
    configSchema: {
        properties: {
            requiredTags: { type: "array", items: { type: "string", minLength: 1 }, default: DEFAULT_REQUIRED_TAGS },
        },
    },
    validateResource: (args, reportViolation) => {
        const hasTags = "tags" in args.props || "tagsAll" in args.props;
        if (!args.type.startsWith("aws:") || !(TAGGABLE.has(args.type) || hasTags))
            args.notApplicable("Policy only applies to taggable AWS resources");
        const required = args.getConfig<RequiredTagsConfig>().requiredTags ?? DEFAULT_REQUIRED_TAGS;
        const tags = tagsOf(args.props);
        const missing = required.filter((key) => !(key in tags));
        if (missing.length > 0) {
            reportViolation(
                `missing required tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (required: ` +
                    `${required.join(", ")}); jumpgate tags every resource it creates, add them to anything you add.`,
            );
        }
    },
};
