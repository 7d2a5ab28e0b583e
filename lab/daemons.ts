// The lab's daemons: the real sshd (one per host) behind the syslog-prefixing pipe, and the real
// fail2ban server (on hosts whose document installs it). Cloud-init's runcmd would restart them with
// systemctl; there is no systemd here, so the lab starts them directly, each in its host's namespace.
//
// sshd runs as `ip netns exec <ns> unshare --uts --mount sh -c SSHD_WRAPPER`, which gives it
// - its own hostname (so `ssh <target> hostname` names the target),
// - its own /home (the users' homes live in the lab dir),
// - its own /run (tmpfs: the privilege separation dir /run/sshd and utmp are the host's, not the
//   machine's) and /var/log (tmpfs: wtmp, btmp and lastlog records stay out of the machine's),
// then checks the configuration (`sshd -t`) and execs `sshd -D -e -o PidFile=<lab dir>`. The
// configuration is otherwise exactly the host's /etc/ssh; those mounts die with the daemon.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { WaitAborted, pidAlive, runIn, sleep, waitFor } from "./exec";

const SSHD = "/usr/sbin/sshd";
const START_TIMEOUT_MS = 15_000;

function tail(file: string, n = 15): string {
    if (!existsSync(file)) return "(no log)";
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
}

function readPid(file: string): number | undefined {
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** `node -r <tsx/cjs> lab/logpipe.ts` (no build step), or the compiled `logpipe.js` next to this file. */
function logpipeCommand(): string[] {
    const ts = join(__dirname, "logpipe.ts");
    if (existsSync(ts)) return [process.execPath, "-r", createRequire(__filename).resolve("tsx/cjs"), ts];
    return [process.execPath, join(__dirname, "logpipe.js")];
}

/** Arguments: $1 hostname, $2 homes dir, $3 pid file, $4 sshd binary. Every step must succeed. */
const SSHD_WRAPPER = [
    "set -e",
    'hostname "$1"',
    'mount --bind "$2" /home',
    "mount -t tmpfs -o mode=0755,size=4m jumpgate-lab-run /run",
    "mkdir -m 0755 /run/sshd",
    "mount -t tmpfs -o mode=0755,size=8m jumpgate-lab-log /var/log",
    "touch /var/log/lastlog /var/log/wtmp /var/log/btmp",
    "chmod 0600 /var/log/btmp",
    '"$4" -t -o PidFile="$3"',
    'exec "$4" -D -e -o PidFile="$3"',
].join("\n");

export interface SshdOptions {
    ns: string;
    hostname: string;
    /** Directory bind-mounted over /home. */
    homeRoot: string;
    pidFile: string;
    /** Syslog-format log (what fail2ban reads). */
    authLog: string;
    /** The pipe's own stderr. */
    pipeErr: string;
}

export interface Started {
    pid: number;
    /** The logpipe process (root namespace) that owns sshd's output. */
    supervisorPid?: number;
}

/** Starts sshd (after `sshd -t`) in the host's namespace; resolves once it listens, else throws with its log. */
export async function startSshd(o: SshdOptions): Promise<Started> {
    const script = SSHD_WRAPPER;
    const [node, ...pipeArgs] = logpipeCommand();
    const err = openSync(o.pipeErr, "a", 0o600);
    const child = spawn(
        node,
        [
            ...pipeArgs,
            o.hostname,
            "sshd",
            o.authLog,
            "--",
            "ip",
            "netns",
            "exec",
            o.ns,
            "unshare",
            "--uts",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            o.hostname,
            o.homeRoot,
            o.pidFile,
            SSHD,
        ],
        { detached: true, stdio: ["ignore", "ignore", err] },
    );
    closeSync(err);
    const supervisorPid = child.pid;
    child.unref();
    if (supervisorPid === undefined) throw new Error(`could not start the log pipe for sshd in ${o.ns}`);
    const pid = await waitFor(`sshd in ${o.ns} to listen`, START_TIMEOUT_MS, () => {
        if (!pidAlive(supervisorPid)) throw new WaitAborted(`sshd exited:\n${tail(o.authLog)}\n${tail(o.pipeErr)}`);
        const p = readPid(o.pidFile);
        return p !== undefined && pidAlive(p) && /Server listening on/.test(readFileSync(o.authLog, "utf8"))
            ? p
            : undefined;
    }).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${o.authLog}\n${tail(o.authLog)}`);
    });
    return { pid, supervisorPid };
}

export interface Fail2banOptions {
    ns: string;
    pidFile: string;
    /** fail2ban-server's stdout/stderr. */
    outFile: string;
    /** Its own log (logtarget). */
    logFile: string;
    /** Jails that must be running. */
    jails: string[];
}

/** Runs fail2ban-client inside the host's namespace (its /etc/fail2ban names the lab's socket). */
export function fail2banClient(ns: string, args: readonly string[], check = true): string {
    return runIn(ns, "fail2ban-client", args, { check, timeoutMs: 15_000 }).stdout;
}

/** Checks the configuration (`fail2ban-client -t`) and starts fail2ban-server; resolves once the jails run. */
export async function startFail2ban(o: Fail2banOptions): Promise<Started> {
    runIn(o.ns, "fail2ban-client", ["--test"], { timeoutMs: 30_000 });
    const out = openSync(o.outFile, "a", 0o600);
    const child = spawn("ip", ["netns", "exec", o.ns, "fail2ban-server", "-f", "-x"], {
        detached: true,
        stdio: ["ignore", out, out],
    });
    closeSync(out);
    const pid = child.pid;
    child.unref();
    if (pid === undefined) throw new Error(`could not start fail2ban-server in ${o.ns}`);
    // fail2ban-client is a Python start-up per call: read the server's own log for the jails'
    // "started" lines instead, and ask the server only to confirm (or every ~2 s if the log is quiet).
    let round = 0;
    await waitFor(
        `fail2ban in ${o.ns} to run jails ${o.jails.join(", ")}`,
        START_TIMEOUT_MS,
        () => {
            if (!pidAlive(pid))
                throw new WaitAborted(`fail2ban-server exited:\n${tail(o.outFile)}\n${tail(o.logFile)}`);
            const logText = existsSync(o.logFile) ? readFileSync(o.logFile, "utf8") : "";
            const logged = o.jails.every((j) => logText.includes(`Jail '${j}' started`));
            if (!logged && ++round % 8 !== 0) return undefined;
            const res = runIn(o.ns, "fail2ban-client", ["status"], { check: false, timeoutMs: 5_000 });
            if (res.status !== 0) return undefined;
            const list = /Jail list:\s*(.*)/.exec(res.stdout)?.[1] ?? "";
            const running = list.split(/[,\s]+/).filter((j) => j.length > 0);
            return o.jails.every((j) => running.includes(j));
        },
        250,
    ).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${o.logFile}\n${tail(o.logFile)}`);
    });
    return { pid };
}

/** The command line of `pid` (empty when it is gone). */
export function cmdline(pid: number): string {
    try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
        return "";
    }
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL whatever is left. Returns the pids signalled. */
export async function stopPids(pids: readonly number[], timeoutMs = 5_000): Promise<number[]> {
    const signalled: number[] = [];
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGTERM");
            signalled.push(pid);
        } catch {
            // already gone
        }
    }
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
        if (signalled.every((p) => !pidAlive(p))) return signalled;
        await sleep(50);
    }
    for (const pid of signalled) {
        if (!pidAlive(pid)) continue;
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone meanwhile
        }
    }
    for (let i = 0; i < 40; i++) {
        if (signalled.every((p) => !pidAlive(p))) break;
        await sleep(50);
    }
    return signalled;
}

/** Whether `nft` in `ns` lists a table `family name`. */
export function nftHasTable(ns: string, family: string, name: string): boolean {
    const res = runIn(ns, "nft", ["list", "tables"], { check: false });
    return res.stdout.split("\n").some((l) => l.trim() === `table ${family} ${name}`);
}
