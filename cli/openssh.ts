// The local OpenSSH client: its version (which variant of the config it can read) and `ssh -G`.
import { spawnSync } from "node:child_process";

export interface SshVersion {
    major: number;
    minor: number;
    /** The `ssh -V` line, e.g. `OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026`. */
    text: string;
}

/** ProxyJump and Include both arrived in OpenSSH 7.3. */
export const PROXYJUMP_SINCE = { major: 7, minor: 3 };
/** ED25519 keys need 6.5 and ControlPath's %C needs 6.7: below that jumpgate's config cannot work. */
export const MINIMUM = { major: 6, minor: 7 };
/** `SessionType` (the tunnel entries' `SessionType none`) needs 8.7; older clients reject the keyword. */
export const SESSIONTYPE_SINCE = { major: 8, minor: 7 };
/** `ssh -G` (doctor) needs 6.8. */
export const DASH_G_SINCE = { major: 6, minor: 8 };

/** Parses `ssh -V` output (OpenSSH prints it on stderr). Undefined when it is not OpenSSH. */
export function parseSshVersion(text: string): SshVersion | undefined {
    const m = /OpenSSH_(?:for_Windows_)?(\d+)\.(\d+)/.exec(text);
    if (!m) return undefined;
    return { major: Number(m[1]), minor: Number(m[2]), text: text.trim().split("\n")[0]! };
}

export function atLeast(v: SshVersion, min: { major: number; minor: number }): boolean {
    return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
}

export const versionString = (v: SshVersion) => `OpenSSH ${v.major}.${v.minor}`;

/** What `ssh -V` says: the text, or undefined when ssh cannot be run. */
export function sshVersionText(): string | undefined {
    const res = spawnSync("ssh", ["-V"], { encoding: "utf8" });
    if (res.error) return undefined;
    return `${res.stderr ?? ""}${res.stdout ?? ""}`.trim();
}

/** `ssh -G` output as lowercase keyword → values (IdentityFile and others can repeat). */
export function parseDashG(out: string): Map<string, string[]> {
    const map = new Map<string, string[]>();
    for (const line of out.split("\n")) {
        const i = line.indexOf(" ");
        if (i <= 0) continue;
        const k = line.slice(0, i);
        map.set(k, [...(map.get(k) ?? []), line.slice(i + 1)]);
    }
    return map;
}

export interface DashGResult {
    ok: boolean;
    values: Map<string, string[]>;
    stderr: string;
}

/** Runs `ssh -G [-F config] alias` with HOME set to `home` (what `Include` and `~` in it see). */
export function sshDashG(alias: string, home: string, config?: string): DashGResult {
    const args = ["-G", ...(config ? ["-F", config] : []), alias];
    const res = spawnSync("ssh", args, {
        encoding: "utf8",
        env: { ...process.env, HOME: home },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr = `${res.error ? res.error.message : ""}${res.stderr ?? ""}`.trim();
    return { ok: res.status === 0, values: parseDashG(res.stdout ?? ""), stderr };
}

/** What `ssh-keygen -L` says of a certificate: key ID, principals and validity (UTC). */
export interface CertificateListing {
    keyId: string;
    principals: string[];
    /** Undefined: valid from the beginning of time (`forever`). */
    validAfter?: Date;
    /** Undefined: never expires (`forever`). */
    validBefore?: Date;
    /** `SHA256:...` of the certified public key. */
    publicKeyFingerprint: string;
}

/** Parses `ssh-keygen -L` output printed with TZ=UTC. Undefined when it is not a certificate listing. */
export function parseCertificateListing(out: string): CertificateListing | undefined {
    const field = (name: string) => new RegExp(`^\\s+${name}: ?(.*)$`, "m").exec(out)?.[1];
    const keyId = /^"(.*)"$/.exec(field("Key ID") ?? "")?.[1];
    const valid = field("Valid");
    const fingerprint = /-CERT (SHA256:\S+)/.exec(field("Public key") ?? "")?.[1];
    if (keyId === undefined || valid === undefined || fingerprint === undefined) return undefined;
    const at = (t: string | undefined) => (t === undefined ? undefined : new Date(`${t}Z`));
    // "forever", "from A to B", "after A", "before B"
    const from = /(?:from|after) (\S+)/.exec(valid)?.[1];
    const to = /(?:to|before) (\S+)/.exec(valid)?.[1];
    const section = /^\s+Principals: *\n((?:\s{9,}\S.*\n)*)/m.exec(out)?.[1] ?? "";
    const principals = section
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && l !== "(none)");
    return {
        keyId,
        principals,
        validAfter: at(from),
        validBefore: to === "forever" ? undefined : at(to),
        publicKeyFingerprint: fingerprint,
    };
}

/** Runs `ssh-keygen -L -f file` in UTC, so the times it prints are UTC. */
export function sshKeygenList(file: string): { ok: boolean; stdout: string; stderr: string } {
    const res = spawnSync("ssh-keygen", ["-L", "-f", file], {
        encoding: "utf8",
        env: { ...process.env, TZ: "UTC" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr = `${res.error ? res.error.message : ""}${res.stderr ?? ""}`.trim();
    return { ok: res.status === 0, stdout: res.stdout ?? "", stderr };
}
