// The network: a new VPC (CIDR, AZs, NAT gateways, flow logs) or an existing one, and the limits the
// network puts on the whole stack (Elastic IP quota, a way out for package installs).
import { PACKAGES } from "../render/cloudInit";
import { Cidr, cidrProblem, parseCidr, size, subnet } from "../net/cidr";
import { ConfigReader, ReportProblem, set, setPath } from "./reader";
import {
    ConfigProblem,
    DEFAULTS,
    ExistingNetworkSettings,
    FIRST_HOST_OFFSET,
    JumpgateSettings,
    LOG_RETENTION_DAYS,
    NAT_MODES,
    NatGatewayMode,
    NewNetworkSettings,
} from "./types";

/**
 * Subnet CIDRs a new VPC is carved into: public ones first, private ones in the upper half, and with
 * `management` (a bastion chain) management subnets for the inner hops right after the public ones.
 */
export function planSubnets(
    vpcCidr: string,
    azCount: number,
    management = false,
): { publicCidrs: Cidr[]; managementCidrs: Cidr[]; privateCidrs: Cidr[] } {
    const vpc = parseCidr(vpcCidr);
    const newBits = Math.ceil(Math.log2((management ? 4 : 2) * azCount));
    const half = 2 ** newBits / 2;
    const block = (i: number) => subnet(vpc, newBits, i);
    const publicCidrs = Array.from({ length: azCount }, (_, i) => block(i));
    const managementCidrs = management ? Array.from({ length: azCount }, (_, i) => block(azCount + i)) : [];
    const privateCidrs = Array.from({ length: azCount }, (_, i) => block(half + i));
    return { publicCidrs, managementCidrs, privateCidrs };
}

/** How many fixed target addresses fit in a subnet (offsets from FIRST_HOST_OFFSET up to the last usable one). */
export function targetCapacity(c: Cidr): number {
    return Math.max(0, Number(size(c)) - 1 - FIRST_HOST_OFFSET);
}

/** Subnet index and host offset of the `index`-th target, spread round-robin over `subnetCount` subnets. */
export function targetPlacement(index: number, subnetCount: number): { subnetIndex: number; offset: number } {
    return { subnetIndex: index % subnetCount, offset: FIRST_HOST_OFFSET + Math.floor(index / subnetCount) };
}

/** NAT gateways a new VPC gets. */
export function natGatewayCount(mode: NatGatewayMode, azCount: number): number {
    return mode === "none" ? 0 : mode === "single" ? 1 : azCount;
}

/** `existingVpc` when set, else a new VPC; `management` (a bastion chain) decides the subnet layout. */
export function readNetwork(r: ConfigReader, management: boolean): JumpgateSettings["network"] {
    const existing = r.json<unknown>("existingVpc", undefined, setPath("existingVpc.vpcId", "vpc-0123456789abcdef0"));
    if (existing !== undefined) return readExistingVpc(existing, r.problem);
    return readNewVpc(r, management);
}

function readNewVpc(r: ConfigReader, management: boolean): NewNetworkSettings {
    const vpcCidr = r.str("vpcCidr", DEFAULTS.vpcCidr);
    const azCount = r.int("azCount", DEFAULTS.azCount, 1, 6);
    const natGateways = r.str("natGateways", DEFAULTS.natGateways) as NatGatewayMode;
    if (!NAT_MODES.includes(natGateways)) {
        r.problem("natGateways", natGateways, `must be one of ${NAT_MODES.join(", ")}`, set("natGateways", "single"));
    }
    const flowLogRetentionDays = r.int("flowLogRetentionDays", DEFAULTS.flowLogRetentionDays, 0, 3653);
    if (!LOG_RETENTION_DAYS.includes(flowLogRetentionDays)) {
        r.problem(
            "flowLogRetentionDays",
            String(flowLogRetentionDays),
            `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")}`,
            set("flowLogRetentionDays", "90"),
        );
    }
    checkVpcCidr(vpcCidr, azCount, management, r.problem);
    return { kind: "new", vpcCidr, azCount, natGateways, flowLogRetentionDays };
}

/** A valid IPv4 block AWS accepts for a VPC, big enough for every subnet of the layout. */
function checkVpcCidr(vpcCidr: string, azCount: number, management: boolean, problem: ReportProblem): void {
    const why = cidrProblem(vpcCidr);
    if (why) {
        problem("vpcCidr", vpcCidr, why, set("vpcCidr", /network is (\S+)/.exec(why)?.[1] ?? DEFAULTS.vpcCidr));
        return;
    }
    const vpc = parseCidr(vpcCidr);
    if (vpc.version !== 4 || vpc.prefix < 16 || vpc.prefix > 28) {
        problem(
            "vpcCidr",
            vpcCidr,
            "must be an IPv4 block from /16 to /28 (AWS VPC limits)",
            set("vpcCidr", DEFAULTS.vpcCidr),
        );
        return;
    }
    const { privateCidrs } = planSubnets(vpcCidr, azCount, management);
    if (privateCidrs[0]!.prefix > 28) {
        problem(
            "vpcCidr",
            vpcCidr,
            `is too small for ${2 * azCount} subnets of at least /28 (azCount = ${azCount})`,
            set("vpcCidr", DEFAULTS.vpcCidr),
        );
    }
}

