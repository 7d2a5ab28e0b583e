// The host's own firewall: nftables, its own table (`inet jumpgate-host`), default drop in, out and
// forward. The security groups are the network's control; this is the host's, rendered from the same
// flows (net/flows.ts), so a host whose group is opened by mistake, or a process on it that is not
// meant to talk, still gets nothing through. fail2ban's `inet f2b-table` is a separate table: a packet
// must pass both, so a ban still wins.
//
// 80/443 go out only for root and apt's download user (`_apt`), not to an allow-list of names: the
// update and AWS endpoints (deb.debian.org, security.debian.org, s3/ssm/ssmmessages/ec2messages/logs
// .<region>.amazonaws.com) are CDN and AWS front ends whose answers change per query and are shared
// with every other customer, so a set of resolved addresses would both lag apt's own lookups (dropped
// updates) and admit anyone else's content behind the same addresses; the names come from DNS answers
// besides. What the host's uid rule does hold: the jump user's forwarded connections, and any other
// unprivileged process, cannot reach the internet at all.
import type { CloudConfigFile } from "./cloudConfig";
import type { HostFirewallSpec } from "./model";

/** The host firewall's table (the lab's security-group stand-in is `inet jumpgate-sg`, fail2ban's `inet f2b-table`). */
export const HOST_FIREWALL_TABLE = "jumpgate-host";
export const HOST_FIREWALL_PATH = "/etc/jumpgate/host-firewall.nft";
export const HOST_FIREWALL_UNIT = "jumpgate-firewall.service";
export const HOST_FIREWALL_UNIT_PATH = `/etc/systemd/system/${HOST_FIREWALL_UNIT}`;
/** Amazon's DNS server at a link-local address (Nitro instances), besides the VPC's base + 2. */
export const AMAZON_DNS_LINK_LOCAL = "169.254.169.253";
/** Amazon Time Sync Service. */
export const AMAZON_TIME_SYNC = "169.254.169.123";
/** Instance metadata (IMDSv2): credentials of the instance role, so root only. */
export const IMDS_ADDRESS = "169.254.169.254";
/** apt runs its downloads as this user (APT::Sandbox::User). */
export const APT_SANDBOX_USER = "_apt";

/** First-boot command: load the firewall now (later boots load it from sysinit.target, before the network). */
export const HOST_FIREWALL_START: readonly string[] = [
    "sh",
    "-c",
    `systemctl daemon-reload && systemctl enable --now ${HOST_FIREWALL_UNIT}`,
];

const ADDRESS = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;

function assertSpec(spec: HostFirewallSpec): void {
    const ports = [...spec.tcpIn, ...spec.tcpOut].flatMap((r) => (r.port === undefined ? [] : [r.port]));
    ports.push(...spec.updatePorts);
    for (const p of ports)
        if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`host firewall: invalid port ${p}`);
    const addresses = [...spec.tcpIn.flatMap((r) => r.from), ...spec.tcpOut.flatMap((r) => r.to), spec.vpcResolver];
    for (const a of addresses)
        if (!ADDRESS.test(a)) throw new Error(`host firewall: '${a}' is not an IPv4 address or CIDR`);
}

