// `npx jumpgate-ssh audit --stack S [--since 1h] [--operator x] [--target y] [--source lab|cloudwatch]`:
// who reached which target, when, for how long, from the bastion's audit records. A source is a function
// that returns AuditRecords for a query: the lab's reads the journal of the lab's booted bastion hops; a
// CloudWatch Logs Insights source plugs in with the same signature (AUDIT_SOURCES).
import { join, resolve } from "node:path";
import { AUDIT_RECORD_VERSION, type AuditEvent, type AuditRecord } from "../components/render/auditRecord";
import { auditLogGroupName } from "../components/render/auditNames";
import { queryAuditRecords } from "./cloudwatchAudit";
import { CliError, shortStackName } from "./outputs";

/** What the operator asked for. */
export interface AuditQuery {
    stack: string;
    /** Records at or after this instant. */
    since: Date;
    /** Matches the certificate's key ID, or the operator name after `jumpgate-<stack>:`. */
    operator?: string;
    /** Matches the target's name or its `ip:port`. */
    target?: string;
}

/** Where records come from. Filtering by operator and target is done here, so a source may return more. */
export type AuditSource = (query: AuditQuery) => Promise<AuditRecord[]>;

/** Options a source may need (the lab's state dir; the CloudWatch source's log group, region, endpoint). */
export interface AuditSourceOptions {
    labDir: string;
    /** The stack's audit log group (output `auditLogGroupName`). */
    logGroup: string;
    region?: string;
    endpoint?: string;
}

/** The sources `--source` names: the lab's journal, or a Logs Insights query on the stack's log group. */
export const AUDIT_SOURCES: Record<string, ((o: AuditSourceOptions) => AuditSource) | undefined> = {
    lab: (o) => labAuditSource(o.labDir),
    cloudwatch: (o) => cloudWatchAuditSource(o),
};

/** Records from CloudWatch Logs Insights, queried with the operator's own AWS credentials. */
function cloudWatchAuditSource(o: AuditSourceOptions): AuditSource {
    const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (region === undefined)
        throw new CliError("--source cloudwatch needs the stack's region: pass --region (or set AWS_REGION)", 2);
    return (q) =>
        queryAuditRecords({
            logGroup: o.logGroup,
            region,
            since: q.since,
            ...(q.operator === undefined ? {} : { operator: q.operator }),
            ...(q.target === undefined ? {} : { target: q.target }),
            ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
        });
}

const EVENTS: readonly AuditEvent[] = ["login", "auth-failure", "forward", "refused", "ban", "heartbeat"];

/** One journal MESSAGE as a record, or undefined when it is not one of ours (of this format version). */
export function parseAuditRecord(text: string): AuditRecord | undefined {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        return undefined;
    }
    if (typeof value !== "object" || value === null) return undefined;
    const r = value as Partial<AuditRecord>;
    const ok =
        r.v === AUDIT_RECORD_VERSION &&
        EVENTS.includes(r.event as AuditEvent) &&
        typeof r.stack === "string" &&
        typeof r.host === "string" &&
        typeof r.time === "string";
    return ok ? (r as AuditRecord) : undefined;
}

/** The lab's module (lab/auditSource.ts): only a repository checkout has it, so it is loaded on use. */
const LAB_SOURCE_MODULE = join(__dirname, "..", "lab", "auditSource");

/** The lab's source, or a CliError saying where the lab is and what to query instead. */
function labAuditSource(dir: string): AuditSource {
    let lab: { labAuditSource: (dir: string) => AuditSource };
    try {
        // A computed path: the compiler does not follow it, so the published build has no lab in it.
        lab = require(LAB_SOURCE_MODULE) as typeof lab;
    } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && `${e}`.includes(LAB_SOURCE_MODULE);
        if (!missing) throw e;
        throw new CliError(
            "--source lab reads the local lab of a jumpgate repository checkout; query a deployed stack with --source cloudwatch",
            2,
        );
    }
    return lab.labAuditSource(dir);
}

