import { decodeUserData } from "../../components/render/userDataSize";
// The audit trail's AWS side, asserted on what the program registers under the mock runtime: one
// KMS-encrypted log group per stack, a key only CloudWatch Logs of the region may use for that group,
// hosts that may write only their own stream, filters on the records' fields, alarms to the stack's
// topic (the heartbeat one firing on missing data), and nothing of it when `audit` is off.
import { beforeAll, describe, expect, it } from "vitest";
import { auditAlarmSpecs } from "../../components/auditTrail";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { CLOUDWATCH_AGENT_CONFIG_PATH } from "../../components/render/cloudwatchAgent";
import { OfflineRun } from "../../offline/run";
import { named, ofType, plan, T } from "../helpers/program";

const A = {
    key: "aws:kms/key:Key",
    transformer: "aws:cloudwatch/logTransformer:LogTransformer",
    filter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    topic: "aws:sns/topic:Topic",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    profile: "aws:iam/instanceProfile:InstanceProfile",
    role: "aws:iam/role:Role",
} as const;

interface Statement {
    Sid?: string;
    Effect: string;
    Principal?: Record<string, string>;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string>>;
}
const statements = (policy: unknown) => (JSON.parse(String(policy)) as { Statement: Statement[] }).Statement;

describe("audit trail on (the default), with an alert address and a bastion chain", () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan({
            "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
            "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
            "jumpgate:alertEmail": "ops@example.com",
        });
    });

    it("creates one log group for the stack, kept 365 days, encrypted with the stack's own key", () => {
        const groups = ofType(run, T.logGroup).filter((g) => g.name === "test-audit");
        expect(groups).toHaveLength(1);
        const key = ofType(run, A.key)[0]!;
        expect(groups[0]!.inputs).toMatchObject({
            name: "/jumpgate/test/audit",
            retentionInDays: 365,
            kmsKeyId: key.state.arn,
        });
        expect(key.inputs.enableKeyRotation).toBe(true);
        expect(run.outputs.auditLogGroupName).toBe("/jumpgate/test/audit");
    });

    it("lets CloudWatch Logs of the region use the key only for this group (encryption context)", () => {
        const key = ofType(run, A.key)[0]!;
        const logs = statements(key.inputs.policy).find((s) => s.Principal?.Service !== undefined)!;
        expect(logs.Principal).toEqual({ Service: "logs.eu-central-1.amazonaws.com" });
        expect(logs.Condition).toEqual({
            ArnEquals: {
                "kms:EncryptionContext:aws:logs:arn":
                    "arn:aws:logs:eu-central-1:123456789012:log-group:/jumpgate/test/audit",
            },
        });
        expect(logs.Action).toEqual(expect.arrayContaining(["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]));
    });

    it("gives every host a role that may create and write only its own stream, never a `*` resource", () => {
        const group = named(run, T.logGroup, "test-audit");
        const hosts = { "test-edge": "edge", "test-mgmt": "mgmt", "test-app-1": "app-1", "test-db-1": "db-1" };
        const policies = ofType(run, A.rolePolicy).filter((p) => p.name.endsWith("-audit-stream"));
        expect(policies.map((p) => p.name).sort()).toEqual(
            Object.keys(hosts)
                .map((h) => `${h}-audit-stream`)
                .sort(),
        );
        for (const [prefix, host] of Object.entries(hosts)) {
            const [statement, ...more] = statements(named(run, A.rolePolicy, `${prefix}-audit-stream`).inputs.policy);
            expect(more).toEqual([]);
            expect(statement!.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
            expect(statement!.Resource).toEqual([`${String(group.state.arn)}:log-stream:${host}`]);
        }
        // Each target's instance runs with its own profile; the targets' roles carry nothing else.
        for (const target of ["app-1", "db-1"]) {
            const profile = named(run, A.profile, `test-${target}-profile`);
            expect(named(run, T.instance, `test-${target}`).inputs.iamInstanceProfile).toBe(profile.state.name);
            const role = named(run, A.role, `test-${target}-role`);
            expect(ofType(run, T.rolePolicyAttachment).filter((a) => a.inputs.role === role.state.name)).toEqual([]);
        }
    });

    it("ships each host's journal into its own stream of the group (user data)", () => {
        for (const [instance, stream] of [
            ["test-edge-instance", "edge"],
            ["test-mgmt-instance", "mgmt"],
            ["test-app-1", "app-1"],
        ] as const) {
            const doc = parseCloudConfig(decodeUserData(named(run, T.instance, instance).inputs));
            const config = JSON.parse(doc.write_files.find((f) => f.path === CLOUDWATCH_AGENT_CONFIG_PATH)!.content!);
            expect(config.logs.logs_collected.journald.collect_list[0]).toMatchObject({
                log_group_name: "/jumpgate/test/audit",
                log_stream_name: stream,
            });
        }
    });

    it("parses the agent's wrapper and the record inside it, and filters on the record's fields", () => {
        const transformer = ofType(run, A.transformer)[0]!;
        expect(transformer.inputs.logGroupArn).toBe(named(run, T.logGroup, "test-audit").state.arn);
        expect(transformer.inputs.transformerConfigs).toEqual([
            { parseJsons: [{}] },
            { parseJsons: [{ source: "body.MESSAGE" }] },
        ]);
        const filters = Object.fromEntries(ofType(run, A.filter).map((f) => [f.name, f.inputs]));
        expect(Object.keys(filters)).toHaveLength(5);
        expect(filters["test-AuthFailures"]).toMatchObject({
            pattern: '{ $.event = "auth-failure" }',
            logGroupName: "/jumpgate/test/audit",
            applyOnTransformedLogs: true,
        });
        expect(filters["test-Bans"]!.pattern).toBe('{ $.event = "ban" }');
        expect(filters["test-RefusedForwards"]!.pattern).toBe('{ $.event = "refused" }');
        expect(filters["test-RootLoginAttempts"]!.pattern).toContain('$.user = "root"');
        // The outer hop's heartbeat is what proves the shipper runs.
        expect(filters["test-BastionHeartbeats"]!.pattern).toBe('{ $.event = "heartbeat" && $.host = "edge" }');
    });

    it("wires every alarm to the stack's topic, which mails the alert address", () => {
        const topic = ofType(run, A.topic)[0]!;
        const alarms = ofType(run, A.alarm);
        expect(alarms).toHaveLength(5);
        for (const alarm of alarms) {
            expect(alarm.inputs.alarmActions).toEqual([topic.state.arn]);
            expect(alarm.inputs.namespace).toBe("Jumpgate/Audit");
        }
        const heartbeat = named(run, A.alarm, "test-BastionHeartbeats").inputs;
        expect(heartbeat).toMatchObject({
            comparisonOperator: "LessThanThreshold",
            threshold: 1,
            period: 300,
            evaluationPeriods: 3,
            treatMissingData: "breaching",
        });
        expect(named(run, A.alarm, "test-AuthFailures").inputs).toMatchObject({ threshold: 10, period: 60 });
        expect(ofType(run, A.subscription).map((s) => s.inputs)).toEqual([
            expect.objectContaining({ topic: topic.state.arn, protocol: "email", endpoint: "ops@example.com" }),
        ]);
        expect(run.outputs.auditAlarmTopicArn).toBe(topic.state.arn);
    });
});

describe("audit trail settings", () => {
    it("takes the retention, threshold and heartbeat window from config, and no subscription without an address", async () => {
        const run = await plan({
            "jumpgate:auditLogRetentionDays": 731,
            "jumpgate:auditAuthFailuresPerMinute": 3,
            "jumpgate:auditHeartbeatMinutes": 30,
        });
        expect(named(run, T.logGroup, "test-audit").inputs.retentionInDays).toBe(731);
        expect(named(run, A.alarm, "test-AuthFailures").inputs.threshold).toBe(3);
        expect(named(run, A.alarm, "test-BastionHeartbeats").inputs.evaluationPeriods).toBe(6);
        expect(ofType(run, A.subscription)).toEqual([]);
    });

    it("builds none of it when audit is off: no group, key, topic, extra roles, or agent in user data", async () => {
        const run = await plan({ "jumpgate:audit": false });
        expect(ofType(run, T.logGroup).map((g) => g.name)).toEqual(["test-flow-logs"]);
        for (const type of [A.key, A.transformer, A.filter, A.alarm, A.topic]) expect(ofType(run, type)).toEqual([]);
        expect(ofType(run, A.rolePolicy).filter((p) => p.name.endsWith("-audit-stream"))).toEqual([]);
        expect(named(run, T.instance, "test-app-1").inputs.iamInstanceProfile).toBeUndefined();
        for (const i of ofType(run, T.instance)) expect(decodeUserData(i.inputs)).not.toContain("cloudwatch");
        expect(run.outputs.auditLogGroupName).toBeUndefined();
    });

    it("derives the heartbeat alarm's periods from the window (pure, as the component uses it)", () => {
        const specs = auditAlarmSpecs({ logRetentionDays: 365, authFailuresPerMinute: 10, heartbeatMinutes: 60 }, "b");
        expect(specs.find((s) => s.metric === "BastionHeartbeats")).toMatchObject({
            periodSeconds: 300,
            evaluationPeriods: 12,
            treatMissingData: "breaching",
        });
    });
});
