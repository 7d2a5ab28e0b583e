// The lab's network layout, derived from a LabPlan as plain data (no side effects), so it can be
// tested and printed. See lab/README.md for the picture.
//
//   client / attacker / hostile ──┐
//   bastion pub0 (publicIp/32) ───┼─ br0 in jg-<stack>-inet ("the internet"; the Debian mirror on it)
//   VPC router nat0 (NAT IPs/32) ─┘
//   bastion priv0 (privateIp/subnet) ─┐
//   target eth0 (privateIp/subnet) ───┴─ br<i> per subnet in jg-<stack>-vpc (router at subnet+1)
//
// The public segment is one bridge on which every address is a /32 with a device route (like hosts
// on the internet: no shared subnet, everything is "directly reachable" at layer 3); the inet
// namespace itself holds the mirror's address there. The VPC router namespace has one bridge per
// subnet holding the AWS-style router address (network + 1), forwards between subnets, and plays the
// NAT gateway: subnets whose route table has a default route through a NAT leave through its `nat0`
// leg on the public segment, source-translated to the NAT's public address. Other subnets have no
// route out there, as in AWS.
import { createHash } from "node:crypto";
import { formatIp, parseIp } from "../components/net/cidr";
import type { LabHost, LabPlan } from "./model";

// ---------------------------------------------------------------- IPv4 helpers

/** Parses dotted-quad IPv4 into a 32-bit unsigned number; throws when it is not one. */
export function ipToInt(ip: string): number {
    const parsed = parseIp(ip);
    if (parsed?.version !== 4) throw new Error(`invalid IPv4 address '${ip}'`);
    return Number(parsed.value);
}

export function intToIp(n: number): string {
    return formatIp(BigInt(n), 4);
}

export function isIpv4(ip: string): boolean {
    return parseIp(ip)?.version === 4;
}

export interface Cidr4 {
    network: number;
    prefix: number;
    /** Number of addresses in the block. */
    size: number;
}

/** Parses `a.b.c.d/n` (a bare address is a /32); throws for IPv6 or malformed input. */
export function parseCidr4(cidr: string): Cidr4 {
    const [ip, len = "32"] = cidr.split("/");
    if (!/^\d{1,2}$/.test(len) || Number(len) > 32) throw new Error(`invalid IPv4 CIDR '${cidr}'`);
    const prefix = Number(len);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(ipToInt(ip) / size) * size;
    return { network, prefix, size };
}

export function cidrContains(cidr: Cidr4, ip: number): boolean {
    return ip >= cidr.network && ip < cidr.network + cidr.size;
}

export function isIpv6Cidr(cidr: string): boolean {
    return cidr.includes(":");
}

// ---------------------------------------------------------------- names

/** Roles of the lab's own namespaces (a target may not use one of these names). */
export const INFRA_ROLES = ["inet", "vpc", "client", "attack", "hostile"] as const;
export type InfraRole = (typeof INFRA_ROLES)[number];

/** Longest namespace name the lab makes (kept at interface-name length so names stay readable). */
export const MAX_NS_NAME = 15;

/** `jg-<stack>-<role>`, or, when that is longer than 15 characters, `jg-<hash6>-<role…>`. */
export function nsName(stack: string, role: string): string {
    const plain = `jg-${stack}-${role}`;
    if (plain.length <= MAX_NS_NAME) return plain;
    const hash = createHash("sha256").update(`${stack}\0${role}`).digest("hex").slice(0, 6);
    return `jg-${hash}-${role.slice(0, MAX_NS_NAME - 10)}`;
}

// ---------------------------------------------------------------- topology

export interface SubnetSegment {
    cidr: string;
    prefix: number;
    /** The VPC router's address in this subnet (network + 1, as AWS reserves it). */
    gateway: string;
    /** Bridge name inside the VPC namespace. */
    bridge: string;
    /**
     * The public address this subnet's packets to the internet leave from (its NAT gateway's Elastic IP);
     * undefined when its route table has no default route through a NAT (no NAT, or the bastion's subnet).
     */
    natIp?: string;
}

export interface PeerNode {
    role: "client" | "attacker" | "hostile";
    ns: string;
    ip: string;
    /** Port name on the public bridge (inside the inet namespace). */
    inetPort: string;
}

