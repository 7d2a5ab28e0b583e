// Namespaces, veth pairs, bridges, addresses and routes for a LabTopology. Every link is created
// directly between two lab namespaces (`ip -n A link add … peer … netns B`), so nothing is ever
// added to, or routed through, the machine's own (root) namespace.
import { run, runIn } from "./exec";
import { renderNatRuleset } from "./firewall";
import { NAT_IF, NAT_INET_PORT, natAddresses, type LabTopology } from "./topology";

/** The VPC router's route table for subnets with a NAT: its one route is the default through the NAT leg. */
const NAT_ROUTE_TABLE = "100";
/** After `main` (32766), so the VPC's own subnets are found there first; only traffic leaving the VPC gets here. */
const NAT_RULE_PRIORITY = 33000;

/** Names of the existing network namespaces. */
export function listNamespaces(): string[] {
    const out = run("ip", ["netns", "list"], { check: false }).stdout;
    return out
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter((n) => n.length > 0);
}

/** Pids of the processes whose network namespace is `ns` (empty when it does not exist). */
export function namespacePids(ns: string): number[] {
    const res = run("ip", ["netns", "pids", ns], { check: false });
    if (res.status !== 0) return [];
    return res.stdout
        .split("\n")
        .map((l) => Number(l.trim()))
        .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Namespaces attached by a veth to `ns` (the routers know every host and peer, so `down` can find
 * them even without the state file).
 */
export function attachedNamespaces(ns: string): string[] {
    const res = run("ip", ["-n", ns, "-o", "link", "show"], { check: false });
    if (res.status !== 0) return [];
    const found = new Set<string>();
    for (const m of res.stdout.matchAll(/link-netns (\S+)/g)) found.add(m[1]);
    return [...found];
}

/** Runs `ip` commands inside `ns` in one `ip -batch` process (one line per command). */
function ipBatch(ns: string, commands: string[][]): void {
    if (commands.length === 0) return;
    run("ip", ["-n", ns, "-batch", "-"], { input: `${commands.map((c) => c.join(" ")).join("\n")}\n` });
}

/** Creates every namespace, link, address and route of `t`. The namespaces must not exist yet. */
export function createNetwork(t: LabTopology): void {
    run("ip", ["-batch", "-"], { input: `${t.namespaces.map((ns) => `netns add ${ns}`).join("\n")}\n` });
    for (const ns of t.namespaces) {
        // IPv4 only on the lab links (no router solicitations or other IPv6 chatter); lo keeps ::1.
        // Routers forward; hosts (the bastion included) never do, as on EC2.
        const forward = ns === t.vpcNs ? ["net.ipv4.ip_forward=1"] : [];
        runIn(ns, "sysctl", ["-q", "-w", "net.ipv6.conf.default.disable_ipv6=1", ...forward]);
    }
    const batches = new Map<string, string[][]>(t.namespaces.map((ns) => [ns, [["link", "set", "lo", "up"]]]));
    const add = (ns: string, ...cmd: string[]) => (batches.get(ns) as string[][]).push(cmd);

    // 1. Bridges. The public segment: one bridge, every address on it a /32 with a device route.
    // The VPC: one bridge per subnet, holding the router's address (network + 1).
    add(t.inetNs, "link", "add", "br0", "type", "bridge");
    add(t.inetNs, "link", "set", "br0", "up");
    // The Debian mirror's address: the inet namespace is that server's host on the public segment.
    add(t.inetNs, "addr", "add", `${t.mirrorIp}/32`, "dev", "br0");
    add(t.inetNs, "route", "add", "default", "dev", "br0");
    for (const s of t.subnets) {
        add(t.vpcNs, "link", "add", s.bridge, "type", "bridge");
        add(t.vpcNs, "addr", "add", `${s.gateway}/${s.prefix}`, "dev", s.bridge);
        add(t.vpcNs, "link", "set", "dev", s.bridge, "up");
    }
    for (const ns of [t.inetNs, t.vpcNs]) {
        ipBatch(ns, batches.get(ns) as string[][]);
        batches.set(ns, []);
    }

    // 2. Each peer and host makes its veth(s), the other end landing in a router namespace.
    for (const p of t.peers) {
        add(p.ns, "link", "add", "eth0", "type", "veth", "peer", "name", p.inetPort, "netns", t.inetNs);
        add(p.ns, "addr", "add", `${p.ip}/32`, "dev", "eth0");
        add(p.ns, "link", "set", "dev", "eth0", "up");
        add(p.ns, "route", "add", "default", "dev", "eth0");
    }
    const inetPorts = t.peers.map((p) => p.inetPort);
    const nat = natAddresses(t);
    if (nat.length > 0) {
        // The NAT gateways' leg: their public addresses; only subnets whose route table says so use it.
        add(t.vpcNs, "link", "add", NAT_IF, "type", "veth", "peer", "name", NAT_INET_PORT, "netns", t.inetNs);
        for (const ip of nat) add(t.vpcNs, "addr", "add", `${ip}/32`, "dev", NAT_IF);
        add(t.vpcNs, "link", "set", "dev", NAT_IF, "up");
        add(t.vpcNs, "route", "add", "default", "dev", NAT_IF, "table", NAT_ROUTE_TABLE);
        t.subnets.forEach((s, i) => {
            if (s.natIp === undefined) return;
            const prio = String(NAT_RULE_PRIORITY + i);
            add(t.vpcNs, "rule", "add", "from", s.cidr, "iif", s.bridge, "lookup", NAT_ROUTE_TABLE, "priority", prio);
        });
        inetPorts.push(NAT_INET_PORT);
    }
    for (const h of t.hosts) {
        add(h.ns, "link", "add", h.privateIf, "type", "veth", "peer", "name", h.vpcPort, "netns", t.vpcNs);
        add(h.ns, "addr", "add", `${h.privateIp}/${h.subnet.prefix}`, "dev", h.privateIf);
        add(h.ns, "link", "set", "dev", h.privateIf, "up");
        // Private hosts' default route is the VPC router, as EC2's DHCP gives it; the bastion's is its public leg.
        for (const r of h.routes) add(h.ns, "route", "add", r, "via", h.subnet.gateway, "dev", h.privateIf);
        if (h.publicIp && h.publicIf && h.inetPort) {
            // The bastion's public leg: its Elastic IP, default route to the public side.
            add(h.ns, "link", "add", h.publicIf, "type", "veth", "peer", "name", h.inetPort, "netns", t.inetNs);
            add(h.ns, "addr", "add", `${h.publicIp}/32`, "dev", h.publicIf);
            add(h.ns, "link", "set", "dev", h.publicIf, "up");
            add(h.ns, "route", "add", "default", "dev", h.publicIf);
            inetPorts.push(h.inetPort);
        }
    }
    for (const ns of [t.vpcNs, ...t.peers.map((p) => p.ns), ...t.hosts.map((h) => h.ns)])
        ipBatch(ns, batches.get(ns) as string[][]);
    if (nat.length > 0) {
        // ARP on the public side only for the NAT addresses, not the router's VPC addresses.
        runIn(t.vpcNs, "sysctl", ["-q", "-w", `net.ipv4.conf.${NAT_IF}.arp_ignore=1`]);
        loadNftRuleset(t.vpcNs, renderNatRuleset(NAT_IF, t.subnets));
    }

    // 3. Router ends into their bridges.
    ipBatch(
        t.inetNs,
        inetPorts.flatMap((port) => [
            ["link", "set", "dev", port, "master", "br0"],
            ["link", "set", "dev", port, "up"],
        ]),
    );
    ipBatch(
        t.vpcNs,
        t.hosts.flatMap((h) => [
            ["link", "set", "dev", h.vpcPort, "master", h.subnet.bridge],
            ["link", "set", "dev", h.vpcPort, "up"],
        ]),
    );
}

/** Deletes the namespaces (their veths and bridges go with them). Missing ones are ignored. */
export function deleteNamespaces(names: readonly string[]): string[] {
    const existing = new Set(listNamespaces());
    const deleted: string[] = [];
    for (const ns of names) {
        if (!existing.has(ns)) continue;
        run("ip", ["netns", "delete", ns], { check: false });
        deleted.push(ns);
    }
    return deleted;
}

/** Loads an nft ruleset into `ns` atomically. */
export function loadNftRuleset(ns: string, ruleset: string): void {
    runIn(ns, "nft", ["-f", "-"], { input: ruleset });
}
