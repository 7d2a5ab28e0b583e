// A small simulated AWS (and tls provider) for `pulumi.runtime.setMocks`: deterministic IDs, ARNs and
// addresses inside the planned subnets, real ED25519 keys. It rejects the inputs the real API rejects
// (offline/awsRules.ts), so a plan that passes here does not fail at `pulumi up` for those reasons.
// Invokes it does not know throw, so a new data source cannot silently return nothing.
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { hostAt, parseCidr } from "../components/net/cidr";
import {
    AUTONAME_RANDOM_CHARS,
    DEFAULT_ELASTIC_IP_QUOTA,
    elasticIpQuotaError,
    IAM_LIMITS,
    iamName,
    kmsAliasNameError,
    kmsDeletionWindowError,
    kmsKeyPolicyError,
    kmsKeySpecError,
    logGroupNameError,
    logTransformerError,
    logRetentionError,
    metricAlarmError,
    metricFilterError,
    snsSubscriptionError,
    snsTopicNameError,
    privateIpError,
    securityGroupDescriptionError,
    securityGroupRuleError,
    securityGroupRuleKey,
    SecurityGroupRuleInput,
    ssmAssociationError,
    tagsError,
    userDataError,
} from "./awsRules";
import { AWSX_VPC, awsxVpcLayout } from "./awsxVpc";
import { ed25519KeyPair, seedFrom } from "./sshKeys";
import { queryZones, ZoneQuery } from "./zones";

const ACCOUNT = "123456789012";
/** Who runs `pulumi up` against the simulated account (getCallerIdentity). */
export const SIMULATED_CALLER_ARN = `arn:aws:iam::${ACCOUNT}:user/deployer`;
/** Documentation range (RFC 5737) the simulated Elastic IPs come from. */
export const SIMULATED_PUBLIC_RANGE = "198.51.100.0/24";

export interface SimulatedAwsOptions {
    stack: string;
    region: string;
    /**
     * `deterministic` keys from the resource name (plans and tests), `random` for hosts that will run (the
     * lab); `{ seed }`: from a secret seed, so two runs with it keep their keys, as a stack's state does.
     */
    keys: "deterministic" | "random" | { seed: string };
    /** Subnets that exist before the program runs (existing-VPC mode): id to VPC and CIDR. */
    existingSubnets?: Record<string, { vpcId: string; cidrBlock: string }>;
    /** Security groups that exist before the program runs (an existing host's own): id to VPC. */
    existingSecurityGroups?: Record<string, { vpcId: string }>;
    /**
     * VPCs that exist before the program runs: id to primary CIDR. Defaults, for each VPC of
     * `existingSubnets`, to the /16 that holds its first subnet (a default VPC's shape).
     */
    existingVpcs?: Record<string, { cidrBlock: string }>;
    /** Publication (`YYYYMMDD-HHMM`) of the newest image of every AMI series; FIRST_IMAGE_PUBLISHED always exists too. */
    newestImage?: string;
    /** The account's Elastic IP quota in the region. Defaults to AWS's default, 5. */
    elasticIpQuota?: number;
}

/** Publication of the oldest image every simulated AMI series has. */
export const FIRST_IMAGE_PUBLISHED = "20261101-2100";

/** A resource the program registered, with what it was given and what the simulator returned. */
export interface SimResource {
    type: string;
    name: string;
    custom: boolean;
    id: string;
    /** Inputs with secrets unwrapped; `secretInputs` names the top-level ones that were secret. */
    inputs: Record<string, unknown>;
    secretInputs: string[];
    state: Record<string, unknown>;
    /** `type::name` of the remote component that built it (the program never registered it itself). */
    parent?: string;
}

/** An invoke the program made. */
export interface SimCall {
    token: string;
    inputs: Record<string, unknown>;
    result: Record<string, unknown>;
}

// How the runtime marks a secret value on the wire (see @pulumi/pulumi runtime/rpc).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** The value with every secret wrapper removed. */
function unwrapSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