/** `existingVpc`: the VPC and its public and private subnets, by ID. */
/** Why `id` is not a VPC ID, or undefined. */
export function vpcIdProblem(id: string): string | undefined {
    return /^vpc-[0-9a-f]{8,17}$/.test(id) ? undefined : "must be a VPC ID (vpc-...)";
}

/** Why `id` is not a subnet ID, or undefined. */
export function subnetIdProblem(id: string): string | undefined {
    return /^subnet-[0-9a-f]{8,17}$/.test(id) ? undefined : "must be a subnet ID (subnet-...)";
}

function readExistingVpc(value: unknown, problem: ReportProblem): ExistingNetworkSettings {
    const v = (value ?? {}) as { vpcId?: unknown; publicSubnetIds?: unknown; privateSubnetIds?: unknown };
    const vpcId = typeof v.vpcId === "string" ? v.vpcId : "";
    if (vpcIdProblem(vpcId) !== undefined) {
        problem(
            "existingVpc.vpcId",
            JSON.stringify(v.vpcId),
            vpcIdProblem(vpcId)!,
            setPath("existingVpc.vpcId", "vpc-0123456789abcdef0"),
        );
    }
    const lists: Record<"publicSubnetIds" | "privateSubnetIds", string[]> = {
        publicSubnetIds: [],
        privateSubnetIds: [],
    };
    for (const key of ["publicSubnetIds", "privateSubnetIds"] as const) {
        const list = v[key];
        const path = `existingVpc.${key}`;
        if (!Array.isArray(list) || list.length === 0) {
            problem(
                path,
                JSON.stringify(list),
                "must list at least one subnet ID",
                setPath(`${path}[0]`, "subnet-0123456789abcdef0"),
            );
            continue;
        }
        list.forEach((id: unknown, i) => {
            if (typeof id !== "string" || subnetIdProblem(id) !== undefined) {
                problem(
                    `${path}[${i}]`,
                    JSON.stringify(id),
                    "must be a subnet ID (subnet-...)",
                    setPath(`${path}[${i}]`, "subnet-0123456789abcdef0"),
                );
            } else if (lists[key].includes(id)) {
                problem(`${path}[${i}]`, id, "is listed twice", `pulumi config rm --path '${path}[${i}]'`);
            } else {
                lists[key].push(id);
            }
        });
    }
    lists.privateSubnetIds.forEach((id, i) => {
        if (lists.publicSubnetIds.includes(id)) {
            problem(
                `existingVpc.privateSubnetIds[${i}]`,
                id,
                "is also listed as a public subnet; targets must not share the bastion's public subnets",
                `pulumi config rm --path 'existingVpc.privateSubnetIds[${i}]'`,
            );
        }
    });
    return { kind: "existing", vpcId, ...lists };
}

/** The bastion's Elastic IP plus one per NAT gateway must fit the region's Elastic IP quota. */
export function elasticIpProblems(s: JumpgateSettings): ConfigProblem[] {
    const net = s.network;
    if (net.kind === "new" && !NAT_MODES.includes(net.natGateways)) return [];
    const nat = net.kind === "new" ? natGatewayCount(net.natGateways, net.azCount) : 0;
    const needed = 1 + nat;
    if (needed <= s.elasticIpQuota) return [];
    const raise =
        `raise "EC2-VPC Elastic IPs" in Service Quotas (Amazon EC2) to at least ${needed}, then ` +
        `pulumi config set elasticIpQuota ${needed}`;
    const perAz = net.kind === "new" && net.natGateways === "perAz";
    return [
        {
            key: perAz ? "natGateways" : "elasticIpQuota",
            value: perAz ? "perAz" : String(s.elasticIpQuota),
            message:
                `needs ${needed} Elastic IPs (1 for the bastion, ${nat} for NAT gateways) but the region's quota is ` +
                `${s.elasticIpQuota} (elasticIpQuota; AWS's default is 5, and addresses the account already holds ` +
                "there count too)",
            fix: perAz ? `pulumi config set natGateways single  (or ${raise})` : raise,
        },
    ];
}

/** With `natGateways: none` the private subnets have no way out: their hosts never get their packages. */
export function packageRouteProblems(s: JumpgateSettings, allowed: boolean): ConfigProblem[] {
    if (s.network.kind !== "new" || s.network.natGateways !== "none" || allowed) return [];
    const hosts = [...s.bastions.slice(1), ...s.targets].map((h) => h.name);
    if (hosts.length === 0) return [];
    return [
        {
            key: "natGateways",
            value: "none",
            message:
                `leaves the private subnets without a route to the package mirrors: the hosts ${hosts.join(", ")} install ` +
                `${PACKAGES.join(", ")} at first boot and would run without them (no fail2ban bans, no security updates` +
                `${s.audit ? ", and no CloudWatch agent: their audit records would stay on the hosts" : ""})`,
            fix:
                "pulumi config set natGateways single  (or, if the hosts get packages another way or you accept " +
                "running them without: pulumi config set allowPrivateHostsWithoutPackages true)",
        },
    ];
}
