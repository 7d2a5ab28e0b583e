// Each host's own firewall, as the program renders it into the user data: nft itself judges every
// ruleset (`nft -c` in a throwaway network namespace), systemd-analyze the unit, and the rules are
// checked against the security groups the same run created (one flow model, two renderings).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import {
    FALLBACK_COMMAND,
    HOST_FIREWALL_PATH,
    HOST_FIREWALL_START,
    HOST_FIREWALL_TABLE,
    HOST_FIREWALL_UNIT_PATH,
    nftAddressSet,
    renderHostFirewall,
} from "../../components/render/hostFirewall";
import { decodeUserData } from "../../components/render/userDataSize";
import { labPlanFromRun } from "../../lab/fromPlan";
import type { LabHost } from "../../lab/model";
import type { OfflineRun } from "../../offline/run";
import { BASE_CONFIG, plan } from "../helpers/program";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const TARGETS = [{ name: "app-1" }, { name: "db-1" }];
const TUNNELS = [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }];
/** Stacks whose hosts differ in what their firewall allows. */
const STACKS: Record<string, Record<string, unknown>> = {
    "one bastion, port 2222, a tunnel": {
        "jumpgate:targets": TARGETS,
        "jumpgate:sshPort": 2222,
        "jumpgate:tunnels": TUNNELS,
    },
    "a chain of three hops": { "jumpgate:bastions": ["edge", "mgmt", "core"], "jumpgate:targets": TARGETS },
};

interface RenderedHost {
    name: string;
    doc: ReturnType<typeof parseCloudConfig>;
    ruleset: string;
    fallback: string;
    lab: LabHost;
}

