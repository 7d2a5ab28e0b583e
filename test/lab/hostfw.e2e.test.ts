// Each booted Debian 13 host runs its own firewall (`inet jumpgate-host`) from its user data alone, next
// to the lab's security-group stand-in (`inet jumpgate-sg`) and fail2ban's table. Where a check is about
// the host firewall alone, the host's security group is opened wide for its duration, so only the host's
// own rules decide. Stack `fw`: a bastion, app-1, db-1 and a tunnel to db-1's port 5432.
import { mkdtempSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_FIREWALL_PATH, HOST_FIREWALL_TABLE, HOST_FIREWALL_UNIT } from "../../components/render/hostFirewall";
import { runIn } from "../../lab/exec";
import { renderNftRuleset } from "../../lab/firewall";
import { labExec, labReboot, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabFirewallRule, LabHost, LabPlan } from "../../lab/model";
import { loadNftRuleset } from "../../lab/netns";
import { bootId, programLabPlan, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "fw";
const gate = toolsAvailable("ip", "nft", "nsenter", "systemd-nspawn", "ssh") && isRootOrFail();
const ALL: LabFirewallRule = { protocol: "-1", fromPort: 0, toPort: 0, cidrs: ["0.0.0.0/0"], description: "lab: all" };
/** Listens on the ports a probe connects to, accepting and closing each connection. */
const LISTENER = [
    "import socket, threading",
    "def serve(port):",
    "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    "    s.bind(('0.0.0.0', port)); s.listen()",
    "    while True: s.accept()[0].close()",
    "for p in (443, 5432): threading.Thread(target=serve, args=(p,)).start()",
].join("\n");

/** A TCP connect with a 3 s timeout, as python prints it: `open`, `timed out` or the error. */
function connectScript(ip: string, port: number): string[] {
    return [
        "python3",
        "-c",
        `import socket;s=socket.socket();s.settimeout(3)\ntry:\n s.connect(("${ip}",${port}));print("open")\nexcept OSError as e:print(e)`,
    ];
}

describe.runIf(gate)("lab: each host's own firewall (nftables, inet jumpgate-host)", () => {
    let plan: LabPlan;
    let state: LabState;
    const dir = mkdtempSync("/tmp/jg-lab-fw-");
    const host = (name: string): LabHostState => state.hosts.find((h) => h.name === name)!;
    const planned = (name: string): LabHost => plan.hosts.find((h) => h.name === name)!;
    const mirror = () => state.topology.mirrorIp;
    /** A connect from inside host `name`, as root or as `user`. */
    const probe = (name: string, ip: string, port: number, user?: string): string => {
        const [cmd, ...args] = connectScript(ip, port);
        const argv = user === undefined ? [cmd!, ...args] : ["sudo", "-u", user, cmd!, ...args];
        return labExec(host(name), argv[0]!, argv.slice(1), { check: false, timeoutMs: 20_000 }).stdout.trim();
    };
    const ssh = (alias: string, command: string) =>
        runIn(state.clientNs, "ssh", ["-F", state.sshConfig, `${STACK}-${alias}`, command], {
            check: false,
            timeoutMs: 30_000,
        });
    const hostTable = (name: string) =>
        labExec(host(name), "nft", ["list", "table", "inet", HOST_FIREWALL_TABLE], { check: false });
    const unitState = (name: string) =>
        labExec(host(name), "systemctl", ["is-active", HOST_FIREWALL_UNIT], { check: false }).stdout.trim();
    /** Packets the host's own output chain dropped so far (its last rule, `counter drop`). */
    const outputDrops = (name: string): number => {
        const chain = /chain output \{([\s\S]*?)\n\t\}/.exec(hostTable(name).stdout)?.[1] ?? "";
        const counters = [...chain.matchAll(/counter packets (\d+) bytes \d+ drop/g)];
        if (counters.length === 0) throw new Error(`no drop counter in ${name}'s output chain:\n${chain}`);
        return Number(counters[counters.length - 1]![1]);
    };
    /** Runs `check` with the host's security group open to everything: only its own firewall decides. */
    const withOpenGroup = <T>(name: string, check: () => T): T => {
        const h = planned(name);
        loadNftRuleset(host(name).ns, renderNftRuleset({ ...h, ingress: [ALL], egress: [ALL] }));
        try {
            return check();
        } finally {
            loadNftRuleset(host(name).ns, renderNftRuleset(h));
        }
    };

    beforeAll(async () => {
        plan = await programLabPlan({
            stack: STACK,
            config: { "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }] },
        });
        state = (await labUp(plan, dir)).state;
    }, 300_000);

    afterAll(async () => {
        await tearDownLab(plan?.stack, dir);
    }, 60_000);

    it("every host loaded its own table at first boot from its user data, next to the lab's group", () => {
        for (const h of state.hosts) {
            expect(unitState(h.name), h.name).toBe("active");
            const table = hostTable(h.name);
            expect(table.status, `${h.name}: ${table.stderr}`).toBe(0);
            expect(table.stdout).toMatch(/policy drop;[\s\S]*policy drop;[\s\S]*policy drop;/);
            expect(table.stdout).toMatch(/tcp dport \{ 80, 443 \} meta skuid \{ [^}]+ \} accept/);
            const tables = labExec(host(h.name), "nft", ["list", "tables"]).stdout;
            expect(tables).toContain("table inet jumpgate-sg");
        }
        expect(hostTable("bastion").stdout).toContain(`tcp dport ${plan.sshPort} accept`);
    });

    it("the operator reaches the bastion's targets through it", () => {
        for (const name of ["app-1", "db-1"]) {
            const res = ssh(name, "hostname");
            expect(res.status, res.stderr).toBe(0);
            expect(res.stdout.trim()).toBe(name);
        }
    });

    it("in and out: a listener on a port the model does not allow is unreachable from the bastion", () => {
        for (const name of ["app-1", "db-1"])
            labExec(host(name), "systemd-run", ["--unit=fw-listener", "python3", "-c", LISTENER]);
        const db = planned("db-1").privateIp;
        const app = planned("app-1").privateIp;
        // The jump user's forwards (its uid opens them) reach the tunnel's port, and no other.
        withOpenGroup("db-1", () => {
            expect(probe("bastion", db, 5432, plan.jumpUser)).toBe("open");
            expect(probe("bastion", db, 443, plan.jumpUser)).toBe("timed out");
        });
        withOpenGroup("app-1", () => {
            expect(probe("bastion", app, 5432, plan.jumpUser)).toBe("timed out");
            expect(labExec(host("app-1"), "ss", ["-ltn"]).stdout).toMatch(/0\.0\.0\.0:5432/);
        });
        // A target takes connections from the last hop only: the VPC router's address in its subnet gets
        // neither SSH nor the listener.
        withOpenGroup("app-1", () => {
            for (const port of [22, 443, 5432]) {
                const [cmd, ...args] = connectScript(app, port);
                expect(runIn(state.topology.vpcNs, cmd!, args, { check: false }).stdout.trim(), `${port}`).toBe(
                    "timed out",
                );
            }
        });
    });

    it("out: only root and apt reach the internet's 80/443; nothing else leaves that the model does not allow", () => {
        withOpenGroup("app-1", () => {
            expect(probe("app-1", mirror(), 80)).toBe("open");
            expect(probe("app-1", mirror(), 80, plan.loginUser)).toBe("timed out");
            // Not even root opens another port, SSH back to the bastion, or SSH to the other target: app-1
            // itself drops each (its own counter), whatever the far end would do.
            for (const [ip, port] of [
                [mirror(), 8080],
                [planned("bastion").privateIp, 22],
                [planned("db-1").privateIp, 22],
            ] as const) {
                const before = outputDrops("app-1");
                expect(probe("app-1", ip, port), `${ip}:${port}`).toBe("timed out");
                expect(outputDrops("app-1"), `${ip}:${port}`).toBeGreaterThan(before);
            }
        });
        withOpenGroup("bastion", () => {
            expect(probe("bastion", mirror(), 443, plan.jumpUser)).toBe("timed out");
            expect(probe("bastion", planned("app-1").privateIp, 22, plan.jumpUser)).toBe("open");
        });
        // apt (its downloads run as _apt) still gets through the NAT.
        const update = labExec(host("app-1"), "apt-get", ["update", "-o", "Acquire::Retries=0"], {
            check: false,
            timeoutMs: 60_000,
        });
        expect(update.status, update.stdout + update.stderr).toBe(0);
        expect(update.stdout + update.stderr).not.toMatch(/Failed to fetch/);
    }, 90_000);

    it("fail2ban's table still bans next to it", () => {
        const hostile = state.topology.peers.find((p) => p.role === "hostile")!;
        const ban = labExec(host("bastion"), "fail2ban-client", ["set", "sshd", "banip", hostile.ip]);
        expect(ban.status).toBe(0);
        try {
            expect(labExec(host("bastion"), "nft", ["list", "table", "inet", "f2b-table"]).stdout).toContain(
                hostile.ip,
            );
            const keyscan = runIn(
                hostile.ns,
                "ssh-keyscan",
                ["-T", "4", "-p", String(plan.sshPort), planned("bastion").publicIp!],
                {
                    check: false,
                    timeoutMs: 20_000,
                },
            );
            expect(keyscan.stdout).not.toContain("ssh-ed25519");
            expect(ssh("app-1", "true").status).toBe(0);
        } finally {
            labExec(host("bastion"), "fail2ban-client", ["set", "sshd", "unbanip", hostile.ip], { check: false });
        }
    });

    it("a ruleset that does not load leaves the SSH-only fallback: the chain still works, nothing else leaves", () => {
        const sh = (script: string) => labExec(host("app-1"), "sh", ["-c", script], { check: false });
        const journal = () =>
            labExec(host("app-1"), "journalctl", ["-u", HOST_FIREWALL_UNIT, "-o", "cat", "--no-pager"]);
        // A rule nft cannot load on this host (an unknown user, as when a package is missing).
        sh(`cp ${HOST_FIREWALL_PATH} /root/fw.bak && sed -i 's/_apt/_jumpgate_nosuchuser/' ${HOST_FIREWALL_PATH}`);
        try {
            expect(sh(`systemctl restart ${HOST_FIREWALL_UNIT}`).status).not.toBe(0);
            expect(unitState("app-1")).toBe("failed");
            expect(journal().stdout).toContain("Error: User does not exist");
            const table = hostTable("app-1").stdout;
            expect(table).toMatch(/policy drop;/);
            expect(table).not.toMatch(/skuid|dport 53/);
            expect(ssh("app-1", "hostname").stdout.trim()).toBe("app-1");
            withOpenGroup("app-1", () => expect(probe("app-1", mirror(), 80)).toBe("timed out"));
        } finally {
            sh(`cp /root/fw.bak ${HOST_FIREWALL_PATH} && systemctl restart ${HOST_FIREWALL_UNIT}`);
        }
        expect(unitState("app-1")).toBe("active");
        expect(hostTable("app-1").stdout).toContain("skuid");
    });

    it("after a reboot, the table is back before anyone connects, and the chain works again", async () => {
        for (const name of ["bastion", "app-1"]) {
            const before = bootId(host(name));
            await labReboot(state, name);
            expect(bootId(host(name))).not.toBe(before);
            expect(unitState(name), name).toBe("active");
            expect(hostTable(name).stdout).toContain("skuid");
        }
        const res = ssh("app-1", "hostname");
        expect(res.status, res.stderr).toBe(0);
        expect(res.stdout.trim()).toBe("app-1");
        withOpenGroup("app-1", () => expect(probe("app-1", mirror(), 80, plan.loginUser)).toBe("timed out"));
    }, 120_000);
});
