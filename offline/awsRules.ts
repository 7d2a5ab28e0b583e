// Input rules the real AWS API (or the AWS provider) enforces, so the simulated AWS rejects what a real
// `pulumi up` would reject instead of accepting it. Each check returns the error AWS gives, with a pointer
// to where the rule is written down, or undefined when the input passes.
import { contains, hostAt, parseCidr, size } from "../components/net/cidr";

/** Characters EC2 accepts in security group and rule descriptions (terraform-provider-aws#18874). */
const SG_DESCRIPTION = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
const SG_DESCRIPTION_SET = "a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*";
const SG_DESCRIPTION_DOC =
    "see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html and terraform-provider-aws#18874";

/** Why `text` is not a valid description of a group (`kind` "security group") or a rule ("rule"). */
export function securityGroupDescriptionError(text: string, kind: "security group" | "rule"): string | undefined {
    if (text.length <= 255 && SG_DESCRIPTION.test(text)) return undefined;
    return (
        `InvalidParameterValue: Invalid ${kind} description. Valid descriptions are strings less than 256 ` +
        `characters from the following set: ${SG_DESCRIPTION_SET} (got ${JSON.stringify(text)}; ${SG_DESCRIPTION_DOC})`
    );
}

const TAG_DOC = "see https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions";
export const MAX_TAGS = 50;

/** Why a resource's tags would be refused: count, key and value length, the reserved `aws:` prefix. */
export function tagsError(tags: Record<string, unknown>): string | undefined {
    const entries = Object.entries(tags);
    if (entries.length > MAX_TAGS)
        return `TagLimitExceeded: The maximum number of Tags for a resource has been reached (${entries.length} > ${MAX_TAGS}; ${TAG_DOC})`;
    for (const [key, value] of entries) {
        if (key.toLowerCase().startsWith("aws:"))
            return `InvalidParameterValue: Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use (${TAG_DOC})`;
        if (key.length > 128)
            return `InvalidParameterValue: Tag key exceeds the maximum length of 128 characters (${key.length}: ${key.slice(0, 40)}...; ${TAG_DOC})`;
        if (String(value).length > 256)
            return `InvalidParameterValue: Tag value exceeds the maximum length of 256 characters (key ${key}, ${String(value).length}; ${TAG_DOC})`;
    }
    return undefined;
}

/** EC2 user data limit, raw bytes before base64. */
export const USER_DATA_LIMIT = 16384;

export function userDataError(userData: string | Buffer): string | undefined {
    const bytes = typeof userData === "string" ? Buffer.byteLength(userData, "utf8") : userData.length;
    if (bytes <= USER_DATA_LIMIT) return undefined;
    return (
        `InvalidParameterValue: User data is limited to ${USER_DATA_LIMIT} bytes (got ${bytes}; see ` +
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html)"
    );
}

/** Why `ip` cannot be an instance's private address in `subnetCidr`: outside it, or one AWS reserves. */
export function privateIpError(ip: string, subnetCidr: string): string | undefined {
    const subnet = parseCidr(subnetCidr);
    if (!contains(subnet, ip))
        return `InvalidParameterValue: Address ${ip} does not fall within the subnet's address range (${subnetCidr})`;
    const reserved = [0, 1, 2, 3, Number(size(subnet)) - 1].map((o) => hostAt(subnet, o));
    if (reserved.includes(ip))
        return (
            `InvalidParameterValue: Address ${ip} is in subnet's reserved address range (the first four and the last ` +
            `address of ${subnetCidr}; see https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html)`
        );
    return undefined;
}

/** Default Elastic IP quota per region ("EC2-VPC Elastic IPs" in Service Quotas). */
export const DEFAULT_ELASTIC_IP_QUOTA = 5;

export function elasticIpQuotaError(inUse: number, quota: number): string | undefined {
    if (inUse < quota) return undefined;
    return (
        `AddressLimitExceeded: The maximum number of addresses has been reached. (quota ${quota}; see ` +
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit)"
    );
}

