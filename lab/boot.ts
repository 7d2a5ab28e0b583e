// Boots a lab host as a real Debian 13 system: systemd as PID 1 under systemd-nspawn, in the host's
// network namespace, on an overlay of the cached root (scripts/build-lab-root.sh), with a NoCloud
// seed holding exactly the host's rendered user data. cloud-init, sshd and fail2ban then run from
// their own systemd units, as on the instance.
//
// Per host, under its directory: upper/ and work/ (the overlay's writable layer), merged/ (the
// mounted root), console.log (the container's console). Outside it: the cgroup directories
// /sys/fs/cgroup/{systemd,unified}/<machine> nspawn runs from (else every container creates
// /payload and /supervisor at the top of the shared tree and they collide), and nspawn's
// /run/systemd/nspawn/propagate/<machine>. stopHost removes all of it.
import { spawn } from "node:child_process";
import {
    chmodSync,
    closeSync,
    existsSync,
    mkdirSync,
    openSync,
    readFileSync,
    readdirSync,
    rmSync,
    rmdirSync,
    statSync,
    writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { run, pidAlive, sleep, type RunOptions, type RunResult } from "./exec";

const CGROUP_HIERARCHIES = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"];
const SAFE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PROPAGATE_DIR = "/run/systemd/nspawn/propagate";
/** Where the cloud-init NoCloud datasource looks for a seed on the root filesystem. */
export const NOCLOUD_SEED = "var/lib/cloud/seed/nocloud";

export interface BootSpec {
    /** Machine name (unique on this machine: the namespace name). */
    machine: string;
    /** Network namespace (under /run/netns) the host lives in. */
    ns: string;
    /** Host directory for upper/, work/, merged/ and console.log. */
    hostDir: string;
    /** The unpacked root filesystem (overlay lower layer; never written). */
    rootDir: string;
    /** The rendered `#cloud-config` document, written to the seed unchanged. */
    userData: string;
    /** meta-data: instance-id and local-hostname, as EC2's metadata service gives them. */
    instanceId: string;
    hostname: string;
    /** meta-data `public-keys`: the instance's key pair, as EC2's metadata service gives it. */
    publicKeys?: string[];
    /** The host's /etc/hosts (the lab's stand-in for DNS: its own name and the mirror's). */
    etcHosts?: string;
    /** Further files for the host's root (path relative to `/` → content, mode 0644). */
    extraFiles?: Record<string, string>;
}

/** What a booted host left on the machine, as recorded for `down`. */
export interface BootedHost {
    machine: string;
    ns: string;
    hostDir: string;
    merged: string;
    /** The systemd-nspawn process. */
    nspawnPid: number;
    /** The container's PID 1 (systemd), for `nsenter -t`. */
    leaderPid: number;
    cgroups: string[];
    console: string;
}

/** Commands booting needs that are not on PATH (systemd-nspawn comes with systemd-container). */
export function missingBootTools(): string[] {
    const dirs = (process.env.PATH ?? "").split(":").filter((d) => d.length > 0);
    return ["systemd-nspawn", "nsenter", "mount", "umount"].filter((t) => !dirs.some((d) => existsSync(join(d, t))));
}

/** The files of a NoCloud seed: meta-data names the instance; user-data is the document as rendered. */
export function noCloudSeed(
    spec: Pick<BootSpec, "instanceId" | "hostname" | "userData" | "publicKeys">,
): Record<string, string> {
    // A key is one line of base64 and a comment: quoted, so YAML keeps it as written.
    const keys = (spec.publicKeys ?? []).map((k) => `  - ${JSON.stringify(k.trim())}\n`).join("");
    return {
        "meta-data": `instance-id: ${spec.instanceId}\nlocal-hostname: ${spec.hostname}\n${keys && `public-keys:\n${keys}`}`,
        "user-data": spec.userData,
    };
}

/** systemd-nspawn's arguments for booting `merged` in namespace `ns` (see lab-facts for why each flag). */
export function nspawnArgs(machine: string, ns: string, merged: string): string[] {
    return [
        "--boot",
        `--directory=${merged}`,
        `--machine=${machine}`,
        `--network-namespace-path=/run/netns/${ns}`,
        "--capability=CAP_NET_ADMIN", // fail2ban's nftables action and the host's own nft
        "--register=no", // machined does not run on this machine
        "--keep-unit", // else "Failed to open system bus"
        "--private-users=no",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        "--console=read-only",
    ];
}

function cgroupDirs(machine: string): string[] {
    return CGROUP_HIERARCHIES.filter((h) => existsSync(h)).map((h) => join(h, machine));
}

/**
 * Mounts the overlay, writes the seed, and starts nspawn from the host's own cgroups under
 * `nsenter --net=` (so /sys/class/net inside shows the namespace's links). Resolves with the
 * container's PID 1 once it exists; on failure everything made so far is removed.
 */
export async function bootHost(spec: BootSpec): Promise<BootedHost> {
    for (const name of [spec.machine, spec.ns])
        if (!SAFE_NAME.test(name)) throw new Error(`lab host name '${name}' must match ${SAFE_NAME}`);
    const upper = join(spec.hostDir, "upper");
    const work = join(spec.hostDir, "work");
    const merged = join(spec.hostDir, "merged");
    const consoleLog = join(spec.hostDir, "console.log");
    const cgroups = cgroupDirs(spec.machine);
    const partial: BootedHost = {
        machine: spec.machine,
        ns: spec.ns,
        hostDir: spec.hostDir,
        merged,
        nspawnPid: 0,
        leaderPid: 0,
        cgroups,
        console: consoleLog,
    };
    // Never boot over a host that still runs: its overlay and cgroups would be shared.
    if (cgroupPids(cgroups).length > 0 || isMounted(merged)) {
        throw new Error(`lab host ${spec.machine} is already running (${merged}); take the lab down first`);
    }
    try {
        for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true, mode: 0o700 });
        // A directory in the upper layer hides the lower one's mode: copy it, or / and /var turn 0700.
        const seed = mkdirLike(spec.rootDir, upper, NOCLOUD_SEED);
        if (spec.etcHosts !== undefined) {
            writeFileSync(join(mkdirLike(spec.rootDir, upper, "etc"), "hosts"), spec.etcHosts, { mode: 0o644 });
        }
        for (const [rel, content] of Object.entries(spec.extraFiles ?? {})) {
            const slash = rel.lastIndexOf("/");
            const parent = mkdirLike(spec.rootDir, upper, rel.slice(0, slash));
            writeFileSync(join(parent, rel.slice(slash + 1)), content, { mode: 0o644 });
        }
        for (const [name, content] of Object.entries(noCloudSeed(spec)))
            writeFileSync(join(seed, name), content, { mode: 0o600 });
        run("mount", [
            "-t",
            "overlay",
            "overlay",
            "-o",
            `lowerdir=${spec.rootDir},upperdir=${upper},workdir=${work}`,
            merged,
        ]);
        for (const c of cgroups) mkdirSync(c, { recursive: true });

        partial.nspawnPid = launchNspawn(partial);
        partial.leaderPid = await waitForLeader(partial);
        return partial;
    } catch (err) {
        await stopHost(partial);
        throw err;
    }
}

