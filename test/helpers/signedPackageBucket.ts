// A stand-in for the AWS bucket an agent installer downloads from: a loopback HTTP server serving what a
// test publishes, a scratch gpg keyring that makes the signing keys and detached signatures, dpkg-deb for
// stand-in packages, and a runner that executes a rendered installer with sh against a scratch dpkg root.
import { execFile, execFileSync } from "node:child_process";
import {
    chmodSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const INSTALLER_TIMEOUT_MS = 60_000;

/** Tools a test using the bucket needs on PATH. */
export const SIGNED_PACKAGE_TOOLS = ["gpg", "gpgv", "dpkg", "dpkg-deb", "curl", "sh"];

export interface StandInPackage {
    name: string;
    version: string;
    description: string;
    /** Files by path inside the package; `mode` defaults to 0644. */
    files: Record<string, { content: string; mode?: number }>;
}

export interface InstallerRun {
    code: number;
    stderr: string;
    /** The scratch dpkg root the installer ran against (DPKG_ROOT). */
    root: string;
    /** Arguments each stubbed command was called with, one call a line. */
    calls: Record<string, string>;
    /** What the installer left in its TMPDIR. */
    leftovers: string[];
}

export interface RunOptions {
    /** Commands replaced by stubs that only record their arguments (e.g. systemctl: nothing starts here). */
    stubs?: string[];
    env?: Record<string, string>;
}

export interface SignedPackageBucket {
    readonly baseUrl: string;
    /** Scratch directory, removed on close. */
    readonly dir: string;
    /** dpkg's architecture on this machine, as the installer asks it. */
    readonly arch: string;
    gpg(...args: string[]): Buffer;
    /** A fresh ed25519 signing key in the scratch keyring; returns its fingerprint. */
    newKey(uid: string, extra?: string[], expire?: string): string;
    /** The key's binary (OpenPGP) export. */
    exportKey(fpr: string): Buffer;
    sign(fpr: string, data: Buffer): Buffer;
    buildDeb(pkg: StandInPackage): Buffer;
    /** Replaces everything served with `files`, by URL path. */
    publish(files: Record<string, Buffer | undefined>): void;
    runInstaller(script: string, baseUrl: string, options?: RunOptions): Promise<InstallerRun>;
    close(): Promise<void>;
}

export async function openSignedPackageBucket(prefix: string): Promise<SignedPackageBucket> {
    const work = mkdtempSync(join(tmpdir(), prefix));
    const gnupg = join(work, "gnupg");
    mkdirSync(gnupg, { mode: 0o700 });
    const arch = execFileSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).trim();
    const served = new Map<string, Buffer>();
    const server = createServer((req, res) => {
        const body = served.get(req.url ?? "");
        res.writeHead(body ? 200 : 404);
        res.end(body ?? "not found");
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const gpg = (...args: string[]): Buffer =>
        execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...args], { timeout: INSTALLER_TIMEOUT_MS });
    return {
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        dir: work,
        arch,
        gpg,
        newKey(uid, extra = [], expire = "1d") {
            gpg(...extra, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", expire);
            return /^fpr:+([0-9A-F]{40}):/m.exec(gpg("--with-colons", "--list-keys", uid).toString())![1]!;
        },
        exportKey: (fpr) => gpg("--export", fpr),
        sign(fpr, data) {
            const file = join(work, "to-sign");
            writeFileSync(file, data);
            rmSync(`${file}.sig`, { force: true });
            gpg("--local-user", fpr, "--detach-sign", "--output", `${file}.sig`, file);
            return readFileSync(`${file}.sig`);
        },
        buildDeb: (pkg) => buildDeb(mkdtempSync(join(work, "pkg-")), arch, pkg),
        publish(files) {
            served.clear();
            for (const [path, body] of Object.entries(files)) if (body) served.set(path, body);
        },
        runInstaller: (script, baseUrl, options = {}) => runInstaller(work, script, baseUrl, options),
        async close() {
            await new Promise((closed) => server.close(closed));
            rmSync(work, { recursive: true, force: true });
        },
    };
}

function buildDeb(dir: string, arch: string, pkg: StandInPackage): Buffer {
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "DEBIAN"), { recursive: true });
    writeFileSync(
        join(tree, "DEBIAN/control"),
        `Package: ${pkg.name}\nVersion: ${pkg.version}\nArchitecture: ${arch}\n` +
            `Maintainer: jumpgate tests <tests@example.invalid>\nDescription: ${pkg.description}\n`,
    );
    for (const [path, file] of Object.entries(pkg.files)) {
        const to = join(tree, path);
        mkdirSync(dirname(to), { recursive: true });
        writeFileSync(to, file.content);
        chmodSync(to, file.mode ?? 0o644);
    }
    const deb = join(dir, "package.deb");
    execFileSync("dpkg-deb", ["--root-owner-group", "--build", tree, deb], {
        stdio: "ignore",
        timeout: INSTALLER_TIMEOUT_MS,
    });
    return readFileSync(deb);
}

/** Runs `script` with sh against a fresh scratch dpkg root (DPKG_ROOT: nothing lands on this machine). */
function runInstaller(work: string, script: string, baseUrl: string, options: RunOptions): Promise<InstallerRun> {
    const run = mkdtempSync(join(work, "run-"));
    const root = join(run, "root");
    for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates"]) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, "var/lib/dpkg/status"), "");
    const bin = join(run, "bin");
    mkdirSync(bin);
    const stubs = options.stubs ?? [];
    for (const name of stubs) {
        writeFileSync(join(bin, name), `#!/bin/sh\necho "$*" >> ${join(run, `${name}.log`)}\n`);
        chmodSync(join(bin, name), 0o755);
    }
    const scriptPath = join(run, "installer");
    writeFileSync(scriptPath, script);
    const tmp = join(run, "tmp");
    mkdirSync(tmp);
    const env = { PATH: `${bin}:${process.env.PATH ?? ""}`, DPKG_ROOT: root, TMPDIR: tmp, ...options.env };
    return new Promise((done) => {
        execFile(
            "sh",
            [scriptPath, baseUrl],
            { encoding: "utf8", timeout: INSTALLER_TIMEOUT_MS, env },
            (error, _stdout, stderr) => {
                const logOf = (name: string): string => {
                    const log = join(run, `${name}.log`);
                    return existsSync(log) ? readFileSync(log, "utf8") : "";
                };
                done({
                    code: error ? Number(error.code ?? 1) : 0,
                    stderr,
                    root,
                    calls: Object.fromEntries(stubs.map((name) => [name, logOf(name)])),
                    leftovers: readdirSync(tmp),
                });
            },
        );
    });
}