/** IAM name limits (IAM API and the provider's name_prefix check), and the random suffix Pulumi adds. */
export const IAM_LIMITS = {
    "aws:iam/role:Role": { field: "roleName", max: 64, prefixMax: 38 },
    "aws:iam/instanceProfile:InstanceProfile": { field: "instanceProfileName", max: 128, prefixMax: 102 },
} as const;
/** Pulumi auto-naming: `<logical name>-` plus seven random characters. */
export const AUTONAME_RANDOM_CHARS = 7;
const IAM_DOC = "see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html";

/** The name an IAM resource gets (explicit, from its prefix, or auto-named), or the error creating it gives. */
export function iamName(
    type: keyof typeof IAM_LIMITS,
    logicalName: string,
    inputs: { name?: unknown; namePrefix?: unknown },
    random: string,
): { name: string } | { error: string } {
    const limit = IAM_LIMITS[type];
    if (typeof inputs.name === "string") {
        if (inputs.name.length <= limit.max) return { name: inputs.name };
        return {
            error:
                `ValidationError: 1 validation error detected: Value '${inputs.name}' at '${limit.field}' failed to ` +
                `satisfy constraint: Member must have length less than or equal to ${limit.max} (${IAM_DOC})`,
        };
    }
    if (typeof inputs.namePrefix === "string") {
        if (inputs.namePrefix.length <= limit.prefixMax) return { name: inputs.namePrefix + random.slice(0, 26) };
        return {
            error: `expected length of name_prefix to be in the range (1 - ${limit.prefixMax}), got ${inputs.namePrefix} (${IAM_DOC})`,
        };
    }
    const prefix = `${logicalName}-`;
    if (prefix.length + AUTONAME_RANDOM_CHARS > limit.max)
        return {
            error: `could not make instance of '${type}': name '${prefix}' plus ${AUTONAME_RANDOM_CHARS} random chars is longer than maximum length ${limit.max} (${IAM_DOC})`,
        };
    return { name: prefix + random.slice(0, AUTONAME_RANDOM_CHARS) };
}

// ---- AWS KMS (CreateKey, PutKeyPolicy, CreateAlias; https://docs.aws.amazon.com/kms/latest/APIReference/)

const KMS_DOC = "see https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html";
/** Key usages each key spec allows (KMS Developer Guide, "Key spec reference"). */
export const KMS_KEY_USAGES: Record<string, readonly string[]> = {
    SYMMETRIC_DEFAULT: ["ENCRYPT_DECRYPT"],
    RSA_2048: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
    RSA_3072: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
    RSA_4096: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
    ECC_NIST_P256: ["SIGN_VERIFY", "KEY_AGREEMENT"],
    ECC_NIST_P384: ["SIGN_VERIFY", "KEY_AGREEMENT"],
    ECC_NIST_P521: ["SIGN_VERIFY", "KEY_AGREEMENT"],
    ECC_SECG_P256K1: ["SIGN_VERIFY", "KEY_AGREEMENT"],
    ECC_NIST_EDWARDS25519: ["SIGN_VERIFY"],
    ML_DSA_44: ["SIGN_VERIFY"],
    ML_DSA_65: ["SIGN_VERIFY"],
    ML_DSA_87: ["SIGN_VERIFY"],
    HMAC_224: ["GENERATE_VERIFY_MAC"],
    HMAC_256: ["GENERATE_VERIFY_MAC"],
    HMAC_384: ["GENERATE_VERIFY_MAC"],
    HMAC_512: ["GENERATE_VERIFY_MAC"],
    SM2: ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"],
};

