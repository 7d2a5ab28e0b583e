// The lab's plan for its tests: the real program run offline (as `npm run lab` does), with fresh
// random ED25519 keys, so the hosts boot exactly the cloud-config documents `pulumi up` would send.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunResult } from "../../lab/exec";
import { labPlanForConfig } from "../../lab/fromPlan";
import { labDown, labExec, type LabHostState } from "../../lab/lab";
import { FAIL2BAN_LOG_PATH } from "../../components/render/fail2ban";
import type { LabPlan } from "../../lab/model";
import { listNamespaces } from "../../lab/netns";
import { BASE_CONFIG } from "./program";

export interface KeyPair {
    publicKey: string;
    privateKey: string;
}

/** A fresh ED25519 key pair from ssh-keygen (for impostor keys). */
export function sshKeygen(comment: string): KeyPair {
    const dir = mkdtempSync(join(tmpdir(), "jg-key-"));
    try {
        const file = join(dir, "key");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
        return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export interface LabPlanOptions {
    /** Stack name (default `e2e`; short, so namespace names stay readable). */
    stack?: string;
    /** fail2banMaxRetry (default 3, so the ban test is quick). */
    maxRetry?: number;
    /** Extra stack config (`jumpgate:key` → value). */
    config?: Record<string, unknown>;
    /** A secret seed: later plans with it keep the stack's keys (CA, host keys), as its state would. */
    keySeed?: string;
}

/** The program's plan for a bastion and two targets (app-1, db-1) in two private subnets, as a LabPlan. */
export async function programLabPlan(opts: LabPlanOptions = {}): Promise<LabPlan> {
    const config = {
        ...BASE_CONFIG,
        "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
        "jumpgate:fail2banMaxRetry": opts.maxRetry ?? 3,
        ...opts.config,
    };
    return labPlanForConfig(opts.stack ?? "e2e", config, opts.keySeed);
}

/**
 * What a stack's lab left on this machine: namespaces, /etc/netns entries and the lab dir. Suites call
 * it in afterAll, after their own `labDown`, and throw on anything left, so a failed test cannot leave
 * state behind that fails the next one.
 */
export function labLeftovers(stack: string, dir: string): string[] {
    const prefix = `jg-${stack}-`;
    const netnsEtc = existsSync("/etc/netns") ? readdirSync("/etc/netns") : [];
    return [
        ...listNamespaces()
            .filter((n) => n.startsWith(prefix))
            .map((n) => `namespace ${n}`),
        ...netnsEtc.filter((n) => n.startsWith(prefix)).map((n) => `/etc/netns/${n}`),
        ...(dir && existsSync(dir) ? [`lab dir ${dir}`] : []),
    ];
}

/**
 * A teammate's ssh_config next to the operator's (`sshConfigFile`, the lab's): its own control sockets in
 * `dir`, and a fresh key the hosts do not know for the `wrongKeyFor` aliases (valid keys elsewhere).
 */
export function teammateSshConfig(sshConfigFile: string, dir: string, wrongKeyFor: string[]): string {
    const wrongKey = join(dir, "teammate_wrong_ed25519");
    writeFileSync(wrongKey, sshKeygen("teammate-wrong-key").privateKey, { mode: 0o600 });
    const file = join(dir, "teammate_ssh_config");
    const blocks = readFileSync(sshConfigFile, "utf8").split(/^(?=Host\s)/m);
    const text = blocks
        .map((b) => b.replace(/^(\s*ControlPath\s+).*$/m, `$1${dir}/tm-%C`))
        .map((b) =>
            wrongKeyFor.some((a) => b.startsWith(`Host ${a}\n`))
                ? b.replace(/^(\s*IdentityFile\s+).*$/m, `$1${wrongKey}`)
                : b,
        )
        .join("");
    writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/**
 * `ssh -W dest` through `hop` from namespace `ns`, never sending a banner of its own: the host at `dest`
 * holds it as an unauthenticated connection (until LoginGraceTime). Resolves once that host's banner
 * arrived, or the channel closed, or after 8 s.
 */
export function holdChannel(
    ns: string,
    sshConfigFile: string,
    hop: string,
    dest: string,
): Promise<{ child: ChildProcess; banner: boolean }> {
    return new Promise((resolve) => {
        const child = spawn("ip", ["netns", "exec", ns, "ssh", "-F", sshConfigFile, "-W", dest, hop], {
            stdio: ["pipe", "pipe", "ignore"],
            env: { PATH: process.env.PATH },
        });
        let out = "";
        const done = (banner: boolean) => {
            clearTimeout(timer);
            resolve({ child, banner });
        };
        const timer = setTimeout(() => done(false), 8_000);
        child.stdout?.on("data", (d: Buffer) => {
            out += d.toString();
            if (out.includes("SSH-2.0")) done(true);
        });
        child.on("exit", () => done(out.includes("SSH-2.0")));
    });
}

/** `fail2ban-client args` inside a booted lab host (its socket is the host's own). */
export function fail2banOn(host: LabHostState, args: string[]): RunResult {
    return labExec(host, "fail2ban-client", args, { check: false });
}

/** What sshd logged on a booted lab host: ssh.service's journal (sshd and sshd-session lines). */
export function sshdJournal(host: LabHostState): string {
    return labExec(host, "journalctl", ["--no-pager", "-o", "short-iso", "-u", "ssh.service"]).stdout;
}

/** The host's boot id: a new one means it was rebooted or replaced. */
export function bootId(host: LabHostState): string {
    return labExec(host, "cat", ["/proc/sys/kernel/random/boot_id"]).stdout.trim();
}

/** fail2ban's own log on a booted lab host (Debian's default logtarget, which recidive reads). */
export function fail2banLog(host: LabHostState): string {
    return labExec(host, "cat", [FAIL2BAN_LOG_PATH], { check: false }).stdout;
}

/** The rendered jails fail2ban runs on a booted host, from its own status. */
export function jailsOn(host: LabHostState): string[] {
    const list = /Jail list:\s*(.*)/.exec(fail2banOn(host, ["status"]).stdout)?.[1] ?? "";
    return list.split(/[,\s]+/).filter(Boolean);
}

/** Addresses a jail has banned, by fail2ban's own report. */
export function bannedBy(host: LabHostState, jail: string): string[] {
    const status = fail2banOn(host, ["status", jail]).stdout;
    return (/Banned IP list:\s*(.*)/.exec(status)?.[1] ?? "").split(/\s+/).filter(Boolean);
}

/**
 * A lab suite's afterAll: takes the stack's lab down (harmless when a test already did), removes the
 * suite's own scratch dir, and throws, failing the hook rather than the next suite, if the teardown left
 * anything behind.
 */
export async function tearDownLab(stack: string | undefined, dir: string, scratch = ""): Promise<void> {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (!stack) return;
    await labDown(stack, dir);
    const left = labLeftovers(stack, dir);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`lab teardown left: ${left.join(", ")}`);
}

/**
 * ssh arguments of a hostile login attempt: a password-less try as `user@host` that no key or known host
 * can rescue, so sshd counts an authentication failure (what fail2ban bans on).
 */
export function hostileLoginArgs(user: string, host: string, port: number): string[] {
    const opts = [
        "BatchMode=yes",
        "PubkeyAuthentication=no",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "ConnectTimeout=4",
    ];
    return ["-F", "/dev/null", ...opts.flatMap((o) => ["-o", o]), "-p", String(port), `${user}@${host}`, "true"];
}
