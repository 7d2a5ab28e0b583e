// A stand-in for CloudWatch Logs at the protocol boundary: an HTTP endpoint on 127.0.0.1 that speaks the
// service's JSON protocol (POST /, `X-Amz-Target: Logs_20140328.<Operation>`, `application/x-amz-json-1.1`),
// so the real @aws-sdk/client-cloudwatch-logs talks to it unchanged. It answers StartQuery and
// GetQueryResults with the API's rules: required fields, a log group that exists, startTime before
// endTime, a query string of at most 10,000 characters, a limit of 1 to 10,000, SigV4 scoped to the
// region and `logs`; errors in the service's shape (`{"__type": ..., "message": ...}`, HTTP 400).
// It does not evaluate Logs Insights queries: a test hands it the rows a query returns and reads the
// query text it received.
import { randomUUID } from "node:crypto";
import { AwsJsonError as LogsError, startAwsJsonEndpoint, type AwsJsonRequest } from "./awsJsonEndpoint";

/** One request the endpoint received (recorded before it is checked). */
export type LogsRequest = AwsJsonRequest;

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
    const ctx: Context = { region, requests, logGroups, queries, next: () => next };
    const endpoint = await startAwsJsonEndpoint({
        region,
        signingName: "logs",
        requests,
        operation: (target, body) => operation(target, body, ctx),
    });
    return {
        url: endpoint.url,
        region,
        requests,
        logGroups,
        answer: (rows, runningPolls = 0, status = "Complete") => {
            next = { rows, runningPolls, status };
        },
        close: endpoint.close,
    };
}

interface Context {
    region: string;
    requests: LogsRequest[];
    logGroups: Set<string>;
    queries: Map<string, Query>;
    next: () => Query;
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
