// The one source of SSH algorithm lists: every name must be known to this OpenSSH, and nothing weak
// may slip in. (That sshd actually serves exactly these lists is proven in sshd.test.ts.)
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
    ACCEPTED_USER_KEY_TYPES,
    CIPHERS,
    HOST_KEY_ALGORITHMS,
    KEX_ALGORITHMS,
    MACS,
    PUBKEY_ACCEPTED_ALGORITHMS,
    CRYPTO_PROFILES,
    PQ_KEX_ALGORITHMS,
    assertAcceptedUserKeys,
    ciphers,
    kexAlgorithms,
    macs,
    publicKeyType,
} from "../../components/render/crypto";
import { OS_RELEASES, opensshAtLeast } from "../../components/render/os";
import type { OsName } from "../../components/render/model";
import { fixtureKeys } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

const LISTS = { KEX_ALGORITHMS, CIPHERS, MACS, HOST_KEY_ALGORITHMS, PUBKEY_ACCEPTED_ALGORITHMS };

describe("algorithm lists", () => {
    it("have no duplicates and nothing weak or fragile", () => {
        for (const [name, list] of Object.entries(LISTS)) {
            expect(new Set(list).size, name).toBe(list.length);
            for (const alg of list) {
                expect(alg, name).not.toMatch(
                    /sha1|md5|cbc|3des|nistp|dss|ssh-rsa|group1-|group14-|-96|umac-64|hmac-sha2-(256|512)$/,
                );
            }
        }
        // Only the @openssh.com name of sntrup761 (the bare alias is fatal to older 9.2 builds), no DH group exchange.
        expect(KEX_ALGORITHMS).toContain("sntrup761x25519-sha512@openssh.com");
        expect(KEX_ALGORITHMS).not.toContain("sntrup761x25519-sha512");
        expect(KEX_ALGORITHMS.some((k) => k.includes("group-exchange"))).toBe(false);
        // Encrypt-then-MAC only.
        expect(MACS.every((m) => m.endsWith("-etm@openssh.com"))).toBe(true);
    });

    it("host and user keys are ED25519-based only", () => {
        expect(HOST_KEY_ALGORITHMS.every((a) => /^(sk-)?ssh-ed25519/.test(a))).toBe(true);
        expect(PUBKEY_ACCEPTED_ALGORITHMS.every((a) => /^(sk-)?ssh-ed25519/.test(a))).toBe(true);
        // Operator key types the renderer lets through are exactly the non-certificate accepted algorithms.
        expect([...ACCEPTED_USER_KEY_TYPES].sort()).toEqual(
            PUBKEY_ACCEPTED_ALGORITHMS.filter((a) => !a.includes("-cert-")).sort(),
        );
    });
});

describe("lists per OpenSSH version and crypto profile", () => {
    const oses = Object.keys(OS_RELEASES) as OsName[];

    it("offers post-quantum hybrids first on OpenSSH 9.9+, mlkem768x25519 (10.0's default) first of all", () => {
        const kex = kexAlgorithms("debian-13", "compatible");
        expect(kex[0]).toBe("mlkem768x25519-sha256");
        expect(kex.slice(0, PQ_KEX_ALGORITHMS.length)).toEqual(PQ_KEX_ALGORITHMS);
        // Classic exchanges stay for older clients, once each.
        expect(kex).toContain("curve25519-sha256");
        expect(new Set(kex).size).toBe(kex.length);
    });

    it("never gives sshd 9.2 or 9.6 a name it rejects (mlkem and the bare sntrup761 alias came in 9.9)", () => {
        for (const os of oses.filter((o) => !opensshAtLeast(o, 9, 9))) {
            for (const profile of CRYPTO_PROFILES) {
                const kex = kexAlgorithms(os, profile);
                expect(kex, `${os} ${profile}`).not.toContain("mlkem768x25519-sha256");
                expect(kex, `${os} ${profile}`).not.toContain("sntrup761x25519-sha512");
            }
        }
        expect(kexAlgorithms("debian-12", "compatible")).toEqual(KEX_ALGORITHMS);
    });

    it("pq-only offers post-quantum key exchange only, with the same ciphers and MACs as compatible", () => {
        for (const os of oses) {
            const kex = kexAlgorithms(os, "pq-only");
            expect(kex.length, os).toBeGreaterThan(0);
            expect(
                kex.every((k) => /^(mlkem|sntrup)/.test(k)),
                os,
            ).toBe(true);
        }
        expect([...ciphers("pq-only")].sort()).toEqual([...CIPHERS].sort());
        expect([...macs("pq-only")].sort()).toEqual([...MACS].sort());
    });
});

describe.runIf(toolsAvailable("ssh"))("algorithm names against this OpenSSH (ssh -Q)", () => {
    const query = (what: string) =>
        spawnSync("ssh", ["-Q", what], { encoding: "utf8", timeout: 10_000 }).stdout.split("\n").filter(Boolean);

    it("every name is one OpenSSH knows", () => {
        const known = { kex: query("kex"), cipher: query("cipher"), mac: query("mac"), sig: query("key-sig") };
        expect(known.kex.length).toBeGreaterThan(0);
        // Lists for an OpenSSH no newer than this one (this machine's client).
        const version = /OpenSSH_(\d+)\.(\d+)/.exec(spawnSync("ssh", ["-V"], { encoding: "utf8" }).stderr);
        const [major, minor] = [Number(version?.[1]), Number(version?.[2])];
        const oses = (Object.keys(OS_RELEASES) as OsName[]).filter((os) => {
            const v = OS_RELEASES[os].openssh;
            return v.major < major || (v.major === major && v.minor <= minor);
        });
        expect(oses.length).toBeGreaterThan(0);
        for (const os of oses)
            for (const profile of CRYPTO_PROFILES)
                for (const a of kexAlgorithms(os, profile)) expect(known.kex, `${os} ${profile} ${a}`).toContain(a);
        for (const a of KEX_ALGORITHMS) expect(known.kex, a).toContain(a);
        for (const a of CIPHERS) expect(known.cipher, a).toContain(a);
        for (const a of MACS) expect(known.mac, a).toContain(a);
        for (const a of [...HOST_KEY_ALGORITHMS, ...PUBKEY_ACCEPTED_ALGORITHMS]) expect(known.sig, a).toContain(a);
    });
});

describe("operator key check", () => {
    it("accepts real ED25519 keys (ssh-keygen) and sk-ED25519 keys", () => {
        const key = fixtureKeys().operator.publicKeyOpenssh;
        expect(publicKeyType(key)).toBe("ssh-ed25519");
        expect(() =>
            assertAcceptedUserKeys([
                key,
                "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t yubikey",
            ]),
        ).not.toThrow();
    });

    it("refuses keys sshd would refuse, so a bad key fails the render instead of the login", () => {
        expect(() => assertAcceptedUserKeys([])).toThrow(/at least one/);
        expect(() => assertAcceptedUserKeys(["ssh-rsa AAAAB3NzaC1yc2E me@laptop"])).toThrow(/ssh-rsa/);
        expect(() => assertAcceptedUserKeys(["ecdsa-sha2-nistp256 AAAAE2VjZHNh me"])).toThrow(/ecdsa/);
        expect(() => assertAcceptedUserKeys(["ssh-ed25519 AAAA one\nssh-ed25519 AAAA two"])).toThrow(/single line/);
    });
});