function ipValue(ip: string): number {
    return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function ipText(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * An nft set of `peers`: CIDRs as given, single addresses sorted, and runs of consecutive ones as
 * `first-last` ranges (exactly the same addresses). Targets sit at consecutive addresses of each subnet,
 * so a last hop's thousand targets take a few ranges, not 14 KB of user data.
 */
export function nftAddressSet(peers: readonly string[]): string {
    const cidrs = [...new Set(peers.filter((p) => p.includes("/")))];
    const ips = [...new Set(peers.filter((p) => !p.includes("/")).map(ipValue))].sort((a, b) => a - b);
    const runs: string[] = [];
    for (let i = 0; i < ips.length;) {
        let j = i;
        while (j + 1 < ips.length && ips[j + 1] === ips[j]! + 1) j++;
        runs.push(j === i ? ipText(ips[i]!) : `${ipText(ips[i]!)}-${ipText(ips[j]!)}`);
        i = j + 1;
    }
    return `{ ${[...cidrs, ...runs].join(", ")} }`;
}

/** The model's TCP flows: SSH in from the allowed sources, SSH and tunnels out to the next hop or targets. */
function modelRules(spec: HostFirewallSpec): { input: string[]; output: string[] } {
    const set = nftAddressSet;
    return {
        input: spec.tcpIn
            .filter((r) => r.from.length > 0)
            .map(
                (r) =>
                    `ip saddr ${set(r.from)} ${r.port === undefined ? "meta l4proto tcp" : `tcp dport ${r.port}`} accept`,
            ),
        output: spec.tcpOut
            .filter((r) => r.to.length > 0)
            .map((r) => `ip daddr ${set(r.to)} tcp dport ${r.port} accept`),
    };
}

/** Marks the rules the SSH-only fallback leaves out (the unit deletes the lines that end with it). */
export const NOT_IN_FALLBACK = "#no-fallback";

/**
 * The host's ruleset, one `nft -f` script: creates the table if absent, then replaces it whole (one
 * transaction: atomic). In: replies (path-MTU ICMP errors, fragmentation-needed and packet-too-big, are
 * `related` to the connection they concern and pass with it; no other ICMP), loopback, the SSH (and
 * tunnel) ports from the model's sources. Out: replies, loopback, DHCP renewals, the model's SSH and
 * tunnel destinations, DNS to the VPC's resolver, NTP to Amazon Time Sync, instance metadata for root
 * only, the update ports for root and `_apt`.
 * Compact (no rule comments): every byte counts against EC2's 16 KiB of user data.
 */
export function renderHostFirewall(spec: HostFirewallSpec): string {
    assertSpec(spec);
    const model = modelRules(spec);
    const extra = (rules: string[]) => rules.map((r) => `${r} ${NOT_IN_FALLBACK}`);
    const updates =
        spec.updatePorts.length === 0
            ? []
            : [`tcp dport { ${spec.updatePorts.join(", ")} } meta skuid { 0, ${APT_SANDBOX_USER} } accept`];
    const chain = (name: string, rules: string[]) => [
        `chain ${name} {`,
        ` type filter hook ${name} priority filter; policy drop;`,
        ...rules.map((r) => ` ${r}`),
        "}",
    ];
    const t = HOST_FIREWALL_TABLE;
    return [
        `table inet ${t}`,
        `delete table inet ${t}`,
        `table inet ${t} {`,
        ...chain("input", ["ct state established,related accept", 'iif "lo" accept', ...model.input, "counter drop"]),
        ...chain("forward", []),
        ...chain("output", [
            "ct state established,related accept",
            'oif "lo" accept',
            // DHCP lease renewals go unicast to the VPC router (kept in the fallback: losing the lease loses the host).
            "udp sport 68 udp dport 67 accept",
            ...model.output,
            ...extra([
                `ip daddr { ${spec.vpcResolver}, ${AMAZON_DNS_LINK_LOCAL} } meta l4proto { tcp, udp } th dport 53 accept`,
                `ip daddr ${AMAZON_TIME_SYNC} udp dport 123 accept`,
                `ip daddr ${IMDS_ADDRESS} tcp dport 80 meta skuid 0 accept`,
                "ip daddr 169.254.0.0/16 drop",
                ...updates,
            ]),
            "counter drop",
        ]),
        "}",
        "",
    ].join("\n");
}

/**
 * The SSH-only fallback, loaded when the ruleset does not load: the same table with the model's SSH
 * flows only (in from the allowed sources, out to the next hop or the targets), so the operator still
 * gets through the chain while everything else stays dropped, and the unit fails for all to see. Fail
 * closed except SSH rather than keep no firewall: a host whose firewall silently disappears looks
 * exactly like a protected one. Derived on the host from the ruleset itself, by this command.
 */
export const FALLBACK_COMMAND = `sed '/ ${NOT_IN_FALLBACK}$/d' ${HOST_FIREWALL_PATH}`;

/**
 * Loads the ruleset once `nft -c` accepts it, else the fallback, and then fails. From sysinit.target,
 * before the network is up (as Debian's nftables.service). No ExecStop: stopping the unit keeps the rules.
 * Only its own table: never `flush ruleset`, which would drop fail2ban's table too.
 */
export function renderHostFirewallUnit(): string {
    const f = HOST_FIREWALL_PATH;
    return [
        "[Unit]",
        "Description=jumpgate host firewall",
        "DefaultDependencies=no",
        "Wants=network-pre.target",
        "Before=network-pre.target",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        // `$$`: systemd's literal dollar (sed's end of line).
        `ExecStart=/bin/sh -c "nft -cf ${f} && nft -f ${f} && exit 0; ${FALLBACK_COMMAND.replace("$", "$$$$")} | nft -f -; exit 1"`,
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ].join("\n");
}

/** The files cloud-init writes (init stage, before sshd starts): the ruleset and its unit. */
export function hostFirewallFiles(spec: HostFirewallSpec): CloudConfigFile[] {
    const file = (path: string, content: string, permissions: string): CloudConfigFile => ({
        path,
        content,
        owner: "root:root",
        permissions,
    });
    return [
        file(HOST_FIREWALL_PATH, renderHostFirewall(spec), "0600"),
        file(HOST_FIREWALL_UNIT_PATH, renderHostFirewallUnit(), "0644"),
    ];
}
