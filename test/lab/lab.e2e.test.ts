// End to end: the lab stands a LabPlan up for real (namespaces, sshd, fail2ban, nftables) and the
// real OpenSSH client goes through it using only the generated ssh_config. Runs as root in CI and
// fails (never skips) there when a tool is missing.
//
// The hosts are the real program's: its offline run gives the cloud-config documents, security-group
// rules, addresses and client outputs that `npm run lab` stands up.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runIn, waitFor, type RunResult } from "../../lab/exec";
import { labDown, labExec, labStatus, labUp, type LabState } from "../../lab/lab";
import type { LabHost, LabPlan } from "../../lab/model";
import { listNamespaces } from "../../lab/netns";
import { bannedBy, fail2banOn, tearDownLab, programLabPlan, sshKeygen, hostileLoginArgs } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const MACHINE_FILES = [
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/hosts",
    "/var/log/wtmp",
    "/var/log/btmp",
    "/var/log/lastlog",
];

const gate = toolsAvailable("sshd", "ssh", "scp", "nft", "ip", "fail2ban-client", "unshare") && isRootOrFail();

/** ssh must not pick up an agent or config from the environment. */
const cleanEnv = (): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    delete env.SSH_AGENT_PID;
    return env;
};

function sha(path: string): string {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Spawns `ip netns exec ns cmd args` with stdin held open; resolves with stdout once `until` shows up or it exits. */
function readUntil(ns: string, cmd: string, args: string[], until: RegExp, timeoutMs: number) {
    return new Promise<{ stdout: string; stderr: string; code: number | null; matched: boolean }>((resolve) => {
        const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], {
            env: cleanEnv(),
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let done = false;
        const finish = (code: number | null, matched: boolean) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            child.kill("SIGKILL");
            resolve({ stdout, stderr, code, matched });
        };
        const timer = setTimeout(() => finish(null, false), timeoutMs);
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            if (until.test(stdout)) finish(null, true);
        });
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("exit", (code) => setTimeout(() => finish(code, until.test(stdout)), 50));
    });
}

/** `ip netns exec ns cmd args` without blocking the event loop (stdin closed), bounded by `timeoutMs`. */
function runAsync(ns: string, cmd: string, args: string[], timeoutMs = 20_000) {
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], {
            env: cleanEnv(),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
    });
}