/** Why CreateKey refuses this key spec and usage (both default as KMS defaults them). */
export function kmsKeySpecError(keySpec = "SYMMETRIC_DEFAULT", keyUsage = "ENCRYPT_DECRYPT"): string | undefined {
    const usages = KMS_KEY_USAGES[keySpec];
    if (!usages)
        return (
            `ValidationException: 1 validation error detected: Value '${keySpec}' at 'keySpec' failed to satisfy ` +
            `constraint: Member must satisfy enum value set: [${Object.keys(KMS_KEY_USAGES).join(", ")}]`
        );
    if (usages.includes(keyUsage)) return undefined;
    return `ValidationException: KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}; it allows ${usages.join(", ")} (${KMS_DOC})`;
}

/** KMS takes key policies of at most 32 KB. */
export const KMS_POLICY_MAX = 32768;

/** The deletion waiting period: 7 to 30 days (ScheduleKeyDeletion PendingWindowInDays). */
export function kmsDeletionWindowError(days: unknown): string | undefined {
    if (days === undefined) return undefined;
    if (typeof days === "number" && Number.isInteger(days) && days >= 7 && days <= 30) return undefined;
    return `expected deletion_window_in_days to be in the range (7 - 30), got ${String(days)}`;
}

/** Principals KMS accepts in a key policy: account IDs and root, IAM users and roles, assumed-role sessions. */
const KMS_POLICY_PRINCIPAL =
    /^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+)|arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;

type PolicyStatement = {
    Effect?: unknown;
    Principal?: unknown;
    Action?: unknown;
    Condition?: unknown;
};

/**
 * Why CreateKey or PutKeyPolicy refuses `policy`: too long, not JSON, an invalid principal, or (unless
 * `bypassLockoutCheck`) a policy that would not let `caller` change it again (the lock-out safety check).
 */
export function kmsKeyPolicyError(
    policy: string,
    caller: { accountRoot: string; arn: string },
    bypassLockoutCheck: boolean,
): string | undefined {
    const bytes = Buffer.byteLength(policy, "utf8");
    if (bytes > KMS_POLICY_MAX)
        return `ValidationException: 1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to ${KMS_POLICY_MAX} (got ${bytes})`;
    let statements: PolicyStatement[];
    try {
        const doc = JSON.parse(policy) as { Statement?: unknown };
        statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as PolicyStatement[];
    } catch {
        return "MalformedPolicyDocumentException: The policy is not valid JSON";
    }
    const principals = (s: PolicyStatement): string[] => {
        const aws = (s.Principal as { AWS?: unknown } | undefined)?.AWS;
        return (Array.isArray(aws) ? aws : [aws]).filter((p): p is string => typeof p === "string");
    };
    if (statements.some((s) => principals(s).some((p) => !KMS_POLICY_PRINCIPAL.test(p))))
        return "MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals.";
    if (bypassLockoutCheck) return undefined;
    const allowsPut = (s: PolicyStatement) => {
        const actions = (Array.isArray(s.Action) ? s.Action : [s.Action]).filter(
            (a): a is string => typeof a === "string",
        );
        const matches = actions.some((a) =>
            new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(
                "kms:PutKeyPolicy",
            ),
        );
        const who = principals(s);
        return (
            s.Effect === "Allow" &&
            s.Condition === undefined &&
            matches &&
            (who.includes(caller.accountRoot) || who.includes(caller.arn))
        );
    };
    if (statements.some(allowsPut)) return undefined;
    return (
        "MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy in the future. " +
        "(see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check)"
    );
}

/** Why CreateAlias refuses `name`: it must start with `alias/`, not `alias/aws/`, up to 256 allowed characters. */
export function kmsAliasNameError(name: string): string | undefined {
    if (!name.startsWith("alias/")) return 'ValidationException: Alias must start with the prefix "alias/".';
    if (name.startsWith("alias/aws/"))
        return "NotAuthorizedException: Cannot create alias with prefix 'alias/aws/', which is reserved for AWS managed keys";
    if (name.length > 256 || !/^[a-zA-Z0-9:/_-]+$/.test(name))
        return `ValidationException: 1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$ and have length less than or equal to 256`;
    return undefined;
}

