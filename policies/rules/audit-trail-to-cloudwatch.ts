// The audit trail leaves the hosts: a stack without its log group, with a retention shorter than the
// organisation keeps records, or with alarms nobody is told about, loses the evidence of who reached what.
// A stack that turns the audit trail off gets this as advice, not a block (stack-config.ts sets it so).
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { StackGraph } from "../lib/graph";
import { peek, peekList, tagsOf, UNKNOWN } from "../lib/props";

export interface AuditTrailToCloudWatchConfig {
    /** Fewest days the audit log group must keep records (0, never expire, always passes). */
    minimumRetentionDays?: number;
}

const TYPE = {
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    metricFilter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    topic: "aws:sns/topic:Topic",
} as const;

/** The tag jumpgate puts on the audit log group. */
export const AUDIT_LOG_TAG = { key: "jumpgate:logs", value: "audit" } as const;

function isAuditGroup(group: PolicyResource): boolean {
    return tagsOf(group.props)[AUDIT_LOG_TAG.key] === AUDIT_LOG_TAG.value;
}

/** What is wrong with the audit log group itself: retention below the minimum, no KMS key. */
function groupProblems(group: PolicyResource, minimum: number): string[] {
    const problems: string[] = [];
    const days = peek(group.props, "retentionInDays");
    if (days !== UNKNOWN && typeof days === "number" && days !== 0 && days < minimum)
        problems.push(
            `keeps records ${days} days, fewer than the required ${minimum}: ` +
                `pulumi config set auditLogRetentionDays ${minimum}`,
        );
    if (days === undefined)
        problems.push("has no retention set: set retentionInDays (pulumi config set auditLogRetentionDays 365)");
    const key = peek(group.props, "kmsKeyId");
    if (key !== UNKNOWN && (typeof key !== "string" || key === ""))
        problems.push("is not encrypted with a customer KMS key (kmsKeyId)");
    return problems;
}

export const auditTrailToCloudWatch: StackValidationPolicy = {
    name: "audit-trail-to-cloudwatch",
    description:
        "The stack must ship its audit trail to a KMS-encrypted CloudWatch Logs group kept at least the required " +
        "days, with metric filters and alarms that notify an SNS topic: records on the hosts alone are lost with " +
        "the host, and an alarm nobody receives is no alarm.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: { minimumRetentionDays: { type: "integer", minimum: 0, default: 365 } },
    },
    validateStack: (args, reportViolation) => {
        const minimum = args.getConfig<AuditTrailToCloudWatchConfig>().minimumRetentionDays ?? 365;
        const graph = new StackGraph(args.resources);
        const groups = graph.ofType(TYPE.logGroup).filter(isAuditGroup);
        if (groups.length === 0) {
            reportViolation(
                `the stack has no audit log group (a CloudWatch Logs group tagged ${AUDIT_LOG_TAG.key}=` +
                    `${AUDIT_LOG_TAG.value}): turn the audit trail on with pulumi config set audit true.`,
            );
            return;
        }
        for (const group of groups) {
            for (const p of groupProblems(group, minimum))
                reportViolation(`audit log group ${group.name} ${p}.`, group.urn);
            const filters = graph.ofType(TYPE.metricFilter).filter((f) => graph.refersTo(f, "logGroupName", group));
            if (filters.length === 0)
                reportViolation(
                    `audit log group ${group.name} has no metric filters, so nothing can alarm on it.`,
                    group.urn,
                );
        }
        const topics = graph.ofType(TYPE.topic);
        const alarms = graph.ofType(TYPE.alarm);
        if (alarms.length === 0) reportViolation("the stack has no CloudWatch alarms on its audit trail.");
        for (const alarm of alarms) {
            const actions = peekList(alarm.props, "alarmActions");
            const wired = topics.some((t) => graph.refersTo(alarm, "alarmActions", t));
            if (!wired && actions !== UNKNOWN)
                reportViolation(
                    `alarm ${alarm.name} notifies no SNS topic of the stack: set alarmActions to the audit alarm topic.`,
                    alarm.urn,
                );
        }
    },
};