const hex = (label: string, n: number) => createHash("sha256").update(label).digest("hex").slice(0, n);

const ID_PREFIX: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/instance:Instance": "i",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/eipAssociation:EipAssociation": "eipassoc",
    "aws:ec2/flowLog:FlowLog": "fl",
};

/** Pulumi's auto-name for a resource without an explicit name: `<logical name>-` and 7 random characters. */
function autoName(logicalName: string, inputs: Record<string, unknown>): string {
    if (typeof inputs.name === "string") return inputs.name;
    return `${logicalName}-${hex(logicalName, AUTONAME_RANDOM_CHARS)}`;
}

/** The entries of `inputs` named in `keys` that are set. */
function pickDefined(inputs: Record<string, unknown>, keys: string[]): Record<string, unknown> {
    return Object.fromEntries(keys.filter((k) => inputs[k] !== undefined).map((k) => [k, inputs[k]]));
}

/** The rules of the audit trail's resource types (log group, filter, alarm, topic, subscription, key). */
function auditTrailInputError(type: string, name: string, i: Record<string, unknown>): string | undefined {
    switch (type) {
        case "aws:cloudwatch/logGroup:LogGroup":
            return (
                (typeof i.name === "string" ? logGroupNameError(i.name) : undefined) ??
                (i.retentionInDays === undefined ? undefined : logRetentionError(Number(i.retentionInDays)))
            );
        case "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
            const m = (i.metricTransformation ?? {}) as { name?: unknown; namespace?: unknown };
            return metricFilterError({
                name: String(i.name ?? ""),
                pattern: String(i.pattern ?? ""),
                metricName: String(m.name ?? ""),
                namespace: String(m.namespace ?? ""),
            });
        }
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return metricAlarmError({
                name: autoName(name, i),
                period: Number(i.period),
                evaluationPeriods: Number(i.evaluationPeriods),
                datapointsToAlarm: i.datapointsToAlarm === undefined ? undefined : Number(i.datapointsToAlarm),
                comparisonOperator: String(i.comparisonOperator),
                treatMissingData: i.treatMissingData === undefined ? undefined : String(i.treatMissingData),
            });
        case "aws:cloudwatch/logTransformer:LogTransformer":
            return logTransformerError(
                Array.isArray(i.transformerConfigs) ? (i.transformerConfigs as Record<string, unknown>[]) : [],
            );
        case "aws:sns/topic:Topic":
            return snsTopicNameError(autoName(name, i), i.fifoTopic === true);
        case "aws:sns/topicSubscription:TopicSubscription":
            return snsSubscriptionError(String(i.protocol), String(i.endpoint));
    }
    return undefined;
}

export class SimulatedAws implements pulumi.runtime.Mocks {
    readonly resources: SimResource[] = [];
    readonly calls: SimCall[] = [];
    private readonly subnets = new Map<string, { vpcId: string; cidrBlock: string; availabilityZone?: string }>();
    private readonly usedIps = new Set<string>();
    /** Every security group of the account: id to VPC. */
    private readonly securityGroups = new Map<string, string>();
    /** Every standalone rule created so far (securityGroupRuleKey). */
    private readonly securityGroupRules = new Set<string>();

    constructor(private readonly options: SimulatedAwsOptions) {
        for (const [id, s] of Object.entries(options.existingSubnets ?? {})) this.subnets.set(id, s);
        for (const [id, g] of Object.entries(options.existingSecurityGroups ?? {}))
            this.securityGroups.set(id, g.vpcId);
    }