describe.runIf(gate)("lab end to end (real sshd, fail2ban, nftables in namespaces)", () => {
    // Built in beforeAll: collecting a gated-off suite must not run ssh-keygen or read /etc/shadow.
    let plan: LabPlan;
    let bastion: LabHost;
    let targets: LabHost[];
    let bastionAlias = "";
    let machineBefore: (readonly [string, string])[] = [];
    let dir = "";
    let scratch = "";
    let state: LabState;
    const timings: Record<string, number> = {};

    const clientNs = () => state.clientNs;
    const peerIp = (role: string) => state.topology.peers.find((p) => p.role === role)?.ip;
    const peerNs = (role: string) => state.topology.peers.find((p) => p.role === role)?.ns;
    const bastionState = () => state.hosts.find((h) => h.role === "bastion");
    /** ssh/scp from the client namespace with only the generated config. */
    const client = (cmd: "ssh" | "scp", args: string[], timeoutMs = 30_000): RunResult =>
        runIn(clientNs(), cmd, ["-F", state.sshConfig, ...args], { check: false, timeoutMs, env: cleanEnv() });
    const f2b = (args: string[]) => fail2banOn(bastionState()!, args);
    /** The rendered sshd jail, reading ssh.service's journal entries on the booted bastion. */
    const sshdJail = (): string => {
        const status = f2b(["status", "sshd"]).stdout;
        if (!/Journal matches:.*ssh\.service/.test(status)) throw new Error(`the bastion's sshd jail: ${status}`);
        return "sshd";
    };
    const banned = (jail: string): string[] => bannedBy(bastionState()!, jail);

    beforeAll(async () => {
        plan = await programLabPlan({ stack: "e2e" });
        const b = plan.hosts.find((h) => h.role === "bastion");
        if (!b?.publicIp) throw new Error("plan has no bastion with a public IP");
        bastion = b;
        targets = plan.hosts.filter((h) => h.role === "target");
        bastionAlias = `${plan.stack}-bastion`;
        // The machine's accounts, and the login records sshd would write if it shared /var/log.
        machineBefore = MACHINE_FILES.filter((f) => existsSync(f)).map((f) => [f, sha(f)] as const);
        dir = mkdtempSync("/tmp/jg-lab-");
        scratch = mkdtempSync("/tmp/jg-lab-scratch-");
        const t0 = Date.now();
        const up = await labUp(plan, dir);
        timings.up = Date.now() - t0;
        state = up.state;
        console.log(up.howToConnect);
    }, 120_000);

    afterAll(async () => {
        console.log("lab e2e timings (ms):", JSON.stringify(timings));
        // Harmless when test 6 already took it down; cleans up after a failure anywhere.
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("writes the operator's files: ssh_config from the plan with lab paths, known_hosts, 0600 key in a 0700 dir", () => {
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        expect(statSync(state.privateKey).mode & 0o777).toBe(0o600);
        const cfg = readFileSync(state.sshConfig, "utf8");
        expect(cfg).toContain(`IdentityFile ${state.privateKey}`);
        expect(cfg).toContain(`UserKnownHostsFile ${state.knownHosts}`);
        expect(cfg).toContain(`ControlPath ${dir}/cm-%C`);
        expect(cfg).not.toContain("~/.ssh");
        // Everything else as the plan made it; every host block checks host keys strictly.
        const blocks = cfg.split(/^(?=Host\s)/m).filter((b) => /^Host\s+[^*?\s]+\s*$/m.test(b));
        expect(blocks.length).toBeGreaterThanOrEqual(plan.hosts.length);
        for (const b of blocks) expect(b).toMatch(/^\s*StrictHostKeyChecking yes$/m);
        for (const t of targets) expect(cfg).toContain(`HostName ${t.privateIp}`);
        expect(cfg).toContain(`HostName ${bastion.publicIp}`);
        expect(readFileSync(state.knownHosts, "utf8").trim()).toBe(plan.knownHosts.trim());
    });

    it("1. reaches every target through the bastion with strict host key checking and no prompt; scp works", () => {
        for (const t of targets) {
            const alias = `${plan.stack}-${t.name}`;
            const host = state.hosts.find((h) => h.name === t.name);
            const t0 = Date.now();
            const res = client("ssh", [alias, "hostname"]);
            timings[`ssh ${alias}`] = Date.now() - t0;
            expect(res.stderr).not.toMatch(/Are you sure|Permanently added|WARNING/);
            expect(res.status, res.stderr).toBe(0);
            expect(res.stdout.trim()).toBe(host?.hostname);

            // Outside the lab dir: a failure here must not leave a file that test 6's teardown check finds.
            const payload = join(scratch, `payload-${t.name}.txt`);
            writeFileSync(payload, `jumpgate lab scp probe for ${t.name} ${Date.now()}\n`);
            const up = client("scp", ["-q", payload, `${alias}:payload.txt`]);
            expect(up.status, up.stderr).toBe(0);
            const sum = client("ssh", [alias, "sha256sum payload.txt && id -un && rm payload.txt && sudo -n id -u"]);
            expect(sum.status, sum.stderr).toBe(0);
            expect(sum.stdout).toContain(sha(payload));
            expect(sum.stdout).toContain(plan.loginUser);
            // The document's sudo rule applies (cloud-init's sudoers.d file).
            expect(sum.stdout.trim().split("\n").pop()).toBe("0");
            expect(sum.stderr).not.toMatch(/unable to resolve host/);
            rmSync(payload);
        }
    });

    it("2. a target cannot be reached without the bastion; the attacker cannot reach the bastion", async () => {
        const attackerNs = peerNs("attacker");
        expect(attackerNs, "the plan leaves no address outside allowedCidrs for an attacker").toBeDefined();
        const plain = (ns: string, dest: string, port: number) =>
            runAsync(ns, "ssh", [
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=2",
                "-p",
                String(port),
                dest,
                "true",
            ]);
        // Independent probes that each wait for a timeout run side by side.
        const [direct, fromAttacker, attackerToTargets] = await Promise.all([
            Promise.all(
                targets.map((t) =>
                    runAsync(clientNs(), "ssh", [
                        "-F",
                        state.sshConfig,
                        "-o",
                        "ProxyJump=none",
                        "-o",
                        "ConnectTimeout=2",
                        `${plan.stack}-${t.name}`,
                        "hostname",
                    ]),
                ),
            ),
            plain(attackerNs ?? "", `${plan.jumpUser}@${bastion.publicIp}`, plan.sshPort),
            Promise.all(targets.map((t) => plain(attackerNs ?? "", `${plan.loginUser}@${t.privateIp}`, 22))),
        ]);
        for (const res of direct) {
            expect(res.status).toBe(255);
            expect(res.stderr).toMatch(/timed out|No route to host|unreachable/i);
        }
        for (const t of targets) {
            // Targets reach the public side only through the VPC router (its NAT), never directly.
            const node = state.topology.hosts.find((h) => h.name === t.name)!;
            const route = runIn(node.ns, "ip", ["route", "get", peerIp("client") ?? ""], { check: false });
            expect(route.stdout).toContain(`via ${node.subnet.gateway} dev ${node.privateIf}`);
        }
        // The attacker has a route to the bastion (same public segment); the security group drops it.
        expect(runIn(attackerNs ?? "", "ip", ["route", "get", bastion.publicIp ?? ""], { check: false }).status).toBe(
            0,
        );
        expect(fromAttacker.status).toBe(255);
        expect(fromAttacker.stderr).toMatch(/timed out/i);
        for (const res of attackerToTargets) expect(res.status).toBe(255);
    });

    // Runs before the refusal checks: those fail authentication from the operator's own address on
    // purpose, which fail2ban (aggressive mode) rightly counts.
    it("4. fail2ban bans the hostile allowed address after maxRetry failed logins; the operator still connects", async () => {
        const hostileNs = peerNs("hostile");
        const hostileIp = peerIp("hostile");
        expect(hostileNs, "allowedCidrs leave no second address for a hostile peer").toBeDefined();
        const jail = sshdJail();
        const maxRetry = Number(f2b(["get", jail, "maxretry"]).stdout.trim());
        expect(maxRetry).toBeGreaterThan(0);
        expect(banned(jail)).not.toContain(hostileIp);

        const t0 = Date.now();
        // Failed logins (unknown users) one after another, at most maxRetry of them. fail2ban counts log
        // matches, not connections (aggressive mode matches two lines per attempt), so the ban can come
        // before the last one; once it is there, further attempts would only be refused.
        const attempts: string[] = [];
        const isBanned = () => banned(jail).includes(hostileIp ?? "");
        for (let i = 1; i <= maxRetry && !isBanned(); i++) {
            // A connection the ban cuts off mid-handshake hangs until LoginGraceTime: bounded here.
            const res = await runAsync(
                hostileNs ?? "",
                "ssh",
                hostileLoginArgs(`intruder${i}`, bastion.publicIp ?? "", plan.sshPort),
                8_000,
            );
            expect(res.status).not.toBe(0);
            attempts.push(res.stderr.trim().split("\n").pop() ?? `(cut off, status ${res.status})`);
            await waitFor("a ban", 1_000, isBanned, 100).catch(() => undefined);
        }
        // The first attempt reached sshd (so the address is allowed by the security group).
        expect(attempts[0]).toMatch(/Permission denied/);
        await waitFor(`fail2ban to ban ${hostileIp}`, 20_000, isBanned, 250);
        const totalFailed = Number(/Total failed:\s*(\d+)/.exec(f2b(["status", jail]).stdout)?.[1] ?? "0");
        expect(totalFailed).toBeGreaterThanOrEqual(maxRetry);
        timings["fail2ban ban after attempts"] = Date.now() - t0;
        console.log(`hostile attempts: ${JSON.stringify(attempts)}`);
        console.log(f2b(["status", jail]).stdout);

        // The host's own nft reads the tables its fail2ban made (this machine's older nft may not).
        const tables = labExec(bastionState()!, "nft", ["list", "tables"]).stdout;
        expect(tables).toContain("table inet jumpgate-sg");
        expect(tables).toContain("table inet f2b-table");
        const set = labExec(bastionState()!, "nft", ["list", "set", "inet", "f2b-table", `addr-set-${jail}`]).stdout;
        console.log(set);
        expect(set).toContain(hostileIp);

        const after = runIn(
            hostileNs ?? "",
            "ssh",
            [
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=3",
                "-p",
                String(plan.sshPort),
                `x@${bastion.publicIp}`,
                "true",
            ],
            { check: false, env: cleanEnv() },
        );
        expect(after.status).toBe(255);
        expect(after.stderr).toMatch(/Connection refused|timed out/);

        // The operator: a fresh connection (no control master) still gets through.
        client("ssh", ["-O", "exit", bastionAlias]);
        const t = targets[0];
        const ok = client("ssh", [`${plan.stack}-${t.name}`, "hostname"]);
        expect(ok.status, ok.stderr).toBe(0);
        expect(banned(jail)).not.toContain(peerIp("client"));
        const status = await labStatus(plan.stack, dir);
        console.log(status.text);
        expect(status.up).toBe(true);
    });

    describe("with the operator's address ignored by fail2ban (these checks fail authentication on purpose)", () => {
        beforeAll(() => {
            const res = f2b(["set", sshdJail(), "addignoreip", peerIp("client") ?? ""]);
            expect(res.status, res.stderr).toBe(0);
        });
        afterAll(() => {
            f2b(["set", sshdJail(), "delignoreip", peerIp("client") ?? ""]);
        });

        it("3. the bastion refuses passwords, keyboard-interactive, root, a shell, a TTY, other forwards and agents", async () => {
            const fresh = ["-o", "ControlPath=none"];
            const pw = client("ssh", [
                ...fresh,
                "-o",
                "BatchMode=yes",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
                bastionAlias,
                "true",
            ]);
            expect(pw.status).toBe(255);
            // The server offers publickey only.
            expect(pw.stderr).toMatch(/Permission denied \(publickey\)/);

            const root = client("ssh", [...fresh, "-o", "BatchMode=yes", "-o", "User=root", bastionAlias, "true"]);
            expect(root.status).toBe(255);
            expect(root.stderr).toMatch(/root@\S+: Permission denied \(publickey\)/);

            // MaxSessions 0: the jump user's connection carries forwards only, no session of any kind.
            const shell = client("ssh", [...fresh, bastionAlias, "id"]);
            expect(shell.status).not.toBe(0);
            expect(shell.stdout).not.toMatch(/uid=/);
            expect(shell.stderr).toMatch(/channel \d+: open failed/);

            const tty = client("ssh", [...fresh, "-tt", bastionAlias]);
            expect(tty.stderr).toMatch(/channel \d+: open failed/);

            const refused = [
                `${targets[0].privateIp}:80`,
                "127.0.0.1:22",
                `${bastion.privateIp}:22`,
                `${peerIp("client")}:22`,
            ];
            for (const dest of refused) {
                const res = await readUntil(
                    clientNs(),
                    "ssh",
                    ["-F", state.sshConfig, ...fresh, "-W", dest, bastionAlias],
                    /SSH-2\.0/,
                    15_000,
                );
                expect(res.matched, `forwarding to ${dest} was allowed`).toBe(false);
                expect(res.stderr).toMatch(/administratively prohibited/);
            }
            for (const t of targets) {
                const res = await readUntil(
                    clientNs(),
                    "ssh",
                    ["-F", state.sshConfig, ...fresh, "-W", `${t.privateIp}:22`, bastionAlias],
                    /SSH-2\.0/,
                    15_000,
                );
                expect(res.matched, `forwarding to ${t.privateIp}:22 failed: ${res.stderr}`).toBe(true);
            }
            const remote = client(
                "ssh",
                [...fresh, "-o", "ExitOnForwardFailure=yes", "-N", "-R", "0:127.0.0.1:22", bastionAlias],
                15_000,
            );
            expect(remote.status).toBe(255);
            expect(remote.stderr).toMatch(/remote port forwarding failed/);

            // Agent forwarding: the request carries no reply, so the effective sshd configuration of
            // the jump user (with its Match block) is what shows it; on a target it is observable.
            // The booted bastion's own sshd (OpenSSH 10) on its own configuration.
            const effective = labExec(bastionState()!, "/usr/sbin/sshd", [
                "-T",
                "-C",
                `user=${plan.jumpUser},host=client,addr=${peerIp("client")},laddr=${bastion.publicIp},lport=${plan.sshPort}`,
            ]).stdout;
            const value = (k: string) => new RegExp(`^${k} (.*)$`, "m").exec(effective)?.[1];
            expect(value("allowagentforwarding")).toBe("no");
            expect(value("passwordauthentication")).toBe("no");
            expect(value("kbdinteractiveauthentication")).toBe("no");
            expect(value("permitrootlogin")).toBe("no");
            expect(value("permittty")).toBe("no");
            expect(value("allowtcpforwarding")).toBe("local");
            expect(value("forcecommand")).toBe("/usr/sbin/nologin");
            expect(value("permitopen")?.split(" ").sort()).toEqual(targets.map((t) => `${t.privateIp}:22`).sort());
            const agent = runIn(
                clientNs(),
                "ssh-agent",
                [
                    "sh",
                    "-c",
                    `ssh-add -q "$1" && ssh -F "$2" -o ForwardAgent=yes "$3" 'echo "sock=[$SSH_AUTH_SOCK]"'`,
                    "sh",
                    state.privateKey,
                    state.sshConfig,
                    `${plan.stack}-${targets[0].name}`,
                ],
                { check: false, env: cleanEnv() },
            );
            expect(agent.status, agent.stderr).toBe(0);
            expect(agent.stdout).toContain("sock=[]");
        });

        it("5. a wrong or missing host key is rejected", () => {
            const original = readFileSync(state.knownHosts, "utf8");
            const other = sshKeygen("impostor").publicKey.split(" ").slice(0, 2).join(" ");
            const target = `${plan.stack}-${targets[0].name}`;
            try {
                for (const alias of [bastionAlias, target]) {
                    const tampered = original
                        .split("\n")
                        .map((l) => (l.startsWith(`${alias} `) ? `${alias} ${other}` : l))
                        .join("\n");
                    expect(tampered).not.toBe(original);
                    writeFileSync(state.knownHosts, tampered);
                    client("ssh", ["-O", "exit", bastionAlias]);
                    const res = client("ssh", [target, "hostname"]);
                    expect(res.status).toBe(255);
                    expect(res.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
                    expect(res.stderr).toMatch(/Host key verification failed/);
                }
                writeFileSync(
                    state.knownHosts,
                    original
                        .split("\n")
                        .filter((l) => !l.startsWith(`${target} `))
                        .join("\n"),
                );
                const missing = client("ssh", [target, "hostname"]);
                expect(missing.status).toBe(255);
                expect(missing.stderr).toMatch(/Host key verification failed/);
            } finally {
                writeFileSync(state.knownHosts, original);
            }
            const ok = client("ssh", [target, "hostname"]);
            expect(ok.status, ok.stderr).toBe(0);
        });
    });

    it("6. up is idempotent, and down leaves no namespace, process, user or file behind", async () => {
        const t0 = Date.now();
        const again = await labUp(plan, dir);
        timings["up again"] = Date.now() - t0;
        state = again.state;
        for (const t of targets) {
            const res = client("ssh", [`${plan.stack}-${t.name}`, "hostname"]);
            expect(res.status, res.stderr).toBe(0);
        }
        const namespaces = state.topology.namespaces;
        const etcDirs = state.hosts.map((h) => h.hostDir);

        const t1 = Date.now();
        const down = await labDown(plan.stack, dir);
        timings.down = Date.now() - t1;
        expect(down.namespaces.sort()).toEqual([...namespaces].sort());

        const left = listNamespaces().filter((n) => namespaces.includes(n));
        expect(left).toEqual([]);
        for (const d of etcDirs) expect(existsSync(d)).toBe(false);
        expect(existsSync(dir)).toBe(false);
        // No process of the lab is left: none runs from or writes into the lab dir, none in a lab namespace.
        const stray: string[] = [];
        for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
            let cmd = "";
            try {
                cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
            } catch {
                continue;
            }
            if (cmd.includes(dir) || namespaces.some((n) => cmd.includes(` ${n} `))) stray.push(`${pid}: ${cmd}`);
        }
        expect(stray).toEqual([]);
        // The machine's own accounts and login records were never touched.
        for (const [file, digest] of machineBefore) expect(sha(file), file).toBe(digest);
        const passwd = readFileSync("/etc/passwd", "utf8");
        expect(passwd).not.toMatch(new RegExp(`^(${plan.jumpUser}|${plan.loginUser}):`, "m"));
        // A second down is harmless.
        const twice = await labDown(plan.stack, dir);
        expect(twice.namespaces).toEqual([]);
        const status = await labStatus(plan.stack, dir);
        expect(status.up).toBe(false);
        expect(status.namespaces.every((n) => !n.exists)).toBe(true);
    });
    it("7. a failing up (a drop-in sshd rejects) reports sshd's own error and leaves nothing behind", async () => {
        const broken = structuredClone(plan);
        const victim = broken.hosts.find((h) => h.role === "target") as LabHost;
        const doc = parse(victim.cloudInit) as { write_files?: Record<string, unknown>[] };
        doc.write_files = [
            ...(doc.write_files ?? []),
            { path: "/etc/ssh/sshd_config.d/00-broken.conf", content: "NoSuchKeyword yes\n", permissions: "0600" },
        ];
        victim.cloudInit = `#cloud-config\n${stringify(doc)}`;
        const badDir = mkdtempSync("/tmp/jg-lab-");
        const t0 = Date.now();
        await expect(labUp(broken, badDir)).rejects.toThrow(/00-broken\.conf.*NoSuchKeyword|Bad configuration option/);
        timings["failed up"] = Date.now() - t0;
        expect(listNamespaces().filter((n) => n.startsWith(`jg-${plan.stack}-`))).toEqual([]);
        expect(existsSync(badDir)).toBe(false);
        expect(
            existsSync("/etc/netns") ? readdirSync("/etc/netns").filter((n) => n.startsWith(`jg-${plan.stack}-`)) : [],
        ).toEqual([]);
    });
});
