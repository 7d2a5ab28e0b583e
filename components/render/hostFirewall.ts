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
/** What is loaded when the ruleset above does not: the SSH flows only (see renderHostFirewallFallback). */
export const HOST_FIREWALL_FALLBACK_PATH = "/etc/jumpgate/host-firewall-fallback.nft";
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
    `systemctl daemon-reload && systemctl enable ${HOST_FIREWALL_UNIT} && systemctl start ${HOST_FIREWALL_UNIT}`,
];

const ADDRESS = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;

function assertSpec(spec: HostFirewallSpec): void {
    const ports = [...spec.tcpIn, ...spec.tcpOut].map((r) => r.port).concat(spec.updatePorts);
    for (const p of ports)
        if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`host firewall: invalid port ${p}`);
    const addresses = [...spec.tcpIn.flatMap((r) => r.from), ...spec.tcpOut.flatMap((r) => r.to), spec.vpcResolver];
    for (const a of addresses)
        if (!ADDRESS.test(a)) throw new Error(`host firewall: '${a}' is not an IPv4 address or CIDR`);
    for (const r of [...spec.tcpIn, ...spec.tcpOut])
        if (/["\\]/.test(r.why)) throw new Error(`host firewall: comment '${r.why}' contains a quote`);
}

function comment(text: string): string {
    return ` comment "${text.slice(0, 120)}"`;
}

/** The model's TCP flows: SSH in from the allowed sources, SSH and tunnels out to the next hop or targets. */
function modelRules(spec: HostFirewallSpec): { input: string[]; output: string[] } {
    const set = (xs: readonly string[]) => `{ ${[...new Set(xs)].join(", ")} }`;
    return {
        input: spec.tcpIn
            .filter((r) => r.from.length > 0)
            .map((r) => `ip saddr ${set(r.from)} tcp dport ${r.port} accept${comment(r.why)}`),
        output: spec.tcpOut
            .filter((r) => r.to.length > 0)
            .map((r) => `ip daddr ${set(r.to)} tcp dport ${r.port} accept${comment(r.why)}`),
    };
}

/** One `nft -f` script: creates the table if absent, then replaces it whole (atomic: one transaction). */
function ruleset(title: string, input: string[], output: string[]): string {
    const chain = (name: string, hook: string, rules: string[]) => [
        `    chain ${name} {`,
        `        type filter hook ${hook} priority filter; policy drop;`,
        ...rules.map((r) => `        ${r}`),
        "    }",
    ];
    const t = HOST_FIREWALL_TABLE;
    return [
        `# ${title} Managed by jumpgate.`,
        `table inet ${t}`,
        `delete table inet ${t}`,
        `table inet ${t} {`,
        ...chain("input", "input", [
            "ct state established,related accept",
            'iifname "lo" accept',
            ...input,
            `counter drop${comment("not in the flow model")}`,
        ]),
        "    # The host routes nothing.",
        ...chain("forward", "forward", ["counter drop"]),
        ...chain("output", "output", [
            "ct state established,related accept",
            'oifname "lo" accept',
            ...output,
            `counter drop${comment("not in the flow model")}`,
        ]),
        "}",
        "",
    ].join("\n");
}

/**
 * The host's ruleset. In: replies, loopback, path-MTU ICMP, the SSH (and tunnel) ports from the model's
 * sources. Out: replies, loopback, the model's SSH and tunnel destinations, DNS to the VPC's resolver,
 * NTP to Amazon Time Sync, instance metadata for root only, and the update ports for root and `_apt`.
 */
export function renderHostFirewall(spec: HostFirewallSpec): string {
    assertSpec(spec);
    const model = modelRules(spec);
    const resolvers = [spec.vpcResolver, AMAZON_DNS_LINK_LOCAL].join(", ");
    const updates =
        spec.updatePorts.length === 0
            ? []
            : [
                  `tcp dport { ${spec.updatePorts.join(", ")} } meta skuid { 0, "${APT_SANDBOX_USER}" } accept` +
                      comment("updates and AWS endpoints: root and apt only"),
              ];
    return ruleset(
        "The host's own firewall, from the stack's flow model (net/flows.ts).",
        [
            `icmp type destination-unreachable icmp code frag-needed accept${comment("path MTU discovery")}`,
            `icmpv6 type packet-too-big accept${comment("path MTU discovery")}`,
            ...model.input,
        ],
        [
            ...model.output,
            `ip daddr { ${resolvers} } meta l4proto { tcp, udp } th dport 53 accept${comment("DNS: the VPC resolver")}`,
            `ip daddr ${AMAZON_TIME_SYNC} udp dport 123 accept${comment("NTP: Amazon Time Sync")}`,
            `ip daddr ${IMDS_ADDRESS} tcp dport 80 meta skuid 0 accept${comment("instance metadata: root only")}`,
            `ip daddr 169.254.0.0/16 counter drop${comment("no other link-local service")}`,
            ...updates,
        ],
    );
}

/**
 * Loaded when the full ruleset does not load: the same table with the model's SSH flows only (in from
 * the allowed sources, out to the next hop or the targets), so the operator still gets through the chain
 * while everything else stays dropped, and the unit fails for all to see. Fail closed except SSH rather
 * than keep no firewall: a host whose firewall silently disappears looks exactly like a protected one.
 */
export function renderHostFirewallFallback(spec: HostFirewallSpec): string {
    assertSpec(spec);
    const model = modelRules(spec);
    return ruleset("FALLBACK: the host firewall did not load; SSH flows only.", model.input, model.output);
}

/**
 * Loads the ruleset once `nft -c` accepts it, else the fallback, and then fails. From sysinit.target,
 * before the network is up (as Debian's nftables.service). No ExecStop: stopping the unit keeps the rules.
 * Only its own table: never `flush ruleset`, which would drop fail2ban's table too.
 */
export function renderHostFirewallUnit(): string {
    const load = [
        `nft -c -f ${HOST_FIREWALL_PATH} && nft -f ${HOST_FIREWALL_PATH} && exit 0`,
        `echo jumpgate: ${HOST_FIREWALL_PATH} did not load, loading the SSH-only ${HOST_FIREWALL_FALLBACK_PATH} >&2`,
        `nft -f ${HOST_FIREWALL_FALLBACK_PATH}`,
        "exit 1",
    ].join("; ");
    return [
        "[Unit]",
        "Description=jumpgate host firewall (nftables table inet jumpgate-host)",
        "DefaultDependencies=no",
        "Wants=network-pre.target",
        "Before=network-pre.target shutdown.target",
        "Conflicts=shutdown.target",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        "StandardInput=null",
        `ExecStart=/bin/sh -c '${load}'`,
        `ExecReload=/bin/sh -c '${load}'`,
        "",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ].join("\n");
}

/** The files cloud-init writes (init stage, before sshd starts): both rulesets and the unit. */
export function hostFirewallFiles(spec: HostFirewallSpec): CloudConfigFile[] {
    const file = (path: string, content: string, permissions: string): CloudConfigFile => ({
        path,
        content,
        owner: "root:root",
        permissions,
    });
    return [
        file(HOST_FIREWALL_PATH, renderHostFirewall(spec), "0600"),
        file(HOST_FIREWALL_FALLBACK_PATH, renderHostFirewallFallback(spec), "0600"),
        file(HOST_FIREWALL_UNIT_PATH, renderHostFirewallUnit(), "0644"),
    ];
}
