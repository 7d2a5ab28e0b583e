// Who may talk to whom, once, as plain data: the security groups (securityGroups.ts) create one rule per
// flow, and each host's own firewall (render/hostFirewall.ts) is rendered from the flows of its group,
// with the peers resolved to addresses. Pure: no Pulumi, so both sides and the tests read the same list.
import { hostAt, parseCidr } from "./cidr";

/** Port the targets' and inner hops' sshd listens on. */
export const TARGET_SSH_PORT = 22;
/** Ports hosts may reach on the internet (through the IGW or NAT): package mirrors and AWS endpoints. */
export const UPDATE_PORTS: readonly number[] = [80, 443];
/** The group every target is in. */
export const TARGETS_GROUP = "targets";

/** The other end of a flow, before any address exists. */
export type FlowPeer =
    | { kind: "cidr"; cidr: string }
    /** A bastion hop (its group; on a host, its address). */
    | { kind: "hop"; hop: string }
    /** Every target (the targets group; on a host, each target's address). */
    | { kind: "targets" }
    /** One declared tunnel's target. */
    | { kind: "tunnel"; tunnel: string }
    /** A host jumpgate reaches but does not build. */
    | { kind: "existing"; host: string }
    /** Anything on the internet (through the IGW or NAT). */
    | { kind: "internet" };

/** One allowed TCP flow, seen from the group it belongs to. */
export interface Flow {
    /** The group the rule belongs to: a hop name or `targets`. */
    group: string;
    direction: "in" | "out";
    port: number;
    peer: FlowPeer;
    /** The security group rule's resource name after `<component name>-` (stable: renaming replaces the rule). */
    ruleName: string;
    /** EC2 accepts only a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (no apostrophes). */
    description: string;
}

export interface FlowSettings {
    /** IPv4 CIDRs allowed to reach the outer hop's SSH port. */
    allowedCidrs: readonly string[];
    /** The outer hop's SSH port (inner hops and targets use 22). */
    sshPort: number;
    /** Bastion hop names, outermost first. */
    hops: readonly string[];
    /** Declared tunnels: one port of one target, from the last hop. */
    tunnels: readonly {
        name: string;
        port: number;
    }[];
    /** Hosts jumpgate does not build, reached from the last hop on their SSH port. Defaults to none. */
    existingHosts?: readonly { name: string; port: number }[];
}

/**
 * Every allowed flow of a stack: SSH in to the outer hop from the allowed CIDRs; along the chain, each hop
 * to the next only; the last hop to the targets' SSH port and each tunnel's one port; every host out to
 * the internet on the update ports. Anything not listed is dropped by both the groups and the hosts.
 */
export function allowedFlows(s: FlowSettings): Flow[] {
    const hops = s.hops.length > 0 ? s.hops : ["bastion"];
    const outer = hops[0]!;
    const last = hops[hops.length - 1]!;
    const flows: Flow[] = s.allowedCidrs.map((cidr, i) => {
        if (parseCidr(cidr).version !== 4)
            throw new Error(`allowed CIDR ${cidr} is not IPv4; the bastion has no IPv6 address to reach`);
        const peer: FlowPeer = { kind: "cidr", cidr };
        return flow(outer, "in", s.sshPort, peer, `${outer}-ssh-in-${i}`, `SSH from allowed CIDR ${cidr}`);
    });
    hops.slice(0, -1).forEach((hop, k) => {
        const next = hops[k + 1]!;
        flows.push(
            flow(
                hop,
                "out",
                TARGET_SSH_PORT,
                { kind: "hop", hop: next },
                `${hop}-ssh-to-${next}`,
                `SSH to the next hop (${next}) only`,
            ),
            flow(
                next,
                "in",
                TARGET_SSH_PORT,
                { kind: "hop", hop },
                `${next}-ssh-from-${hop}`,
                `SSH from the previous hop (${hop}) only`,
            ),
        );
    });
    const lastHop: FlowPeer = { kind: "hop", hop: last };
    flows.push(
        flow(
            last,
            "out",
            TARGET_SSH_PORT,
            { kind: "targets" },
            `${last}-ssh-to-targets`,
            "SSH to the targets group only",
        ),
        flow(
            TARGETS_GROUP,
            "in",
            TARGET_SSH_PORT,
            lastHop,
            `targets-ssh-from-${last}`,
            `SSH from the ${last} group only`,
        ),
    );
    for (const t of s.tunnels) {
        const only = `Tunnel ${t.name}: port ${t.port}`;
        flows.push(
            flow(
                last,
                "out",
                t.port,
                { kind: "tunnel", tunnel: t.name },
                `${last}-tunnel-${t.name}`,
                `${only} of one target`,
            ),
            flow(TARGETS_GROUP, "in", t.port, lastHop, `targets-tunnel-${t.name}`, `${only} from the bastion only`),
        );
    }
    for (const h of s.existingHosts ?? [])
        flows.push(
            flow(
                last,
                "out",
                h.port,
                { kind: "existing", host: h.name },
                `${last}-ssh-to-${h.name}`,
                `SSH to existing host ${h.name} only`,
            ),
        );
    for (const group of [...hops, TARGETS_GROUP])
        for (const port of UPDATE_PORTS)
            flows.push(
                flow(
                    group,
                    "out",
                    port,
                    { kind: "internet" },
                    `${group}-updates-${port}`,
                    `Package updates over port ${port}`,
                ),
            );
    return flows;
}

