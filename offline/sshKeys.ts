// Real ED25519 keys in OpenSSH format, made with node's crypto, so the offline plan and the lab pin
// keys that real sshd and ssh accept. From a seed when the plan must be reproducible.
import { createHash, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function sshString(data: Buffer | string): Buffer {
    const body = typeof data === "string" ? Buffer.from(data) : data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
}

export interface Ed25519KeyPair {
    /** `ssh-ed25519 AAAA...\n`, as the tls provider formats it. */
    publicKeyOpenssh: string;
    /** `-----BEGIN OPENSSH PRIVATE KEY-----` ... unencrypted, as the tls provider formats it. */
    privateKeyOpenssh: string;
    privateKeyPem: string;
    /** `SHA256:...` as `ssh-keygen -lf` prints it. */
    fingerprintSha256: string;
}

/** An ED25519 key pair from a 32-byte seed (random when omitted). */
export function ed25519KeyPair(seed: Buffer = randomBytes(32), comment = ""): Ed25519KeyPair {
    if (seed.length !== 32) throw new Error("an ed25519 seed is 32 bytes");
    const privateKey = createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
        format: "der",
        type: "pkcs8",
    });
    const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
    const pub = spki.subarray(spki.length - 32);
    const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);

    const check = seed.readUInt32BE(0); // any value; it only has to repeat
    let section = Buffer.concat([
        uint32(check),
        uint32(check),
        sshString("ssh-ed25519"),
        sshString(pub),
        sshString(Buffer.concat([seed, pub])),
        sshString(comment),
    ]);
    const padLength = (8 - (section.length % 8)) % 8;
    section = Buffer.concat([section, Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1))]);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        sshString("none"),
        sshString("none"),
        sshString(""),
        uint32(1),
        sshString(blob),
        sshString(section),
    ]);
    const b64 = body
        .toString("base64")
        .replace(/(.{70})/g, "$1\n")
        .replace(/\n$/, "");
    return {
        publicKeyOpenssh: `ssh-ed25519 ${blob.toString("base64")}\n`,
        privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
        privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        fingerprintSha256: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
    };
}

/** A reproducible seed from a label (for the offline plan, never for real hosts). */
export function seedFrom(label: string): Buffer {
    return createHash("sha256").update(`jumpgate-simulated-key:${label}`).digest();
}
