// A host's security group as an nftables ruleset (pure). Security groups are stateful allow-lists:
// replies to allowed traffic pass both ways, everything not allowed is dropped. So: established and
// related traffic and loopback are accepted, then one rule per CIDR family of each SG rule, policy drop.
// fail2ban's nftables actions add their own `inet f2b-table` (hook input, priority -1, i.e. before
// this table); a packet must pass both, so a ban wins and the security group still applies.
// Also the VPC router's NAT gateways (renderNatRuleset).
import type { LabFirewallRule, LabHost } from "./model";

/** Name of the lab's table in each host namespace. */
export const NFT_TABLE = "jumpgate-sg";

function isV6(cidr: string): boolean {
    return cidr.includes(":");
}

function isAnyCidr(cidr: string): boolean {
    return cidr === "0.0.0.0/0" || cidr === "::/0";
}

function comment(text: string): string {
    // nft comments: at most 128 bytes, double-quoted; keep them printable ASCII without quotes.
    const clean = text
        .replace(/[^\x20-\x7e]/g, " ")
        .replace(/["\\]/g, "'")
        .trim()
        .slice(0, 120);
    return ` comment "${clean || "security group rule"}"`;
}

function assertPort(n: number, what: string): void {
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid ${what} ${n}`);
}

/** The protocol/port part of a rule (without address), or "" for all traffic. */
function matchPart(rule: LabFirewallRule, family: "ip" | "ip6"): string | undefined {
    switch (rule.protocol) {
        case "-1":
            return "";
        case "tcp":
        case "udp": {
            assertPort(rule.fromPort, "fromPort");
            assertPort(rule.toPort, "toPort");
            if (rule.toPort < rule.fromPort) throw new Error(`port range ${rule.fromPort}-${rule.toPort} is reversed`);
            const ports = rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
            return `${rule.protocol} dport ${ports}`;
        }
        case "icmp": {
            // AWS: fromPort is the ICMP type and toPort the code, -1 meaning any. IPv4 only.
            if (family === "ip6") return undefined;
            if (rule.fromPort < 0) return "meta l4proto icmp";
            const type = `icmp type ${rule.fromPort}`;
            return rule.toPort < 0 ? type : `${type} icmp code ${rule.toPort}`;
        }
        default: {
            const never: never = rule.protocol;
            throw new Error(`unsupported protocol ${String(never)}`);
        }
    }
}

/** nft statements for one rule in one direction (`saddr` for ingress, `daddr` for egress). */
function ruleLines(rule: LabFirewallRule, dir: "saddr" | "daddr"): string[] {
    const lines: string[] = [];
    for (const family of ["ip", "ip6"] as const) {
        // Empty entries (a rule on a prefix list, which the plan cannot resolve) match nothing.
        const cidrs = rule.cidrs
            .map((c) => c.trim())
            .filter((c) => c.length > 0 && (family === "ip6" ? isV6(c) : !isV6(c)));
        if (cidrs.length === 0) continue;
        const match = matchPart(rule, family);
        if (match === undefined) continue;
        const proto = family === "ip" ? "ipv4" : "ipv6";
        const addr = cidrs.some(isAnyCidr) ? `meta nfproto ${proto}` : `${family} ${dir} { ${cidrs.join(", ")} }`;
        lines.push(`${[addr, match].filter((p) => p.length > 0).join(" ")} accept${comment(rule.description)}`);
    }
    return lines;
}

/** The host's security group as one `nft -f` script (idempotent: it replaces the table). */
export function renderNftRuleset(host: LabHost): string {
    const chain = (name: string, hook: "input" | "output", rules: LabFirewallRule[], dir: "saddr" | "daddr") => {
        const lo = hook === "input" ? 'iifname "lo" accept' : 'oifname "lo" accept';
        return [
            `    chain ${name} {`,
            `        type filter hook ${hook} priority filter; policy drop;`,
            "        ct state established,related accept",
            `        ${lo}`,
            ...rules.flatMap((r) => ruleLines(r, dir)).map((l) => `        ${l}`),
            "    }",
        ];
    };
    return [
        `# Security group of ${host.role} ${host.name}, rendered by the jumpgate lab.`,
        `table inet ${NFT_TABLE}`,
        `delete table inet ${NFT_TABLE}`,
        `table inet ${NFT_TABLE} {`,
        ...chain("ingress", "input", host.ingress, "saddr"),
        "",
        ...chain("egress", "output", host.egress, "daddr"),
        "}",
        "",
    ].join("\n");
}

/** Name of the lab's NAT table in the VPC router's namespace. */
export const NAT_TABLE = "jumpgate-nat";

/**
 * The VPC router's NAT gateways (pure): each subnet with a NAT leaves through the router's public leg
 * (`natIf`) with its source rewritten to its NAT gateway's public address, and, as a NAT gateway, the
 * leg takes no connection from the internet (replies to translated connections only).
 */
export function renderNatRuleset(natIf: string, subnets: readonly { cidr: string; natIp?: string }[]): string {
    const snat = subnets.flatMap((s) =>
        s.natIp === undefined
            ? []
            : [`oifname "${natIf}" ip saddr ${s.cidr} snat to ${s.natIp}${comment(`NAT gateway of ${s.cidr}`)}`],
    );
    const closed = (hook: "input" | "forward") => [
        `    chain ${hook} {`,
        `        type filter hook ${hook} priority filter; policy accept;`,
        `        iifname "${natIf}" ct state established,related accept`,
        `        iifname "${natIf}" drop${comment("a NAT gateway takes no connections from the internet")}`,
        "    }",
    ];
    return [
        "# NAT gateways of the lab's VPC router, rendered by the jumpgate lab.",
        `table ip ${NAT_TABLE}`,
        `delete table ip ${NAT_TABLE}`,
        `table ip ${NAT_TABLE} {`,
        "    chain postrouting {",
        "        type nat hook postrouting priority srcnat; policy accept;",
        ...snat.map((l) => `        ${l}`),
        "    }",
        ...closed("forward"),
        ...closed("input"),
        "}",
        "",
    ].join("\n");
}
