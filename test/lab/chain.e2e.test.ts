// A bastion chain and a declared tunnel, stood up for real: targets answer only through the whole chain,
// the inner hop accepts SSH only from the outer one, and the tunnel reaches exactly its declared port.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIn, waitFor, type RunResult } from "../../lab/exec";
import { labExec, labUp, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { fail2banLog, holdChannel, tearDownLab, programLabPlan, teammateSshConfig } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "ch";
const gate = toolsAvailable("sshd", "ssh", "nft", "ip", "fail2ban-client", "unshare", "python3") && isRootOrFail();

describe.runIf(gate)("lab: chained bastions and a declared tunnel", () => {
    let plan: LabPlan;
    let state: LabState;
    let dir = "";
    /** The teammate's files, outside the lab dir (whose teardown must leave nothing). */
    let scratch = "";
    const started: ChildProcess[] = [];
    const env = { PATH: process.env.PATH };
    const host = (name: string) => plan.hosts.find((h) => h.name === name)!;
    const ns = (name: string) => state.hosts.find((h) => h.name === name)!.ns;
    const client = (args: string[], timeoutMs = 30_000): RunResult =>
        runIn(
            state.clientNs,
            "ssh",
            ["-F", state.sshConfig, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", ...args],
            {
                check: false,
                timeoutMs,
                env,
            },
        );
    /** Whether a TCP connection from namespace `from` to ip:port completes within 3 s. */
    const tcpOpen = (from: string, ip: string, port: number) =>
        runIn(from, "python3", ["-c", `import socket; socket.create_connection(("${ip}", ${port}), timeout=3)`], {
            check: false,
            timeoutMs: 10_000,
        }).status === 0;

    beforeAll(async () => {
        plan = await programLabPlan({
            stack: STACK,
            config: {
                "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
                "jumpgate:targets": [{ name: "app-1" }],
                "jumpgate:tunnels": [{ name: "web", target: "app-1", remotePort: 8080, localPort: 18080 }],
            },
        });
        dir = mkdtempSync("/tmp/jg-lab-chain-");
        scratch = mkdtempSync("/tmp/jg-lab-teammate-");
        state = (await labUp(plan, dir)).state;
    }, 120_000);

    afterAll(async () => {
        for (const child of started) child.kill("SIGKILL");
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("stands up both hops: the outer in the public subnet with the EIP, the inner in a management subnet", () => {
        expect(host("edge")).toMatchObject({ role: "bastion", subnetCidr: "10.42.0.0/19" });
        expect(host("edge").publicIp).toMatch(/^198\.51\.100\.\d+$/);
        expect(host("mgmt")).toMatchObject({ role: "bastion", privateIp: "10.42.64.10", subnetCidr: "10.42.64.0/19" });
        expect(host("mgmt").publicIp).toBeUndefined();
    });

    it("reaches the target through the whole chain, with every hop's key pinned", () => {
        const r = client([`${STACK}-app-1`, "hostname"]);
        expect(r.stderr).not.toMatch(/Permanently added|authenticity/);
        expect(r.stdout.trim()).toBe("app-1");
    });

    it("answers only through the full chain: skipping the inner hop is refused", () => {
        // The outer hop may forward only to the inner hop's SSH port.
        const skip = client(["-o", `ProxyJump=${STACK}-edge`, `${STACK}-app-1`, "true"]);
        expect(skip.status).not.toBe(0);
        // Through the multiplexed hop the refusal reads "Session open refused by peer"; unmultiplexed,
        // the outer hop's own words say why: it may forward only to the inner hop.
        expect(skip.stderr).toMatch(/Session open refused by peer|administratively prohibited/);
        const direct = client(["-o", "ControlPath=none", "-W", `${host("app-1").privateIp}:22`, `${STACK}-edge`]);
        expect(direct.stderr).toMatch(/administratively prohibited/);
        // And the target's security group drops SSH from the outer hop itself.
        expect(tcpOpen(ns("edge"), host("app-1").privateIp, 22)).toBe(false);
        expect(tcpOpen(ns("mgmt"), host("app-1").privateIp, 22)).toBe(true);
    });

    it("lets the inner hop accept SSH only from the outer one", () => {
        expect(tcpOpen(ns("edge"), host("mgmt").privateIp, 22)).toBe(true);
        expect(tcpOpen(ns("app-1"), host("mgmt").privateIp, 22)).toBe(false);
        expect(tcpOpen(state.clientNs, host("mgmt").privateIp, 22)).toBe(false);
    });

    it("lets no teammate get the outer hop banned or choked at the inner hop", async () => {
        // The teammate (another allowed address) passes the outer hop, then offers the inner hop a wrong key.
        const teammateNs = state.topology.peers.find((p) => p.role === "hostile")!.ns;
        const config = teammateSshConfig(state.sshConfig, scratch, [`${STACK}-mgmt`]);
        const teammate = (args: string[]) =>
            runIn(teammateNs, "ssh", ["-F", config, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", ...args], {
                check: false,
                timeoutMs: 10_000,
                env,
            });
        const edgeIp = host("edge").privateIp;
        const mgmt = state.hosts.find((h) => h.name === "mgmt")!;
        const before = fail2banLog(mgmt).length;
        const held: ChildProcess[] = [];
        try {
            expect(teammate(["-f", "-N", `${STACK}-edge`]).status).toBe(0);
            const channels = await Promise.all(
                Array.from({ length: 8 }, () =>
                    holdChannel(teammateNs, config, `${STACK}-edge`, `${host("mgmt").privateIp}:22`),
                ),
            );
            held.push(...channels.map((c) => c.child));
            expect(channels.filter((c) => c.banner)).toHaveLength(8);
            for (let i = 0; i < 4; i++) {
                const res = teammate([`${STACK}-mgmt`, "true"]);
                expect(res.stderr).toContain(
                    `${plan.jumpUser}@${host("mgmt").privateIp}: Permission denied (publickey)`,
                );
            }
            await waitFor("the inner hop's fail2ban to read the failures", 15_000, () =>
                fail2banLog(mgmt).slice(before).includes(edgeIp),
            );
            // The operator still gets through the whole chain, at once.
            const t0 = Date.now();
            const r = client(["-o", "ControlPath=none", `${STACK}-app-1`, "hostname"]);
            expect(r.stdout.trim(), r.stderr).toBe("app-1");
            expect(Date.now() - t0).toBeLessThan(10_000);
            expect(fail2banLog(mgmt).slice(before)).toContain(`Ignore ${edgeIp} by ip`);
            // fail2ban creates its table with the first ban of any jail: none, or one without the outer hop.
            const tables = labExec(mgmt, "nft", ["list", "tables"]).stdout;
            const sets = tables.includes("f2b-table")
                ? labExec(mgmt, "nft", ["list", "table", "inet", "f2b-table"]).stdout
                : "";
            expect(sets).not.toContain(edgeIp);
        } finally {
            for (const c of held) c.kill("SIGKILL");
            teammate(["-O", "exit", `${STACK}-edge`]);
        }
    }, 90_000);

    it("carries a service through the declared tunnel, and refuses a port that was not declared", async () => {
        // A small HTTP service on the target's declared port and another on an undeclared one.
        for (const port of [8080, 8081]) {
            const server = spawn(
                "ip",
                [
                    "netns",
                    "exec",
                    ns("app-1"),
                    "python3",
                    "-m",
                    "http.server",
                    String(port),
                    "--bind",
                    host("app-1").privateIp,
                ],
                {
                    stdio: "ignore",
                },
            );
            started.push(server);
        }
        await waitFor("the target's service", 10_000, () => tcpOpen(ns("app-1"), host("app-1").privateIp, 8080));
        const tunnel = spawn(
            "ip",
            [
                "netns",
                "exec",
                state.clientNs,
                "ssh",
                "-F",
                state.sshConfig,
                "-o",
                "BatchMode=yes",
                `${STACK}-tunnel-web`,
            ],
            {
                stdio: "ignore",
                env,
            },
        );
        started.push(tunnel);
        await waitFor("the tunnel's local port", 20_000, () => tcpOpen(state.clientNs, "127.0.0.1", 18080));
        const get = runIn(
            state.clientNs,
            "python3",
            ["-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:18080/', timeout=5).status)"],
            {
                check: false,
                timeoutMs: 15_000,
            },
        );
        expect(get.stdout.trim()).toBe("200");

        // Not declared: the last hop's PermitOpen refuses it, and the target's security group drops it.
        const other = client(
            ["-o", "ControlPath=none", "-W", `${host("app-1").privateIp}:8081`, `${STACK}-mgmt`],
            20_000,
        );
        expect(other.stderr).toMatch(/administratively prohibited/);
        expect(tcpOpen(ns("mgmt"), host("app-1").privateIp, 8081)).toBe(false);
        expect(tcpOpen(ns("mgmt"), host("app-1").privateIp, 8080)).toBe(true);
    });
});
