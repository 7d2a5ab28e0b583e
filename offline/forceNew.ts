// Which input changes replace a resource instead of updating it in place, per resource type the program
// registers. Taken from the providers' schemas (`ForceNew: true` in SDKv2 resources, `RequiresReplace()`
// plan modifiers in Plugin Framework ones), read in hashicorp/terraform-provider-aws and
// hashicorp/terraform-provider-tls, which @pulumi/aws and @pulumi/tls wrap. Input names are Pulumi's
// (camelCase, lists pluralised). A test keeps every type the program can register in this table.

type Inputs = Record<string, unknown>;

/** A replacement that depends on the inputs, not only on which path changed. */
export interface ConditionalForceNew {
    /** Top-level inputs this rule looks at. */
    paths: string[];
    /** True when a change of one of `paths` replaces the resource. */
    when: (next: Inputs, prior: Inputs) => boolean;
    because: string;
}

export interface ForceNewRule {
    /** Dot-separated input paths; a change at or below one replaces the resource. */
    paths: string[];
    conditional?: ConditionalForceNew[];
    /** Inputs updated in place but with a visible effect worth a note (e.g. a stop/start). */
    inPlaceNotes?: Record<string, string>;
    /** Provider source the paths were read from. */
    source: string;
}

const AWS = "hashicorp/terraform-provider-aws";

const userDataReplaces = (next: Inputs) => next.userDataReplaceOnChange === true;

/** The source kind of a VPC security group rule: changing it replaces the rule (ModifyPlan). */
const RULE_SOURCES = ["cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"];
const ruleSourceKind = (inputs: Inputs) => RULE_SOURCES.find((k) => inputs[k] !== undefined && inputs[k] !== "");

const securityGroupRule = (file: string): ForceNewRule => ({
    // Everything else (ports, protocol, CIDR within the same kind, description) is ModifySecurityGroupRules.
    paths: ["securityGroupId"],
    conditional: [
        {
            paths: RULE_SOURCES,
            when: (next, prior) => ruleSourceKind(next) !== ruleSourceKind(prior),
            because: "the rule's source kind changes (ModifyPlan RequiresReplace)",
        },
    ],
    source: `${AWS} internal/service/ec2/${file} (Plugin Framework: RequiresReplace on security_group_id, ModifyPlan on source kind)`,
});