    /** A standalone rule's inputs, or undefined when it names no group (nothing to check against). */
    private securityGroupRule(type: string, inputs: Record<string, unknown>): SecurityGroupRuleInput | undefined {
        if (typeof inputs.securityGroupId !== "string") return undefined;
        const str = (v: unknown) => (typeof v === "string" ? v : undefined);
        const num = (v: unknown) => (typeof v === "number" ? v : undefined);
        return {
            direction: type.includes("Ingress") ? "ingress" : "egress",
            securityGroupId: inputs.securityGroupId,
            ipProtocol: String(inputs.ipProtocol ?? "-1"),
            fromPort: num(inputs.fromPort),
            toPort: num(inputs.toPort),
            cidrIpv4: str(inputs.cidrIpv4),
            referencedSecurityGroupId: str(inputs.referencedSecurityGroupId),
        };
    }

    private arn(service: string, resource: string, regional = true): string {
        return `arn:aws:${service}:${regional ? this.options.region : ""}:${ACCOUNT}:${resource}`;
    }

    /** A free address in `cidr`, starting at `offset` (deterministic for a given program). */
    private allocate(cidr: string, offset: number): string {
        const block = parseCidr(cidr);
        for (let o = offset; ; o++) {
            const ip = hostAt(block, o);
            if (!this.usedIps.has(ip)) {
                this.usedIps.add(ip);
                return ip;
            }
        }
    }

    /** Throws what AWS answers when `inputs` break one of its rules for this resource type. */
    private checkInputs(type: string, name: string, inputs: Record<string, unknown>): void {
        const errors: (string | undefined)[] = [];
        if (type.startsWith("aws:")) {
            for (const field of ["tags", "tagsAll"]) {
                const tags = inputs[field];
                if (tags && typeof tags === "object") errors.push(tagsError(tags as Record<string, unknown>));
            }
        }
        const rules = (list: unknown) => (Array.isArray(list) ? (list as { description?: unknown }[]) : []);
        switch (type) {
            case "aws:ec2/securityGroup:SecurityGroup":
            case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
                if (typeof inputs.description === "string")
                    errors.push(securityGroupDescriptionError(inputs.description, "security group"));
                for (const r of [...rules(inputs.ingress), ...rules(inputs.egress)])
                    if (typeof r.description === "string")
                        errors.push(securityGroupDescriptionError(r.description, "rule"));
                break;
            case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
                if (typeof inputs.description === "string")
                    errors.push(securityGroupDescriptionError(inputs.description, "rule"));
                {
                    const rule = this.securityGroupRule(type, inputs);
                    const vpcOf = (id: string) => this.securityGroups.get(id);
                    if (rule) errors.push(securityGroupRuleError(rule, vpcOf, this.securityGroupRules));
                }
                break;
            case "aws:ec2/instance:Instance":
                if (typeof inputs.userData === "string") errors.push(userDataError(inputs.userData));
                if (typeof inputs.userDataBase64 === "string")
                    errors.push(userDataError(Buffer.from(inputs.userDataBase64, "base64")));
                break;
            case "aws:kms/key:Key": {
                const spec = inputs.customerMasterKeySpec as string | undefined;
                errors.push(kmsKeySpecError(spec, inputs.keyUsage as string | undefined));
                errors.push(kmsDeletionWindowError(inputs.deletionWindowInDays));
                if (typeof inputs.policy === "string")
                    errors.push(
                        kmsKeyPolicyError(
                            inputs.policy,
                            { accountRoot: `arn:aws:iam::${ACCOUNT}:root`, arn: SIMULATED_CALLER_ARN },
                            inputs.bypassPolicyLockoutSafetyCheck === true,
                        ),
                    );
                break;
            }
            case "aws:kms/alias:Alias":
                if (typeof inputs.name === "string") errors.push(kmsAliasNameError(inputs.name));
                break;
            case "aws:ssm/association:Association":
                errors.push(ssmAssociationError(inputs));
                break;
            case "aws:ec2/eip:Eip": {
                const inUse = this.resources.filter((r) => r.type === type).length;
                errors.push(elasticIpQuotaError(inUse, this.options.elasticIpQuota ?? DEFAULT_ELASTIC_IP_QUOTA));
                break;
            }
            default:
                errors.push(auditTrailInputError(type, name, inputs));
        }
        const error = errors.find((e) => e !== undefined);
        if (error) throw new Error(`simulated AWS: ${name} (${type}): ${error}`);
    }

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const raw = (args.inputs ?? {}) as Record<string, unknown>;
        const secretInputs = Object.keys(raw).filter((k) => isSecretValue(raw[k]));
        const inputs = unwrapSecrets(raw) as Record<string, unknown>;
        this.checkInputs(args.type, args.name, inputs);
        if (args.type === AWSX_VPC) return this.awsxVpc(args.name, inputs);
        const prefix = ID_PREFIX[args.type];
        const suffix = hex(`${this.options.stack}/${args.type}/${args.name}`, 17);
        let id = prefix ? `${prefix}-${suffix}` : `${args.name}-${suffix.slice(0, 8)}`;
        let state: Record<string, unknown> = { ...inputs };

