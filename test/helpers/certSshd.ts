// A real sshd on 127.0.0.1 that takes user certificates only: TrustedUserCAKeys, an
// AuthorizedPrincipalsFile per user, RevokedKeys (a KRL) and no authorized_keys at all, so a login
// that works proves the certificate was accepted. As in test/render/sshd.test.ts, sshd runs in a
// private mount namespace where a temp /etc/ssh and passwd/group/shadow (with the test user) are
// bind-mounted over the host's, so StrictModes sees root-owned paths and the host's /etc is untouched.
import { ETC_OVERLAY_SCRIPT } from "./nsEtc";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PUBKEY_ACCEPTED_ALGORITHMS } from "../../components/render/crypto";

export const CERT_USER = "jgt-ops";
const CERT_UID = 62301;

export interface CertSshd {
    port: number;
    root: string;
    /** Where sshd reads its KRL (RevokedKeys); replace it to revoke (sshd reads it on every login). */
    revokedKeysFile: string;
    /** known_hosts line pinning the server's host key. */
    knownHostsLine: string;
    /** Everything sshd logged so far (LogLevel VERBOSE: accepted certificates with key ID and serial). */
    log(): string;
    stop(): Promise<void>;
}

export interface CertSshdOptions {
    /** CA public key lines sshd trusts (TrustedUserCAKeys). */
    trustedCaKeys: string[];
    /** What CERT_USER's AuthorizedPrincipalsFile lists. */
    principals: string[];
}

