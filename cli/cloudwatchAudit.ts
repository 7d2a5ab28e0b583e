// The CloudWatch source of `jumpgate-ssh audit`: a Logs Insights query over the stack's audit log group,
// run with the operator's own AWS credentials (the SDK's standard chain), returning the records in the
// shape the hosts write them (components/render/auditRecord.ts). The log group's transformer puts each
// record's fields at the top level, so the query selects and filters fields, not text.
import {
    CloudWatchLogsClient,
    GetQueryResultsCommand,
    type ResultField,
    StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { AUDIT_RECORD_VERSION, type AuditEvent, type AuditRecord } from "../components/render/auditRecord";
import { CliError } from "./outputs";

export interface AuditQuery {
    /** The stack's audit log group (stack output `auditLogGroupName`). */
    logGroup: string;
    region: string;
    /** Records from this time on. */
    since: Date;
    /** Records up to this time. Defaults to now. */
    until?: Date;
    /** Only this operator's records (the certificate's key ID). */
    operator?: string;
    /** Only records about this target. */
    target?: string;
    /** Another CloudWatch Logs endpoint (a VPC endpoint, a test double). Defaults to the region's. */
    endpoint?: string;
    /** How long to wait between polls of a running query. Defaults to 1 s. */
    pollMs?: number;
    /** Give up after this long. Defaults to 60 s. */
    timeoutMs?: number;
}

/** Logs Insights returns at most this many rows per query. */
export const INSIGHTS_MAX_ROWS = 10000;

const STRING_FIELDS = [
    "event",
    "stack",
    "host",
    "time",
    "user",
    "identity",
    "serial",
    "fingerprint",
    "sourceIp",
    "destination",
    "target",
    "start",
    "end",
    "reason",
] as const;
const NUMBER_FIELDS = ["v", "session", "sourcePort", "durationSeconds", "bytesSent", "bytesReceived"] as const;
const EVENTS: readonly AuditEvent[] = ["login", "auth-failure", "forward", "refused", "ban", "heartbeat"];

/** Names and key IDs that can go into the query as they are (no quoting games with user input). */
const QUERY_VALUE = /^[A-Za-z0-9@._+:=/-]{1,256}$/;

/** The Logs Insights query for `q`: audit records only, optionally one operator's or one target's, oldest first. */
export function auditInsightsQuery(q: Pick<AuditQuery, "operator" | "target">): string {
    const filters = [`filter v = ${AUDIT_RECORD_VERSION} and ispresent(event)`];
    for (const [field, value, flag] of [
        ["identity", q.operator, "--operator"],
        ["target", q.target, "--target"],
    ] as const) {
        if (value === undefined) continue;
        if (!QUERY_VALUE.test(value))
            throw new CliError(`${flag} ${JSON.stringify(value)}: use letters, digits and @._+:=/- only`);
        filters.push(`filter ${field} = "${value}"`);
    }
    return [
        `fields ${[...NUMBER_FIELDS, ...STRING_FIELDS].join(", ")}`,
        ...filters.map((f) => `| ${f}`),
        "| sort @timestamp asc",
        `| limit ${INSIGHTS_MAX_ROWS}`,
    ].join("\n");
}

/** Runs the query and returns the records, oldest first. */
export async function queryAuditRecords(q: AuditQuery, client?: CloudWatchLogsClient): Promise<AuditRecord[]> {
    const logs = client ?? new CloudWatchLogsClient({ region: q.region, endpoint: q.endpoint });
    const until = q.until ?? new Date();
    if (q.since.getTime() >= until.getTime())
        throw new CliError(`--since ${q.since.toISOString()} is not before ${until.toISOString()}`);
    const started = await call(q, "StartQuery", () =>
        logs.send(
            new StartQueryCommand({
                logGroupName: q.logGroup,
                startTime: Math.floor(q.since.getTime() / 1000),
                endTime: Math.ceil(until.getTime() / 1000),
                queryString: auditInsightsQuery(q),
                limit: INSIGHTS_MAX_ROWS,
            }),
        ),
    );
    if (!started.queryId) throw new CliError(`CloudWatch Logs StartQuery on ${q.logGroup} returned no query ID`);
    const rows = await waitForRows(logs, q, started.queryId);
    return rows.map(toRecord).filter((r): r is AuditRecord => r !== undefined);
}

async function waitForRows(logs: CloudWatchLogsClient, q: AuditQuery, queryId: string): Promise<ResultField[][]> {
    const deadline = Date.now() + (q.timeoutMs ?? 60_000);
    for (;;) {
        const res = await call(q, "GetQueryResults", () => logs.send(new GetQueryResultsCommand({ queryId })));
        if (res.status === "Complete") return res.results ?? [];
        if (res.status !== "Running" && res.status !== "Scheduled")
            throw new CliError(`the Logs Insights query on ${q.logGroup} ended ${res.status ?? "without a status"}`);
        if (Date.now() > deadline)
            throw new CliError(
                `the Logs Insights query on ${q.logGroup} did not finish in ${q.timeoutMs ?? 60_000} ms`,
            );
        await new Promise((resolve) => setTimeout(resolve, q.pollMs ?? 1000));
    }
}

/** One result row (every value a string) as the record the host wrote; undefined for a row that is none. */
export function toRecord(row: ResultField[]): AuditRecord | undefined {
    const value = new Map(row.map((f) => [f.field ?? "", f.value]));
    const event = value.get("event") as AuditEvent | undefined;
    if (event === undefined || !EVENTS.includes(event)) return undefined;
    const record: Record<string, string | number> = {};
    for (const k of STRING_FIELDS) {
        const v = value.get(k);
        if (v !== undefined && v !== "") record[k] = v;
    }
    for (const k of NUMBER_FIELDS) {
        const v = value.get(k);
        if (v !== undefined && v !== "" && Number.isFinite(Number(v))) record[k] = Number(v);
    }
    return record as unknown as AuditRecord;
}

/** Runs a CloudWatch Logs call; an AWS error becomes a CliError naming the operation, group, region and error. */
async function call<T>(q: AuditQuery, operation: string, send: () => Promise<T>): Promise<T> {
    try {
        return await send();
    } catch (e) {
        const err = e as Error;
        throw new CliError(
            `CloudWatch Logs ${operation} on ${q.logGroup} in ${q.region} failed: ${err.name}: ${err.message}${hintFor(err.name)}`,
        );
    }
}

function hintFor(errorName: string): string {
    switch (errorName) {
        case "CredentialsProviderError":
            return " (sign in to AWS first: aws sso login, or set AWS_PROFILE / AWS_ACCESS_KEY_ID)";
        case "AccessDeniedException":
            return " (your AWS identity needs logs:StartQuery on the group and logs:GetQueryResults)";
        case "ResourceNotFoundException":
            return " (check the stack's auditLogGroupName output and --region)";
        default:
            return "";
    }
}
