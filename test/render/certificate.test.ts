// User certificates from components/render/certificate.ts, judged by the real ssh-keygen (-L parses
// and checks the CA signature; a certificate it made itself from the same inputs must read the same).
import { spawnSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecdsaDerToSsh, publicKeyBlobOf, spkiToOpenssh, stackCaSigner } from "../../components/render/caKeys";
import {
    assembleCertificate,
    certificateBody,
    certificateLine,
    CertificateSigner,
    CertificateSpec,
    DEFAULT_EXTENSIONS,
    issueCertificate,
} from "../../components/render/certificate";
import { sshString } from "../../components/render/sshWire";
import { ed25519KeyPair } from "../../offline/sshKeys";
import { toolsAvailable } from "../helpers/tools";

const haveKeygen = toolsAvailable("ssh-keygen");
const T0 = new Date("2026-11-30T10:00:00Z");
const T1 = new Date("2026-11-30T18:00:00Z");

let work: string;
beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "jgt-cert-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function keygen(args: string[]): string {
    const r = spawnSync("ssh-keygen", args, { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

/** A key pair made by ssh-keygen itself: [private key file, public key line]. */
function keygenKey(name: string): [string, string] {
    const file = join(work, name);
    keygen(["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test`, "-f", file]);
    return [file, readFileSync(`${file}.pub`, "utf8").trim()];
}

/** `ssh-keygen -L` of a certificate line, without its first line (the file name). */
function listing(line: string, name = "cert"): string {
    const file = join(work, `${name}-cert.pub`);
    writeFileSync(file, line);
    return keygen(["-L", "-f", file]).split("\n").slice(1).join("\n");
}

const baseSpec = (publicKey: string): Omit<CertificateSpec, "caPublicKey"> => ({
    publicKey,
    serial: 4242n,
    keyId: "jumpgate-dev:alice",
    principals: ["ops", "alice"],
    validAfter: T0,
    validBefore: T1,
});

describe.runIf(haveKeygen)("certificates read by ssh-keygen -L", () => {
    it("a stack-CA certificate reads exactly like one ssh-keygen -s makes from the same inputs", async () => {
        const [caFile] = keygenKey("ca");
        const [userFile, userPub] = keygenKey("user");
        const ours = await issueCertificate(
            {
                ...baseSpec(userPub),
                criticalOptions: { forceCommand: "/usr/bin/true", sourceAddress: ["10.0.0.0/8", "192.0.2.7"] },
                extensions: DEFAULT_EXTENSIONS.filter((e) => e !== "permit-pty"),
            },
            stackCaSigner(readFileSync(caFile, "utf8")),
        );
        const mine = listing(certificateLine(ours.certificate, "user@test"), "ours");
        keygen([
            ...["-q", "-s", caFile, "-I", "jumpgate-dev:alice", "-n", "ops,alice", "-z", "4242"],
            ...["-V", "20261130100000:20261130180000", "-O", "clear", "-O", "force-command=/usr/bin/true"],
            ...["-O", "source-address=10.0.0.0/8,192.0.2.7"],
            ...["-O", "permit-X11-forwarding", "-O", "permit-agent-forwarding", "-O", "permit-port-forwarding"],
            ...["-O", "permit-user-rc", `${userFile}.pub`],
        ]);
        const theirs = keygen(["-L", "-f", `${userFile}-cert.pub`])
            .split("\n")
            .slice(1)
            .join("\n");
        expect(mine).toBe(theirs);
        expect(mine).toContain('Key ID: "jumpgate-dev:alice"');
        expect(mine).toContain("Serial: 4242");
        expect(mine).toContain("Valid: from 2026-11-30T10:00:00 to 2026-11-30T18:00:00");
        expect(mine).toMatch(/Principals: \n\s+ops\n\s+alice\n/);
        expect(mine).toMatch(/force-command \/usr\/bin\/true/);
        expect(mine).not.toContain("permit-pty");
        expect(mine).toContain("permit-port-forwarding");
    });

    it("defaults: the five permit-* extensions, no critical options", async () => {
        const [caFile] = keygenKey("ca2");
        const [, userPub] = keygenKey("user2");
        const { certificate } = await issueCertificate(baseSpec(userPub), stackCaSigner(readFileSync(caFile, "utf8")));
        const text = listing(certificateLine(certificate, ""));
        expect(text).toMatch(/Critical Options: \(none\)/);
        for (const e of DEFAULT_EXTENSIONS) expect(text).toContain(`                ${e}\n`);
        expect(text).toContain("Type: ssh-ed25519-cert-v01@openssh.com user certificate");
    });

    it("a FIDO key gets an sk-ssh-ed25519 certificate carrying verify-required", async () => {
        const [caFile] = keygenKey("ca3");
        const pk = publicKeyBlobOf(generateKeyPairSync("ed25519").publicKey).subarray(-32);
        const blob = Buffer.concat([sshString("sk-ssh-ed25519@openssh.com"), sshString(pk), sshString("ssh:")]);
        const skLine = `sk-ssh-ed25519@openssh.com ${blob.toString("base64")} yubikey`;
        const { certificate } = await issueCertificate(
            { ...baseSpec(skLine), criticalOptions: { verifyRequired: true } },
            stackCaSigner(readFileSync(caFile, "utf8")),
        );
        const text = listing(certificateLine(certificate, "yubikey"));
        expect(text).toContain("Type: sk-ssh-ed25519-cert-v01@openssh.com user certificate");
        expect(text).toMatch(/Critical Options: \n\s+verify-required\n/);
    });

    it("a signature by another key is refused before anything is written", async () => {
        const [caFile] = keygenKey("ca4");
        const [otherFile] = keygenKey("other");
        const [, userPub] = keygenKey("user4");
        const ca = stackCaSigner(readFileSync(caFile, "utf8"));
        const impostor = stackCaSigner(readFileSync(otherFile, "utf8"));
        const lying: CertificateSigner = { caPublicKey: ca.caPublicKey, sign: impostor.sign };
        await expect(issueCertificate(baseSpec(userPub), lying)).rejects.toThrow(/does not verify/);
    });

    it("the CA public key line from a DER SubjectPublicKeyInfo is the one ssh-keygen derives from the key", () => {
        const pair = ed25519KeyPair(randomBytes(32));
        const keyFile = join(work, "kms-like");
        writeFileSync(keyFile, pair.privateKeyOpenssh, { mode: 0o600 });
        const fromKeygen = keygen(["-y", "-f", keyFile]).trim();
        const spki = createPublicKey(pair.privateKeyPem).export({ format: "der", type: "spki" });
        expect(spkiToOpenssh(spki)).toBe(fromKeygen);
        // P-256 (the other kind of KMS signing key): ssh-keygen imports the PKCS8 public key itself.
        const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
        const pem = join(work, "p256.pem");
        writeFileSync(pem, ec.publicKey.export({ format: "pem", type: "spki" }));
        const imported = keygen(["-i", "-m", "PKCS8", "-f", pem]).trim();
        expect(spkiToOpenssh(ec.publicKey.export({ format: "der", type: "spki" }))).toBe(imported);
    });

    it("an ECDSA P-256 CA (KMS DER signatures converted to SSH's r, s) makes certificates ssh-keygen accepts", async () => {
        const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
        const [, userPub] = keygenKey("user5");
        const p256: CertificateSigner = {
            caPublicKey: async () => spkiToOpenssh(ec.publicKey.export({ format: "der", type: "spki" })),
            sign: async (body) => ({
                algorithm: "ecdsa-sha2-nistp256",
                signatureBlob: ecdsaDerToSsh(sign("sha256", body, ec.privateKey)),
            }),
        };
        const { certificate } = await issueCertificate(baseSpec(userPub), p256);
        expect(listing(certificateLine(certificate, ""))).toMatch(
            /Signing CA: ECDSA SHA256:\S+ \(using ecdsa-sha2-nistp256\)/,
        );
    });
});

describe("certificate body checks", () => {
    const userPub = ed25519KeyPair(randomBytes(32)).publicKeyOpenssh;
    const caPub = ed25519KeyPair(randomBytes(32)).publicKeyOpenssh;
    const spec = (over: Partial<CertificateSpec>): CertificateSpec => ({
        ...baseSpec(userPub),
        caPublicKey: caPub,
        ...over,
    });

    const shortKey = Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(31, 1))]).toString("base64");
    it.each([
        ["no principals", { principals: [] }, /valid for every user/],
        ["a principal list in one", { principals: ["ops,root"] }, /space or comma/],
        ["a blank key ID", { keyId: " " }, /key ID/],
        ["an end before the start", { validBefore: T0 }, /ends .* before it starts/],
        ["verify-required on a non-FIDO key", { criticalOptions: { verifyRequired: true } }, /only FIDO/],
        [
            "a source-address that is no address",
            { criticalOptions: { sourceAddress: ["10.0.0.0/8; rm"] } },
            /source-address/,
        ],
        ["an unknown extension", { extensions: ["permit-everything"] }, /not an OpenSSH extension/],
        ["an extension twice", { extensions: ["permit-pty", "permit-pty"] }, /given twice/],
        ["an RSA key", { publicKey: generateRsaLine() }, /ssh-rsa keys are not certified here/],
        ["a 31-byte Ed25519 key", { publicKey: `ssh-ed25519 ${shortKey}` }, /32 bytes/],
        [
            "a line whose type is not the key's",
            { publicKey: `sk-ssh-ed25519@openssh.com ${userPub.split(" ")[1]}` },
            /the key inside is ssh-ed25519/,
        ],
    ] as [string, Partial<CertificateSpec>, RegExp][])("refuses %s", (_, over, message) => {
        expect(() => certificateBody(spec(over))).toThrow(message);
    });

    it("a typical body (two principals, default extensions) is far below KMS's 4,096-byte raw limit", () => {
        const size = certificateBody(spec({})).length;
        expect(size).toBeGreaterThan(200);
        expect(size).toBeLessThan(600);
        const many = certificateBody(spec({ principals: Array.from({ length: 100 }, (_, i) => `user-${i}`) })).length;
        expect(many).toBeLessThan(4096);
    });

    it("assembling refuses a signature whose algorithm is not the CA key's", () => {
        const body = certificateBody(spec({}));
        expect(() =>
            assembleCertificate(body, { algorithm: "ecdsa-sha2-nistp256", signatureBlob: new Uint8Array(72) }),
        ).toThrow(/signed with ecdsa-sha2-nistp256, but its public key is ssh-ed25519/);
    });
});

function generateRsaLine(): string {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    const mp = (b64: string) => {
        const b = Buffer.from(b64, "base64url");
        return sshString(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    };
    const blob = Buffer.concat([sshString("ssh-rsa"), mp(rsa.e!), mp(rsa.n!)]);
    return `ssh-rsa ${blob.toString("base64")}`;
}