export const FORCE_NEW: Record<string, ForceNewRule> = {
    "aws:ssm/association:Association": {
        // Targets, parameters and the rest are UpdateAssociation: a new KRL updates it in place.
        paths: ["name", "instanceId"],
        source: `${AWS} internal/service/ssm/association.go (SDKv2: ForceNew on name and instance_id)`,
    },
    "aws:ec2/instance:Instance": {
        paths: [
            "ami",
            "associatePublicIpAddress",
            "availabilityZone",
            "cpuCoreCount",
            "cpuThreadsPerCore",
            "cpuOptions.amdSevSnp",
            "cpuOptions.coreCount",
            "cpuOptions.threadsPerCore",
            "ebsBlockDevices",
            "ebsOptimized",
            "enclaveOptions.enabled",
            "ephemeralBlockDevices",
            "hibernation",
            "hostId",
            "ipv6AddressCount",
            "ipv6Addresses",
            "keyName",
            "launchTemplate",
            "networkInterfaces",
            "placementGroup",
            "placementPartitionNumber",
            "privateDnsNameOptions",
            "privateIp",
            // Only these two of the root volume: size, type, IOPS and throughput are modified in place.
            "rootBlockDevice.encrypted",
            "rootBlockDevice.kmsKeyId",
            "securityGroups",
            "subnetId",
            "tenancy",
        ],
        conditional: [
            {
                paths: ["userData", "userDataBase64"],
                when: userDataReplaces,
                because: "userDataReplaceOnChange is true (CustomizeDiff ForceNewIf)",
            },
        ],
        inPlaceNotes: {
            instanceType: "in place, but the instance is stopped and started",
            userData: "in place (userDataReplaceOnChange is false): stop/start, and cloud-init does not rerun",
            rootBlockDevice: "in place (EBS ModifyVolume)",
        },
        source: `${AWS} internal/service/ec2/ec2_instance.go`,
    },
    "aws:ec2/vpc:Vpc": {
        paths: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"],
        source: `${AWS} internal/service/ec2/vpc_.go`,
    },
    "aws:ec2/subnet:Subnet": {
        paths: [
            "availabilityZone",
            "availabilityZoneId",
            "cidrBlock",
            "ipv4IpamPoolId",
            "ipv4NetmaskLength",
            "ipv6IpamPoolId",
            "ipv6Native",
            "ipv6NetmaskLength",
            "outpostArn",
            "vpcId",
        ],
        conditional: [
            {
                paths: ["ipv6CidrBlock"],
                when: (_next, prior) => prior.assignIpv6AddressOnCreation === true,
                because: "the subnet assigned IPv6 addresses on creation (CustomizeDiff ForceNewIf)",
            },
        ],
        source: `${AWS} internal/service/ec2/vpc_subnet.go`,
    },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
        paths: ["vpcId"],
        source: `${AWS} internal/service/ec2/vpc_default_security_group.go`,
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        // Inline ingress/egress blocks update in place; jumpgate uses separate rule resources anyway.
        paths: ["description", "name", "namePrefix", "vpcId"],
        source: `${AWS} internal/service/ec2/vpc_security_group.go`,
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": securityGroupRule(
        "vpc_security_group_ingress_rule.go",
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": securityGroupRule(
        "vpc_security_group_egress_rule.go (shares the ingress rule's schema)",
    ),
    "pulumi:index:Stash": {
        // The engine's built-in Stash: a new input is recorded as `input`, `output` keeps the first value
        // until the Stash itself is replaced (pulumi/pulumi pkg/resource/deploy/builtins.go).
        paths: [],
        inPlaceNotes: { input: "the recorded value (output) stays until the Stash is replaced" },
        source: "pulumi/pulumi pkg/resource/deploy/builtins.go",
    },
    "aws:ec2/internetGateway:InternetGateway": {
        // vpcId is not ForceNew: a change detaches and attaches the same gateway.
        paths: [],
        source: `${AWS} internal/service/ec2/vpc_internet_gateway.go`,
    },
    "aws:ec2/routeTable:RouteTable": {
        // Routes are added, replaced and deleted in place.
        paths: ["vpcId"],
        source: `${AWS} internal/service/ec2/vpc_route_table.go`,
    },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {
        // routeTableId is ReplaceRouteTableAssociation, in place.
        paths: ["gatewayId", "subnetId"],
        source: `${AWS} internal/service/ec2/vpc_route_table_association.go`,
    },
    "aws:ec2/eip:Eip": {
        paths: ["address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
        source: `${AWS} internal/service/ec2/ec2_eip.go`,
    },
    "aws:ec2/eipAssociation:EipAssociation": {
        // The resource has no Update: every argument is ForceNew.
        paths: [
            "allocationId",
            "allowReassociation",
            "instanceId",
            "networkInterfaceId",
            "privateIpAddress",
            "publicIp",
        ],
        source: `${AWS} internal/service/ec2/ec2_eip_association.go`,
    },
    "aws:ec2/natGateway:NatGateway": {
        paths: ["allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"],
        source: `${AWS} internal/service/ec2/vpc_nat_gateway.go`,
    },
    "aws:ec2/flowLog:FlowLog": {
        // Update handles tags only.
        paths: [
            "deliverCrossAccountRole",
            "destinationOptions",
            "eniId",
            "iamRoleArn",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "maxAggregationInterval",
            "regionalNatGatewayId",
            "subnetId",
            "trafficType",
            "transitGatewayAttachmentId",
            "transitGatewayId",
            "vpcId",
        ],
        source: `${AWS} internal/service/ec2/vpc_flow_log.go`,
    },
    "aws:cloudwatch/logGroup:LogGroup": {
        // Retention and KMS key are PutRetentionPolicy / AssociateKmsKey, in place.
        paths: ["logGroupClass", "name", "namePrefix"],
        source: `${AWS} internal/service/logs/group.go`,
    },
    "aws:cloudwatch/logTransformer:LogTransformer": {
        // The processors are PutTransformer again, in place.
        paths: ["logGroupArn"],
        source: `${AWS} internal/service/logs/transformer.go (Plugin Framework: RequiresReplace on log_group_arn)`,
    },
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
        // Pattern and metric are PutMetricFilter again, in place.
        paths: ["logGroupName", "name"],
        source: `${AWS} internal/service/logs/metric_filter.go`,
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        // Everything but the name is PutMetricAlarm again, in place.
        paths: ["name"],
        source: `${AWS} internal/service/cloudwatch/metric_alarm.go (alarm_name)`,
    },
    "aws:sns/topic:Topic": {
        paths: ["fifoTopic", "name", "namePrefix"],
        source: `${AWS} internal/service/sns/topic.go`,
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        // A new address is a new subscription, which AWS mails to confirm again.
        paths: ["endpoint", "protocol", "topic"],
        source: `${AWS} internal/service/sns/topic_subscription.go (endpoint, protocol, topic_arn)`,
    },
    "aws:iam/role:Role": {
        paths: ["name", "namePrefix", "path"],
        source: `${AWS} internal/service/iam/role.go`,
    },
    "aws:iam/rolePolicy:RolePolicy": {
        paths: ["name", "namePrefix", "role"],
        source: `${AWS} internal/service/iam/role_policy.go`,
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        paths: ["policyArn", "role"],
        source: `${AWS} internal/service/iam/role_policy_attachment.go`,
    },
    "aws:iam/instanceProfile:InstanceProfile": {
        // role is swapped in place (RemoveRole/AddRole).
        paths: ["name", "namePrefix", "path"],
        source: `${AWS} internal/service/iam/instance_profile.go`,
    },
    "aws:kms/key:Key": {
        // Policy, description, deletion window, rotation and enabled state are updated in place.
        paths: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
        inPlaceNotes: {
            policy: "PutKeyPolicy: who may sign changes at once, the key and every host stay",
        },
        source: `${AWS} internal/service/kms/key.go`,
    },
    "aws:kms/alias:Alias": {
        // target_key_id is UpdateAlias, in place.
        paths: ["name", "namePrefix"],
        source: `${AWS} internal/service/kms/alias.go`,
    },
    "tls:index/privateKey:PrivateKey": {
        paths: ["algorithm", "ecdsaCurve", "rsaBits"],
        source: "hashicorp/terraform-provider-tls internal/provider/resource_private_key.go (RequiresReplace)",
    },
};

/** True when `path` (e.g. `rootBlockDevice.encrypted`) is at or below one of `ruled`. */
export function coveredBy(path: string, ruled: string[]): boolean {
    return ruled.some((r) => path === r || path.startsWith(`${r}.`) || path.startsWith(`${r}[`));
}
