// Size of a bastion's user data before any key exists, so config validation can refuse a stack whose
// bastion would exceed EC2's user-data limit. Keys are stand-ins of the exact length the tls provider
// produces for ED25519 (the size does not depend on their bytes), so the size is the real one.
import { renderBastionCloudInit } from "./cloudInit";
import type { BastionHostSpec, SshKeyPair } from "./model";

/**
 * The longest region name AWS has (14 characters, e.g. ap-southeast-7): the Debian bastion's SSM agent
 * installer names its region twice, and config validation does not know the stack's region.
 */
export const LONGEST_REGION_STAND_IN = "ap-southeast-7";

/** EC2 accepts at most 16 KiB of user data, counted before base64. */
export const USER_DATA_LIMIT_BYTES = 16384;

function sshString(data: Buffer): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, data]);
}

/** An ED25519 public key line as the tls provider writes it (no comment, trailing newline). */
const STAND_IN_PUBLIC_KEY = `ssh-ed25519 ${Buffer.concat([
    sshString(Buffer.from("ssh-ed25519")),
    sshString(Buffer.alloc(32)),
]).toString("base64")}\n`;

/** An unencrypted OpenSSH ED25519 private key without comment: 234 bytes, base64 in lines of 70. */
const STAND_IN_PRIVATE_KEY = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    ...(Buffer.alloc(234)
        .toString("base64")
        .match(/.{1,70}/g) ?? []),
    "-----END OPENSSH PRIVATE KEY-----",
    "",
].join("\n");

const STAND_IN_HOST_KEY: SshKeyPair = {
    publicKeyOpenssh: STAND_IN_PUBLIC_KEY,
    privateKeyOpenssh: STAND_IN_PRIVATE_KEY,
};

/**
 * Bytes of the bastion's user data for `spec`; with no operator keys, for the one key jumpgate then
 * generates.
 */
export function bastionUserDataBytes(spec: Omit<BastionHostSpec, "hostKey">): number {
    // The generated operator key is installed trimmed (keys.ts).
    // With a user CA no operator key is listed, and each role's CA key has the size of any ED25519 public key.
    const operatorPublicKeys =
        spec.userCa !== undefined
            ? []
            : spec.operatorPublicKeys.length > 0
              ? spec.operatorPublicKeys
              : [STAND_IN_PUBLIC_KEY.trim()];
    const userCa = spec.userCa && {
        roles: spec.userCa.roles.map((r) => ({ ...r, caPublicKey: STAND_IN_PUBLIC_KEY.trim() })),
    };
    const text = renderBastionCloudInit({ ...spec, operatorPublicKeys, userCa, hostKey: STAND_IN_HOST_KEY });
    return Buffer.byteLength(text, "utf8");
}
