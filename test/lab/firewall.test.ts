// The security-group → nftables renderer: text checks always, and `nft -c` (in a throwaway network
// namespace, so nothing on the machine changes) where nft and root are available.
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../lab/exec";
import { NAT_TABLE, NFT_TABLE, renderNatRuleset, renderNftRuleset } from "../../lab/firewall";
import type { LabHost } from "../../lab/model";
import { programLabPlan } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

let bastion: LabHost;
let target: LabHost;
beforeAll(async () => {
    const plan = await programLabPlan();
    bastion = plan.hosts.find((h) => h.role === "bastion") as LabHost;
    target = plan.hosts.find((h) => h.role === "target") as LabHost;
});

/** A host with every kind of rule the model allows. */
const edgeHost = (): LabHost => ({
    ...target,
    name: "edge",
    ingress: [
        {
            protocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrs: ["203.0.113.0/24", "2001:db8::/32"],
            description: 'SSH "quoted"',
        },
        { protocol: "udp", fromPort: 60000, toPort: 61000, cidrs: ["198.51.100.0/24"], description: "mosh range" },
        { protocol: "icmp", fromPort: 8, toPort: -1, cidrs: ["0.0.0.0/0"], description: "echo request" },
        { protocol: "icmp", fromPort: 3, toPort: 4, cidrs: ["10.0.0.0/8", "::/0"], description: "frag needed" },
        { protocol: "icmp", fromPort: -1, toPort: -1, cidrs: ["192.0.2.0/24"], description: "any icmp" },
        { protocol: "-1", fromPort: 0, toPort: 0, cidrs: ["10.42.0.0/16"], description: "all from the VPC" },
    ],
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrs: ["0.0.0.0/0", "::/0"], description: "all out" }],
});

describe("renderNftRuleset", () => {
    it("renders the bastion's security group: SSH from the allowed CIDRs only, stateful, policy drop", () => {
        const text = renderNftRuleset(bastion);
        expect(text).toContain(`table inet ${NFT_TABLE} {`);
        expect(text).toContain("type filter hook input priority filter; policy drop;");
        expect(text).toContain("type filter hook output priority filter; policy drop;");
        expect(text).toContain("ct state established,related accept");
        expect(text).toContain('iifname "lo" accept');
        expect(text).toContain(
            'ip saddr { 203.0.113.0/24 } tcp dport 22 accept comment "SSH from allowed CIDR 203.0.113.0/24"',
        );
        expect(text).toContain("ip daddr { 10.42.128.10/32, 10.42.192.10/32 } tcp dport 22 accept");
        // Nothing else is let in.
        const ingress = text.slice(text.indexOf("chain ingress"), text.indexOf("chain egress"));
        expect(ingress.match(/ accept/g)?.length).toBe(3);
    });

    it("renders a target's: SSH from the bastion's address only", () => {
        const text = renderNftRuleset(target);
        expect(text).toContain("ip saddr { 10.42.0.10/32 } tcp dport 22 accept");
        expect(text).toContain("meta nfproto ipv4 tcp dport 443 accept");
    });

    it("lets packages out over port 80 only while the security group's egress rule allows it", () => {
        const egress = (h: LabHost) => {
            const text = renderNftRuleset(h);
            return text.slice(text.indexOf("chain egress"));
        };
        // The lab's mirror is plain HTTP on the public segment: this is the rule apt's traffic needs.
        for (const h of [bastion, target])
            expect(egress(h)).toContain('meta nfproto ipv4 tcp dport 80 accept comment "Package updates over port 80"');
        const without = (h: LabHost): LabHost => ({
            ...h,
            egress: h.egress.filter((r) => !(r.protocol === "tcp" && r.fromPort <= 80 && r.toPort >= 80)),
        });
        for (const h of [bastion, target]) {
            const text = egress(without(h));
            expect(text).not.toMatch(/dport 80\b/);
            // What is left cannot carry it: established replies, loopback, and ports other than 80.
            const accepts = text.split("\n").filter((l) => / accept/.test(l));
            for (const l of accepts)
                expect(l).toMatch(/^\s*(ct state established,related|oifname "lo"|.* tcp dport (22|443)) accept/);
        }
    });

    it("splits families, handles ranges, ICMP type/code, all-traffic rules and quotes in descriptions", () => {
        const text = renderNftRuleset(edgeHost());
        expect(text).toContain("ip saddr { 203.0.113.0/24 } tcp dport 22 accept comment \"SSH 'quoted'\"");
        expect(text).toContain("ip6 saddr { 2001:db8::/32 } tcp dport 22 accept");
        expect(text).toContain("ip saddr { 198.51.100.0/24 } udp dport 60000-61000 accept");
        expect(text).toContain("meta nfproto ipv4 icmp type 8 accept");
        expect(text).toContain("ip saddr { 10.0.0.0/8 } icmp type 3 icmp code 4 accept");
        expect(text).not.toMatch(/ip6 .*icmp type/);
        expect(text).toContain("ip saddr { 192.0.2.0/24 } meta l4proto icmp accept");
        expect(text).toContain('ip saddr { 10.42.0.0/16 } accept comment "all from the VPC"');
        expect(text).toContain("meta nfproto ipv4 accept");
        expect(text).toContain("meta nfproto ipv6 accept");
    });

    it("leaves out rules without addresses (nothing to match)", () => {
        const text = renderNftRuleset({
            ...target,
            ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrs: [""], description: "prefix list" }],
        });
        expect(text).not.toContain("prefix list");
        expect(text).not.toContain("{  }");
    });

    it("rejects impossible ports", () => {
        const bad: LabHost = {
            ...target,
            ingress: [{ protocol: "tcp", fromPort: 70000, toPort: 70000, cidrs: ["0.0.0.0/0"], description: "x" }],
        };
        expect(() => renderNftRuleset(bad)).toThrow(/invalid fromPort/);
        const reversed: LabHost = {
            ...target,
            ingress: [{ protocol: "tcp", fromPort: 30, toPort: 20, cidrs: ["0.0.0.0/0"], description: "x" }],
        };
        expect(() => renderNftRuleset(reversed)).toThrow(/reversed/);
    });
});

