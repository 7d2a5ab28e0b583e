// The CloudWatch source of `jumpgate-ssh audit` with the real @aws-sdk/client-cloudwatch-logs against the
// CloudWatch Logs protocol endpoint on 127.0.0.1 (test/helpers/logsEndpoint.ts): the query it starts
// (group, time range, filters on the records' fields), polling until the query completes, the rows turned
// back into the records the hosts write, and AWS errors turned into messages that say what to do.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAudit } from "../../cli/audit";
import { auditInsightsQuery, queryAuditRecords, toRecord } from "../../cli/cloudwatchAudit";
import { CliError } from "../../cli/outputs";
import type { AuditRecord } from "../../components/render/auditRecord";
import { TEST_AWS_ENV, useTestAwsEnv } from "../helpers/kmsEndpoint";
import { InsightsRow, LogsEndpoint, startLogsEndpoint } from "../helpers/logsEndpoint";

const GROUP = "/jumpgate/prod/audit";
let logs: LogsEndpoint;
let restoreEnv: (() => void) | undefined;

beforeAll(async () => {
    restoreEnv = useTestAwsEnv();
    logs = await startLogsEndpoint();
    logs.logGroups.add(GROUP);
});
afterAll(async () => {
    restoreEnv?.();
    await logs?.close();
});

/** A record as Logs Insights returns it: the selected fields, every value a string, plus @ptr. */
function row(record: AuditRecord): InsightsRow {
    return [
        ...Object.entries(record).map(([field, value]) => ({ field, value: String(value) })),
        { field: "@ptr", value: "CmAKJgoiMTExMTIyMjIzMzMzOi9qdW1wZ2F0ZS9wcm9kL2F1ZGl0EAASNhoYAgZ" },
    ];
}

const forward: AuditRecord = {
    v: 1,
    event: "forward",
    stack: "prod",
    host: "bastion",
    time: "2026-11-30T10:05:00Z",
    session: 4242,
    user: "jump",
    identity: "alice",
    serial: "18446744073709551615",
    fingerprint: "SHA256:0N8y9Kx4K8ZpG1v8S8pP3lqf9VqY4bq1t8vX2xQwH7E",
    sourceIp: "203.0.113.7",
    sourcePort: 51234,
    destination: "10.42.128.10:22",
    target: "app-1",
    start: "2026-11-30T10:00:00Z",
    end: "2026-11-30T10:05:00Z",
    durationSeconds: 300,
    bytesSent: 1024,
    bytesReceived: 2048,
};
const refused: AuditRecord = {
    v: 1,
    event: "refused",
    stack: "prod",
    host: "bastion",
    time: "2026-11-30T10:06:00Z",
    session: 4243,
    identity: "alice",
    destination: "10.42.128.10:5432",
    reason: "administratively prohibited: open failed",
};

const since = new Date("2026-11-30T09:00:00Z");
const until = new Date("2026-11-30T11:00:00Z");
const query = (over: Partial<Parameters<typeof queryAuditRecords>[0]> = {}) =>
    queryAuditRecords({ logGroup: GROUP, region: logs.region, endpoint: logs.url, since, until, pollMs: 5, ...over });

