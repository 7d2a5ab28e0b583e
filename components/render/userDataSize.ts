// Size of a bastion's user data before any key exists, so config validation can refuse a stack whose
// bastion would exceed EC2's user-data limit. Keys are stand-ins of the exact length the tls provider
// produces for ED25519 (the size does not depend on their bytes), so the size is the real one.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { renderBastionCloudInit } from "./cloudInit";
import type { BastionHostSpec, SshKeyPair } from "./model";

/**
 * The longest region name AWS has (14 characters, e.g. ap-southeast-7): the Debian bastion's SSM agent
 * installer names its region twice, and config validation does not know the stack's region.
 */
export const LONGEST_REGION_STAND_IN = "ap-southeast-7";

/** EC2 accepts at most 16 KiB of user data, counted before base64. */
export const USER_DATA_LIMIT_BYTES = 16384;

/** User data as the instance gets it: one of EC2's two inputs. */
export interface EncodedUserData {
    /** The document as text, when it fits. */
    userData?: string;
    /** Otherwise the document gzipped, in base64: cloud-init uncompresses gzip user data before reading it. */
    userDataBase64?: string;
}

/**
 * The document as plain text while it fits EC2's limit (readable in the console, diffs in plans), else
 * gzipped: a bastion that lists hundreds of targets, plus its audit record builder, compresses ~3x.
 */
export function encodeUserData(text: string): EncodedUserData {
    if (Buffer.byteLength(text, "utf8") <= USER_DATA_LIMIT_BYTES) return { userData: text };
    return { userDataBase64: gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64") };
}

/** The bytes EC2 counts for `text` once encoded (before base64); `gzipped`: as if it did not fit. */
export function encodedUserDataBytes(text: string, gzipped = false): number {
    const e = gzipped
        ? { userDataBase64: gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64") }
        : encodeUserData(text);
    return e.userData !== undefined
        ? Buffer.byteLength(e.userData, "utf8")
        : Buffer.from(e.userDataBase64 ?? "", "base64").length;
}

/** The document back from an instance's inputs (`userData`, or gzipped or plain `userDataBase64`). */
export function decodeUserData(inputs: { userData?: unknown; userDataBase64?: unknown }): string {
    if (typeof inputs.userData === "string") return inputs.userData;
    if (typeof inputs.userDataBase64 !== "string") return "";
    const bytes = Buffer.from(inputs.userDataBase64, "base64");
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
}

function sshString(data: Buffer): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, data]);
}

/**
 * Key material that compresses as badly as real keys do, so a gzipped estimate is never below the real size
 * (zeros would make the stand-ins look smaller than keys once gzipped).
 */
function incompressible(bytes: number, seed: string): Buffer {
    const blocks: Buffer[] = [];
    for (let i = 0; blocks.length * 64 < bytes; i++) blocks.push(createHash("sha512").update(`${seed}/${i}`).digest());
    return Buffer.concat(blocks).subarray(0, bytes);
}

/** An ED25519 public key line as the tls provider writes it (no comment, trailing newline). */
const STAND_IN_PUBLIC_KEY = `ssh-ed25519 ${Buffer.concat([
    sshString(Buffer.from("ssh-ed25519")),
    sshString(incompressible(32, "public")),
]).toString("base64")}\n`;

/** An unencrypted OpenSSH ED25519 private key without comment: 234 bytes, base64 in lines of 70. */
const STAND_IN_PRIVATE_KEY = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    ...(incompressible(234, "private")
        .toString("base64")
        .match(/.{1,70}/g) ?? []),
    "-----END OPENSSH PRIVATE KEY-----",
    "",
].join("\n");

/** Another public key line of the same size (each role's CA key is a different key). */
function standInPublicKey(seed: string): string {
    const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(incompressible(32, seed))]);
    return `ssh-ed25519 ${blob.toString("base64")}`;
}

const STAND_IN_HOST_KEY: SshKeyPair = {
    publicKeyOpenssh: STAND_IN_PUBLIC_KEY,
    privateKeyOpenssh: STAND_IN_PRIVATE_KEY,
};

/**
 * Bytes EC2 counts of the bastion's user data for `spec` (gzipped when the text does not fit); with no
 * operator keys, for the one key jumpgate then generates.
 */
export function bastionUserDataBytes(spec: Omit<BastionHostSpec, "hostKey">, gzipped = false): number {
    // The generated operator key is installed trimmed (keys.ts).
    // With a user CA no operator key is listed, and each role's CA key has the size of any ED25519 public key.
    const operatorPublicKeys =
        spec.userCa !== undefined
            ? []
            : spec.operatorPublicKeys.length > 0
              ? spec.operatorPublicKeys
              : [STAND_IN_PUBLIC_KEY.trim()];
    const userCa = spec.userCa && {
        roles: spec.userCa.roles.map((r, i) => ({ ...r, caPublicKey: standInPublicKey(`ca/${i}`) })),
    };
    const text = renderBastionCloudInit({ ...spec, operatorPublicKeys, userCa, hostKey: STAND_IN_HOST_KEY });
    return encodedUserDataBytes(text, gzipped);
}
