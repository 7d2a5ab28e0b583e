// The audit trail: CloudWatch Logs retention, the alarm topic's address and the alarms' thresholds.
import { ConfigReader } from "./reader";
import { AuditSettings, DEFAULTS, LOG_RETENTION_DAYS } from "./types";

/** Addresses SNS's email protocol takes: one address, no display name (a loose check; AWS mails it to confirm). */
const EMAIL = /^[^@\s<>"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** `audit` and its settings; undefined when the audit trail is off. */
export function readAudit(r: ConfigReader): AuditSettings | undefined {
    const on = r.bool("audit", DEFAULTS.audit);
    const logRetentionDays = r.int("auditLogRetentionDays", DEFAULTS.auditLogRetentionDays, 0, 3653);
    if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
        const next = LOG_RETENTION_DAYS.find((d) => d > logRetentionDays) ?? 3653;
        r.problem(
            "auditLogRetentionDays",
            String(logRetentionDays),
            `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")} (0 = never expire)`,
            `pulumi config set auditLogRetentionDays ${next}`,
        );
    }
    const alertEmail = r.get("alertEmail");
    if (alertEmail !== undefined && alertEmail !== "" && !EMAIL.test(alertEmail)) {
        r.problem(
            "alertEmail",
            alertEmail,
            "must be one email address (name@example.com) for the alarm topic's subscription",
            "pulumi config set alertEmail ops@example.com",
        );
    }
    const authFailuresPerMinute = r.int("auditAuthFailuresPerMinute", DEFAULTS.auditAuthFailuresPerMinute, 1, 100000);
    const heartbeatMinutes = r.int("auditHeartbeatMinutes", DEFAULTS.auditHeartbeatMinutes, 10, 1440);
    if (heartbeatMinutes % 5 !== 0) {
        r.problem(
            "auditHeartbeatMinutes",
            String(heartbeatMinutes),
            "must be a multiple of 5: hosts write a heartbeat every 5 minutes and the alarm counts 5-minute periods",
            `pulumi config set auditHeartbeatMinutes ${Math.ceil(heartbeatMinutes / 5) * 5}`,
        );
    }
    if (!on) return undefined;
    return {
        logRetentionDays,
        ...(alertEmail ? { alertEmail } : {}),
        authFailuresPerMinute,
        heartbeatMinutes,
    };
}
