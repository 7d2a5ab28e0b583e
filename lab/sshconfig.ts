// The operator's ssh_config, pointed at the lab's files (pure). Only the key, known_hosts and control
// socket paths change: HostName, aliases, ProxyJump and every other option stay as the plan made them,
// since the lab stands the plan's own addresses up for real.
import { basename, dirname, join } from "node:path";

export interface LabClientPaths {
    /** Absolute path of the private key file. */
    identityFile: string;
    /** Absolute path of the known_hosts file. */
    knownHostsFile: string;
    /** Absolute directory for ControlPath sockets. */
    controlDir: string;
}

/** Longest usable unix socket path (sun_path is 108 bytes on Linux, ssh appends a random suffix while binding). */
const MAX_CONTROL_PATH = 90;

function quote(path: string): string {
    if (/[\s"]/.test(path)) {
        if (path.includes('"')) throw new Error(`path ${path} contains a double quote`);
        return `"${path}"`;
    }
    return path;
}

/**
 * Rewrites IdentityFile, UserKnownHostsFile and ControlPath lines of `sshConfig` to the lab's files, and a
 * team config's CertificateFile to the certificate next to the lab's key (where `jumpgate-ssh login` writes it).
 */
export function rewriteSshConfig(sshConfig: string, paths: LabClientPaths): string {
    const controlPath = `${paths.controlDir}/cm-%C`;
    // %C expands to 40 hex characters.
    if (controlPath.length - 2 + 40 > MAX_CONTROL_PATH) {
        throw new Error(`ControlPath ${controlPath} would be too long for a unix socket; use a shorter lab dir`);
    }
    const replacements: Record<string, string> = {
        identityfile: quote(paths.identityFile),
        userknownhostsfile: quote(paths.knownHostsFile),
        controlpath: quote(controlPath),
        certificatefile: quote(`${paths.identityFile}-cert.pub`),
    };
    // An unpinned existing host lists a second file (where `jumpgate-ssh pin` writes): it goes next to
    // the lab's known_hosts under its own name.
    const knownHostsFiles = (value: string) =>
        value
            .trim()
            .split(/\s+/)
            .map((f, i) => quote(i === 0 ? paths.knownHostsFile : join(dirname(paths.knownHostsFile), basename(f))))
            .join(" ");
    return sshConfig
        .split("\n")
        .map((line) => {
            const m = /^(\s*)([A-Za-z]+)(\s*=\s*|\s+)(.*)$/.exec(line);
            if (!m) return line;
            const key = m[2].toLowerCase();
            const value = key === "userknownhostsfile" ? knownHostsFiles(m[4]) : replacements[key];
            return value === undefined ? line : `${m[1]}${m[2]}${m[3]}${value}`;
        })
        .join("\n");
}

/** The first IdentityFile's base name in `sshConfig` (the key file keeps its name in the lab), if sane. */
export function identityFileName(sshConfig: string): string {
    const m = /^\s*IdentityFile(?:\s*=\s*|\s+)"?([^"\s]+)"?\s*$/im.exec(sshConfig);
    const base = m ? (m[1].split("/").pop() ?? "") : "";
    return /^[A-Za-z0-9._-]+$/.test(base) && !base.startsWith(".") ? base : "id_ed25519";
}

/** `Host` aliases defined in `sshConfig`, in order (patterns with wildcards are left out). */
export function sshAliases(sshConfig: string): string[] {
    const aliases: string[] = [];
    for (const m of sshConfig.matchAll(/^\s*Host(?:\s*=\s*|\s+)(.+)$/gim)) {
        for (const a of m[1].trim().split(/\s+/)) if (!/[*?!]/.test(a)) aliases.push(a);
    }
    return aliases;
}

/** One `Host` block of a client config: its first alias and the HostName and User it sets. */
export interface SshHostBlock {
    alias: string;
    hostName?: string;
    user?: string;
}

/** The `Host` blocks of `sshConfig` with a plain alias (wildcard patterns are left out). */
export function parseSshHostBlocks(sshConfig: string): SshHostBlock[] {
    const blocks: SshHostBlock[] = [];
    let current: SshHostBlock | undefined;
    for (const line of sshConfig.split("\n")) {
        const m = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.+?)\s*$/.exec(line);
        if (!m) continue;
        const [key, value] = [m[1]!.toLowerCase(), m[2]!];
        if (key === "host" || key === "match") {
            const alias = value.split(/\s+/)[0]!;
            current = key === "host" && !/[*?!]/.test(alias) ? { alias } : undefined;
            if (current) blocks.push(current);
        } else if (current && key === "hostname") current.hostName ??= value;
        else if (current && key === "user") current.user ??= value;
    }
    return blocks;
}
