// The audit trail off the host: one KMS-encrypted CloudWatch Logs group per stack that every host's
// CloudWatch agent ships its sshd, fail2ban and jumpgate-audit journal entries to (one stream per host),
// metric filters on the audit records' JSON fields, and alarms to an SNS topic the stack creates.
//
// The agent's journald input wraps each journal entry (`{"body": {"MESSAGE": "...", ...}, ...}`, the
// OpenTelemetry CloudWatch Logs exporter without raw_log), so the record is a JSON string inside
// `body.MESSAGE`. A log transformer parses the wrapper and then that string, putting the record's fields
// (`event`, `user`, `identity`, ...) at the top level, where the filters (applyOnTransformedLogs) and
// Logs Insights match fields, not text.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AuditSettings } from "./config";
import { AUDIT_METRIC_NAMESPACE, auditLogGroupName } from "./render/auditNames";

export interface AuditTrailArgs {
    /** Stack name: the log group is `/jumpgate/<stack>/audit`. Required. */
    stack: string;
    /** Retention, alarm thresholds and the optional alert address. Required. */
    settings: AuditSettings;
    /** The host whose heartbeat proves the shipper works (the outer bastion hop). Required. */
    heartbeatHost: string;
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
}

/** One metric the audit records feed, and the alarm on it. */
export interface AuditAlarmSpec {
    /** Metric and alarm name suffix. */
    metric: string;
    /** The filter pattern on the record's fields. */
    pattern: string;
    description: string;
    comparison: "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    threshold: number;
    periodSeconds: number;
    evaluationPeriods: number;
    /** `breaching` for the heartbeat: no data means the shipper or the host is gone. */
    treatMissingData: "notBreaching" | "breaching";
}

/** The filters and alarms, from the settings; pure so tests can read them without Pulumi. */
export function auditAlarmSpecs(s: AuditSettings, heartbeatHost: string): AuditAlarmSpec[] {
    const event = (name: string) => `{ $.event = "${name}" }`;
    const perMinute = { periodSeconds: 60, evaluationPeriods: 1, treatMissingData: "notBreaching" as const };
    return [
        {
            metric: "AuthFailures",
            pattern: event("auth-failure"),
            description: `${s.authFailuresPerMinute} or more failed SSH authentications in one minute`,
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: s.authFailuresPerMinute,
            ...perMinute,
        },
        {
            metric: "Bans",
            pattern: event("ban"),
            description: "fail2ban banned an address",
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            ...perMinute,
        },
        {
            metric: "RefusedForwards",
            pattern: event("refused"),
            description: "sshd refused a forwarding request (a destination outside PermitOpen)",
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            ...perMinute,
        },
        {
            metric: "RootLoginAttempts",
            pattern: `{ $.user = "root" && ($.event = "auth-failure" || $.event = "login") }`,
            description: "someone tried to log in as root",
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            ...perMinute,
        },
        {
            metric: "BastionHeartbeats",
            pattern: `{ $.event = "heartbeat" && $.host = "${heartbeatHost}" }`,
            description: `no heartbeat from ${heartbeatHost} for ${s.heartbeatMinutes} minutes: the host or its log shipper stopped`,
            comparison: "LessThanThreshold",
            threshold: 1,
            periodSeconds: 300,
            evaluationPeriods: s.heartbeatMinutes / 5,
            treatMissingData: "breaching",
        },
    ];
}

/** Key policy: the account administers the key; CloudWatch Logs of the region uses it for this group only. */
export function auditKeyPolicy(region: string, account: string, logGroupName: string): string {
    const logGroupArn = `arn:aws:logs:${region}:${account}:log-group:${logGroupName}`;
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${account}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                // As the CloudWatch Logs user guide documents, scoped by the encryption context to the group.
                Sid: "CloudWatchLogsEncryptsTheAuditGroup",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn } },
            },
        ],
    });
}

/** A host's permission: create and write only its own stream of the audit group. */
export function hostStreamPolicy(logGroupArn: string, host: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ShipOwnAuditStream",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: [`${logGroupArn}:log-stream:${host}`],
            },
        ],
    });
}