describe("queryAuditRecords", () => {
    it("starts one Insights query on the group over the time range, signed with the operator's credentials", async () => {
        logs.answer([row(forward)]);
        logs.requests.length = 0;
        await query();
        const start = logs.requests.find((r) => r.target === "Logs_20140328.StartQuery")!;
        expect(start.accessKeyId).toBe(TEST_AWS_ENV.AWS_ACCESS_KEY_ID);
        expect(start.body).toMatchObject({
            logGroupName: GROUP,
            startTime: since.getTime() / 1000,
            endTime: until.getTime() / 1000,
            limit: 10000,
        });
        expect(String(start.body.queryString)).toBe(auditInsightsQuery({}));
    });

    it("filters on the records' fields: version, operator identity and target", () => {
        const q = auditInsightsQuery({ operator: "alice@example.com", target: "app-1" });
        expect(q.split("\n")).toEqual([
            "fields v, session, sourcePort, durationSeconds, bytesSent, bytesReceived, event, stack, host, time, user, identity, serial, fingerprint, sourceIp, destination, target, start, end, reason",
            "| filter v = 1 and ispresent(event)",
            '| filter identity = "alice@example.com"',
            '| filter target = "app-1"',
            "| sort @timestamp asc",
            "| limit 10000",
        ]);
    });

    it("refuses an operator or target that would need quoting inside the query", () => {
        expect(() => auditInsightsQuery({ operator: 'alice" or 1=1' })).toThrow(CliError);
        expect(() => auditInsightsQuery({ target: "app-1 | stats count(*)" })).toThrow(
            /--target "app-1 \| stats count\(\*\)": use letters, digits and @\._\+:=\/- only/,
        );
    });

    it("polls a running query until it completes and returns the records exactly as the hosts wrote them", async () => {
        logs.answer([row(forward), row(refused)], 3);
        logs.requests.length = 0;
        expect(await query({ operator: "alice" })).toEqual([forward, refused]);
        expect(logs.requests.filter((r) => r.target === "Logs_20140328.GetQueryResults")).toHaveLength(4);
    });

    it("drops rows that are not audit records", () => {
        expect(toRecord([{ field: "event", value: "something-else" }])).toBeUndefined();
        expect(toRecord([{ field: "@message", value: "sshd: Accepted publickey" }])).toBeUndefined();
    });

    it("says what failed and what to check when the group does not exist or the query fails", async () => {
        await expect(query({ logGroup: "/jumpgate/nope/audit" })).rejects.toThrow(
            /CloudWatch Logs StartQuery on \/jumpgate\/nope\/audit in eu-central-1 failed: ResourceNotFoundException: The specified log group does not exist\. \(check the stack's auditLogGroupName output and --region\)/,
        );
        logs.answer([], 0, "Failed");
        await expect(query()).rejects.toThrow(/the Logs Insights query on \/jumpgate\/prod\/audit ended Failed/);
        await expect(query({ since: until })).rejects.toThrow(/--since .* is not before/);
    });

    it("gives up on a query that never finishes", async () => {
        logs.answer([], 1000);
        await expect(query({ timeoutMs: 50 })).rejects.toThrow(/did not finish in 50 ms/);
    });
});

describe("jumpgate-ssh audit --source cloudwatch", () => {
    const audit = async (args: Record<string, string>) => {
        let out = "";
        let err = "";
        const status = await runAudit(
            { stack: "prod", source: "cloudwatch", since: since.toISOString(), ...args },
            { now: until, cwd: "/", out: (t) => (out += t), err: (t) => (err += t) },
        );
        return { status, out, err };
    };

    it("queries the stack's log group in the given region and prints the sessions", async () => {
        logs.answer([row(forward), row(refused)]);
        logs.requests.length = 0;
        const { status, out, err } = await audit({ region: logs.region, endpoint: logs.url });
        expect(err).toBe("");
        expect(status).toBe(0);
        const start = logs.requests.find((r) => r.target === "Logs_20140328.StartQuery")!;
        expect(start.body).toMatchObject({ logGroupName: "/jumpgate/prod/audit" });
        const lines = out.trim().split("\n");
        expect(lines[0]).toMatch(/^IDENTITY\s+TARGET\s+START\s+DURATION\s+RESULT\s+SOURCE$/);
        expect(lines[1]).toMatch(/^alice\s+app-1\s+2026-11-30T10:00:00Z\s+5m0s\s+\S+/);
        expect(lines[2]).toMatch(/^alice\s+10\.42\.128\.10:5432\s/);
    });

    it("needs the region when the environment names none", async () => {
        const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        try {
            const { status, err } = await audit({ endpoint: logs.url });
            expect(status).toBe(2);
            expect(err).toContain("--source cloudwatch needs the stack's region: pass --region");
        } finally {
            if (saved.r !== undefined) process.env.AWS_REGION = saved.r;
            if (saved.d !== undefined) process.env.AWS_DEFAULT_REGION = saved.d;
        }
    });
});
