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

export function userDataError(userData: string): string | undefined {
    const bytes = Buffer.byteLength(userData, "utf8");
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
