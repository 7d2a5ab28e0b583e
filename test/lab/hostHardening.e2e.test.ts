// End to end: the host around sshd, read from booted Debian 13 lab hosts that applied the program's own
// user data (a bastion and a target). Kernel settings: nspawn mounts /proc/sys read-only, so the lab proves
// the file is installed, that the host's own sysctl parses it against this kernel, and why systemd-sysctl
// skipped it; the values themselves are proven on EC2 only (README, "Host hardening"). Everything else is
// read from the running hosts: modprobe rules, core limits, umask, login.defs, services, effective sshd.
// Stack `hs`: no other suite uses it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIn } from "../../lab/exec";
import { labExec, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import {
    BASTION_KEPT_SERVICES,
    BASTION_MASKED_UNITS,
    BLACKLISTED_MODULES,
    LOGIN_DEFS_SETTINGS,
    MODPROBE_PATH,
    SYSCTL_PATH,
    SYSCTL_SETTINGS,
    renderModprobeBlacklist,
    renderSysctl,
} from "../../components/render/hostHardening";
import { JUMP_CHANNEL_TIMEOUT } from "../../components/render/sshd";
import { programLabPlan, tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "hs";
const gate = toolsAvailable("ssh", "ip", "nft", "nsenter", "systemd-nspawn", "modprobe") && isRootOrFail();

/** `*` in a unit pattern matches within a name. */
function unitMatches(pattern: string, unit: string): boolean {
    return new RegExp(`^${pattern.replace(/[.@]/g, "\\$&").replace(/\*/g, "[^ ]*")}$`).test(unit);
}

describe.runIf(gate)("lab: the booted hosts carry the host hardening from their user data alone", () => {
    let plan: LabPlan;
    let state: LabState;
    let dir = "";
    /** This suite's own files, outside the lab dir (whose teardown must leave nothing). */
    let scratch = "";
    const env = { PATH: process.env.PATH };
    const bastion = (): LabHostState => state.hosts.find((h) => h.role === "bastion")!;
    const target = (): LabHostState => state.hosts.find((h) => h.role === "target")!;
    const on = (h: LabHostState, script: string) => labExec(h, "sh", ["-c", script], { check: false });
    /** The operator, through the bastion with the generated config. */
    const operator = (alias: string, command: string[], options: string[] = []) =>
        runIn(state.clientNs, "ssh", ["-F", state.sshConfig, "-o", "BatchMode=yes", ...options, alias, ...command], {
            check: false,
            timeoutMs: 30_000,
            env,
        });

    beforeAll(async () => {
        plan = await programLabPlan({ stack: STACK, config: { "jumpgate:targets": [{ name: "app-1" }] } });
        dir = mkdtempSync("/tmp/jg-lab-hs-");
        scratch = mkdtempSync("/tmp/jg-lab-hs-scratch-");
        state = (await labUp(plan, dir)).state;
    }, 300_000);

    afterAll(async () => {
        await tearDownLab(STACK, dir, scratch);
    }, 60_000);

    it("sysctl: the file is installed, the host's own sysctl parses every key this kernel has; /proc/sys is read-only here", () => {
        for (const h of [bastion(), target()]) {
            expect(on(h, `cat ${SYSCTL_PATH}`).stdout).toBe(renderSysctl());
            // Why the values cannot be read back in the lab: nspawn's /proc/sys, so systemd-sysctl skips itself.
            expect(on(h, "findmnt -n -o OPTIONS /proc/sys").stdout).toMatch(/^ro,/);
            expect(on(h, "systemctl show -p ConditionResult systemd-sysctl.service").stdout.trim()).toBe(
                "ConditionResult=no",
            );
            const dry = on(h, `sysctl --dry-run -p ${SYSCTL_PATH}`);
            const parsed = new Set(dry.stdout.split("\n").map((l) => l.split(" = ")[0]));
            const missing = [...dry.stderr.matchAll(/cannot stat \/proc\/sys\/(\S+): No such file/g)].map((m) =>
                m[1]!.replace(/\//g, "."),
            );
            for (const s of SYSCTL_SETTINGS) {
                const seen = s.key.includes("*")
                    ? parsed.has(s.key.replace("*", "all"))
                    : parsed.has(s.key) || missing.includes(s.key);
                expect(seen, `${h.name}: ${s.key}: ${dry.stderr}`).toBe(true);
            }
            // Only keys this kernel or this network namespace lacks are unparsed (never a misspelt one).
            for (const k of missing) expect(existsIn(h, k), k).toBe(false);
            const back = SYSCTL_SETTINGS.map((s) => {
                const key = s.key.replace("*", "all");
                return `${key}=${on(h, `sysctl -n ${key}`).stdout.trim() || "(absent)"} (rendered ${s.value})`;
            });
            console.log(`${h.name} reads back (this machine's kernel, not set by the host):\n${back.join("\n")}`);
        }
    });

    it("modprobe: the rules are installed, and modprobe -n -v on them refuses every listed module", () => {
        for (const h of [bastion(), target()]) {
            const text = on(h, `cat ${MODPROBE_PATH}`).stdout;
            expect(text).toBe(renderModprobeBlacklist());
            // The lab's root has no kmod (containers load no modules): this machine's modprobe reads the host's file.
            const file = join(scratch, `${h.name}-modprobe.conf`);
            writeFileSync(file, text);
            for (const m of BLACKLISTED_MODULES) {
                const r = spawnSync("modprobe", ["-C", file, "-n", "-v", m.name], { encoding: "utf8" });
                expect(r.stdout.trim(), m.name).toBe("install /bin/false");
            }
        }
    });

    it("core dumps: limit 0 for login shells (hard), services and sshd; coredump keeps nothing", () => {
        const shell = operator(`${STACK}-app-1`, ["bash -lc 'ulimit -Hc; ulimit -c'"]);
        expect(shell.status, shell.stderr).toBe(0);
        expect(shell.stdout.trim().split("\n")).toEqual(["0", "0"]);
        for (const h of [bastion(), target()]) {
            expect(on(h, "systemctl show -p DefaultLimitCORE").stdout.trim()).toBe("DefaultLimitCORE=0");
            expect(on(h, "systemctl show -p LimitCORE ssh.service").stdout.trim()).toBe("LimitCORE=0");
            const pid = on(h, "systemctl show -p MainPID --value ssh.service").stdout.trim();
            expect(on(h, `grep 'Max core file size' /proc/${pid}/limits`).stdout).toMatch(/size\s+0\s+0\s/);
        }
    });

    it("umask 027 in every session (command and login shell); files others cannot read", () => {
        const r = operator(`${STACK}-app-1`, ["umask; bash -lc umask"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.trim().split("\n")).toEqual(["0027", "0027"]);
        const g = operator(`${STACK}-app-1`, ["d=~/jg-umask; mkdir $d; : > $d/f; stat -c %a $d $d/f; rm -r $d"]);
        expect(g.stdout.trim().split("\n")).toEqual(["750", "640"]);
    });

    it("login.defs: aging for accounts made later; jumpgate's key-only accounts never expire", () => {
        for (const h of [bastion(), target()]) {
            const defs = on(h, "cat /etc/login.defs").stdout;
            for (const s of LOGIN_DEFS_SETTINGS) {
                const lines = defs.split("\n").filter((l) => new RegExp(`^${s.key}\\s`).test(l));
                expect(lines, s.key).toEqual([`${s.key}\t${s.value}`]);
            }
            const probe = on(h, "useradd -M jgprobe && chage -l jgprobe; userdel jgprobe");
            expect(probe.stdout).toMatch(/Maximum number of days between password change\s*:\s*365/);
            expect(probe.stdout).toMatch(/Minimum number of days between password change\s*:\s*1/);
            expect(probe.stdout).toMatch(/Number of days of warning before password expires\s*:\s*14/);
        }
        const own = on(bastion(), `chage -l ${plan.jumpUser}`).stdout;
        expect(own).toMatch(/Password expires\s*:\s*never/);
        expect(on(target(), `chage -l ${plan.loginUser}`).stdout).toMatch(/Password expires\s*:\s*never/);
    });

    it("bastion: only the services a jump host needs run; the masked ones cannot start; only sshd listens", () => {
        const running = on(bastion(), "systemctl list-units --type=service --state=running --plain --no-legend")
            .stdout.split("\n")
            .map((l) => l.split(" ")[0]!)
            .filter(Boolean);
        console.log(`bastion runs: ${running.join(", ")}`);
        const extra = running.filter((u) => !BASTION_KEPT_SERVICES.some((k) => unitMatches(k.unit, u)));
        expect(extra).toEqual([]);
        expect(running).toContain("ssh.service");
        expect(running).toContain("fail2ban.service");
        for (const m of BASTION_MASKED_UNITS) {
            expect(on(bastion(), `systemctl is-enabled ${m.unit}`).stdout.trim(), m.unit).toBe("masked");
            expect(on(bastion(), `systemctl is-active ${m.unit}`).stdout.trim(), m.unit).not.toBe("active");
        }
        const start = on(bastion(), "systemctl start sshd-unix-local.socket");
        expect(start.status).not.toBe(0);
        expect(start.stderr).toMatch(/masked/);
        const tcp = on(bastion(), "ss -Htlnp").stdout.trim().split("\n");
        for (const l of tcp) expect(l, l).toMatch(new RegExp(`:${plan.sshPort}\\s.*"sshd"`));
        console.log(`bastion TCP listeners:\n${tcp.join("\n")}\nUDP:\n${on(bastion(), "ss -Hulnp").stdout}`);
    });

    it("sshd: the jump user gets forwards only (MaxSessions 0, idle limits), no client environment, no TCP keepalive", () => {
        const b = bastion();
        const t = `user=${plan.jumpUser},host=client,addr=198.51.100.7,laddr=${b.publicIp},lport=${plan.sshPort}`;
        const eff = on(b, `/usr/sbin/sshd -T -C ${t}`).stdout;
        const value = (k: string) => new RegExp(`^${k} (.*)$`, "m").exec(eff)?.[1];
        expect(value("maxsessions")).toBe("0");
        expect(value("channeltimeout")).toBe(JUMP_CHANNEL_TIMEOUT);
        expect(value("unusedconnectiontimeout")).toBe("900");
        expect(value("tcpkeepalive")).toBe("no");
        expect(value("clientaliveinterval")).toBe("30");
        expect(value("clientalivecountmax")).toBe("3");
        expect(eff).not.toMatch(/^acceptenv /m);
        expect(on(b, "grep -E '^\\s*AcceptEnv' /etc/ssh/sshd_config").stdout).toBe("");
        // The target keeps its users' locale (they have a shell), and no TCP keepalive either.
        const te = on(target(), `/usr/sbin/sshd -T -C user=${plan.loginUser},host=b,addr=10.0.0.10`).stdout;
        expect(te).toMatch(/^acceptenv LANG$/m);
        expect(te).toMatch(/^tcpkeepalive no$/m);

        // What an operator sees: no session on the bastion, while ProxyJump still reaches the target.
        const session = operator(`${STACK}-bastion`, ["id"], ["-o", "ControlPath=none"]);
        expect(session.status).not.toBe(0);
        expect(session.stderr).toMatch(/channel \d+: open failed/);
        const hop = operator(`${STACK}-app-1`, ["hostname"]);
        expect(hop.status, hop.stderr).toBe(0);
        expect(hop.stdout.trim()).toBe(target().hostname);
    });

    it("operator keys carry restrict: the jump key gets forwards back, the login key a PTY, and ~/.ssh/rc never runs", () => {
        const keys = (h: LabHostState, user: string) =>
            on(h, `cat ~${user}/.ssh/authorized_keys`).stdout.trim().split("\n");
        for (const l of keys(bastion(), plan.jumpUser)) expect(l).toMatch(/^restrict,port-forwarding ssh-ed25519 /);
        for (const l of keys(target(), plan.loginUser)) expect(l).toMatch(/^restrict,pty ssh-ed25519 /);
        // PermitUserRC is sshd's default: without restrict, a login would run the user's ~/.ssh/rc.
        const alias = `${STACK}-app-1`;
        const plant = operator(alias, ["rm -f ~/jg-rc-ran; echo 'touch ~/jg-rc-ran' > ~/.ssh/rc"]);
        expect(plant.status, plant.stderr).toBe(0);
        const after = operator(alias, ["test -e ~/jg-rc-ran && echo ran || echo not-run; rm -f ~/.ssh/rc ~/jg-rc-ran"]);
        expect(after.stdout.trim()).toBe("not-run");
        // The control: the same key without restrict does run it.
        const file = `~${plan.loginUser}/.ssh/authorized_keys`;
        expect(on(target(), `cp ${file} /root/keys && sed -i 's/^restrict,pty //' ${file}`).status).toBe(0);
        try {
            operator(alias, ["echo 'touch ~/jg-rc-ran' > ~/.ssh/rc"], ["-o", "ControlPath=none"]);
            const bare = operator(alias, ["test -e ~/jg-rc-ran && echo ran; rm -f ~/.ssh/rc ~/jg-rc-ran"]);
            expect(bare.stdout.trim()).toBe("ran");
        } finally {
            on(target(), `cat /root/keys > ${file} && rm /root/keys`);
        }
        const pty = operator(alias, ["tty"], ["-tt"]);
        expect(pty.stdout).toMatch(/\/dev\/pts\/\d+/);
    });
});

/** Whether this machine's kernel has the key, seen from the host (its own network namespace). */
function existsIn(h: LabHostState, key: string): boolean {
    return labExec(h, "test", ["-e", `/proc/sys/${key.replace(/\./g, "/")}`], { check: false }).status === 0;
}
