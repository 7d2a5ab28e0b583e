// Names of the audit trail's AWS resources, known before any resource exists, so config validation can
// size the user data and check names, and the CLI can find the log group from the stack name alone.

/** The stack's audit log group: `/jumpgate/<stack>/audit`. */
export function auditLogGroupName(stack: string): string {
    return `/jumpgate/${stack}/audit`;
}

/** The CloudWatch metric namespace the audit filters publish to. */
export const AUDIT_METRIC_NAMESPACE = "Jumpgate/Audit";
