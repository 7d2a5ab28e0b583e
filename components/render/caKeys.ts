// Keys around a certificate authority, with node:crypto only: OpenSSH public key lines and blobs, the
// CA key as KMS's GetPublicKey returns it (DER SubjectPublicKeyInfo), and the "stack" CA: an ED25519
// private key in OpenSSH format (as a Pulumi secret holds it) that signs locally.
import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from "node:crypto";
import type { CaSignature, CertificateSigner } from "./certificate";
import { mpint, SshReader, sshString, SshWireError } from "./sshWire";

/** A public key line, decoded. */
export interface SshPublicKey {
    /** `ssh-ed25519`, `sk-ssh-ed25519@openssh.com`, `ecdsa-sha2-nistp256`, ... */
    type: string;
    /** The wire blob (what the base64 holds). */
    blob: Buffer;
    comment: string;
}

/** Thrown for key material that cannot be used; the message names the input. */
export class KeyFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "KeyFormatError";
    }
}

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows it (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
// SubjectPublicKeyInfo DER prefix of an Ed25519 public key; the 32-byte key follows it (RFC 8410).
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Parses `<type> <base64> [comment]` and checks the blob is a well-formed key of that type. */
export function parsePublicKeyLine(line: string, what: string): SshPublicKey {
    const m = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*?))?\s*$/.exec(line);
    if (!m) throw new KeyFormatError(`${what}: not an OpenSSH public key line ("<type> <base64> [comment]")`);
    const [, type, b64, comment] = m as unknown as [string, string, string, string | undefined];
    const blob = Buffer.from(b64, "base64");
    try {
        checkKeyBlob(blob, type);
    } catch (e) {
        if (e instanceof SshWireError || e instanceof KeyFormatError) throw new KeyFormatError(`${what}: ${e.message}`);
        throw e;
    }
    return { type, blob, comment: comment ?? "" };
}

function checkKeyBlob(blob: Buffer, type: string): void {
    const r = new SshReader(blob, `${type} key`);
    const inner = r.text("key type");
    if (inner !== type) throw new KeyFormatError(`the line says ${type} but the key inside is ${inner}`);
    if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
        if (r.bytes("public key").length !== 32) throw new KeyFormatError("an Ed25519 public key is 32 bytes");
        if (type.startsWith("sk-") && !r.text("application").startsWith("ssh:")) {
            throw new KeyFormatError('a FIDO key\'s application must start with "ssh:"');
        }
    } else if (type === "ecdsa-sha2-nistp256") {
        if (r.text("curve") !== "nistp256") throw new KeyFormatError("curve is not nistp256");
        const q = r.bytes("point");
        if (q.length !== 65 || q[0] !== 4) throw new KeyFormatError("not an uncompressed P-256 point");
    } else return; // other types are passed through unchecked; callers decide whether they accept them
    if (r.remaining !== 0) throw new KeyFormatError("extra bytes after the key");
}

/** A node:crypto public key for an `ssh-ed25519` or `ecdsa-sha2-nistp256` blob. */
export function publicKeyObjectFromBlob(blob: Buffer): KeyObject {
    const r = new SshReader(blob, "public key");
    const type = r.text("key type");
    if (type === "ssh-ed25519") {
        const raw = r.bytes("public key");
        return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
    }
    if (type === "ecdsa-sha2-nistp256") {
        r.text("curve");
        const q = r.bytes("point");
        const jwk = { kty: "EC", crv: "P-256", x: b64url(q.subarray(1, 33)), y: b64url(q.subarray(33, 65)) };
        return createPublicKey({ key: jwk, format: "jwk" });
    }
    throw new KeyFormatError(`${type} is not a CA key type here (ssh-ed25519, ecdsa-sha2-nistp256)`);
}

/** True when `signature` is a valid CA signature of `data` by `key`. */
export function verifySshSignature(key: KeyObject, data: Uint8Array, signature: CaSignature): boolean {
    if (signature.algorithm === "ssh-ed25519") {
        return signature.signatureBlob.length === 64 && verify(null, data, key, signature.signatureBlob);
    }
    // SSH's ECDSA blob is mpint r, mpint s; node verifies the fixed-width r||s form.
    const r = new SshReader(Buffer.from(signature.signatureBlob), "ECDSA signature");
    const fixed = Buffer.concat([fixed32(r.bytes("r")), fixed32(r.bytes("s"))]);
    return r.remaining === 0 && verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, fixed);
}

/** The ECDSA signature blob SSH expects (mpint r, mpint s) from a DER `SEQUENCE { INTEGER r, INTEGER s }`. */
export function ecdsaDerToSsh(der: Uint8Array): Buffer {
    const d = Buffer.from(der);
    const bad = () => new KeyFormatError("not a DER ECDSA signature (SEQUENCE of two INTEGERs)");
    if (d[0] !== 0x30 || d[1] !== d.length - 2) throw bad();
    const ints: Buffer[] = [];
    for (let i = 2; i < d.length;) {
        if (d[i] !== 0x02 || i + 2 + d[i + 1]! > d.length) throw bad();
        ints.push(d.subarray(i + 2, i + 2 + d[i + 1]!));
        i += 2 + d[i + 1]!;
    }
    if (ints.length !== 2) throw bad();
    return Buffer.concat([mpint(ints[0]!), mpint(ints[1]!)]);
}