/** Parses `--since`: `90s`, `30m`, `1h`, `2d`, or an ISO 8601 time. */
export function parseSince(text: string, now: Date): Date {
    const m = /^(\d+)([smhd])$/.exec(text.trim());
    if (m) return new Date(now.getTime() - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"] * 1000);
    const t = Date.parse(text);
    if (/^\d{4}-\d\d-\d\d/.test(text) && !Number.isNaN(t)) return new Date(t);
    throw new CliError(`--since ${JSON.stringify(text)}: use 30m, 1h, 2d or an ISO time (2026-11-30T09:00:00Z)`, 2);
}

/** The operator name in a key ID `jumpgate-<stack>:<name>`, else the key ID itself. */
function operatorOf(r: AuditRecord): string | undefined {
    return r.identity?.replace(/^jumpgate-[^:]*:/, "");
}

/** Records that match the query's operator, target and time. */
export function filterRecords(records: readonly AuditRecord[], q: AuditQuery): AuditRecord[] {
    return records.filter(
        (r) =>
            Date.parse(r.time) >= q.since.getTime() &&
            (q.operator === undefined || r.identity === q.operator || operatorOf(r) === q.operator) &&
            (q.target === undefined || r.target === q.target || r.destination === q.target),
    );
}

/** What the table says happened: one row per forwarded connection, refusal, failed login and ban. */
const RESULT: Partial<Record<AuditEvent, string>> = {
    forward: "ok",
    refused: "refused",
    "auth-failure": "auth failed",
    ban: "banned",
};

/** The sessions as a table: identity, target, start, duration, result (and the source address). */
export function sessionsTable(records: readonly AuditRecord[]): string {
    const rows = records
        .filter((r) => RESULT[r.event] !== undefined)
        .map((r) => [
            r.identity ?? (r.fingerprint ? `key ${r.fingerprint}` : "-"),
            r.target ?? r.destination ?? "-",
            (r.start ?? r.time).replace(/\.\d+Z$/, "Z"),
            r.durationSeconds === undefined ? "-" : formatDuration(r.durationSeconds),
            `${RESULT[r.event]}${r.event === "ban" && r.reason ? ` (${r.reason})` : ""}`,
            r.sourceIp ?? "-",
        ]);
    const header = ["IDENTITY", "TARGET", "START", "DURATION", "RESULT", "SOURCE"];
    const all = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
    const line = (row: string[]) =>
        row
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd();
    return `${all.map(line).join("\n")}\n`;
}

function formatDuration(seconds: number): string {
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
    const m = Math.floor(seconds / 60);
    return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export interface AuditValues {
    stack?: string;
    since?: string;
    operator?: string;
    target?: string;
    source?: string;
    "lab-dir"?: string;
    "log-group"?: string;
    region?: string;
    endpoint?: string;
}

/** The whole command: check the flags, ask the source, filter, print. Returns the exit status. */
export async function runAudit(
    values: AuditValues,
    env: { now: Date; cwd: string; out: (s: string) => void; err: (s: string) => void },
    sources = AUDIT_SOURCES,
): Promise<number> {
    try {
        if (values.stack === undefined) throw new CliError("--stack is required", 2);
        const query: AuditQuery = {
            stack: shortStackName(values.stack),
            since: parseSince(values.since ?? "1h", env.now),
            ...(values.operator === undefined ? {} : { operator: values.operator }),
            ...(values.target === undefined ? {} : { target: values.target }),
        };
        const name = values.source ?? "lab";
        if (!(name in sources)) throw new CliError(`--source ${name}: use ${Object.keys(sources).join(" or ")}`, 2);
        const make = sources[name];
        if (!make) throw new CliError(`--source ${name}: this version of jumpgate-ssh cannot query it yet`, 2);
        const source = make({
            labDir: resolve(env.cwd, values["lab-dir"] ?? ".lab"),
            logGroup: values["log-group"] ?? auditLogGroupName(query.stack),
            ...(values.region === undefined ? {} : { region: values.region }),
            ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
        });
        const records = filterRecords(await source(query), query);
        env.out(sessionsTable(records));
        return 0;
    } catch (e) {
        if (!(e instanceof CliError)) throw e;
        env.err(`jumpgate-ssh audit: ${e.message}\n`);
        return e.exitCode;
    }
}