export interface HostNode {
    name: string;
    role: "bastion" | "target";
    ns: string;
    privateIp: string;
    subnet: SubnetSegment;
    /** Interface holding privateIp inside the host namespace. */
    privateIf: string;
    /** Port name on the subnet's bridge inside the VPC namespace. */
    vpcPort: string;
    /** Bastion only. */
    publicIp?: string;
    publicIf?: string;
    inetPort?: string;
    /**
     * Destinations this host routes through its subnet's router: the plan's other subnets for the bastion
     * (its default route is its public leg), `default` for every other host, as EC2's DHCP sets it (the
     * router's route tables decide what lies beyond).
     */
    routes: string[];
}

/** The VPC router's leg on the public segment (the NAT gateways' side) and its port on the public bridge. */
export const NAT_IF = "nat0";
export const NAT_INET_PORT = "v-nat";

export interface LabTopology {
    stack: string;
    inetNs: string;
    vpcNs: string;
    /** client always; attacker when an address outside allowedCidrs exists; hostile when a second allowed address exists. */
    peers: PeerNode[];
    subnets: SubnetSegment[];
    hosts: HostNode[];
    /** The lab's Debian mirror: a documentation address on the public segment, served from the inet namespace. */
    mirrorIp: string;
    /** Every namespace, in creation order. */
    namespaces: string[];
    /** Anything the lab could not model (for status output). */
    notes: string[];
}

/** The documentation ranges (RFC 5737) from which the lab picks addresses the plan does not give. */
const DOC_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map(parseCidr4);

/** Preferred host numbers inside a range for the client and the hostile address. */
const CLIENT_OFFSETS = [10, 11, 12, 20, 1, 2, 3];
const HOSTILE_OFFSETS = [66, 67, 68, 99, 100, 200, 4, 5, 6];
/** Preferred host numbers for the mirror and for a NAT whose address the plan does not give. */
const MIRROR_OFFSETS = [80, 81, 82, 180];
const NAT_OFFSETS = [40, 41, 42, 140];

function validatePlan(plan: LabPlan): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(plan.stack)) throw new Error(`stack name '${plan.stack}' is not usable`);
    // One public bastion; the inner hops of a chain are bastions too, but live on the VPC side only.
    const publicHosts = plan.hosts.filter((h) => h.publicIp !== undefined);
    if (publicHosts.length !== 1 || publicHosts[0].role !== "bastion")
        throw new Error(
            `a lab plan needs exactly one bastion with a public IP, got ${publicHosts.length} public host(s)`,
        );
    if (!isIpv4(publicHosts[0].publicIp as string)) throw new Error("the bastion has no IPv4 publicIp");
    const names = new Set<string>();
    for (const h of plan.hosts) {
        if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(h.name)) throw new Error(`host name '${h.name}' is not usable`);
        if ((INFRA_ROLES as readonly string[]).includes(h.name))
            throw new Error(`host name '${h.name}' is reserved for the lab's own namespaces`);
        if (names.has(h.name)) throw new Error(`duplicate host name '${h.name}'`);
        names.add(h.name);
        const subnet = parseCidr4(h.subnetCidr);
        if (subnet.prefix > 29) throw new Error(`subnet ${h.subnetCidr} of ${h.name} is too small for the lab`);
        const ip = ipToInt(h.privateIp);
        if (!cidrContains(subnet, ip)) throw new Error(`${h.name}: ${h.privateIp} is not in ${h.subnetCidr}`);
        if (ip - subnet.network < 2 || ip === subnet.network + subnet.size - 1)
            throw new Error(`${h.name}: ${h.privateIp} is a reserved address of ${h.subnetCidr}`);
    }
    const ips = plan.hosts.map((h) => h.privateIp);
    if (new Set(ips).size !== ips.length) throw new Error("two hosts share a private address");
    // One route table per subnet: its private hosts share the way out.
    const bySubnet = new Map<string, LabHost[]>();
    for (const h of plan.hosts.filter((x) => x.publicIp === undefined)) {
        const key = canonicalCidr(h.subnetCidr);
        bySubnet.set(key, [...(bySubnet.get(key) ?? []), h]);
    }
    for (const [cidr, hosts] of bySubnet) {
        if (new Set(hosts.map((h) => h.internetRoute !== false)).size > 1)
            throw new Error(`hosts of subnet ${cidr} disagree on internetRoute (a subnet has one route table)`);
        if (new Set(hosts.map((h) => h.natPublicIp).filter((ip) => ip !== undefined)).size > 1)
            throw new Error(`hosts of subnet ${cidr} name different NAT addresses (a subnet has one route table)`);
        for (const h of hosts)
            if (h.natPublicIp !== undefined && !isIpv4(h.natPublicIp))
                throw new Error(`${h.name}: natPublicIp '${h.natPublicIp}' is not an IPv4 address`);
    }
    if (!Number.isInteger(plan.sshPort) || plan.sshPort < 1 || plan.sshPort > 65535)
        throw new Error(`invalid sshPort ${plan.sshPort}`);
}