describe("renderNatRuleset", () => {
    const subnets = [
        { cidr: "10.42.0.0/18" },
        { cidr: "10.42.128.0/18", natIp: "198.51.100.202" },
        { cidr: "10.42.192.0/18", natIp: "198.51.100.203" },
    ];

    it("translates only subnets with a NAT, each to its NAT gateway's address, and takes nothing in from the internet", () => {
        const text = renderNatRuleset("nat0", subnets);
        expect(text).toContain(`table ip ${NAT_TABLE} {`);
        expect(text).toContain('oifname "nat0" ip saddr 10.42.128.0/18 snat to 198.51.100.202');
        expect(text).toContain('oifname "nat0" ip saddr 10.42.192.0/18 snat to 198.51.100.203');
        expect(text).not.toContain("10.42.0.0/18");
        for (const hook of ["forward", "input"]) {
            const chain = text.slice(text.indexOf(`chain ${hook}`));
            expect(chain).toMatch(/iifname "nat0" ct state established,related accept\n\s*iifname "nat0" drop/);
        }
    });
});

describe.runIf(toolsAvailable("nft", "unshare") && isRootOrFail())("renderNftRuleset with the real nft", () => {
    it("nft -c accepts the VPC router's NAT ruleset, and it loads twice", () => {
        const text = renderNatRuleset("nat0", [{ cidr: "10.42.128.0/18", natIp: "198.51.100.202" }]);
        const script = `nft -f - <<'EOF'\n${text}EOF\nnft -f - <<'EOF'\n${text}EOF\nnft list table ip ${NAT_TABLE}`;
        const res = run("unshare", ["--net", "sh", "-ec", script], { check: false });
        expect(res.stderr).toBe("");
        expect(res.stdout).toMatch(/snat to 198\.51\.100\.202/);
    });

    for (const [label, host] of [
        ["bastion", () => bastion],
        ["target", () => target],
        ["edge", edgeHost],
    ] as const) {
        it(`nft -c accepts the ruleset of the ${label}`, () => {
            const res = run("unshare", ["--net", "nft", "-c", "-f", "-"], {
                input: renderNftRuleset(host()),
                check: false,
            });
            expect(res.stderr).toBe("");
            expect(res.status).toBe(0);
        });
    }

    it("loads twice (idempotent) next to a fail2ban nftables-multiport table, and both stay", () => {
        // What fail2ban's nftables-multiport action creates on its first ban (action.d/nftables.conf).
        const f2b = [
            "add table inet f2b-table",
            "add chain inet f2b-table f2b-chain { type filter hook input priority -1 ; }",
            "add set inet f2b-table addr-set-sshd { type ipv4_addr ; }",
            "add rule inet f2b-table f2b-chain tcp dport { 22 } ip saddr @addr-set-sshd reject",
            "add element inet f2b-table addr-set-sshd { 203.0.113.66 }",
        ].join("\n");
        const script = [
            `nft -f - <<'EOF'\n${renderNftRuleset(bastion)}EOF`,
            `nft -f - <<'EOF'\n${f2b}\nEOF`,
            `nft -f - <<'EOF'\n${renderNftRuleset(bastion)}EOF`,
            "nft list tables",
            "nft list set inet f2b-table addr-set-sshd",
        ].join("\n");
        const res = run("unshare", ["--net", "sh", "-ec", script], { check: false });
        expect(res.stderr).toBe("");
        expect(res.stdout).toContain(`table inet ${NFT_TABLE}`);
        expect(res.stdout).toContain("table inet f2b-table");
        expect(res.stdout).toContain("elements = { 203.0.113.66 }");
    });
});
