// A stand-in for AWS KMS at the protocol boundary: an HTTP endpoint on 127.0.0.1 that speaks KMS's
// JSON protocol (POST /, `X-Amz-Target: TrentService.<Operation>`, `application/x-amz-json-1.1`), so
// the real @aws-sdk/client-kms talks to it unchanged. It answers GetPublicKey and Sign with local keys
// and carries the real API's rules: required fields, base64 messages of 1 to 4,096 bytes, the key's
// signing algorithms, ED25519_SHA_512 only over RAW messages, SigV4-signed requests scoped to the
// region and `kms`; errors come back in KMS's shape (`{"__type": ..., "message": ...}`, HTTP 400).
import { createPublicKey, generateKeyPairSync, KeyObject, randomUUID, sign } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";

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
export interface KmsRequest {
    target: string;
    contentType: string;
    /** The access key ID from the SigV4 Authorization header ("" when there was none). */
    accessKeyId: string;
    body: Record<string, unknown>;
}

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

/** Thrown inside a handler: becomes KMS's error response. */
class KmsError extends Error {
    constructor(
        readonly type: string,
        message: string,
    ) {
        super(message);
    }
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
    const server = createServer((req, res) => {
        void handle(req, res, { region, requests, keyOf });
    });
    const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    return {
        url: `http://127.0.0.1:${port}`,
        region,
        account,
        caKey,
        p256Key,
        caAlias,
        requests,
        close: () => closeServer(server),
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

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
    const raw = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const contentType = String(req.headers["content-type"] ?? "");
    const auth = String(req.headers.authorization ?? "");
    let body: Record<string, unknown> = {};
    try {
        const parsed: unknown = JSON.parse(raw || "{}");
        body = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
        /* reported below */
    }
    ctx.requests.push({ target, contentType, accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1] ?? "", body });
    try {
        if (req.method !== "POST" || contentType !== "application/x-amz-json-1.1") {
            throw new KmsError("SerializationException", `expected POST with application/x-amz-json-1.1`);
        }
        checkSignatureV4(auth, ctx.region);
        const answer = operation(target, body, ctx);
        send(res, 200, answer);
    } catch (e) {
        if (!(e instanceof KmsError)) throw e;
        send(res, 400, { __type: e.type, message: e.message });
    }
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

/** The request must carry a SigV4 Authorization header scoped to this region and the kms service. */
function checkSignatureV4(auth: string, region: string): void {
    const m =
        /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/.exec(
            auth,
        );
    if (!m) throw new KmsError("IncompleteSignatureException", "Authorization header is not a SigV4 signature");
    if (m[1] !== region || m[2] !== "kms") {
        throw new KmsError(
            "InvalidSignatureException",
            `Credential should be scoped to ${region}/kms, not ${m[1]}/${m[2]}`,
        );
    }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
    res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

function closeServer(server: Server): Promise<void> {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
}