        switch (args.type) {
            case "aws:ec2/vpc:Vpc":
                // Every VPC comes with its default security group.
                this.securityGroups.set(`sg-${hex(id + "default", 17)}`, id);
                state = {
                    ...state,
                    arn: this.arn("ec2", `vpc/${id}`),
                    defaultSecurityGroupId: `sg-${hex(id + "default", 17)}`,
                    mainRouteTableId: `rtb-${hex(id + "main", 17)}`,
                };
                break;
            case "aws:ec2/subnet:Subnet":
                this.subnets.set(id, {
                    vpcId: String(inputs.vpcId),
                    cidrBlock: String(inputs.cidrBlock),
                    availabilityZone: inputs.availabilityZone as string | undefined,
                });
                state = { ...state, arn: this.arn("ec2", `subnet/${id}`) };
                break;
            case "aws:ec2/instance:Instance": {
                const subnet = this.subnets.get(String(inputs.subnetId));
                if (!subnet)
                    throw new Error(
                        `simulated AWS: instance ${args.name} is in unknown subnet ${String(inputs.subnetId)}`,
                    );
                const fixed = inputs.privateIp as string | undefined;
                const ipError = fixed ? privateIpError(fixed, subnet.cidrBlock) : undefined;
                if (ipError) throw new Error(`simulated AWS: ${args.name} (${args.type}): ${ipError}`);
                if (fixed && this.usedIps.has(fixed)) throw new Error(`simulated AWS: address ${fixed} is in use`);
                if (fixed) this.usedIps.add(fixed);
                const privateIp = fixed ?? this.allocate(subnet.cidrBlock, 10);
                state = {
                    ...state,
                    arn: this.arn("ec2", `instance/${id}`),
                    privateIp,
                    publicIp: "",
                    primaryNetworkInterfaceId: `eni-${hex(id + "eni", 17)}`,
                    instanceState: "running",
                };
                break;
            }
            case "aws:ec2/keyPair:KeyPair": {
                // The provider names a key pair itself when the program gives neither name nor prefix;
                // the resource's id is the key name (what an instance's keyName refers to).
                const keyName =
                    typeof inputs.keyName === "string"
                        ? inputs.keyName
                        : `${typeof inputs.keyNamePrefix === "string" ? inputs.keyNamePrefix : "terraform-"}${hex(id, 26)}`;
                id = keyName;
                state = {
                    ...state,
                    keyName,
                    keyPairId: `key-${hex(keyName, 17)}`,
                    arn: this.arn("ec2", `key-pair/${keyName}`),
                };
                break;
            }
            case "aws:ec2/eip:Eip": {
                const publicIp = this.allocate(SIMULATED_PUBLIC_RANGE, 10 + (parseInt(hex(args.name, 4), 16) % 200));
                state = {
                    ...state,
                    allocationId: id,
                    publicIp,
                    domain: "vpc",
                    arn: this.arn("ec2", `elastic-ip/${id}`),
                };
                break;
            }
            case "aws:ec2/natGateway:NatGateway":
                state = { ...state, publicIp: "", privateIp: "" };
                break;
            case "aws:ec2/securityGroup:SecurityGroup":
            case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
                this.securityGroups.set(id, String(inputs.vpcId));
                state = { ...state, arn: this.arn("ec2", `security-group/${id}`), ownerId: ACCOUNT };
                break;
            case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
                const rule = this.securityGroupRule(args.type, inputs);
                if (rule) this.securityGroupRules.add(securityGroupRuleKey(rule));
                state = { ...state, arn: this.arn("ec2", `security-group-rule/${id}`), securityGroupRuleId: id };
                break;
            }
            case "aws:cloudwatch/logGroup:LogGroup": {
                const name = (inputs.name as string | undefined) ?? `${args.name}-${suffix.slice(0, 7)}`;
                id = name;
                state = { ...state, name, arn: this.arn("logs", `log-group:${name}`) };
                break;
            }
            case "aws:sns/topic:Topic": {
                const topicName = autoName(args.name, inputs);
                id = this.arn("sns", topicName);
                state = { ...state, name: topicName, arn: id };
                break;
            }
            case "aws:sns/topicSubscription:TopicSubscription":
                id = `${String(inputs.topic)}:${hex(id, 8)}-${hex(id + "s", 4)}`;
                state = { ...state, arn: id, pendingConfirmation: inputs.protocol === "email" };
                break;
            case "aws:cloudwatch/metricAlarm:MetricAlarm": {
                const alarmName = autoName(args.name, inputs);
                id = alarmName;
                state = { ...state, name: alarmName, arn: this.arn("cloudwatch", `alarm:${alarmName}`) };
                break;
            }
            case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
                id = String(inputs.name);
                break;
            case "aws:cloudwatch/logTransformer:LogTransformer":
                id = String(inputs.logGroupArn);
                break;
            case "aws:iam/role:Role":
            case "aws:iam/instanceProfile:InstanceProfile": {
                const named = iamName(args.type as keyof typeof IAM_LIMITS, args.name, inputs, suffix);
                if ("error" in named) throw new Error(`simulated AWS: ${args.name} (${args.type}): ${named.error}`);
                const name = named.name;
                const kind = args.type === "aws:iam/role:Role" ? "role" : "instance-profile";
                id = name;
                state = {
                    ...state,
                    name,
                    arn: this.arn("iam", `${kind}/${name}`, false),
                    uniqueId: `AROA${suffix.toUpperCase()}`,
                };
                break;
            }
            case "aws:kms/key:Key": {
                // Key IDs are UUIDs.
                const u = hex(`${this.options.stack}/${args.type}/${args.name}`, 32);
                id = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
                state = {
                    ...state,
                    keyId: id,
                    arn: this.arn("kms", `key/${id}`),
                    keyUsage: inputs.keyUsage ?? "ENCRYPT_DECRYPT",
                    customerMasterKeySpec: inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT",
                    multiRegion: false,
                };
                break;
            }
            case "aws:kms/alias:Alias":
                id = String(inputs.name);
                state = {
                    ...state,
                    arn: this.arn("kms", String(inputs.name)),
                    targetKeyArn: this.arn("kms", `key/${String(inputs.targetKeyId)}`),
                };
                break;
            case "aws:ssm/association:Association": {
                // Association IDs are UUIDs.
                const u = hex(`${this.options.stack}/${args.name}/association`, 32);
                id = [u.slice(0, 8), u.slice(8, 12), u.slice(12, 16), u.slice(16, 20), u.slice(20, 32)].join("-");
                state = { ...state, associationId: id, arn: this.arn("ssm", `association/${id}`) };
                break;
            }
            case "tls:index/privateKey:PrivateKey": {
                if (inputs.algorithm !== "ED25519")
                    throw new Error(`simulated tls: only ED25519 keys are simulated, not ${String(inputs.algorithm)}`);
                const keys = this.options.keys;
                const label = `${this.options.stack}/${args.name}`;
                const pair = ed25519KeyPair(
                    keys === "random"
                        ? undefined
                        : seedFrom(keys === "deterministic" ? label : `${keys.seed}/${label}`),
                );
                state = {
                    ...state,
                    publicKeyOpenssh: pair.publicKeyOpenssh,
                    privateKeyOpenssh: pair.privateKeyOpenssh,
                    privateKeyPem: pair.privateKeyPem,
                    privateKeyPemPkcs8: pair.privateKeyPem,
                    publicKeyFingerprintSha256: pair.fingerprintSha256,
                };
                break;
            }
        }
        this.resources.push({
            type: args.type,
            name: args.name,
            custom: args.custom ?? true,
            id,
            inputs,
            secretInputs,
            state,
        });
        return { id: args.custom === false ? undefined : id, state };
    }

    /**
     * The awsx plugin's side of `awsx.ec2.Vpc`: records the component, builds its children (in awsx's
     * order and names, through the same rules, so its subnets resolve for `getSubnet` and its Elastic IPs
     * count against the quota) and returns its id outputs. Its resource-valued outputs (`vpc`, `subnets`,
     * `natGateways`, ...) and `subnetLayout` are not simulated: they resolve to undefined here.
     */
    private awsxVpc(name: string, inputs: Record<string, unknown>): pulumi.runtime.MockResourceResult {
        const zones = queryZones(this.options.region, {}).map((z) => z.zoneName);
        let layout: ReturnType<typeof awsxVpcLayout>;
        try {
            layout = awsxVpcLayout(name, inputs, zones);
        } catch (e) {
            throw new Error(`simulated awsx: ${name} (${AWSX_VPC}): ${(e as Error).message}`);
        }
        const component: SimResource = {
            type: AWSX_VPC,
            name,
            custom: false,
            id: "",
            inputs,
            secretInputs: [],
            state: {},
        };
        this.resources.push(component);
        const child = (type: string, childName: string, childInputs: Record<string, unknown>, parent: string) => {
            const { id } = this.newResource({ type, name: childName, inputs: childInputs, custom: true });
            this.resources[this.resources.length - 1]!.parent = parent;
            return { id: String(id), key: `${type}::${childName}` };
        };
        const tags = (inputs.tags ?? {}) as Record<string, string>;
        const shared = { Name: name, ...tags };
        const vpc = child(
            "aws:ec2/vpc:Vpc",
            name,
            {
                ...pickDefined(inputs, ["enableDnsHostnames", "enableDnsSupport", "instanceTenancy"]),
                cidrBlock: layout.cidrBlock,
                tags: shared,
            },
            `${AWSX_VPC}::${name}`,
        );
        const igw = child("aws:ec2/internetGateway:InternetGateway", name, { vpcId: vpc.id, tags: shared }, vpc.key);
        const natIds: string[] = [];
        const ids = { Public: [] as string[], Private: [] as string[] };
        layout.azNames.forEach((_, i) => {
            for (const s of layout.subnets.filter((x) => x.azName === layout.azNames[i])) {
                const isPublic = s.type === "Public";
                const nameTags = { ...shared, Name: s.resourceName, SubnetType: s.type };
                const sub = child(
                    "aws:ec2/subnet:Subnet",
                    s.resourceName,
                    {
                        vpcId: vpc.id,
                        availabilityZone: s.azName,
                        mapPublicIpOnLaunch: isPublic,
                        cidrBlock: s.cidrBlock,
                        tags: nameTags,
                    },
                    vpc.key,
                );
                ids[s.type].push(sub.id);
                const table = child(
                    "aws:ec2/routeTable:RouteTable",
                    s.resourceName,
                    { vpcId: vpc.id, tags: nameTags },
                    sub.key,
                );
                child(
                    "aws:ec2/routeTableAssociation:RouteTableAssociation",
                    s.resourceName,
                    { routeTableId: table.id, subnetId: sub.id },
                    table.key,
                );
                const wantsNat =
                    layout.natStrategy === "OnePerAz"
                        ? natIds.length < i + 1
                        : layout.natStrategy === "Single" && natIds.length < 1;
                if (isPublic && wantsNat) {
                    const natTags = { ...tags, Name: `${name}-${i + 1}` };
                    const eip = child("aws:ec2/eip:Eip", `${name}-${i + 1}`, { domain: "vpc", tags: natTags }, sub.key);
                    natIds.push(
                        child(
                            "aws:ec2/natGateway:NatGateway",
                            `${name}-${i + 1}`,
                            { subnetId: sub.id, allocationId: eip.id, tags: natTags },
                            sub.key,
                        ).id,
                    );
                }
                const target = isPublic
                    ? { gatewayId: igw.id }
                    : { natGatewayId: layout.natStrategy === "Single" ? natIds[0] : natIds[i] };
                if (isPublic || layout.natStrategy !== "None")
                    child(
                        "aws:ec2/route:Route",
                        s.resourceName,
                        { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", ...target },
                        table.key,
                    );
            }
        });
        component.state = {
            vpcId: vpc.id,
            publicSubnetIds: ids.Public,
            privateSubnetIds: ids.Private,
            isolatedSubnetIds: [],
        };
        return { id: undefined, state: component.state };
    }

    /** GetPublicKey of a simulated key: a real Ed25519 key (DER SubjectPublicKeyInfo) for an Edwards key. */
    private kmsPublicKey(keyId: string): Record<string, unknown> {
        const alias = this.resources.find(
            (r) => r.type === "aws:kms/alias:Alias" && (r.id === keyId || r.state.arn === keyId),
        );
        const wanted = alias ? String(alias.inputs.targetKeyId) : keyId;
        const key = this.resources.find(
            (r) => r.type === "aws:kms/key:Key" && (r.id === wanted || r.state.arn === wanted),
        );
        if (!key) throw new Error(`simulated AWS: NotFoundException: Key '${keyId}' does not exist`);
        const spec = String(key.state.customerMasterKeySpec);
        if (spec !== "ECC_NIST_EDWARDS25519")
            throw new Error(
                `simulated AWS: GetPublicKey is simulated for ECC_NIST_EDWARDS25519 keys only, not ${spec}`,
            );
        // Its private half stays "in KMS": no program or host ever sees it, so a fixed seed serves every mode.
        const pair = ed25519KeyPair(seedFrom(`${this.options.stack}/kms/${key.name}`));
        const der = createPublicKey(createPrivateKey(pair.privateKeyPem)).export({ format: "der", type: "spki" });
        return {
            id: String(key.state.arn),
            arn: key.state.arn,
            keyId: key.state.arn,
            customerMasterKeySpec: spec,
            keyUsage: key.state.keyUsage,
            publicKey: der.toString("base64"),
            publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${der.toString("base64")}\n-----END PUBLIC KEY-----\n`,
            signingAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
            encryptionAlgorithms: [],
            region: this.options.region,
        };
    }

    /** An existing VPC's primary CIDR: given, or the /16 of its first existing subnet. */
    private existingVpcCidr(id: string): string | undefined {
        const given = this.options.existingVpcs?.[id]?.cidrBlock;
        if (given) return given;
        const subnet = [...this.subnets.values()].find((s) => s.vpcId === id);
        const octets = subnet?.cidrBlock.split(".");
        return octets && `${octets[0]}.${octets[1]}.0.0/16`;
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        const result = this.invoke(args.token, inputs);
        this.calls.push({ token: args.token, inputs, result });
        return result;
    }

    /**
     * Official images matching an AMI query, oldest first: every series (owners, name pattern, other
     * filters) has one image per publication, with a stable id; an `image-id` filter narrows to those ids.
     */
    private amiImages(inputs: Record<string, unknown>) {
        const filters = (inputs.filters ?? []) as { name: string; values: string[] }[];
        const pattern = filters.find((f) => f.name === "name")?.values[0] ?? "image-*";
        const architecture = filters.find((f) => f.name === "architecture")?.values[0] ?? "x86_64";
        const imageIds = filters.find((f) => f.name === "image-id")?.values;
        const series = JSON.stringify({
            owners: inputs.owners,
            nameRegex: inputs.nameRegex,
            filters: filters.filter((f) => f.name !== "image-id"),
        });
        const published = new Set([FIRST_IMAGE_PUBLISHED, this.options.newestImage ?? FIRST_IMAGE_PUBLISHED]);
        return [...published]
            .sort()
            .map((date) => ({
                id: `ami-${hex(series + date, 17)}`,
                date,
                name: pattern.replace("*", date),
                architecture,
            }))
            .filter((image) => !imageIds || imageIds.includes(image.id));
    }

    private invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
        switch (token) {
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const zones = queryZones(this.options.region, inputs as ZoneQuery);
                return {
                    ...inputs,
                    id: this.options.region,
                    region: this.options.region,
                    names: zones.map((z) => z.zoneName),
                    zoneIds: zones.map((z) => z.zoneId),
                    groupNames: [...new Set(zones.map((z) => z.groupName))].sort(),
                };
            }
            case "aws:ec2/getAmi:getAmi": {
                const images = this.amiImages(inputs);
                // As the provider: no match fails, and several match only with mostRecent.
                if (images.length === 0) throw new Error(`simulated AWS: no EC2 AMI matches ${JSON.stringify(inputs)}`);
                if (images.length > 1 && inputs.mostRecent !== true)
                    throw new Error("simulated AWS: several EC2 AMIs match; set mostRecent or narrow the filters");
                const image = images[images.length - 1]!;
                const d = image.date;
                return {
                    id: image.id,
                    imageId: image.id,
                    name: image.name,
                    creationDate: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:00.000Z`,
                    architecture: image.architecture,
                    ownerId: ((inputs.owners ?? []) as string[])[0] ?? ACCOUNT,
                    rootDeviceType: "ebs",
                    virtualizationType: "hvm",
                    state: "available",
                };
            }
            case "aws:ec2/getAmiIds:getAmiIds": {
                // An empty list is no error here; newest first unless sortAscending.
                const ids = this.amiImages(inputs).map((i) => i.id);
                return { id: this.options.region, ids: inputs.sortAscending === true ? ids : ids.reverse() };
            }
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { id: ACCOUNT, accountId: ACCOUNT, arn: SIMULATED_CALLER_ARN, userId: "AIDASIMULATEDDEPLOYER" };
            case "aws:index/getPartition:getPartition":
                return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
            case "aws:kms/getPublicKey:getPublicKey":
                return this.kmsPublicKey(String(inputs.keyId));
            case "aws:ec2/getVpc:getVpc": {
                const id = String(inputs.id);
                const cidrBlock = this.existingVpcCidr(id);
                if (!cidrBlock) throw new Error(`simulated AWS: VPC ${id} does not exist (InvalidVpcID.NotFound)`);
                return { id, cidrBlock, arn: this.arn("ec2", `vpc/${id}`), enableDnsSupport: true };
            }
            case "aws:ec2/getSubnet:getSubnet": {
                const id = String(inputs.id);
                const subnet = this.subnets.get(id);
                if (!subnet) throw new Error(`simulated AWS: subnet ${id} does not exist (InvalidSubnetID.NotFound)`);
                return {
                    id,
                    vpcId: subnet.vpcId,
                    cidrBlock: subnet.cidrBlock,
                    arn: this.arn("ec2", `subnet/${id}`),
                    availabilityZone: subnet.availabilityZone ?? `${this.options.region}a`,
                };
            }
        }
        throw new Error(`simulated AWS has no mock for invoke ${token}; add one to offline/simulatedAws.ts`);
    }
}