/** The SSH-only fallback as the unit derives it on the host: its own command, run on the rendered file. */
function fallbackOf(ruleset: string): string {
    const dir = mkdtempSync(join(tmpdir(), "jg-hostfw-fb-"));
    try {
        const file = join(dir, "host-firewall.nft");
        writeFileSync(file, ruleset);
        const sed = spawnSync("sh", ["-c", FALLBACK_COMMAND.replace(HOST_FIREWALL_PATH, file)], { encoding: "utf8" });
        if (sed.status !== 0) throw new Error(sed.stderr);
        return sed.stdout;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

async function renderedHosts(config: Record<string, unknown>): Promise<{ run: OfflineRun; hosts: RenderedHost[] }> {
    const run = await plan(config, "fw");
    const lab = labPlanFromRun(run, { ...BASE_CONFIG, ...config });
    const hosts = lab.hosts.map((h) => {
        const doc = parseCloudConfig(h.cloudInit);
        return {
            name: h.name,
            doc,
            ruleset: fileAt(doc, HOST_FIREWALL_PATH),
            fallback: fallbackOf(fileAt(doc, HOST_FIREWALL_PATH)),
            lab: h,
        };
    });
    return { run, hosts };
}

/** The `tcp dport` rules of one chain: port → addresses (the `ip saddr`/`ip daddr` set). */
function tcpRules(ruleset: string, chain: "input" | "output"): Map<number, string[]> {
    const body = new RegExp(`chain ${chain} \\{([\\s\\S]*?)\\n\\}`).exec(ruleset)?.[1] ?? "";
    const rules = new Map<number, string[]>();
    // Port 0 stands for `meta l4proto tcp`: every TCP port.
    for (const m of body.matchAll(/ip [sd]addr \{ ([^}]*) \} (?:tcp dport (\d+)|meta l4proto tcp) accept/g))
        rules.set(Number(m[2] ?? 0), [
            ...(rules.get(Number(m[2] ?? 0)) ?? []),
            ...m[1]!.split(", ").flatMap(expandRange),
        ]);
    return rules;
}

const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** `a-b` as the addresses it holds (nft's range syntax). */
function expandRange(element: string): string[] {
    const [from, to] = element.split("-");
    if (to === undefined) return [element];
    return Array.from({ length: toInt(to) - toInt(from!) + 1 }, (_, i) => toIp(toInt(from!) + i));
}

function ipInCidr(ip: string, cidr: string): boolean {
    const [base, len = "32"] = cidr.split("/");
    const size = 2 ** (32 - Number(len));
    return Math.floor(toInt(ip) / size) === Math.floor(toInt(base!) / size);
}

describe.each(Object.entries(STACKS))("the host firewall of %s", (_, config) => {
    let hosts: RenderedHost[];
    beforeAll(async () => {
        hosts = (await renderedHosts(config)).hosts;
    }, 60_000);

    it("every host gets its own table, its unit, and starts it first at first boot", () => {
        expect(hosts.length).toBeGreaterThanOrEqual(3);
        for (const h of hosts) {
            expect(h.ruleset).toContain(`table inet ${HOST_FIREWALL_TABLE} {`);
            expect(h.ruleset).not.toMatch(/flush ruleset/);
            expect(fileAt(h.doc, HOST_FIREWALL_UNIT_PATH)).toContain("WantedBy=sysinit.target");
            expect(h.doc.runcmd?.[0]).toEqual([...HOST_FIREWALL_START]);
            const file = h.doc.write_files.find((f) => f.path === HOST_FIREWALL_PATH)!;
            expect(file.defer).toBeUndefined();
            expect(file.permissions).toBe("0600");
        }
    });

    it("lets in and out exactly the TCP ports the host's security group allows, from and to no wider peers", () => {
        for (const h of hosts) {
            for (const [chain, rules] of [
                ["input", h.lab.ingress],
                ["output", h.lab.egress],
            ] as const) {
                const sg = rules.filter((r) => r.protocol === "tcp" && !r.cidrs.includes("0.0.0.0/0"));
                const host = tcpRules(h.ruleset, chain);
                const sgPorts = [...new Set(sg.map((r) => r.fromPort))].sort();
                // A target takes every TCP port from the last hop (tunnels change without replacing it):
                // checked below against each port its group opens.
                const any = h.lab.role === "target" && chain === "input";
                expect([...host.keys()].sort(), `${h.name} ${chain}`).toEqual(any ? [0] : sgPorts);
                for (const [port, peers] of [...host].flatMap(([p, peers]) =>
                    p === 0 ? sgPorts.map((q) => [q, peers] as const) : [[p, peers] as const],
                )) {
                    const allowed = sg.filter((r) => r.fromPort === port).flatMap((r) => r.cidrs);
                    // Each host-side peer is one of the group's peers, or the outer hop's subnet holding it.
                    for (const p of peers)
                        expect(
                            allowed.some((a) => a === p || a === `${p}/32` || ipInCidr(a.split("/")[0]!, p)),
                            `${h.name} ${chain} ${port} ${p} in ${allowed.join(" ")}`,
                        ).toBe(true);
                }
            }
        }
    });

    it("sends 80/443 only for root and apt, instance metadata only for root, DNS and NTP only to Amazon's", () => {
        for (const h of hosts) {
            expect(h.ruleset).toMatch(/^\s+tcp dport \{ 80, 443 \} meta skuid \{ 0, _apt \} accept/m);
            expect(h.ruleset).toMatch(/^\s+ip daddr 169\.254\.169\.254 tcp dport 80 meta skuid 0 accept/m);
            expect(h.ruleset).toMatch(
                /ip daddr \{ 10\.42\.0\.2, 169\.254\.169\.253 \} meta l4proto \{ tcp, udp \} th dport 53/,
            );
            expect(h.ruleset).toMatch(/ip daddr 169\.254\.169\.123 udp dport 123 accept/);
            // The fallback keeps only the SSH flows.
            expect(h.fallback).not.toMatch(/dport (53|80|123)\b|skuid|icmp/);
            expect(h.fallback).toMatch(/policy drop;[\s\S]*policy drop;[\s\S]*policy drop;/);
            expect(tcpRules(h.fallback, "input")).toEqual(tcpRules(h.ruleset, "input"));
            expect(tcpRules(h.fallback, "output")).toEqual(tcpRules(h.ruleset, "output"));
        }
    });
});

describe("what each host lets through", () => {
    it("the outer hop: SSH from anywhere (its group holds allowedCidrs); out to the targets' SSH and the tunnel's one port; targets from it only", async () => {
        const { hosts } = await renderedHosts(STACKS["one bastion, port 2222, a tunnel"]!);
        const [bastion, app, db] = ["bastion", "app-1", "db-1"].map((n) => hosts.find((h) => h.name === n)!);
        // Not the allowed CIDRs: they would make a routine access change replace the bastion (see jumpgate.ts).
        expect(tcpRules(bastion!.ruleset, "input")).toEqual(new Map([[2222, ["0.0.0.0/0"]]]));
        expect(tcpRules(bastion!.ruleset, "output")).toEqual(
            new Map([
                [22, [app!.lab.privateIp, db!.lab.privateIp]],
                [5432, [db!.lab.privateIp]],
            ]),
        );
        // Targets: every TCP port from the bastion's subnet (AWS picks its address), nothing else.
        const subnet = bastion!.lab.subnetCidr;
        expect(tcpRules(app!.ruleset, "input")).toEqual(new Map([[0, [subnet]]]));
        expect(tcpRules(db!.ruleset, "input")).toEqual(new Map([[0, [subnet]]]));
        expect(tcpRules(app!.ruleset, "output")).toEqual(new Map());
    }, 60_000);

    it("a chain: each hop in from the one before, out to the next only; targets in from the last", async () => {
        const { hosts } = await renderedHosts(STACKS["a chain of three hops"]!);
        const ip = (n: string) => hosts.find((h) => h.name === n)!.lab.privateIp;
        const rules = (n: string, chain: "input" | "output") =>
            tcpRules(hosts.find((h) => h.name === n)!.ruleset, chain);
        expect(rules("edge", "output")).toEqual(new Map([[22, [ip("mgmt")]]]));
        const edgeSubnet = hosts.find((h) => h.name === "edge")!.lab.subnetCidr;
        expect(rules("mgmt", "input")).toEqual(new Map([[22, [edgeSubnet]]]));
        expect(rules("mgmt", "output")).toEqual(new Map([[22, [ip("core")]]]));
        expect(rules("core", "input")).toEqual(new Map([[22, [ip("mgmt")]]]));
        expect(rules("core", "output")).toEqual(new Map([[22, [ip("app-1"), ip("db-1")]]]));
        expect(rules("app-1", "input")).toEqual(new Map([[0, [ip("core")]]]));
    }, 60_000);

    it("an existing VPC: DNS goes to that VPC's resolver", async () => {
        const run = await plan(
            {
                "jumpgate:existingVpc": {
                    vpcId: "vpc-0abc0abc0abc0abc0",
                    publicSubnetIds: ["subnet-0aaa0aaa0aaa0aaa0"],
                    privateSubnetIds: ["subnet-0bbb0bbb0bbb0bbb0"],
                },
                "jumpgate:natGateways": undefined,
            },
            "fw",
            {
                existingSubnets: {
                    "subnet-0aaa0aaa0aaa0aaa0": { vpcId: "vpc-0abc0abc0abc0abc0", cidrBlock: "172.20.0.0/24" },
                    "subnet-0bbb0bbb0bbb0bbb0": { vpcId: "vpc-0abc0abc0abc0abc0", cidrBlock: "172.20.16.0/20" },
                },
            },
        );
        const bastion = run.resources.find((r) => r.name === "fw-bastion-instance")!;
        const ruleset = fileAt(parseCloudConfig(decodeUserData(bastion.inputs)), HOST_FIREWALL_PATH);
        expect(ruleset).toContain("ip daddr { 172.20.0.2, 169.254.169.253 }");
    }, 60_000);

    it("writes runs of consecutive addresses as ranges holding exactly them, so a thousand targets stay small", () => {
        expect(nftAddressSet(["10.0.0.3", "10.0.0.1", "10.1.0.0/16", "10.0.0.2", "10.0.0.9", "10.0.0.2"])).toBe(
            "{ 10.1.0.0/16, 10.0.0.1-10.0.0.3, 10.0.0.9 }",
        );
        expect(nftAddressSet(["10.0.0.255", "10.0.1.0"])).toBe("{ 10.0.0.255-10.0.1.0 }");
        const thousand = Array.from({ length: 1000 }, (_, i) => toIp(toInt("10.42.128.10") + i));
        expect(nftAddressSet(thousand)).toBe("{ 10.42.128.10-10.42.131.241 }");
        expect(expandRange("10.42.128.10-10.42.131.241")).toEqual(thousand);
    });

    it("refuses an address or port nft would read as something else", () => {
        const spec = { tcpIn: [], tcpOut: [], updatePorts: [80], vpcResolver: "10.0.0.2" };
        expect(() => renderHostFirewall({ ...spec, tcpIn: [{ port: 22, from: ["0.0.0.0/0; drop"] }] })).toThrow(
            /is not an IPv4 address/,
        );
        expect(() => renderHostFirewall({ ...spec, updatePorts: [0] })).toThrow(/invalid port 0/);
    });
});

const haveNft = toolsAvailable("nft", "unshare") && isRootOrFail();

describe.runIf(haveNft)("the real nft", () => {
    it("nft -c accepts every host's ruleset and fallback, and both load next to fail2ban's table", async () => {
        const dir = mkdtempSync(join(tmpdir(), "jg-hostfw-"));
        try {
            for (const config of Object.values(STACKS)) {
                for (const h of (await renderedHosts(config)).hosts) {
                    for (const [kind, text] of [
                        ["ruleset", h.ruleset],
                        ["fallback", h.fallback],
                    ] as const) {
                        const file = join(dir, `${h.name}-${kind}.nft`);
                        writeFileSync(file, text);
                        const check = spawnSync("unshare", ["--net", "nft", "-c", "-f", file], { encoding: "utf8" });
                        expect(check.status, `${h.name} ${kind}: ${check.stderr}`).toBe(0);
                    }
                    // Loaded twice (a reload) after fail2ban made its table: both tables stay.
                    const f2b =
                        "table inet f2b-table {\n chain f2b-chain {\n  type filter hook input priority -1;\n }\n}\n";
                    writeFileSync(join(dir, "f2b.nft"), f2b);
                    const rs = join(dir, `${h.name}-ruleset.nft`);
                    const load = spawnSync(
                        "unshare",
                        [
                            "--net",
                            "sh",
                            "-c",
                            `nft -f ${dir}/f2b.nft && nft -f ${rs} && nft -f ${rs} && nft list tables`,
                        ],
                        { encoding: "utf8" },
                    );
                    expect(load.status, load.stderr).toBe(0);
                    expect(load.stdout.trim().split("\n").sort()).toEqual([
                        "table inet f2b-table",
                        `table inet ${HOST_FIREWALL_TABLE}`,
                    ]);
                }
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }, 120_000);
});

describe.runIf(toolsAvailable("systemd-analyze"))("the unit", () => {
    it("systemd-analyze verify accepts it", async () => {
        const { hosts } = await renderedHosts(STACKS["one bastion, port 2222, a tunnel"]!);
        const dir = mkdtempSync(join(tmpdir(), "jg-hostfw-unit-"));
        try {
            const unit = join(dir, "jumpgate-firewall.service");
            writeFileSync(unit, fileAt(hosts[0]!.doc, HOST_FIREWALL_UNIT_PATH));
            const verify = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
            expect(verify.status, verify.stderr).toBe(0);
            expect(verify.stderr.trim()).toBe("");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }, 60_000);
});