/**
 * Starts nspawn on the mounted root from the host's own cgroups: a shell moves itself into them, then
 * becomes nsenter, which becomes nspawn. Returns nspawn's pid.
 */
function launchNspawn(h: BootedHost): number {
    const script = [
        "set -e",
        ...h.cgroups.map((c) => `echo $$ > ${c}/cgroup.procs`),
        `exec nsenter --net=/run/netns/${h.ns} systemd-nspawn "$@"`,
    ].join("\n");
    const out = openSync(h.console, "a", 0o600);
    const child = spawn("sh", ["-c", script, "sh", ...nspawnArgs(h.machine, h.ns, h.merged)], {
        detached: true,
        stdio: ["ignore", out, out],
        env: { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
    });
    closeSync(out);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start systemd-nspawn for ${h.machine}`);
    return child.pid;
}

/**
 * Reboots a booted host as an instance reboots: an orderly poweroff of its systemd, then a new boot of the
 * same root (the overlay's upper layer, with everything the first boot wrote, stays). cloud-init sees the
 * same instance-id, so only what the host's own units do happens again. Returns the new boot's handles.
 */
export async function rebootHost(h: BootedHost, timeoutMs = 30_000): Promise<BootedHost> {
    if (pidAlive(h.nspawnPid)) killAll([h.nspawnPid], "SIGTERM");
    const all = () => [h.nspawnPid, ...cgroupPids(h.cgroups)];
    if (!(await waitGone(all, timeoutMs))) throw new Error(`${h.machine} did not power off in ${timeoutMs} ms`);
    rmSync(join(PROPAGATE_DIR, h.machine), { recursive: true, force: true });
    if (!isMounted(h.merged)) throw new Error(`${h.merged} is no longer mounted; the host cannot boot again`);
    const next: BootedHost = { ...h, nspawnPid: 0, leaderPid: 0 };
    next.nspawnPid = launchNspawn(next);
    next.leaderPid = await waitForLeader(next);
    return next;
}

/** Creates `rel` under `upper` with the modes its directories have in `lower` (0755 where new). */
function mkdirLike(lower: string, upper: string, rel: string): string {
    let path = "";
    for (const part of ["", ...rel.split("/")]) {
        path = path ? join(path, part) : part;
        const mode = existsSync(join(lower, path)) ? statSync(join(lower, path)).mode & 0o7777 : 0o755;
        mkdirSync(join(upper, path), { recursive: true });
        chmodSync(join(upper, path), mode);
    }
    return join(upper, rel);
}

/** Pids in the host's cgroup directories (all levels). */
export function cgroupPids(cgroups: readonly string[]): number[] {
    const pids = new Set<number>();
    const walk = (dir: string): void => {
        let entries: string[];
        try {
            entries = readdirSync(dir);
        } catch {
            return;
        }
        try {
            for (const l of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n"))
                if (/^\d+$/.test(l.trim())) pids.add(Number(l.trim()));
        } catch {
            // removed meanwhile
        }
        for (const e of entries) if (!e.includes(".")) walk(join(dir, e));
    };
    for (const c of cgroups) walk(c);
    return [...pids];
}

/** True when `pid` is PID 1 of a pid namespace nested in ours (the container's init). */
function isNestedInit(pid: number): boolean {
    try {
        const m = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        const ids = (m?.[1] ?? "").trim().split(/\s+/);
        return ids.length > 1 && ids[ids.length - 1] === "1";
    } catch {
        return false;
    }
}

function tail(file: string, n = 25): string {
    if (!existsSync(file)) return "(no console output)";
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
}

async function waitForLeader(h: BootedHost, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (!pidAlive(h.nspawnPid)) throw new Error(`systemd-nspawn for ${h.machine} exited:\n${tail(h.console)}`);
        const leader = cgroupPids(h.cgroups).find(isNestedInit);
        if (leader !== undefined) return leader;
        await sleep(50);
    }
    throw new Error(`no init process in ${h.machine} after ${timeoutMs} ms:\n${tail(h.console)}`);
}

/** Runs a command inside the booted host (all its namespaces: its files, its systemd, its network). */
export function execIn(
    h: Pick<BootedHost, "leaderPid">,
    cmd: string,
    args: readonly string[],
    opts: RunOptions = {},
): RunResult {
    return run("nsenter", ["-t", String(h.leaderPid), "-a", cmd, ...args], opts);
}

export interface Readiness {
    /** `cloud-init status --long` after the wait, and its exit code (0 done, 1 error, 2 recoverable). */
    cloudInit: { code: number | null; text: string };
    /** `systemctl is-system-running` once boot finished: running, degraded, ... */
    system: string;
    ms: number;
    /** Waits cut short by a signal (and retried), with what the command said. */
    interrupted: string[];
}

/**
 * Waits until cloud-init has finished every stage and systemd has finished booting, from inside the
 * host (a probe of sshd from outside would count as a failed login for fail2ban).
 */
export function waitReady(h: BootedHost, timeoutMs = 180_000): Readiness {
    const t0 = Date.now();
    const left = () => Math.max(1_000, timeoutMs - (Date.now() - t0));
    let ci = execIn(h, "cloud-init", ["status", "--wait", "--long"], { check: false, timeoutMs: left() });
    // The wait can be cut short by a signal while the host boots; ask again until the time is up.
    const interrupted: string[] = [];
    while (ci.signal && Date.now() - t0 < timeoutMs && pidAlive(h.nspawnPid)) {
        interrupted.push(`${ci.signal} after ${Date.now() - t0} ms: ${ci.stderr.trim()}`);
        ci = execIn(h, "cloud-init", ["status", "--wait", "--long"], { check: false, timeoutMs: left() });
    }
    if (!pidAlive(h.nspawnPid)) throw new Error(`${h.machine} stopped while booting:\n${tail(h.console)}`);
    if (ci.signal) {
        throw new Error(
            `cloud-init in ${h.machine} not done after ${timeoutMs} ms (${interrupted.join("; ")}):\n${tail(h.console)}`,
        );
    }
    const sys = execIn(h, "systemctl", ["is-system-running", "--wait"], { check: false, timeoutMs: left() });
    return {
        cloudInit: { code: ci.status, text: ci.stdout.trim() || ci.stderr.trim() },
        system: sys.stdout.trim(),
        ms: Date.now() - t0,
        interrupted,
    };
}

function isMounted(path: string): boolean {
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
    return mounts.some((l) => l.split(" ")[4] === path);
}

async function waitGone(pids: () => number[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (pids().every((p) => !pidAlive(p))) return true;
        await sleep(50);
    }
    return pids().every((p) => !pidAlive(p));
}

function killAll(pids: readonly number[], signal: NodeJS.Signals): void {
    for (const p of pids) {
        try {
            process.kill(p, signal);
        } catch {
            // gone
        }
    }
}

/**
 * Powers the host off (SIGTERM to nspawn: an orderly shutdown of its systemd), kills whatever is
 * left in its cgroups, unmounts the overlay and removes the overlay's layers, the cgroup directories
 * and nspawn's propagation directory. Leaves hostDir (console.log) to the caller. Safe to repeat.
 */
export async function stopHost(h: BootedHost, timeoutMs = 15_000): Promise<void> {
    const inCgroups = () => cgroupPids(h.cgroups);
    const all = () => [...(h.nspawnPid > 0 ? [h.nspawnPid] : []), ...inCgroups()];
    if (h.nspawnPid > 0 && pidAlive(h.nspawnPid)) {
        killAll([h.nspawnPid], "SIGTERM");
        await waitGone(() => [h.nspawnPid], timeoutMs);
    }
    if (!(await waitGone(all, 100))) {
        killAll(all(), "SIGKILL");
        if (!(await waitGone(all, 5_000)))
            throw new Error(`processes of ${h.machine} survive SIGKILL: ${all().join(" ")}`);
    }
    // Mounts can be stacked there (a host booted again over a running one): unmount all of them.
    for (let i = 0; i < 8 && isMounted(h.merged); i++) {
        const res = run("umount", [h.merged], { check: false });
        if (res.status !== 0) run("umount", ["--lazy", h.merged], { check: false });
    }
    if (isMounted(h.merged)) throw new Error(`${h.merged} is still mounted`);
    for (const d of ["merged", "upper", "work"]) rmSync(join(h.hostDir, d), { recursive: true, force: true });
    for (const c of h.cgroups) removeCgroup(c);
    rmSync(join(PROPAGATE_DIR, h.machine), { recursive: true, force: true });
}

/** Removes a cgroup directory and its children, deepest first (cgroupfs only allows rmdir). */
function removeCgroup(dir: string): void {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
    rmdirSync(dir);
}

/** Proportional set size of every process of the host, in KiB (shared pages split among sharers). */
export function hostPssKiB(h: Pick<BootedHost, "cgroups">): number {
    let total = 0;
    for (const pid of cgroupPids(h.cgroups)) {
        try {
            const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
            total += Number(m?.[1] ?? 0);
        } catch {
            // exited meanwhile
        }
    }
    return total;
}