// --- CloudWatch Logs, CloudWatch alarms and SNS (the audit trail; its KMS key follows the rules above)

/** Retention periods CloudWatch Logs accepts (0: the provider's "never expire", no retention policy). */
export const LOG_RETENTION_VALUES = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const LOGS_DOC = "see https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/";

/** The provider's validation of `retention_in_days` (IntInSlice), before any API call. */
export function logRetentionError(days: number): string | undefined {
    if (LOG_RETENTION_VALUES.includes(days)) return undefined;
    return (
        `expected retention_in_days to be one of [${LOG_RETENTION_VALUES.join(" ")}], got ${days} ` +
        `(${LOGS_DOC}API_PutRetentionPolicy.html)`
    );
}

/** Log group names: 1-512 of `[0-9A-Za-z_./#-]` (provider validLogGroupName, CreateLogGroup). */
export function logGroupNameError(name: string): string | undefined {
    if (name.length > 512) return `"name" cannot be longer than 512 characters: ${JSON.stringify(name)}`;
    if (!/^[0-9A-Za-z_./#-]+$/.test(name))
        return (
            `"name" isn't a valid log group name (alphanumeric characters, underscores, hyphens, slashes, hash ` +
            `signs and dots are allowed): ${JSON.stringify(name)} (${LOGS_DOC}API_CreateLogGroup.html)`
        );
    return undefined;
}

/** PutMetricFilter: filter name 1-512 without `:` or `*`, pattern at most 1024, metric names without `:*$`. */
export function metricFilterError(f: {
    name: string;
    pattern: string;
    metricName: string;
    namespace: string;
}): string | undefined {
    if (f.name.length > 512 || !/^[^:*]+$/.test(f.name))
        return `"name" isn't a valid log metric name (must not contain colon nor asterisk, at most 512 characters): ${JSON.stringify(f.name)}`;
    if (Buffer.byteLength(f.pattern, "utf8") > 1024)
        return `expected length of pattern to be in the range (0 - 1024), got ${f.pattern.length} (${LOGS_DOC}API_PutMetricFilter.html)`;
    for (const [key, value] of [
        ["name", f.metricName],
        ["namespace", f.namespace],
    ] as const) {
        if (value.length > 255 || !/^[^:*$]*$/.test(value))
            return `"metric_transformation.0.${key}" isn't a valid log metric transformation name (must not contain colon, asterisk nor dollar sign): ${JSON.stringify(value)}`;
    }
    return jsonPatternError(f.pattern);
}

/** A JSON filter pattern (`{ $.field = ... }`) must be one balanced `{ }` whose selectors start with `$.`. */
function jsonPatternError(pattern: string): string | undefined {
    const p = pattern.trim();
    if (!p.startsWith("{")) return undefined;
    let depth = 0;
    for (const c of p) {
        depth += c === "(" ? 1 : c === ")" ? -1 : 0;
        if (depth < 0) break;
    }
    const selectors = p.slice(1, -1).match(/\$[.[]/g) ?? [];
    if (!p.endsWith("}") || depth !== 0 || selectors.length === 0)
        return `InvalidParameterException: Invalid metric filter pattern (${JSON.stringify(pattern)}; see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html)`;
    return undefined;
}

const ALARM_DOC = "see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html";
const MISSING_DATA = ["breaching", "notBreaching", "ignore", "missing"];
const COMPARISONS = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];

/** PutMetricAlarm: period 10, 20, 30 or a multiple of 60; at least one period; at most a day in all. */
export function metricAlarmError(a: {
    name: string;
    period: number;
    evaluationPeriods: number;
    datapointsToAlarm?: number;
    comparisonOperator: string;
    treatMissingData?: string;
}): string | undefined {
    if (a.name.length < 1 || a.name.length > 255)
        return `expected length of alarm_name to be in the range (1 - 255), got ${a.name}`;
    if (![10, 20, 30].includes(a.period) && (a.period <= 0 || a.period % 60 !== 0))
        return `expected period to be one of [10 20 30] or divisible by 60, got ${a.period} (${ALARM_DOC})`;
    if (!Number.isInteger(a.evaluationPeriods) || a.evaluationPeriods < 1)
        return `expected evaluation_periods to be at least (1), got ${a.evaluationPeriods}`;
    if (a.period * a.evaluationPeriods > 86400)
        return `ValidationError: Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400) (${ALARM_DOC})`;
    if (a.datapointsToAlarm !== undefined && a.datapointsToAlarm > a.evaluationPeriods)
        return `ValidationError: DatapointsToAlarm must be less than or equal to EvaluationPeriods (${ALARM_DOC})`;
    if (!COMPARISONS.includes(a.comparisonOperator))
        return `expected comparison_operator to be one of [${COMPARISONS.join(" ")}], got ${a.comparisonOperator}`;
    if (a.treatMissingData !== undefined && !MISSING_DATA.includes(a.treatMissingData))
        return `expected treat_missing_data to be one of [${MISSING_DATA.join(" ")}], got ${a.treatMissingData}`;
    return undefined;
}

/** SNS topic names (provider CustomizeDiff): 1-256 of `[0-9A-Za-z_-]`, FIFO topics end in `.fifo`. */
export function snsTopicNameError(name: string, fifo: boolean): string | undefined {
    const ok = fifo ? /^[0-9A-Za-z_-]{1,251}\.fifo$/ : /^[0-9A-Za-z_-]{1,256}$/;
    if (ok.test(name)) return undefined;
    return `invalid topic name: ${name} (see https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html)`;
}

const SNS_PROTOCOLS = ["application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"];

/** Subscribe: a known protocol, and for email one address (SNS refuses the call otherwise). */
export function snsSubscriptionError(protocol: string, endpoint: string): string | undefined {
    if (!SNS_PROTOCOLS.includes(protocol))
        return `expected protocol to be one of [${SNS_PROTOCOLS.join(" ")}], got ${protocol}`;
    if (
        (protocol === "email" || protocol === "email-json") &&
        !/^[^@\s<>"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(endpoint)
    )
        return `InvalidParameter: Invalid parameter: Email address (${JSON.stringify(endpoint)}; see https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html)`;
    return undefined;
}

/** Processor kinds that parse (the provider's names); the others mutate what a parser produced. */
const TRANSFORMER_PARSERS = [
    "csvs",
    "grok",
    "parseCloudfront",
    "parseJsons",
    "parseKeyValues",
    "parsePostgres",
    "parseRoute53",
    "parseToOcsf",
    "parseVpc",
    "parseWaf",
];
const TRANSFORMER_DOC =
    "see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Transformation-Create.html";

/** PutTransformer: 1 to 20 processors, the first a parser, at most five parsers in all. */
export function logTransformerError(configs: Record<string, unknown>[]): string | undefined {
    if (configs.length < 1 || configs.length > 20)
        return `InvalidParameterException: a transformer has 1 to 20 processors, got ${configs.length} (${TRANSFORMER_DOC})`;
    const isParser = (c: Record<string, unknown>) =>
        Object.entries(c).some(([k, v]) => TRANSFORMER_PARSERS.includes(k) && v !== undefined);
    if (!isParser(configs[0]!))
        return `InvalidParameterException: the first processor in a transformer must be a parser (${TRANSFORMER_DOC})`;
    const parsers = configs.filter(isParser).length;
    if (parsers > 5)
        return `InvalidParameterException: a transformer may include at most five parser-type processors, got ${parsers} (${TRANSFORMER_DOC})`;
    return undefined;
}

const SSM_ASSOCIATION_DOC =
    "see https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateAssociation.html and terraform-provider-aws internal/service/ssm/association.go";

/** Why an SSM association would be refused: its name, and at most 5 targets of at most 50 values each. */
export function ssmAssociationError(inputs: Record<string, unknown>): string | undefined {
    const name = inputs.associationName;
    if (name !== undefined && !(typeof name === "string" && /^[0-9A-Za-z_.-]{3,128}$/.test(name)))
        return `ValidationException: AssociationName ${JSON.stringify(name)} must be 3-128 characters of letters, digits, _ . - (${SSM_ASSOCIATION_DOC})`;
    if (typeof inputs.name !== "string" || inputs.name === "")
        return `ValidationException: Name (the SSM document) is required (${SSM_ASSOCIATION_DOC})`;
    const targets = Array.isArray(inputs.targets) ? (inputs.targets as { key?: unknown; values?: unknown }[]) : [];
    if (targets.length > 5)
        return `ValidationException: at most 5 targets, got ${targets.length} (${SSM_ASSOCIATION_DOC})`;
    for (const t of targets) {
        const values = Array.isArray(t.values) ? t.values : [];
        if (typeof t.key !== "string" || t.key.length < 1 || t.key.length > 163)
            return `ValidationException: target key ${JSON.stringify(t.key)} must be 1-163 characters (${SSM_ASSOCIATION_DOC})`;
        if (values.length === 0 || values.length > 50)
            return `ValidationException: target ${t.key} has ${values.length} values; 1 to 50 are allowed (${SSM_ASSOCIATION_DOC})`;
    }
    return undefined;
}

// ---- Security group rules (AuthorizeSecurityGroupIngress/Egress; aws.vpc.SecurityGroup*Rule)

const SG_RULE_DOC = "see https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html";

/** A standalone rule as the provider sends it: one protocol and port range, one peer. */
export interface SecurityGroupRuleInput {
    direction: "ingress" | "egress";
    securityGroupId: string;
    ipProtocol: string;
    fromPort?: number;
    toPort?: number;
    cidrIpv4?: string;
    referencedSecurityGroupId?: string;
}

/** What makes two rules the same permission to EC2 (it refuses the second). */
export function securityGroupRuleKey(r: SecurityGroupRuleInput): string {
    const peer = r.referencedSecurityGroupId ?? r.cidrIpv4 ?? "";
    return [r.direction, r.securityGroupId, r.ipProtocol, r.fromPort, r.toPort, peer].join("|");
}

/**
 * Why EC2 refuses the rule: its group or the group it references does not exist (the account has the
 * groups `vpcOf` knows), the two are in different VPCs (no peering is modelled), or the same permission
 * is already on the group (`existingKeys`).
 */
export function securityGroupRuleError(
    r: SecurityGroupRuleInput,
    vpcOf: (groupId: string) => string | undefined,
    existingKeys: ReadonlySet<string>,
): string | undefined {
    const notFound = (id: string) =>
        `InvalidGroup.NotFound: The security group '${id}' does not exist (create it first, or give the ID of one in this account and region; ${SG_RULE_DOC})`;
    const vpc = vpcOf(r.securityGroupId);
    if (vpc === undefined) return notFound(r.securityGroupId);
    const referenced = r.referencedSecurityGroupId;
    if (referenced !== undefined) {
        const peerVpc = vpcOf(referenced);
        if (peerVpc === undefined) return notFound(referenced);
        if (peerVpc !== vpc)
            return `InvalidGroup.NotFound: You have specified two resources that belong to different networks. (${r.securityGroupId} is in ${vpc}, ${referenced} in ${peerVpc}; a rule can reference a group of its own VPC or a peered one; ${SG_RULE_DOC})`;
    }
    if (existingKeys.has(securityGroupRuleKey(r))) {
        const peer = referenced ?? r.cidrIpv4 ?? "?";
        return `InvalidPermission.Duplicate: the specified rule "peer: ${peer}, ${r.ipProtocol.toUpperCase()}, from port: ${r.fromPort}, to port: ${r.toPort}, ALLOW" already exists (${SG_RULE_DOC})`;
    }
    return undefined;
}
