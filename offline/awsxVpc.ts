// `awsx.ec2.Vpc` as the simulated AWS answers it. It is a remote component: the awsx plugin, not the
// program, builds its children, so under the mocks only `awsx:ec2:Vpc` reaches the simulator, which must
// lay out the subnets as awsx does (pulumi-awsx awsx/ec2/vpc.ts and subnetDistributorLegacy.ts, 3.9.0) and
// refuse what awsx or AWS refuse. Simulated: the default layout (no subnetSpecs, strategy "Legacy"), the
// only one the example and the docs' basic usage need; other layouts fail loudly instead of being guessed.
// Pure: no Pulumi imports.
import { cidrProblem, formatCidr, parseCidr, subnet } from "../components/net/cidr";

export const AWSX_VPC = "awsx:ec2:Vpc";

/** awsx's defaults (VpcArgs docs and Vpc.initialize). */
export const AWSX_DEFAULTS = { cidrBlock: "10.0.0.0/16", numberOfAvailabilityZones: 3, natStrategy: "OnePerAz" };

/** Inputs the simulation honours; any other one set is refused rather than silently ignored. */
const SIMULATED_INPUTS = [
    "cidrBlock",
    "numberOfAvailabilityZones",
    "availabilityZoneNames",
    "natGateways",
    "subnetStrategy",
    "subnetNameTagStrategy",
    "tags",
    "enableDnsHostnames",
    "enableDnsSupport",
    "instanceTenancy",
];

export interface AwsxSubnet {
    type: "Private" | "Public";
    azName: string;
    cidrBlock: string;
    /** Pulumi resource name awsx gives the subnet (and its route table): `<vpc>-<type>-<az number>`. */
    resourceName: string;
}

export interface AwsxVpcLayout {
    cidrBlock: string;
    azNames: string[];
    natStrategy: "None" | "Single" | "OnePerAz";
    /** In awsx's creation order: per AZ, public first, then private. */
    subnets: AwsxSubnet[];
}

/** AWS accepts subnet blocks from /16 to /28 (Amazon VPC User Guide, "Subnet sizing"). */
const SUBNET_PREFIX = { min: 16, max: 28 };

/** Smallest power of two >= n (awsx splits the VPC into that many equal AZ blocks). */
const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/**
 * The zones awsx places the VPC in: `availabilityZoneNames` as given (each must be a zone of the region,
 * or CreateSubnet fails), else the first `numberOfAvailabilityZones` (default 3) names the region lists.
 */
function pickZones(inputs: Record<string, unknown>, regionZones: string[]): string[] {
    const names = inputs.availabilityZoneNames as string[] | undefined;
    const count = inputs.numberOfAvailabilityZones as number | undefined;
    if (names && count)
        throw new Error("Only one of [availabilityZoneNames] and [numberOfAvailabilityZones] can be specified");
    if (names) {
        const unknown = names.find((n) => !regionZones.includes(n));
        if (unknown)
            throw new Error(
                `InvalidParameterValue: Value (${unknown}) for parameter availabilityZone is invalid. ` +
                    `Subnets can currently only be created in the following availability zones: ${regionZones.join(", ")}.`,
            );
        return names;
    }
    const desired = count ?? AWSX_DEFAULTS.numberOfAvailabilityZones;
    if (regionZones.length < desired)
        throw new Error(
            `The configured region for this provider does not have at least ${desired} Availability Zones. ` +
                `Either specify an explicit list of zones in availabilityZoneNames or choose a region with at least ${desired} AZs.`,
        );
    return regionZones.slice(0, desired);
}

/** The VPC block, as the AWS provider checks it (aws_vpc cidr_block: a network address, /16 to /28). */
function checkVpcCidr(cidrBlock: string): void {
    const why = cidrProblem(cidrBlock);
    const prefix = Number(cidrBlock.split("/")[1]);
    if (why || cidrBlock.includes(":") || prefix < 16 || prefix > 28)
        throw new Error(
            `cidrBlock ${JSON.stringify(cidrBlock)}: expected an IPv4 network address with a /16 to /28 prefix` +
                (why ? ` (${why})` : ""),
        );
}

/** awsx's layout for `inputs` in a region whose zones are `regionZones`; throws awsx's or AWS's error. */
export function awsxVpcLayout(vpcName: string, inputs: Record<string, unknown>, regionZones: string[]): AwsxVpcLayout {
    const unsupported = Object.keys(inputs).filter((k) => inputs[k] !== undefined && !SIMULATED_INPUTS.includes(k));
    const strategy = inputs.subnetStrategy as string | undefined;
    if (unsupported.length > 0 || (strategy !== undefined && strategy !== "Legacy"))
        throw new Error(
            `the simulated awsx.ec2.Vpc covers awsx's default layout only; not simulated: ` +
                `${[...unsupported, ...(strategy && strategy !== "Legacy" ? [`subnetStrategy ${strategy}`] : [])].join(", ")}`,
        );
    const natGateways = (inputs.natGateways ?? {}) as { strategy?: string; elasticIpAllocationIds?: unknown[] };
    if (natGateways.elasticIpAllocationIds !== undefined)
        throw new Error("the simulated awsx.ec2.Vpc does not simulate natGateways.elasticIpAllocationIds");
    const natStrategy = natGateways.strategy ?? AWSX_DEFAULTS.natStrategy;
    if (natStrategy !== "None" && natStrategy !== "Single" && natStrategy !== "OnePerAz")
        throw new Error(`Unknown NAT Gateway strategy '${natStrategy}'`);

    const azNames = pickZones(inputs, regionZones);
    const cidrBlock = (inputs.cidrBlock as string | undefined) ?? AWSX_DEFAULTS.cidrBlock;
    checkVpcCidr(cidrBlock);
    // Each AZ gets an equal block; its first half is the private subnet, the first quarter of the
    // second half the public one (awsx's generateDefaultSubnets).
    const vpc = parseCidr(cidrBlock);
    const newBitsPerAz = Math.log2(nextPow2(azNames.length));
    const subnets = azNames.flatMap((azName, i): AwsxSubnet[] => {
        const az = subnet(vpc, newBitsPerAz, i);
        const privateBlock = subnet(az, 1, 0);
        const publicBlock = subnet(subnet(az, 1, 1), 1, 0);
        return [
            { type: "Public", azName, cidrBlock: formatCidr(publicBlock), resourceName: `${vpcName}-public-${i + 1}` },
            {
                type: "Private",
                azName,
                cidrBlock: formatCidr(privateBlock),
                resourceName: `${vpcName}-private-${i + 1}`,
            },
        ];
    });
    const tooSmall = subnets.find((s) => parseCidr(s.cidrBlock).prefix > SUBNET_PREFIX.max);
    if (tooSmall)
        throw new Error(
            `InvalidSubnet.Range: The CIDR '${tooSmall.cidrBlock}' is invalid (${tooSmall.resourceName}: awsx splits ` +
                `${cidrBlock} over ${azNames.length} zones; AWS subnets are /${SUBNET_PREFIX.min} to /${SUBNET_PREFIX.max})`,
        );
    return { cidrBlock, azNames, natStrategy, subnets };
}
