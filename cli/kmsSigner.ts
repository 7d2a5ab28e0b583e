// The "kms" CA: an AWS KMS asymmetric key (KeySpec ECC_NIST_EDWARDS25519, KeyUsage SIGN_VERIFY) signs
// certificate bodies with ED25519_SHA_512 over the RAW message, so the CA private key never leaves KMS.
// The operator signs with their own AWS credentials (the SDK's standard chain: environment, profile,
// SSO, ...), so the key policy decides who may issue certificates (and can demand MFA).
import { GetPublicKeyCommand, KMSClient, MessageType, SignCommand, SigningAlgorithmSpec } from "@aws-sdk/client-kms";
import { spkiToOpenssh } from "../components/render/caKeys";
import type { CaSignature, CertificateSigner } from "../components/render/certificate";
import { CliError } from "./outputs";

/** KMS signs RAW messages of at most this many bytes (Sign API, `Message`). */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

const KEY_SPEC = "ECC_NIST_EDWARDS25519";
const ALGORITHM = SigningAlgorithmSpec.ED25519_SHA_512;

/** Where the KMS CA key is. */
export interface KmsCaOptions {
    /** Key ID, key ARN, alias name (`alias/...`) or alias ARN. */
    keyId: string;
    /** The key's region. */
    region: string;
    /** Another KMS endpoint (a VPC endpoint, a test double). Defaults to the region's public endpoint. */
    endpoint?: string;
}

/** A CertificateSigner backed by a KMS Ed25519 key; the public key is fetched once, on first use. */
export function kmsCaSigner(options: KmsCaOptions, client?: KMSClient): CertificateSigner {
    const kms = client ?? new KMSClient({ region: options.region, endpoint: options.endpoint });
    let publicKey: Promise<string> | undefined;
    return {
        caPublicKey: () => (publicKey ??= fetchCaPublicKey(kms, options)),
        sign: (body) => signBody(kms, options, body),
    };
}

async function fetchCaPublicKey(kms: KMSClient, o: KmsCaOptions): Promise<string> {
    const res = await call(o, "GetPublicKey", () => kms.send(new GetPublicKeyCommand({ KeyId: o.keyId })));
    if (res.KeySpec !== KEY_SPEC || res.KeyUsage !== "SIGN_VERIFY" || !res.SigningAlgorithms?.includes(ALGORITHM)) {
        throw new CliError(
            `KMS key ${o.keyId} is ${res.KeySpec ?? "?"} for ${res.KeyUsage ?? "?"}; an SSH CA key must be ` +
                `${KEY_SPEC} for SIGN_VERIFY (aws kms create-key --key-spec ${KEY_SPEC} --key-usage SIGN_VERIFY)`,
        );
    }
    if (!res.PublicKey) throw new CliError(`KMS GetPublicKey for ${o.keyId} returned no public key`);
    return spkiToOpenssh(res.PublicKey);
}

async function signBody(kms: KMSClient, o: KmsCaOptions, body: Uint8Array): Promise<CaSignature> {
    if (body.length > KMS_MAX_RAW_MESSAGE_BYTES) {
        throw new CliError(
            `the certificate body is ${body.length} bytes; KMS signs raw messages of at most ` +
                `${KMS_MAX_RAW_MESSAGE_BYTES} bytes (fewer principals, a shorter key ID or force-command)`,
        );
    }
    const command = new SignCommand({
        KeyId: o.keyId,
        Message: body,
        MessageType: MessageType.RAW,
        SigningAlgorithm: ALGORITHM,
    });
    const res = await call(o, "Sign", () => kms.send(command));
    if (res.SigningAlgorithm !== ALGORITHM || res.Signature?.length !== 64) {
        throw new CliError(
            `KMS Sign with ${o.keyId} returned ${res.Signature?.length ?? 0} bytes with ${res.SigningAlgorithm ?? "no algorithm"}; expected a 64-byte ${ALGORITHM} signature`,
        );
    }
    return { algorithm: "ssh-ed25519", signatureBlob: res.Signature };
}

/** Runs a KMS call; an AWS error becomes a CliError naming the operation, key, region and error. */
async function call<T>(o: KmsCaOptions, operation: string, send: () => Promise<T>): Promise<T> {
    try {
        return await send();
    } catch (e) {
        const err = e as Error;
        throw new CliError(
            `KMS ${operation} with key ${o.keyId} in ${o.region} failed: ${err.name}: ${err.message}${hintFor(err.name)}`,
        );
    }
}

function hintFor(errorName: string): string {
    switch (errorName) {
        case "CredentialsProviderError":
            return " (sign in to AWS first: aws sso login, or set AWS_PROFILE / AWS_ACCESS_KEY_ID)";
        case "AccessDeniedException":
            return " (your AWS identity may not use this key for kms:Sign; if the key policy requires MFA, use an MFA session)";
        case "NotFoundException":
            return " (check --kms-key-id and --region)";
        default:
            return "";
    }
}
