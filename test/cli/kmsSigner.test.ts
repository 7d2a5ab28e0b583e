// The KMS CA with the real @aws-sdk/client-kms against the KMS-protocol endpoint on 127.0.0.1
// (test/helpers/kmsEndpoint.ts); ssh-keygen judges the certificates and the CA public key.
import { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { KMS_MAX_RAW_MESSAGE_BYTES, kmsCaSigner } from "../../cli/kmsSigner";
import { ed25519KeyPair } from "../../offline/sshKeys";
import { KmsEndpoint, startKmsEndpoint, TEST_AWS_ENV, useTestAwsEnv } from "../helpers/kmsEndpoint";
import { toolsAvailable } from "../helpers/tools";

const haveKeygen = toolsAvailable("ssh-keygen");
let kms: KmsEndpoint;
let work: string;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
    restoreEnv = useTestAwsEnv();
    kms = await startKmsEndpoint();
    work = mkdtempSync(join(tmpdir(), "jgt-kms-"));
});
afterAll(async () => {
    restoreEnv?.();
    await kms?.close();
    rmSync(work, { recursive: true, force: true });
});

const signerFor = (keyId: string, region = kms.region) => kmsCaSigner({ keyId, region, endpoint: kms.url });
const user = () => ed25519KeyPair(randomBytes(32), "alice@laptop").publicKeyOpenssh;
const spec = (publicKey: string, principals = ["ops"]) => ({
    publicKey,
    serial: 7n,
    keyId: "jumpgate-dev:alice",
    principals,
    validAfter: new Date("2026-11-30T10:00:00Z"),
    validBefore: new Date("2026-11-30T18:00:00Z"),
});

describe.runIf(haveKeygen)("the KMS CA through the real AWS SDK", () => {
    it("GetPublicKey's DER key becomes the CA line ssh-keygen derives from the same private key", async () => {
        const der = kms.caKey.privateKey.export({ format: "der", type: "pkcs8" });
        const pair = ed25519KeyPair(Buffer.from(der.subarray(der.length - 32)));
        const keyFile = join(work, "kms-ca");
        writeFileSync(keyFile, pair.privateKeyOpenssh, { mode: 0o600 });
        const expected = spawnSync("ssh-keygen", ["-y", "-f", keyFile], { encoding: "utf8" }).stdout.trim();
        for (const id of [kms.caKey.arn, kms.caKey.keyId, kms.caAlias]) {
            expect(await signerFor(id).caPublicKey()).toBe(expected);
        }
    });

    it("signs a certificate ssh-keygen reads, with RAW ED25519_SHA_512 over exactly the body, as the operator", async () => {
        const before = kms.requests.length;
        const signer = signerFor(kms.caKey.arn);
        const issued = await issueCertificate(spec(user()), signer);
        const file = join(work, "alice-cert.pub");
        writeFileSync(file, certificateLine(issued.certificate, "alice@laptop"));
        const listing = spawnSync("ssh-keygen", ["-L", "-f", file], { encoding: "utf8", env: { TZ: "UTC" } });
        expect(listing.status).toBe(0);
        const caFile = join(work, "kms-ca.pub");
        writeFileSync(caFile, `${issued.caPublicKey}\n`);
        const caFp = spawnSync("ssh-keygen", ["-l", "-f", caFile], { encoding: "utf8" }).stdout.split(" ")[1];
        expect(listing.stdout).toContain(`Signing CA: ED25519 ${caFp} (using ssh-ed25519)`);
        expect(listing.stdout).toContain('Key ID: "jumpgate-dev:alice"');
        const sign = kms.requests.slice(before).filter((r) => r.target === "TrentService.Sign");
        expect(sign).toHaveLength(1);
        expect(sign[0]!.contentType).toBe("application/x-amz-json-1.1");
        expect(sign[0]!.accessKeyId).toBe(TEST_AWS_ENV.AWS_ACCESS_KEY_ID);
        expect(sign[0]!.body).toMatchObject({
            KeyId: kms.caKey.arn,
            MessageType: "RAW",
            SigningAlgorithm: "ED25519_SHA_512",
        });
        const message = Buffer.from(String(sign[0]!.body.Message), "base64");
        expect(message.length).toBe(issued.bodyBytes);
        expect(issued.certificate.subarray(0, message.length).equals(message)).toBe(true);
    });

    it("a body over 4,096 bytes is refused before any request, with a clear message", async () => {
        const before = kms.requests.length;
        const signer = signerFor(kms.caKey.arn);
        await signer.caPublicKey();
        const principals = Array.from({ length: 300 }, (_, i) => `principal-number-${i}`);
        await expect(issueCertificate(spec(user(), principals), signer)).rejects.toThrow(
            /certificate body is \d{4,} bytes; KMS signs raw messages of at most 4096 bytes/,
        );
        expect(kms.requests.slice(before).filter((r) => r.target === "TrentService.Sign")).toHaveLength(0);
    });

    it("KMS's own ValidationException for an oversized message reaches the SDK caller by name", async () => {
        const client = new KMSClient({ region: kms.region, endpoint: kms.url });
        const send = (n: number) =>
            client.send(
                new SignCommand({
                    KeyId: kms.caKey.arn,
                    Message: new Uint8Array(n),
                    MessageType: "RAW",
                    SigningAlgorithm: "ED25519_SHA_512",
                }),
            );
        await expect(send(KMS_MAX_RAW_MESSAGE_BYTES)).resolves.toMatchObject({ SigningAlgorithm: "ED25519_SHA_512" });
        await expect(send(KMS_MAX_RAW_MESSAGE_BYTES + 1)).rejects.toMatchObject({
            name: "ValidationException",
            message: expect.stringMatching(/Member must have length less than or equal to 4096/),
        });
    });

    it.each([
        [
            "an unknown key",
            () => signerFor("alias/no-such-key").caPublicKey(),
            /GetPublicKey .*NotFoundException.*--kms-key-id/,
        ],
        [
            "a key of another region's scope",
            () => signerFor(kms.caKey.arn, "us-east-1").caPublicKey(),
            /InvalidSignatureException/,
        ],
        [
            "a P-256 key",
            () => signerFor(kms.p256Key.arn).caPublicKey(),
            /is ECC_NIST_P256 .* must be ECC_NIST_EDWARDS25519/,
        ],
    ] as [string, () => Promise<unknown>, RegExp][])("%s: a clear error naming the KMS call", async (_, f, message) => {
        await expect(f()).rejects.toThrow(message);
    });

    it("no AWS credentials at all: the SDK's error with how to sign in", async () => {
        const id = process.env.AWS_ACCESS_KEY_ID;
        delete process.env.AWS_ACCESS_KEY_ID;
        try {
            await expect(signerFor(kms.caKey.arn).caPublicKey()).rejects.toThrow(
                /failed: .*(aws sso login|AWS_PROFILE)/,
            );
        } finally {
            process.env.AWS_ACCESS_KEY_ID = id;
        }
    });
});