/** The OpenSSH public key line of a DER SubjectPublicKeyInfo (what KMS GetPublicKey returns). */
export function spkiToOpenssh(der: Uint8Array, comment = ""): string {
    let key: KeyObject;
    try {
        key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
    } catch (e) {
        throw new KeyFormatError(`not a DER SubjectPublicKeyInfo (${(e as Error).message})`);
    }
    return `${sshTypeOf(key)} ${publicKeyBlobOf(key).toString("base64")}${comment ? ` ${comment}` : ""}`;
}

function sshTypeOf(key: KeyObject): string {
    if (key.asymmetricKeyType === "ed25519") return "ssh-ed25519";
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
        return "ecdsa-sha2-nistp256";
    }
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new KeyFormatError(`a ${key.asymmetricKeyType}${curve ? ` ${curve}` : ""} key cannot be an SSH CA here`);
}

/** The SSH wire blob of an Ed25519 or P-256 public key. */
export function publicKeyBlobOf(key: KeyObject): Buffer {
    const type = sshTypeOf(key);
    const jwk = key.export({ format: "jwk" });
    if (type === "ssh-ed25519") return Buffer.concat([sshString(type), sshString(fromB64url(jwk.x))]);
    const q = Buffer.concat([Buffer.from([4]), fromB64url(jwk.x), fromB64url(jwk.y)]);
    return Buffer.concat([sshString(type), sshString("nistp256"), sshString(q)]);
}

const OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----";

/** The ED25519 private key of an unencrypted OpenSSH private key file (`openssh-key-v1`, PROTOCOL.key). */
export function parseOpensshEd25519PrivateKey(text: string, what: string): KeyObject {
    const body = text.trim();
    if (!body.startsWith(OPENSSH_BEGIN) || !body.endsWith(OPENSSH_END)) {
        throw new KeyFormatError(`${what}: not an OpenSSH private key (expected ${OPENSSH_BEGIN})`);
    }
    const data = Buffer.from(body.slice(OPENSSH_BEGIN.length, -OPENSSH_END.length).replace(/\s+/g, ""), "base64");
    try {
        return ed25519FromKeyV1(data, what);
    } catch (e) {
        if (e instanceof SshWireError) throw new KeyFormatError(`${what}: ${e.message}`);
        throw e;
    }
}

function ed25519FromKeyV1(data: Buffer, what: string): KeyObject {
    const magic = "openssh-key-v1\0";
    if (data.subarray(0, magic.length).toString("latin1") !== magic) {
        throw new KeyFormatError(`${what}: no openssh-key-v1 header`);
    }
    const r = new SshReader(data.subarray(magic.length), what);
    if (r.text("cipher") !== "none" || r.text("kdf") !== "none") {
        throw new KeyFormatError(`${what}: the key is passphrase-protected; the CA key must be stored unencrypted`);
    }
    r.bytes("kdf options");
    if (r.uint32("key count") !== 1) throw new KeyFormatError(`${what}: holds more than one key`);
    const publicBlob = r.bytes("public key");
    const p = new SshReader(r.bytes("private section"), what);
    if (p.uint32("check") !== p.uint32("check")) throw new KeyFormatError(`${what}: corrupt (check bytes differ)`);
    const type = p.text("key type");
    if (type !== "ssh-ed25519") throw new KeyFormatError(`${what}: a ${type} key; the CA key must be ssh-ed25519`);
    const pub = p.bytes("public key");
    const secret = p.bytes("private key");
    if (secret.length !== 64) throw new KeyFormatError(`${what}: an Ed25519 private key is 64 bytes`);
    const key = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, secret.subarray(0, 32)]),
        format: "der",
        type: "pkcs8",
    });
    const derived = publicKeyBlobOf(createPublicKey(key));
    if (!derived.equals(publicBlob) || !derived.subarray(-32).equals(pub)) {
        throw new KeyFormatError(`${what}: the public key does not belong to the private key`);
    }
    return key;
}

/**
 * The "stack" CA: an ED25519 private key in OpenSSH format, signing with node:crypto on this machine.
 * Whoever holds the key can issue any certificate, so it lives in a Pulumi secret.
 */
export function stackCaSigner(privateKeyOpenssh: string, what = "CA private key"): CertificateSigner {
    const key = parseOpensshEd25519PrivateKey(privateKeyOpenssh, what);
    const publicLine = `ssh-ed25519 ${publicKeyBlobOf(createPublicKey(key)).toString("base64")}`;
    return {
        caPublicKey: async () => publicLine,
        sign: async (body) => ({ algorithm: "ssh-ed25519", signatureBlob: sign(null, body, key) }),
    };
}

function fixed32(n: Buffer): Buffer {
    const trimmed = n[0] === 0 ? n.subarray(1) : n;
    if (trimmed.length > 32) throw new KeyFormatError("ECDSA P-256 signature value longer than 32 bytes");
    return Buffer.concat([Buffer.alloc(32 - trimmed.length), trimmed]);
}

const b64url = (b: Buffer) => b.toString("base64url");

function fromB64url(s: string | undefined): Buffer {
    if (s === undefined) throw new KeyFormatError("public key without coordinates");
    return Buffer.from(s, "base64url");
}