/** Starts sshd; it listens on 127.0.0.1 before this resolves. */
export async function startCertSshd(opts: CertSshdOptions): Promise<CertSshd> {
    mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory
    const root = mkdtempSync(join(tmpdir(), "jgt-cert-sshd-"));
    chmodSync(root, 0o755);
    const etcSsh = join(root, "etc/ssh");
    mkdirSync(join(etcSsh, "auth_principals"), { recursive: true, mode: 0o755 });
    writeUsers(root);
    const hostKey = join(etcSsh, "ssh_host_ed25519_key");
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", hostKey]);
    writeFileSync(join(etcSsh, "user_ca_keys"), opts.trustedCaKeys.map((k) => `${k.trim()}\n`).join(""));
    writeFileSync(join(etcSsh, "auth_principals", CERT_USER), opts.principals.map((p) => `${p}\n`).join(""));
    const revokedKeysFile = join(etcSsh, "revoked_keys");
    run("ssh-keygen", ["-q", "-k", "-f", revokedKeysFile, "/dev/null"]); // an empty KRL: nothing revoked yet
    const port = await freePort();
    writeFileSync(join(etcSsh, "sshd_config"), sshdConfig(port));
    const sshd = spawn("unshare", nsArgs(root, [sshdPath(), "-D", "-e", "-f", "/etc/ssh/sshd_config"]), {
        stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    await waitForPort(port, sshd, () => log);
    const hostPub = readFileSync(`${hostKey}.pub`, "utf8").trim();
    return {
        port,
        root,
        revokedKeysFile,
        knownHostsLine: `[127.0.0.1]:${port} ${hostPub}\n`,
        log: () => log,
        stop: async () => {
            await stopProcess(sshd);
            rmSync(root, { recursive: true, force: true });
        },
    };
}

function sshdConfig(port: number): string {
    return [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "PidFile none",
        "UsePAM no",
        "StrictModes yes",
        "LogLevel VERBOSE",
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        // The bastion's own list: certificates must get through jumpgate's hardened algorithms.
        `PubkeyAcceptedAlgorithms ${PUBKEY_ACCEPTED_ALGORITHMS.join(",")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        // No authorized_keys: only a certificate from a trusted CA for a listed principal logs in.
        "AuthorizedKeysFile none",
        "TrustedUserCAKeys /etc/ssh/user_ca_keys",
        "AuthorizedPrincipalsFile /etc/ssh/auth_principals/%u",
        "RevokedKeys /etc/ssh/revoked_keys",
        `AllowUsers ${CERT_USER}`,
        "",
    ].join("\n");
}

/** passwd/group/shadow: the host's, plus CERT_USER with a home under the temp root. */
function writeUsers(root: string): void {
    const keep = (f: string) =>
        readFileSync(f, "utf8")
            .split("\n")
            .filter((l) => l !== "" && !l.startsWith(`${CERT_USER}:`));
    const home = join(root, "home", CERT_USER);
    mkdirSync(home, { recursive: true });
    chmodSync(join(root, "home"), 0o755);
    chownSync(home, CERT_UID, CERT_UID);
    // "*": no password, not locked (sshd without PAM refuses accounts whose hash starts with "!").
    const entries = {
        passwd: `${CERT_USER}:x:${CERT_UID}:${CERT_UID}::${home}:/bin/sh`,
        group: `${CERT_USER}:x:${CERT_UID}:`,
        shadow: `${CERT_USER}:*:19000:0:99999:7:::`,
    };
    for (const [name, line] of Object.entries(entries)) {
        const mode = name === "shadow" ? 0o640 : 0o644;
        writeFileSync(join(root, name), `${[...keep(`/etc/${name}`), line].join("\n")}\n`, { mode });
    }
}

/**
 * Logs in as CERT_USER with `key` (ssh picks up `<key>-cert.pub` itself) and runs `id -un`.
 * `options`: more `-o` settings, ahead of the defaults (ssh keeps the first value); `env`: the client's.
 */
export function sshWithCertificate(
    sshd: CertSshd,
    key: string,
    knownHosts: string,
    more: { options?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const options = (more.options ?? []).flatMap((o) => ["-o", o]);
    return runAsync(
        "ssh",
        [
            ...["-F", "/dev/null", "-i", key, ...options, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"],
            ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null"],
            ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"],
            ...["-p", String(sshd.port), "-l", CERT_USER, "127.0.0.1", "id", "-un"],
        ],
        more.env,
    );
}

/**
 * What sshd logged from `offset` on, once it logged the end of a connection there ("Connection
 * closed" when authentication failed, "Disconnected from" after a session); waits up to 5 s.
 */
export async function loggedSince(sshd: CertSshd, offset: number): Promise<string> {
    const deadline = Date.now() + 5_000;
    const done = () => /Connection closed by|Disconnected from/.test(sshd.log().slice(offset));
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return sshd.log().slice(offset);
}

/** Runs a command without blocking the event loop (the KMS double may be served from this process). */
export function runAsync(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
        p.once("error", (e) => (clearTimeout(timer), reject(e)));
        p.once("close", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
    });
}

function run(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 15_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
}

const nsArgs = (root: string, cmd: string[]) => [
    ...["--mount", "--propagation", "private", "--"],
    ...["sh", "-c", ETC_OVERLAY_SCRIPT, "sh", root, ...cmd],
];

/** sshd refuses to re-exec unless started by absolute path. */
function sshdPath(): string {
    return spawnSync("sh", ["-c", "command -v sshd"], { encoding: "utf8" }).stdout.trim();
}

/** A TCP port on 127.0.0.1 nobody listens on now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => resolve(port));
        });
    });
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const c = connect({ host: "127.0.0.1", port, timeout: 500 });
        c.once("connect", () => (c.destroy(), resolve(true)));
        c.once("error", () => resolve(false));
        c.once("timeout", () => (c.destroy(), resolve(false)));
    });
}

/** Waits until `sshd` listens on `port`; fails with its log when it exits or 10 s pass. */
export async function waitForPort(port: number, sshd: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
        if (sshd.exitCode !== null) throw new Error(`sshd exited early:\n${log()}`);
        if (await canConnect(port)) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s:\n${log()}`);
}

function stopProcess(p: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        const t = setTimeout(() => (p.kill("SIGKILL"), resolve()), 5_000);
        p.once("exit", () => (clearTimeout(t), resolve()));
        p.kill("SIGTERM");
    });
}