/** Candidate addresses inside `cidr` (preferring the given host offsets), then every address in order. */
function* candidatesIn(cidr: Cidr4, offsets: readonly number[]): Generator<number> {
    for (const o of offsets) if (o < cidr.size) yield cidr.network + o;
    // Bounded: a /8 would be 16M addresses; 4096 tries are plenty to step over the few taken ones.
    const limit = Math.min(cidr.size, 4096);
    for (let i = 0; i < limit; i++) yield cidr.network + i;
}

/** Derives names, addresses, bridges and routes from a plan; throws when the plan cannot be stood up. */
export function labTopology(plan: LabPlan): LabTopology {
    validatePlan(plan);
    const stack = plan.stack;
    const notes: string[] = [];
    const subnetCidrs = [...new Set(plan.hosts.map((h) => canonicalCidr(h.subnetCidr)))];
    const subnets: SubnetSegment[] = subnetCidrs.map((cidr, i) => {
        const c = parseCidr4(cidr);
        return { cidr, prefix: c.prefix, gateway: intToIp(c.network + 1), bridge: `br${i}` };
    });
    const planSubnets = subnetCidrs.map(parseCidr4);
    const bastion = plan.hosts.find((h) => h.publicIp !== undefined) as LabHost;
    const planNatIps = plan.hosts.flatMap((h) => (h.natPublicIp === undefined ? [] : [h.natPublicIp]));

    // Addresses the lab may not give to a peer: the plan's own and anything inside a plan subnet.
    const taken = new Set<number>([
        ipToInt(bastion.publicIp as string),
        ...plan.hosts.map((h) => ipToInt(h.privateIp)),
        ...planNatIps.map(ipToInt),
    ]);
    const usable = (ip: number): boolean =>
        !taken.has(ip) && !planSubnets.some((s) => cidrContains(s, ip)) && ip % 256 !== 0 && ip % 256 !== 255;
    const allowed = plan.allowedCidrs.filter((c) => !isIpv6Cidr(c)).map(parseCidr4);
    const isAllowed = (ip: number): boolean => allowed.some((c) => cidrContains(c, ip));

    // Allowed addresses: documentation addresses inside allowedCidrs first, then the CIDRs themselves.
    const pickAllowed = (offsets: readonly number[]): number | undefined => {
        const ranges: Cidr4[] = [];
        for (const a of allowed) {
            for (const d of DOC_RANGES) {
                const lo = Math.max(a.network, d.network);
                const hi = Math.min(a.network + a.size, d.network + d.size);
                if (lo < hi) {
                    const size = hi - lo;
                    ranges.push({ network: lo, prefix: 32 - Math.log2(size), size });
                }
            }
        }
        ranges.push(...allowed);
        for (const r of ranges) {
            if (r.size === 1 && usable(r.network)) return r.network;
            for (const ip of candidatesIn(r, offsets)) if (usable(ip) && isAllowed(ip)) return ip;
        }
        return undefined;
    };
    const client = pickAllowed(CLIENT_OFFSETS);
    if (client === undefined)
        throw new Error(`no usable client address inside allowedCidrs (${plan.allowedCidrs.join(", ")})`);
    taken.add(client);
    const hostile = pickAllowed(HOSTILE_OFFSETS);
    if (hostile === undefined) notes.push("allowedCidrs hold a single address: no hostile-but-allowed peer");
    else taken.add(hostile);
    // Documentation addresses outside allowedCidrs (the attacker must be; the mirror and NAT rather are).
    const pickOutside = (offsets: readonly number[]): number | undefined => {
        for (const d of DOC_RANGES)
            for (const ip of candidatesIn(d, offsets)) if (usable(ip) && !isAllowed(ip)) return ip;
        return undefined;
    };
    const attacker = pickOutside(HOSTILE_OFFSETS);
    if (attacker === undefined) notes.push("allowedCidrs cover every documentation address: no attacker peer");
    else taken.add(attacker);
    const pickServer = (offsets: readonly number[], what: string): number => {
        let ip = pickOutside(offsets);
        for (const d of DOC_RANGES) for (const c of candidatesIn(d, offsets)) if (ip === undefined && usable(c)) ip = c;
        if (ip === undefined) throw new Error(`no documentation address left for the lab's ${what}`);
        taken.add(ip);
        return ip;
    };
    const mirrorIp = intToIp(pickServer(MIRROR_OFFSETS, "mirror"));
    // Subnets with private hosts and a default route go out through their NAT gateway's address.
    let labNatIp: string | undefined;
    for (const s of subnets) {
        const routed = plan.hosts.filter(
            (h) => h.publicIp === undefined && canonicalCidr(h.subnetCidr) === s.cidr && h.internetRoute !== false,
        );
        if (routed.length === 0) continue;
        labNatIp ??= routed.some((h) => h.natPublicIp === undefined)
            ? intToIp(pickServer(NAT_OFFSETS, "NAT"))
            : undefined;
        s.natIp = routed.find((h) => h.natPublicIp !== undefined)?.natPublicIp ?? labNatIp;
    }

    const peers: PeerNode[] = [
        { role: "client", ns: nsName(stack, "client"), ip: intToIp(client), inetPort: "v-client" },
    ];
    if (attacker !== undefined)
        peers.push({ role: "attacker", ns: nsName(stack, "attack"), ip: intToIp(attacker), inetPort: "v-attack" });
    if (hostile !== undefined)
        peers.push({ role: "hostile", ns: nsName(stack, "hostile"), ip: intToIp(hostile), inetPort: "v-hostile" });

    const hosts: HostNode[] = plan.hosts.map((h, i) => {
        const subnet = subnets[subnetCidrs.indexOf(canonicalCidr(h.subnetCidr))];
        const node: HostNode = {
            name: h.name,
            role: h.role,
            ns: nsName(stack, h.name),
            privateIp: h.privateIp,
            subnet,
            privateIf: h.publicIp ? "priv0" : "eth0",
            vpcPort: `h${i}`,
            routes: h.publicIp ? subnets.filter((s) => s !== subnet).map((s) => s.cidr) : ["default"],
        };
        if (h.publicIp) {
            node.publicIp = h.publicIp;
            node.publicIf = "pub0";
            node.inetPort = "v-bastion";
        }
        return node;
    });

    const inetNs = nsName(stack, "inet");
    const vpcNs = nsName(stack, "vpc");
    const namespaces = [inetNs, vpcNs, ...peers.map((p) => p.ns), ...hosts.map((h) => h.ns)];
    if (new Set(namespaces).size !== namespaces.length) throw new Error("namespace names collide; rename a host");
    return { stack, inetNs, vpcNs, peers, subnets, hosts, mirrorIp, namespaces, notes };
}

function canonicalCidr(cidr: string): string {
    const c = parseCidr4(cidr);
    return `${intToIp(c.network)}/${c.prefix}`;
}

/** The NAT gateways' public addresses (on the VPC router's public leg); empty when no subnet has a NAT. */
export function natAddresses(t: LabTopology): string[] {
    return [...new Set(t.subnets.flatMap((s) => (s.natIp === undefined ? [] : [s.natIp])))];
}

/** The peer with `role`, or undefined. */
export function peer(t: LabTopology, role: PeerNode["role"]): PeerNode | undefined {
    return t.peers.find((p) => p.role === role);
}
