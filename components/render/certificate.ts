// OpenSSH user certificates (PROTOCOL.certkeys, and PROTOCOL.u2f for FIDO keys), built field by field:
// `certificateBody` gives the bytes the CA signs, `assembleCertificate` appends the CA's signature.
// Pure apart from node:crypto (random nonce, checking the signature): the CA itself is a signer
// (`CertificateSigner`), so the private key can stay in a Pulumi secret or in AWS KMS.
import { randomBytes } from "node:crypto";
import { parsePublicKeyLine, publicKeyObjectFromBlob, SshPublicKey, verifySshSignature } from "./caKeys";
import { SshReader, sshString, uint32, uint64 } from "./sshWire";

/** Key types jumpgate certifies, and the certificate type each becomes. */
export const CERTIFICATE_TYPE_OF = {
    "ssh-ed25519": "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com": "sk-ssh-ed25519-cert-v01@openssh.com",
} as const;
export type CertifiableKeyType = keyof typeof CERTIFICATE_TYPE_OF;

/** SSH_CERT_TYPE_USER: a certificate that logs a user in (2 would be a host certificate). */
export const USER_CERTIFICATE = 1;

/** The extensions `ssh-keygen -s` grants by default; a caller may drop some (e.g. `permit-pty`). */
export const DEFAULT_EXTENSIONS = [
    "permit-X11-forwarding",
    "permit-agent-forwarding",
    "permit-port-forwarding",
    "permit-pty",
    "permit-user-rc",
] as const;

/** Extensions OpenSSH defines for user certificates; others must be `name@domain`. */
const KNOWN_EXTENSIONS = new Set<string>([...DEFAULT_EXTENSIONS, "no-touch-required"]);

/** Signature algorithms a CA may use here (the CA key's type). */
export type CaAlgorithm = "ssh-ed25519" | "ecdsa-sha2-nistp256";

/** What a CA returns: the algorithm and the inner signature blob (64 bytes for Ed25519; mpint r, mpint s for ECDSA). */
export interface CaSignature {
    algorithm: CaAlgorithm;
    signatureBlob: Uint8Array;
}

/** A certificate authority: its public key, and a way to sign a certificate body with the private half. */
export interface CertificateSigner {
    /** The CA public key line (`ssh-ed25519 AAAA...`) certificates name and sshd's TrustedUserCAKeys holds. */
    caPublicKey(): Promise<string>;
    /** Signs the to-be-signed bytes of a certificate. */
    sign(body: Uint8Array): Promise<CaSignature>;
}

/** Critical options: restrictions sshd enforces (and refuses the certificate if it does not know one). */
export interface CriticalOptions {
    /** A command run instead of anything the user asks for. Defaults to none. */
    forceCommand?: string;
    /** Addresses or CIDRs the certificate may log in from. Defaults to any. */
    sourceAddress?: readonly string[];
    /** FIDO keys only: every signature must assert user verification (PIN). Defaults to false. */
    verifyRequired?: boolean;
}

/** What goes into a user certificate. */
export interface CertificateSpec {
    /** The user's public key line: `ssh-ed25519 ...` or `sk-ssh-ed25519@openssh.com ...`. */
    publicKey: string;
    /** The CA public key line, written into the certificate as its signature key. */
    caPublicKey: string;
    /** Serial number, for revocation by a KRL. 0 means unnumbered. */
    serial: bigint;
    /** Free text sshd logs with every login: who the certificate was issued to. */
    keyId: string;
    /** User names the certificate is valid for; at least one (an empty list would mean any user). */
    principals: readonly string[];
    /** Valid from this instant (whole seconds, rounded down). */
    validAfter: Date;
    /** Valid until just before this instant (whole seconds, rounded down). */
    validBefore: Date;
    /** Defaults to none. */
    criticalOptions?: CriticalOptions;
    /** Defaults to DEFAULT_EXTENSIONS. */
    extensions?: readonly string[];
    /** The CA's random nonce. Defaults to 32 random bytes. */
    nonce?: Uint8Array;
}