function flow(
    group: string,
    direction: Flow["direction"],
    port: number,
    peer: FlowPeer,
    ruleName: string,
    description: string,
): Flow {
    return { group, direction, port, peer, ruleName, description };
}

/** Where each group's members are, as the hosts see their connections. */
export interface FlowAddresses {
    /** Each hop's address (the outer hop's connections come from its public subnet's CIDR: AWS picks its address). */
    hops: Record<string, string>;
    /** Each target's private address, by name. */
    targets: Record<string, string>;
    /** Each tunnel's target address, by tunnel name. */
    tunnels: Record<string, string>;
    /** Each existing host's address, by name. Defaults to none. */
    existing?: Record<string, string>;
}

/** The TCP part of one host's own firewall: the flows of its group, peers resolved to addresses. */
export interface HostFlows {
    /** `port` undefined: every TCP port. */
    tcpIn: { port?: number; from: string[] }[];
    tcpOut: { port: number; to: string[] }[];
    /** Internet ports (root and apt only on the host). */
    updatePorts: number[];
}

/**
 * The flows of `group` as host `host` (a hop name, or a target's name in the targets group) applies them:
 * each peer group becomes its members' addresses. A target accepts the last hop on every TCP port (its
 * SSH and any tunnel's): the tunnels then change without changing the targets' user data, which would
 * replace them; the last hop's own firewall, its PermitOpen and the security groups open only the
 * model's ports.
 */
export function hostFlows(flows: readonly Flow[], group: string, host: string, at: FlowAddresses): HostFlows {
    const lookup = (table: Record<string, string>, key: string, what: string): string => {
        const address = table[key];
        if (address === undefined) throw new Error(`host firewall of ${host}: no address for ${what} ${key}`);
        return address;
    };
    const addresses = (peer: FlowPeer): string[] => {
        switch (peer.kind) {
            case "cidr":
                return [peer.cidr];
            case "hop":
                return [lookup(at.hops, peer.hop, "hop")];
            case "targets":
                return Object.values(at.targets);
            case "tunnel":
                return [lookup(at.tunnels, peer.tunnel, "tunnel")];
            case "existing":
                return [lookup(at.existing ?? {}, peer.host, "existing host")];
            case "internet":
                return [];
        }
    };
    const mine = flows.filter((f) => f.group === group);
    const tcp = mine.filter((f) => f.peer.kind !== "internet");
    const tcpIn = tcp.filter((f) => f.direction === "in").map((f) => ({ port: f.port, from: addresses(f.peer) }));
    return {
        tcpIn: group === TARGETS_GROUP ? [{ from: [...new Set(tcpIn.flatMap((r) => r.from))] }] : tcpIn,
        tcpOut: tcp.filter((f) => f.direction === "out").map((f) => ({ port: f.port, to: addresses(f.peer) })),
        updatePorts: mine.filter((f) => f.peer.kind === "internet" && f.direction === "out").map((f) => f.port),
    };
}

/** The Amazon DNS server of a VPC: its primary CIDR's base address plus two. */
export function vpcResolverAddress(vpcCidr: string): string {
    const cidr = parseCidr(vpcCidr);
    if (cidr.version !== 4) throw new Error(`VPC CIDR ${vpcCidr} is not IPv4`);
    return hostAt(cidr, 2);
}
