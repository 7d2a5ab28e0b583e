// A stand-in for AWS KMS at the protocol boundary: an HTTP endpoint on 127.0.0.1 that speaks KMS's
// JSON protocol (POST /, `X-Amz-Target: TrentService.<Operation>`, `application/x-amz-json-1.1`), so
// the real @aws-sdk/client-kms talks to it unchanged. It answers GetPublicKey and Sign with local keys
// and carries the real API's rules: required fields, base64 messages of 1 to 4,096 bytes, the key's
// signing algorithms, ED25519_SHA_512 only over RAW messages, SigV4-signed requests scoped to the
// region and `kms`; errors come back in KMS's shape (`{"__type": ..., "message": ...}`, HTTP 400).
import { createPublicKey, generateKeyPairSync, KeyObject, randomUUID, sign } from "node:crypto";
import { AwsJsonError as KmsError, startAwsJsonEndpoint, type AwsJsonRequest } from "./awsJsonEndpoint";

/** A key the endpoint holds. */
export interface KmsTestKey {
    arn: string;
    keyId: string;
    keySpec: "ECC_NIST_EDWARDS25519" | "ECC_NIST_P256";
    signingAlgorithms: string[];
    privateKey: KeyObject;
    publicKey: KeyObject;
}

/** One request the endpoint received (recorded before it is checked). */
export type KmsRequest = AwsJsonRequest;

export interface KmsEndpoint {
    url: string;
    region: string;
    account: string;
    /** The Ed25519 SSH CA key (`ECC_NIST_EDWARDS25519`, `ED25519_SHA_512`). */
    caKey: KmsTestKey;
    /** A P-256 signing key: a key of the wrong spec for an Ed25519 CA. */
    p256Key: KmsTestKey;
    /** An alias that points at `caKey`. */
    caAlias: string;
    requests: KmsRequest[];
    close(): Promise<void>;
}

export const KMS_MAX_MESSAGE = 4096;

/**
 * An operator's AWS environment for the tests: static keys (the endpoint records which access key
 * signed), no instance metadata, no profile files of the machine running the tests.
 */
export const TEST_AWS_ENV = {
    AWS_ACCESS_KEY_ID: "AKIAJUMPGATETEST0001",
    AWS_SECRET_ACCESS_KEY: "jumpgate-test-secret-not-a-real-key",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/jumpgate-test/config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/jumpgate-test/credentials",
} as const;

/**
 * Puts TEST_AWS_ENV into process.env (and drops AWS_PROFILE, so no profile of the machine is read);
 * returns the function that restores what was there, for afterAll.
 */
export function useTestAwsEnv(): () => void {
    const saved: Record<string, string | undefined> = {};
    const set = (k: string, v: string | undefined): void => {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    };
    for (const [k, v] of Object.entries({ ...TEST_AWS_ENV, AWS_PROFILE: undefined })) {
        saved[k] = process.env[k];
        set(k, v);
    }
    return () => {
        for (const [k, v] of Object.entries(saved)) set(k, v);
    };
}

/**
 * Starts the endpoint on 127.0.0.1 with an Ed25519 CA key (fresh, or `caPrivateKey` when a test needs a
 * key whose public half hosts already trust) and a P-256 key.
 */
export async function startKmsEndpoint(
    region = "eu-central-1",
    account = "111122223333",
    caPrivateKey?: KeyObject,
): Promise<KmsEndpoint> {
    const caKey = newKey(
        region,
        account,
        "ECC_NIST_EDWARDS25519",
        ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        caPrivateKey,
    );
    const p256Key = newKey(region, account, "ECC_NIST_P256", ["ECDSA_SHA_256"]);
    const caAlias = "alias/jumpgate-ssh-ca";
    const requests: KmsRequest[] = [];
    const keyOf = (id: unknown) => findKey(id, [caKey, p256Key], { [caAlias]: caKey }, region, account);
    const endpoint = await startAwsJsonEndpoint({
        region,
        signingName: "kms",
        requests,
        operation: (target, body) => operation(target, body, { region, requests, keyOf }),
    });
    return {
        url: endpoint.url,
        region,
        account,
        caKey,
        p256Key,
        caAlias,
        requests,
        close: endpoint.close,
    };
}

