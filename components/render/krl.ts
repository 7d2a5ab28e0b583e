// OpenSSH key revocation lists (PROTOCOL.krl), as `ssh-keygen -k` writes them: certificate serials and
// key IDs under each CA, and whole public keys. sshd reads the file named by RevokedKeys for every login,
// so a new KRL takes effect without a restart. And the shell commands that install one on a host: the
// same text the SSM association runs and the lab applies.
import { parsePublicKeyLine } from "./caKeys";
import { sshString, uint32, uint64 } from "./sshWire";

/** "SSHKRL\n\0" */
const KRL_MAGIC = Buffer.from("SSHKRL\n\0", "latin1");
const KRL_FORMAT_VERSION = 1;
const KRL_SECTION_CERTIFICATES = 1;
const KRL_SECTION_EXPLICIT_KEY = 2;
const KRL_SECTION_CERT_SERIAL_LIST = 0x20;
const KRL_SECTION_CERT_KEY_ID = 0x23;

/** What a KRL revokes. */
export interface KrlSpec {
    /**
     * The CAs (`ssh-ed25519 AAAA...`, one per role or the stack's one) whose certificates `serials` and
     * `keyIds` name: a KRL scopes both to a CA, so each CA gets its own section.
     */
    caPublicKeys: readonly string[];
    /** Certificate serials (uint64), revoked under every CA. */
    serials: readonly bigint[];
    /** Certificate key IDs, revoked under every CA (login writes `jumpgate-<stack>:<operator>`). */
    keyIds: readonly string[];
    /** Public key lines: the keys themselves and every certificate of them. */
    publicKeys: readonly string[];
    /** Free text in the header (`ssh-keygen -Q -l` prints it). */
    comment?: string;
}

/**
 * The KRL bytes. Deterministic (version 1, generated at 0): the same list renders the same file, so the
 * association that carries it changes only when the list does.
 */
export function renderKrl(spec: KrlSpec): Buffer {
    const caBlobs = spec.caPublicKeys.map((k, i) => parsePublicKeyLine(k, `CA public key ${i + 1}`).blob);
    const cas = caBlobs.filter((b, i) => caBlobs.findIndex((o) => o.equals(b)) === i);
    const serials = [...new Set(spec.serials)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const s of serials) {
        if (s <= 0n || s >= 1n << 64n) throw new Error(`serial ${s} is not a certificate serial (1 to 2^64-1)`);
    }
    const keyIds = [...new Set(spec.keyIds)].sort();
    const certSubsections = [
        ...(serials.length === 0 ? [] : [section(KRL_SECTION_CERT_SERIAL_LIST, Buffer.concat(serials.map(uint64)))]),
        ...(keyIds.length === 0
            ? []
            : [section(KRL_SECTION_CERT_KEY_ID, Buffer.concat(keyIds.map((id) => sshString(id))))]),
    ];
    const keys = spec.publicKeys.map((k, i) => parsePublicKeyLine(k, `revoked public key ${i + 1}`).blob);
    return Buffer.concat([
        KRL_MAGIC,
        uint32(KRL_FORMAT_VERSION),
        uint64(1n), // krl_version
        uint64(0n), // generated_date
        uint64(0n), // flags
        sshString(""), // reserved
        sshString(spec.comment ?? ""),
        ...(certSubsections.length === 0
            ? []
            : cas.map((ca) =>
                  section(KRL_SECTION_CERTIFICATES, Buffer.concat([sshString(ca), sshString(""), ...certSubsections])),
              )),
        ...(keys.length === 0 ? [] : [section(KRL_SECTION_EXPLICIT_KEY, Buffer.concat(keys.map((b) => sshString(b))))]),
    ]);
}

function section(type: number, data: Buffer): Buffer {
    return Buffer.concat([Buffer.from([type]), sshString(data)]);
}

/**
 * Shell commands that install `krl` at `path` atomically (a reader sees the old file or the new one,
 * never half of one), root-owned and world-readable like sshd's other public files.
 */
export function renderKrlInstallCommands(krl: Uint8Array, path: string): string {
    if (!/^\/[A-Za-z0-9/._-]+$/.test(path)) throw new Error(`KRL path ${path} must be a plain absolute path`);
    const b64 = Buffer.from(krl).toString("base64");
    return [
        "set -eu",
        `printf '%s' '${b64}' | base64 -d > ${path}.new`,
        `chown root:root ${path}.new`,
        `chmod 0644 ${path}.new`,
        `mv -f ${path}.new ${path}`,
    ].join("\n");
}
