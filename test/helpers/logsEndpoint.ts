// A stand-in for CloudWatch Logs at the protocol boundary: an HTTP endpoint on 127.0.0.1 that speaks the
// service's JSON protocol (POST /, `X-Amz-Target: Logs_20140328.<Operation>`, `application/x-amz-json-1.1`),
// so the real @aws-sdk/client-cloudwatch-logs talks to it unchanged. It answers StartQuery and
// GetQueryResults with the API's rules: required fields, a log group that exists, startTime before
// endTime, a query string of at most 10,000 characters, a limit of 1 to 10,000, SigV4 scoped to the
// region and `logs`; errors in the service's shape (`{"__type": ..., "message": ...}`, HTTP 400).
// It does not evaluate Logs Insights queries: a test hands it the rows a query returns and reads the
// query text it received.
import { randomUUID } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";

/** One request the endpoint received (recorded before it is checked). */
export interface LogsRequest {
    target: string;
    accessKeyId: string;
    body: Record<string, unknown>;
}

/** A result row as GetQueryResults returns it: every value a string. */
export type InsightsRow = { field: string; value: string }[];

export interface LogsEndpoint {
    url: string;
    region: string;
    requests: LogsRequest[];
    /** Log groups that exist. */
    logGroups: Set<string>;
    /** Rows the next query returns, and how many GetQueryResults calls answer Running first. */
    answer(rows: InsightsRow[], runningPolls?: number, status?: string): void;
    close(): Promise<void>;
}

class LogsError extends Error {
    constructor(
        readonly type: string,
        message: string,
    ) {
        super(message);
    }
}

interface Query {
    rows: InsightsRow[];
    runningPolls: number;
    status: string;
}

export async function startLogsEndpoint(region = "eu-central-1"): Promise<LogsEndpoint> {
    const requests: LogsRequest[] = [];
    const logGroups = new Set<string>();
    const queries = new Map<string, Query>();
    let next: Query = { rows: [], runningPolls: 0, status: "Complete" };
    const server = createServer((req, res) => {
        void handle(req, res, { region, requests, logGroups, queries, next: () => next });
    });
    const port = await new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    return {
        url: `http://127.0.0.1:${port}`,
        region,
        requests,
        logGroups,
        answer: (rows, runningPolls = 0, status = "Complete") => {
            next = { rows, runningPolls, status };
        },
        close: () => {
            server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

interface Context {
    region: string;
    requests: LogsRequest[];
    logGroups: Set<string>;
    queries: Map<string, Query>;
    next: () => Query;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
    const raw = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
    const target = String(req.headers["x-amz-target"] ?? "");
    const auth = String(req.headers.authorization ?? "");
    let body: Record<string, unknown> = {};
    try {
        body = JSON.parse(raw || "{}") as Record<string, unknown>;
    } catch {
        /* an empty body is checked below */
    }
    ctx.requests.push({ target, accessKeyId: /Credential=([^/]+)\//.exec(auth)?.[1] ?? "", body });
    try {
        if (req.method !== "POST" || req.headers["content-type"] !== "application/x-amz-json-1.1")
            throw new LogsError("SerializationException", "expected POST with application/x-amz-json-1.1");
        checkSignatureV4(auth, ctx.region);
        send(res, 200, operation(target, body, ctx));
    } catch (e) {
        if (!(e instanceof LogsError)) throw e;
        send(res, 400, { __type: e.type, message: e.message });
    }
}

function operation(target: string, body: Record<string, unknown>, ctx: Context): Record<string, unknown> {
    switch (target) {
        case "Logs_20140328.StartQuery":
            return startQuery(body, ctx);
        case "Logs_20140328.GetQueryResults": {
            const query = ctx.queries.get(String(body.queryId));
            if (!query) throw new LogsError("ResourceNotFoundException", "The specified query does not exist.");
            if (query.runningPolls > 0) {
                query.runningPolls--;
                return { status: "Running", results: [] };
            }
            const results = query.status === "Complete" ? query.rows : [];
            return { status: query.status, results, statistics: { recordsMatched: results.length } };
        }
        default:
            throw new LogsError("UnknownOperationException", `unknown operation ${JSON.stringify(target)}`);
    }
}

function startQuery(body: Record<string, unknown>, ctx: Context): Record<string, unknown> {
    const { logGroupName, startTime, endTime, queryString, limit } = body;
    if (typeof queryString !== "string" || queryString.length < 1 || queryString.length > 10000)
        throw new LogsError(
            "InvalidParameterException",
            "1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length between 0 and 10000",
        );
    if (typeof startTime !== "number" || typeof endTime !== "number")
        throw new LogsError("InvalidParameterException", "startTime and endTime are required");
    if (endTime < startTime)
        throw new LogsError("InvalidParameterException", "End time should not be before the start time");
    if (limit !== undefined && (typeof limit !== "number" || limit < 1 || limit > 10000))
        throw new LogsError(
            "InvalidParameterException",
            `1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000`,
        );
    if (typeof logGroupName !== "string" || !ctx.logGroups.has(logGroupName))
        throw new LogsError("ResourceNotFoundException", "The specified log group does not exist.");
    const queryId = randomUUID();
    ctx.queries.set(queryId, { ...ctx.next(), rows: [...ctx.next().rows] });
    return { queryId };
}

/** The request must carry a SigV4 Authorization header scoped to this region and the logs service. */
function checkSignatureV4(auth: string, region: string): void {
    const m =
        /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/.exec(
            auth,
        );
    if (!m) throw new LogsError("IncompleteSignatureException", "Authorization header is not a SigV4 signature");
    if (m[1] !== region || m[2] !== "logs")
        throw new LogsError(
            "InvalidSignatureException",
            `Credential should be scoped to ${region}/logs, not ${m[1]}/${m[2]}`,
        );
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
    res.end(JSON.stringify(body));
}
