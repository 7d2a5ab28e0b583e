/**
 * The audit record a jumpgate host writes to its journal (SYSLOG_IDENTIFIER=jumpgate-audit, MESSAGE = one
 * JSON object) and ships to CloudWatch Logs. It is the contract between the bastion's record builder, the
 * log group's metric filters and `jumpgate-ssh audit`: change it only with a new `v`.
 */
export const AUDIT_SYSLOG_IDENTIFIER = "jumpgate-audit";
export const AUDIT_RECORD_VERSION = 1;

/** What a record says happened. */
export type AuditEvent =
    /** An operator authenticated (one per sshd-session). */
    | "login"
    /** A failed authentication (wrong key, unknown user, bad certificate, pre-auth disconnect). */
    | "auth-failure"
    /** A forwarded connection (`ProxyJump`, `-W`, `-L`) ended; start, end, duration and bytes are set. */
    | "forward"
    /** A forwarding request sshd refused ("administratively prohibited"); `destination` is what was asked. */
    | "refused"
    /** fail2ban banned `sourceIp`. */
    | "ban"
    /** Written every 5 minutes so "no records" means the host or its shipper stopped, not a quiet day. */
    | "heartbeat";

export interface AuditRecord {
    /** Record format version ({@link AUDIT_RECORD_VERSION}). */
    readonly v: number;
    readonly event: AuditEvent;
    /** The stack and the host (`bastion`, a hop or a target name) that wrote the record. */
    readonly stack: string;
    readonly host: string;
    /** ISO 8601 time of the event (for `forward`, its end). */
    readonly time: string;
    /** The sshd-session process the record was correlated on (absent for `ban` and `heartbeat`). */
    readonly session?: number;
    /** The local account logged in to (the jump account on the bastion). */
    readonly user?: string;
    /** The operator: the certificate's key ID, or absent when a plain key was used. */
    readonly identity?: string;
    /** The certificate's serial, as a decimal string (64-bit). */
    readonly serial?: string;
    /** The key's SHA256 fingerprint (for a certificate: the operator key's, not the CA's). */
    readonly fingerprint?: string;
    readonly sourceIp?: string;
    readonly sourcePort?: number;
    /** `ip:port` asked for (`forward`, `refused`). */
    readonly destination?: string;
    /** The jumpgate target or hop at `destination`, when it is one. */
    readonly target?: string;
    /** `forward` only. */
    readonly start?: string;
    readonly end?: string;
    readonly durationSeconds?: number;
    readonly bytesSent?: number;
    readonly bytesReceived?: number;
    /** Why: sshd's refusal or failure text, or the fail2ban jail for `ban`. */
    readonly reason?: string;
}
