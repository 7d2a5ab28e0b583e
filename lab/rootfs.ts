// The root filesystem lab hosts boot: built (or found in the cache) by scripts/build-lab-root.sh as
// a tar.zst outside the clone, and unpacked once next to it. The unpacked tree is only ever an
// overlay's lower layer, so every lab and every host can share it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec";

export const BUILD_SCRIPT = join(__dirname, "..", "scripts", "build-lab-root.sh");

export interface LabRoot {
    tarball: string;
    /** The unpacked root (overlay lower layer). */
    rootDir: string;
    /** The packages and signed indices of the root, laid out as a Debian mirror (lab/mirror.ts). */
    mirrorTree: string;
    /** The mirror host the root's apt sources name (deb.debian.org). */
    mirrorHost: string;
    /** Time spent building (0 when cached) and unpacking (0 when already unpacked). */
    buildMs: number;
    unpackMs: number;
}

/** Builds the root unless cached, and unpacks it unless already unpacked. Needs root. */
export function ensureLabRoot(log: (line: string) => void = () => undefined): LabRoot {
    const t0 = Date.now();
    const res = run("bash", [BUILD_SCRIPT], { timeoutMs: 20 * 60_000 });
    const tarball = res.stdout.trim().split("\n").pop() ?? "";
    if (!tarball.endsWith(".tar.zst") || !existsSync(tarball)) {
        throw new Error(`${BUILD_SCRIPT} printed no tarball: ${res.stdout}${res.stderr}`);
    }
    const built = /built /.test(res.stderr);
    const buildMs = built ? Date.now() - t0 : 0;
    if (built) log(res.stderr.trim());
    const rootDir = tarball.slice(0, -".tar.zst".length);
    const paths = { tarball, rootDir, mirrorTree: `${rootDir}.mirror` };
    if (existsSync(rootDir)) return { ...paths, mirrorHost: mirrorHostOf(rootDir), buildMs, unpackMs: 0 };

    const t1 = Date.now();
    // Unpacked beside the final name and renamed into place, so a half-unpacked root is never used.
    const tmp = `${rootDir}.unpack-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o755 });
    try {
        run(
            "tar",
            ["--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "-I", "zstd", "-xpf", tarball, "-C", tmp],
            {
                timeoutMs: 5 * 60_000,
            },
        );
        try {
            renameSync(tmp, rootDir);
        } catch (err) {
            // Another lab unpacked the same root meanwhile: use theirs.
            if (!existsSync(rootDir)) throw err;
        }
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
    const unpackMs = Date.now() - t1;
    log(`lab: unpacked ${tarball} in ${unpackMs} ms`);
    return { ...paths, mirrorHost: mirrorHostOf(rootDir), buildMs, unpackMs };
}

/** The host name of the Debian mirror in the root's apt sources. */
export function mirrorHostOf(rootDir: string): string {
    const sources = readFileSync(join(rootDir, "etc", "apt", "sources.list"), "utf8");
    const host = /^deb\s+https?:\/\/([^/\s]+)\//m.exec(sources)?.[1];
    if (!host) throw new Error(`no Debian mirror in ${rootDir}/etc/apt/sources.list`);
    return host;
}

/**
 * A host's /etc/hosts: the root's, plus its own name (so sudo and the like resolve it, as the VPC's
 * DNS would) and the lab mirror's address under the mirror's real name. The lab has no DNS.
 */
export function labEtcHosts(rootDir: string, hostname: string, mirror: { host: string; ip: string }): string {
    const base = readFileSync(join(rootDir, "etc", "hosts"), "utf8").trimEnd();
    return `${base}\n127.0.1.1\t${hostname}\n${mirror.ip}\t${mirror.host}\n`;
}