/** A certificate that cannot be made as asked; the message names the field. */
export class CertificateError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CertificateError";
    }
}

/** The bytes the CA signs: every field from the certificate type up to and including the signature key. */
export function certificateBody(spec: CertificateSpec): Buffer {
    const subject = certifiableKey(spec.publicKey);
    const ca = parsePublicKeyLine(spec.caPublicKey, "CA public key");
    checkCaKeyType(ca);
    checkSpec(spec, subject);
    return Buffer.concat([
        sshString(CERTIFICATE_TYPE_OF[subject.type as CertifiableKeyType]),
        sshString(spec.nonce ?? randomBytes(32)),
        subject.blob.subarray(sshString(subject.type).length), // the key's own fields (pk; and application for FIDO)
        uint64(spec.serial),
        uint32(USER_CERTIFICATE),
        sshString(spec.keyId),
        sshString(Buffer.concat(spec.principals.map((p) => sshString(p)))),
        uint64(epochSeconds(spec.validAfter)),
        uint64(epochSeconds(spec.validBefore)),
        sshString(encodeCriticalOptions(spec.criticalOptions ?? {})),
        sshString(encodeExtensions(spec.extensions ?? DEFAULT_EXTENSIONS)),
        sshString(""), // reserved
        sshString(ca.blob),
    ]);
}

/**
 * The certificate: the body and the CA's signature over it. Refuses a signature that does not verify
 * with the CA key the body names (a KMS key that is not the configured CA, a wrong key file).
 */
export function assembleCertificate(body: Uint8Array, signature: CaSignature): Buffer {
    const caBlob = signatureKeyOf(Buffer.from(body));
    const caType = new SshReader(caBlob, "CA key").text("key type");
    if (caType !== signature.algorithm) {
        throw new CertificateError(`the CA signed with ${signature.algorithm}, but its public key is ${caType}`);
    }
    if (!verifySshSignature(publicKeyObjectFromBlob(caBlob), body, signature)) {
        throw new CertificateError("the CA's signature does not verify with the CA public key in the certificate");
    }
    const sig = Buffer.concat([sshString(signature.algorithm), sshString(signature.signatureBlob)]);
    return Buffer.concat([body, sshString(sig)]);
}

/** The `<type> <base64> <comment>` line ssh reads from `<key>-cert.pub`. */
export function certificateLine(certificate: Uint8Array, comment: string): string {
    const type = new SshReader(Buffer.from(certificate), "certificate").text("certificate type");
    return `${type} ${Buffer.from(certificate).toString("base64")}${comment ? ` ${comment}` : ""}\n`;
}

/** A signed certificate, with the size of what the CA signed (KMS signs at most 4,096 raw bytes). */
export interface IssuedCertificate {
    certificate: Buffer;
    bodyBytes: number;
    caPublicKey: string;
}

/** Builds the body, has the signer sign it, and assembles the certificate. */
export async function issueCertificate(
    spec: Omit<CertificateSpec, "caPublicKey">,
    signer: CertificateSigner,
): Promise<IssuedCertificate> {
    const caPublicKey = await signer.caPublicKey();
    const body = certificateBody({ ...spec, caPublicKey });
    const certificate = assembleCertificate(body, await signer.sign(body));
    return { certificate, bodyBytes: body.length, caPublicKey };
}

function certifiableKey(line: string): SshPublicKey {
    const key = parsePublicKeyLine(line, "public key");
    if (!(key.type in CERTIFICATE_TYPE_OF)) {
        throw new CertificateError(
            `public key: ${key.type} keys are not certified here; use ${Object.keys(CERTIFICATE_TYPE_OF).join(" or ")} (ssh-keygen -t ed25519 or -t ed25519-sk)`,
        );
    }
    return key;
}

function checkCaKeyType(ca: SshPublicKey): void {
    if (ca.type !== "ssh-ed25519" && ca.type !== "ecdsa-sha2-nistp256") {
        throw new CertificateError(
            `CA public key: ${ca.type} is not a CA key type here (ssh-ed25519, ecdsa-sha2-nistp256)`,
        );
    }
}

