// The plumbing the protocol-boundary stand-ins for AWS services share (see kmsEndpoint.ts,
// logsEndpoint.ts): an HTTP endpoint on 127.0.0.1 speaking AWS's JSON protocol (POST /, `X-Amz-Target:
// <Service>.<Operation>`, `application/x-amz-json-1.1`), so the real @aws-sdk clients talk to it
// unchanged. Every request is recorded (with the access key that signed it) before it is checked;
// requests must be SigV4-signed for the endpoint's region and service; errors come back in AWS's shape
// (`{"__type": ..., "message": ...}`, HTTP 400).
import { randomUUID } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";

/** One request the endpoint received (recorded before it is checked). */
export interface AwsJsonRequest {
    target: string;
    contentType: string;
    /** The access key ID from the SigV4 Authorization header ("" when there was none). */
    accessKeyId: string;
    body: Record<string, unknown>;
}

/** Thrown by an operation: becomes the service's error response. */
export class AwsJsonError extends Error {
    constructor(
        readonly type: string,
        message: string,
    ) {
        super(message);
    }
}

export interface AwsJsonService {
    region: string;
    /** The SigV4 signing name (`kms`, `logs`). */
    signingName: string;
    /** Where received requests are appended. */
    requests: AwsJsonRequest[];
    /** Answers one checked request, or throws AwsJsonError. */
    operation(target: string, body: Record<string, unknown>): Record<string, unknown>;
}

export async function startAwsJsonEndpoint(service: AwsJsonService): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => {
        void handle(req, res, service);
    });
    const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    return {
        url: `http://127.0.0.1:${port}`,
        close: () => {
            server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

async function handle(req: IncomingMessage, res: ServerResponse, service: AwsJsonService): Promise<void> {
    const raw = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const contentType = String(req.headers["content-type"] ?? "");
    const auth = String(req.headers.authorization ?? "");
    let body: Record<string, unknown> = {};
    try {
        const parsed: unknown = JSON.parse(raw || "{}");
        body = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
        /* an operation reports the missing fields */
    }
    service.requests.push({ target, contentType, accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1] ?? "", body });
    try {
        if (req.method !== "POST" || contentType !== "application/x-amz-json-1.1") {
            throw new AwsJsonError("SerializationException", "expected POST with application/x-amz-json-1.1");
        }
        checkSignatureV4(auth, service.region, service.signingName);
        send(res, 200, service.operation(target, body));
    } catch (e) {
        if (!(e instanceof AwsJsonError)) throw e;
        send(res, 400, { __type: e.type, message: e.message });
    }
}

/** The request must carry a SigV4 Authorization header scoped to this region and service. */
function checkSignatureV4(auth: string, region: string, signingName: string): void {
    const m =
        /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/.exec(
            auth,
        );
    if (!m) throw new AwsJsonError("IncompleteSignatureException", "Authorization header is not a SigV4 signature");
    if (m[1] !== region || m[2] !== signingName) {
        throw new AwsJsonError(
            "InvalidSignatureException",
            `Credential should be scoped to ${region}/${signingName}, not ${m[1]}/${m[2]}`,
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