function newKey(
    region: string,
    account: string,
    keySpec: KmsTestKey["keySpec"],
    algorithms: string[],
    given?: KeyObject,
): KmsTestKey {
    const pair = given
        ? { privateKey: given, publicKey: createPublicKey(given) }
        : keySpec === "ECC_NIST_EDWARDS25519"
          ? generateKeyPairSync("ed25519")
          : generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const keyId = randomUUID();
    return {
        arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
        keyId,
        keySpec,
        signingAlgorithms: algorithms,
        privateKey: pair.privateKey,
        publicKey: pair.publicKey,
    };
}

function findKey(
    id: unknown,
    keys: KmsTestKey[],
    aliases: Record<string, KmsTestKey>,
    region: string,
    account: string,
): KmsTestKey {
    const s = requiredString(id, "keyId");
    const alias = s.startsWith(`arn:aws:kms:${region}:${account}:alias/`)
        ? s.replace(/^arn:[^/]*:alias\//, "alias/")
        : s;
    const key = keys.find((k) => k.arn === s || k.keyId === s) ?? aliases[alias];
    if (!key) {
        const what = s.startsWith("alias/") ? `Alias ${s}` : `Key '${s}'`;
        throw new KmsError("NotFoundException", `${what} does not exist`);
    }
    return key;
}

interface Context {
    region: string;
    requests: KmsRequest[];
    keyOf: (id: unknown) => KmsTestKey;
}

function operation(target: string, body: Record<string, unknown>, ctx: Context): Record<string, unknown> {
    switch (target) {
        case "TrentService.GetPublicKey":
            return getPublicKey(ctx.keyOf(body.KeyId));
        case "TrentService.Sign":
            return signMessage(body, ctx);
        default:
            throw new KmsError("UnknownOperationException", `unknown operation ${JSON.stringify(target)}`);
    }
}

function getPublicKey(key: KmsTestKey): Record<string, unknown> {
    return {
        KeyId: key.arn,
        PublicKey: key.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
        KeySpec: key.keySpec,
        CustomerMasterKeySpec: key.keySpec,
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: key.signingAlgorithms,
    };
}

function signMessage(body: Record<string, unknown>, ctx: Context): Record<string, unknown> {
    const key = ctx.keyOf(body.KeyId);
    const message = decodeMessage(body.Message);
    const algorithm = requiredString(body.SigningAlgorithm, "signingAlgorithm");
    const messageType = body.MessageType === undefined ? "RAW" : requiredString(body.MessageType, "messageType");
    if (!["RAW", "DIGEST", "EXTERNAL_MU"].includes(messageType)) {
        throw new KmsError(
            "ValidationException",
            `1 validation error detected: Value '${messageType}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]`,
        );
    }
    if (!key.signingAlgorithms.includes(algorithm)) {
        throw new KmsError("InvalidKeyUsageException", `${algorithm} is not supported by key ${key.arn}`);
    }
    if (algorithm === "ED25519_SHA_512" && messageType !== "RAW") {
        throw new KmsError("ValidationException", "ED25519_SHA_512 requires MessageType RAW");
    }
    if (algorithm !== "ED25519_SHA_512" && algorithm !== "ECDSA_SHA_256") {
        throw new KmsError("ValidationException", `this endpoint does not implement ${algorithm}`);
    }
    const signature =
        algorithm === "ED25519_SHA_512" ? sign(null, message, key.privateKey) : sign("sha256", message, key.privateKey);
    return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: algorithm };
}

function decodeMessage(value: unknown): Buffer {
    const b64 = requiredString(value, "message");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
        throw new KmsError("SerializationException", "Message is not valid base64");
    }
    const message = Buffer.from(b64, "base64");
    if (message.length < 1 || message.length > KMS_MAX_MESSAGE) {
        const bound = message.length < 1 ? "greater than or equal to 1" : `less than or equal to ${KMS_MAX_MESSAGE}`;
        throw new KmsError(
            "ValidationException",
            `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length ${bound}`,
        );
    }
    return message;
}

function requiredString(value: unknown, field: string): string {
    if (typeof value !== "string" || value === "") {
        throw new KmsError(
            "ValidationException",
            `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
        );
    }
    return value;
}