function checkSpec(spec: CertificateSpec, subject: SshPublicKey): void {
    if (spec.keyId.trim() === "") throw new CertificateError("key ID: empty; it names the operator in sshd's log");
    if (spec.principals.length === 0) {
        throw new CertificateError("principals: none given; a certificate without principals is valid for every user");
    }
    for (const p of spec.principals) {
        if (!/^[^\s,]+$/.test(p))
            throw new CertificateError(`principal ${JSON.stringify(p)}: empty, or has a space or comma`);
    }
    if (epochSeconds(spec.validBefore) <= epochSeconds(spec.validAfter)) {
        throw new CertificateError(
            `validity: ends (${spec.validBefore.toISOString()}) before it starts (${spec.validAfter.toISOString()})`,
        );
    }
    if (spec.criticalOptions?.verifyRequired && subject.type !== "sk-ssh-ed25519@openssh.com") {
        throw new CertificateError(
            `verify-required: only FIDO (sk-) keys can assert user verification, not ${subject.type}`,
        );
    }
}

function epochSeconds(d: Date): bigint {
    const ms = d.getTime();
    if (!Number.isFinite(ms) || ms < 0) throw new CertificateError(`${String(d)} is not a time after 1970`);
    return BigInt(Math.floor(ms / 1000));
}

/** name/data pairs sorted by name, each once (PROTOCOL.certkeys); data is a string holding the values. */
function encodeOptions(options: [string, Buffer][]): Buffer {
    const sorted = [...options].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    sorted.forEach(([name], i) => {
        if (i > 0 && sorted[i - 1]![0] === name) throw new CertificateError(`option ${name}: given twice`);
    });
    return Buffer.concat(sorted.map(([name, data]) => Buffer.concat([sshString(name), sshString(data)])));
}

function encodeCriticalOptions(o: CriticalOptions): Buffer {
    const options: [string, Buffer][] = [];
    if (o.forceCommand !== undefined) options.push(["force-command", sshString(o.forceCommand)]);
    if (o.sourceAddress !== undefined) {
        if (o.sourceAddress.length === 0 || o.sourceAddress.some((a) => !/^[0-9A-Fa-f.:/]+$/.test(a))) {
            throw new CertificateError(
                `source-address: ${JSON.stringify(o.sourceAddress)} is not a list of addresses/CIDRs`,
            );
        }
        options.push(["source-address", sshString(o.sourceAddress.join(","))]);
    }
    if (o.verifyRequired) options.push(["verify-required", Buffer.alloc(0)]);
    return encodeOptions(options);
}

function encodeExtensions(names: readonly string[]): Buffer {
    for (const n of names) {
        if (!KNOWN_EXTENSIONS.has(n) && !/^[^@\s]+@[^@\s]+$/.test(n)) {
            throw new CertificateError(`extension ${JSON.stringify(n)}: not an OpenSSH extension nor name@domain`);
        }
    }
    return encodeOptions(names.map((n) => [n, Buffer.alloc(0)]));
}

/** The signature key field of a body: the last string in it. */
function signatureKeyOf(body: Buffer): Buffer {
    const r = new SshReader(body, "certificate body");
    let last: Buffer | undefined;
    const type = r.text("certificate type");
    if (!Object.values(CERTIFICATE_TYPE_OF).includes(type as (typeof CERTIFICATE_TYPE_OF)[CertifiableKeyType])) {
        throw new CertificateError(`certificate body: type ${type} is not one this module makes`);
    }
    r.bytes("nonce");
    r.bytes("public key");
    if (type.startsWith("sk-")) r.bytes("application");
    r.uint64("serial");
    r.uint32("type");
    for (const f of ["key id", "principals"]) r.bytes(f);
    r.uint64("valid after");
    r.uint64("valid before");
    for (const f of ["critical options", "extensions", "reserved", "signature key"]) last = r.bytes(f);
    if (r.remaining !== 0) throw new CertificateError("certificate body: bytes after the signature key");
    return last!;
}
