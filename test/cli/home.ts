// Temporary homes for the jumpgate-ssh tests, the CLI run as `npx jumpgate-ssh` runs it (node + the bin
// file), snapshots of a ~/.ssh tree, and `ssh -G` against the installed config.
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseDashG } from "../../cli/openssh";

export const BIN = resolve(__dirname, "../../bin/jumpgate-ssh.js");

const homes: string[] = [];

/** A fresh home directory (removed by `cleanupHomes`); `name` may contain a space. */
export function tempHome(name = "home"): string {
    const dir = mkdtempSync(join(tmpdir(), "jg-cli-"));
    homes.push(dir);
    const home = join(dir, name);
    mkdirSync(home, { mode: 0o700 });
    return home;
}

export function cleanupHomes(): void {
    for (const d of homes.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs `node bin/jumpgate-ssh.js args` with HOME=home (the operator's shell), optional stdin and env. */
export function cli(
    home: string,
    args: string[],
    opts: { input?: string; env?: NodeJS.ProcessEnv; wrap?: string[] } = {},
): CliResult {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...opts.env };
    delete env.SSH_AUTH_SOCK;
    const cmd = [...(opts.wrap ?? []), process.execPath, BIN, ...args];
    const res = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", env, input: opts.input ?? "" });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Every entry under `root`: type, mode and content hash (or link target), for before/after comparisons. */
export function snapshotTree(root: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (p: string) => {
        const st = lstatSync(p);
        const mode = (st.mode & 0o7777).toString(8);
        if (st.isSymbolicLink()) out[p] = `link ${readlinkSync(p)}`;
        else if (st.isDirectory()) {
            out[p] = `dir ${mode}`;
            for (const n of readdirSync(p).sort()) walk(join(p, n));
        } else out[p] = `file ${mode} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
    };
    walk(root);
    return out;
}

/** `ssh -G -F <home>/.ssh/config [extra] alias` with HOME=envHome (default: home), as keyword → values. */
export function sshG(home: string, alias: string, extra: string[] = [], envHome = home): Map<string, string[]> {
    const res = spawnSync("ssh", ["-G", "-F", join(home, ".ssh", "config"), ...extra, alias], {
        encoding: "utf8",
        env: { ...process.env, HOME: envHome },
        stdio: ["ignore", "pipe", "pipe"],
    });
    if (res.status !== 0) throw new Error(`ssh -G ${alias} failed: ${res.stderr}`);
    return parseDashG(res.stdout);
}

export const one = (m: Map<string, string[]>, k: string) => m.get(k)?.[0];

/** An ED25519 public key in OpenSSH form (`ssh-ed25519 AAAA... comment`), without ssh-keygen. */
export function ed25519PublicKey(comment = "operator@laptop"): string {
    const der = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
    const raw = der.subarray(der.length - 32);
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const blob = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)]);
    return `ssh-ed25519 ${blob.toString("base64")} ${comment}`;
}
