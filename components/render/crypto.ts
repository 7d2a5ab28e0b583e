// The one source of SSH algorithm lists: the bastion's and targets' sshd drop-ins, the operator's
// client config and the ssh-audit policy in the tests all read these, so they cannot drift apart.
// The `compatible` lists follow the ssh-audit hardening guide for OpenSSH 9.2 (Debian 12), every name
// also accepted by 9.6 (Ubuntu 24.04), with the post-quantum hybrids of OpenSSH 9.9+ put first where
// the host has them. The `pq-only` profile is ssh-audit's "Hardened Debian 13" policy: post-quantum key
// exchange only, in the policy's own order (the policy compares lists exactly). Order is preference
// order (sshd offers them in this order; the client's order decides).
import type { OsName } from "./model";
import { opensshAtLeast } from "./os";

/** Which algorithm lists sshd offers: everything safe (`compatible`) or post-quantum key exchange only. */
export type CryptoProfile = "compatible" | "pq-only";
export const CRYPTO_PROFILES: readonly CryptoProfile[] = ["compatible", "pq-only"];

/**
 * Key exchange. Only the `@openssh.com` name of sntrup761: the unsuffixed alias is fatal to sshd
 * 9.2 builds before deb12u4. No diffie-hellman-group-exchange, so `/etc/ssh/moduli` needs no filtering.
 */
export const KEX_ALGORITHMS: readonly string[] = [
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
];

/**
 * Post-quantum hybrid key exchange of OpenSSH 9.9+ (`mlkem768x25519-sha256` is 10.0's default); sshd 9.2
 * and 9.6 reject these names (`Bad SSH2 KexAlgorithms`), and 9.9 added the unsuffixed sntrup761 alias.
 */
export const PQ_KEX_ALGORITHMS: readonly string[] = [
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
];

/** The key exchange sshd on `os` offers under `profile`. */
export function kexAlgorithms(os: OsName, profile: CryptoProfile): readonly string[] {
    if (!opensshAtLeast(os, 9, 9)) {
        return profile === "pq-only" ? ["sntrup761x25519-sha512@openssh.com"] : KEX_ALGORITHMS;
    }
    if (profile === "pq-only") return PQ_KEX_ALGORITHMS;
    return [...PQ_KEX_ALGORITHMS, ...KEX_ALGORITHMS.filter((k) => !PQ_KEX_ALGORITHMS.includes(k))];
}

/**
 * Ciphers, fastest first through the bastion as `npm run bench -- lab` measured it (scp of 256 MiB,
 * two runs: aes256-gcm 68 and 82 MiB/s, chacha20-poly1305 62 and 69, aes128-gcm 53 and 68, CTR modes
 * 36-57). AEAD first; CTR modes need a separate etm MAC. The client's own preference decides which
 * one a connection uses; this order is the server's offer.
 */
export const CIPHERS: readonly string[] = [
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
];

/** MACs: encrypt-then-MAC only (used with the CTR ciphers; AEAD ciphers carry their own). */
export const MACS: readonly string[] = [
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "umac-128-etm@openssh.com",
];

/** The same ciphers in the order of ssh-audit's "Hardened Debian 13" policy. */
const PQ_ONLY_CIPHERS: readonly string[] = [
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-gcm@openssh.com",
    "aes128-ctr",
];

/** The same MACs in the order of ssh-audit's "Hardened Debian 13" policy. */
const PQ_ONLY_MACS: readonly string[] = [
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "umac-128-etm@openssh.com",
];

/** The ciphers sshd offers under `profile`. */
export const ciphers = (profile: CryptoProfile): readonly string[] =>
    profile === "pq-only" ? PQ_ONLY_CIPHERS : CIPHERS;

/** The MACs sshd offers under `profile`. */
export const macs = (profile: CryptoProfile): readonly string[] => (profile === "pq-only" ? PQ_ONLY_MACS : MACS);

/**
 * Host key signature algorithms the servers offer and the client accepts. Hosts only have an
 * ED25519 key; the certificate form is kept so host certificates can be added without a change here.
 */
export const HOST_KEY_ALGORITHMS: readonly string[] = ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519"];

/**
 * User key algorithms sshd accepts: ED25519, ED25519 on a FIDO token (`sk-`), and their certificates.
 * RSA and ECDSA operator keys are refused.
 */
export const PUBKEY_ACCEPTED_ALGORITHMS: readonly string[] = [
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
];

/** Belt and braces: should RSA ever be re-enabled, keys shorter than this are refused (sshd >= 9.1). */
export const REQUIRED_RSA_SIZE = 3072;

/** Key types (first word of an OpenSSH public key line) an operator key may have. */
export const ACCEPTED_USER_KEY_TYPES: readonly string[] = ["ssh-ed25519", "sk-ssh-ed25519@openssh.com"];

/** The key type of an OpenSSH public key line (`ssh-ed25519 AAAA... comment` -> `ssh-ed25519`). */
export function publicKeyType(publicKeyLine: string): string {
    return publicKeyLine.trim().split(/\s+/)[0] ?? "";
}

/** Throws unless every key is of a type sshd accepts, so a bad key fails the render, not the login. */
export function assertAcceptedUserKeys(keys: readonly string[]): void {
    if (keys.length === 0) throw new Error("at least one operator public key is required");
    for (const key of keys) {
        const type = publicKeyType(key);
        if (!ACCEPTED_USER_KEY_TYPES.includes(type)) {
            throw new Error(
                `operator key type '${type}' is not accepted (use one of ${ACCEPTED_USER_KEY_TYPES.join(", ")})`,
            );
        }
        if (/[\r\n]/.test(key.trim())) throw new Error("an operator public key must be a single line");
    }
}
