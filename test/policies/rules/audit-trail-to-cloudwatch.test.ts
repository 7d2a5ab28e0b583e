import { beforeAll, describe, expect, it } from "vitest";
import { packConfigFor } from "../../../policies/scripts/stack-config";
import { OfflineRun } from "../../../offline/run";
import { plan, T } from "../../helpers/program";
import { evaluatePack, withChange, without } from "../../helpers/policyHarness";

const POLICY = "audit-trail-to-cloudwatch";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter";
type Config = Parameters<typeof evaluatePack>[1];
const found = async (run: OfflineRun, options: Config = {}) =>
    (await evaluatePack(run, options)).of(POLICY).map((v) => [v.enforcementLevel, v.urn?.split("::").pop(), v.message]);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });

    it("passes the default stack, after deployment and in a first preview", async () => {
        expect(await found(run)).toEqual([]);
        expect(await found(run, { preview: true })).toEqual([]);
    });

    it("catches retention below the configured minimum, and honours a lower one", async () => {
        const short = withChange(run, T.logGroup, "test-audit", (p) => (p.retentionInDays = 90));
        expect(await found(short)).toEqual([
            [
                "mandatory",
                "test-audit",
                "audit log group test-audit keeps records 90 days, fewer than the required 365: pulumi config set auditLogRetentionDays 365.",
            ],
        ]);
        expect(await found(short, { config: { [POLICY]: { minimumRetentionDays: 90 } } })).toEqual([]);
        const never = withChange(run, T.logGroup, "test-audit", (p) => (p.retentionInDays = 0));
        expect(await found(never)).toEqual([]);
    });

    it("catches an audit group without a customer KMS key", async () => {
        const plain = withChange(run, T.logGroup, "test-audit", (p) => delete p.kmsKeyId);
        expect(await found(plain)).toEqual([
            [
                "mandatory",
                "test-audit",
                "audit log group test-audit is not encrypted with a customer KMS key (kmsKeyId).",
            ],
        ]);
    });

    it("catches an alarm that notifies no topic of the stack", async () => {
        const silent = withChange(run, ALARM, "test-Bans", (p) => (p.alarmActions = []));
        expect(await found(silent)).toEqual([
            [
                "mandatory",
                "test-Bans",
                "alarm test-Bans notifies no SNS topic of the stack: set alarmActions to the audit alarm topic.",
            ],
        ]);
    });

    it("catches a group nothing filters", async () => {
        let bare = run;
        for (const f of [
            "test-AuthFailures",
            "test-Bans",
            "test-RefusedForwards",
            "test-RootLoginAttempts",
            "test-BastionHeartbeats",
        ])
            bare = without(bare, FILTER, f);
        expect(await found(bare)).toEqual([
            [
                "mandatory",
                "test-audit",
                "audit log group test-audit has no metric filters, so nothing can alarm on it.",
            ],
        ]);
    });

    it("blocks a stack without the audit trail, and only advises when the stack config turned it off", async () => {
        const off = await plan({ "jumpgate:audit": false });
        const message =
            "the stack has no audit log group (a CloudWatch Logs group tagged jumpgate:logs=audit): turn the audit trail on with pulumi config set audit true.";
        expect(await found(off)).toEqual([["mandatory", undefined, message]]);
        const config = packConfigFor({ "jumpgate:audit": "false" });
        expect(config[POLICY]).toEqual({ enforcementLevel: "advisory" });
        expect(await found(off, { config })).toEqual([["advisory", undefined, message]]);
        const evaluation = await evaluatePack(off, { config });
        expect(evaluation.mandatory()).toEqual([]);
    });
});