/** The encrypted group and its transformer; the key's policy names the group, so the key comes first. */
function createEncryptedGroup(name: string, args: AuditTrailArgs, parent: pulumi.Resource) {
    const opts = { parent };
    const tags = args.tags ?? {};
    const region = aws.config.region;
    if (!region) throw new Error("aws:region is not set; fix: pulumi config set aws:region eu-central-1");
    const groupName = auditLogGroupName(args.stack);
    const account = aws.getCallerIdentityOutput({}, opts).accountId;
    const key = new aws.kms.Key(
        `${name}-audit-key`,
        {
            description: `jumpgate ${args.stack}: encrypts the audit log group ${groupName}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: account.apply((a) => auditKeyPolicy(region, a, groupName)),
            tags,
        },
        opts,
    );
    const group = new aws.cloudwatch.LogGroup(
        `${name}-audit`,
        {
            name: groupName,
            retentionInDays: args.settings.logRetentionDays,
            kmsKeyId: key.arn,
            tags: { ...tags, "jumpgate:logs": "audit" },
        },
        opts,
    );
    // Parse the agent's wrapper, then the record inside body.MESSAGE (see the file comment).
    const transformer = new aws.cloudwatch.LogTransformer(
        `${name}-audit-records`,
        {
            logGroupArn: group.arn,
            transformerConfigs: [{ parseJsons: [{}] }, { parseJsons: [{ source: "body.MESSAGE" }] }],
        },
        opts,
    );
    return { group, transformer };
}

/** The topic (and its email subscription), and one filter and alarm per spec notifying it. */
function createAlarms(
    name: string,
    args: AuditTrailArgs,
    group: aws.cloudwatch.LogGroup,
    transformer: aws.cloudwatch.LogTransformer,
    parent: pulumi.Resource,
): aws.sns.Topic {
    const opts = { parent };
    const tags = args.tags ?? {};
    const topic = new aws.sns.Topic(`${name}-audit-alarms`, { tags }, opts);
    if (args.settings.alertEmail !== undefined) {
        new aws.sns.TopicSubscription(
            `${name}-audit-alarms-email`,
            { topic: topic.arn, protocol: "email", endpoint: args.settings.alertEmail },
            opts,
        );
    }
    for (const spec of auditAlarmSpecs(args.settings, args.heartbeatHost)) {
        const metricName = `${args.stack}-${spec.metric}`;
        new aws.cloudwatch.LogMetricFilter(
            `${name}-${spec.metric}`,
            {
                name: metricName,
                logGroupName: group.name,
                pattern: spec.pattern,
                applyOnTransformedLogs: true,
                metricTransformation: {
                    name: metricName,
                    namespace: AUDIT_METRIC_NAMESPACE,
                    value: "1",
                    unit: "Count",
                },
            },
            { ...opts, dependsOn: [transformer] },
        );
        new aws.cloudwatch.MetricAlarm(
            `${name}-${spec.metric}`,
            {
                name: metricName,
                alarmDescription: `jumpgate ${args.stack}: ${spec.description}`,
                namespace: AUDIT_METRIC_NAMESPACE,
                metricName,
                statistic: "Sum",
                period: spec.periodSeconds,
                evaluationPeriods: spec.evaluationPeriods,
                comparisonOperator: spec.comparison,
                threshold: spec.threshold,
                treatMissingData: spec.treatMissingData,
                alarmActions: [topic.arn],
                okActions: [topic.arn],
                tags,
            },
            opts,
        );
    }
    return topic;
}

/** The audit trail's AWS side: the encrypted group the hosts ship to, its filters and alarms, the topic. */
export class AuditTrail extends pulumi.ComponentResource {
    readonly logGroupName: pulumi.Output<string>;
    readonly logGroupArn: pulumi.Output<string>;
    /** The alarms' SNS topic. */
    readonly alarmTopicArn: pulumi.Output<string>;

    constructor(name: string, args: AuditTrailArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:index:AuditTrail", name, {}, opts);
        const { group, transformer } = createEncryptedGroup(name, args, this);
        const topic = createAlarms(name, args, group, transformer, this);
        this.logGroupName = group.name;
        this.logGroupArn = group.arn;
        this.alarmTopicArn = topic.arn;
        this.registerOutputs({
            logGroupName: this.logGroupName,
            logGroupArn: this.logGroupArn,
            alarmTopicArn: this.alarmTopicArn,
        });
    }
}
