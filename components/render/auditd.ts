// The Linux audit daemon on every jumpgate host: rules for what an intruder with a foothold changes first
// (identities, sshd's trust, privileges, time, kernel modules), made immutable until reboot, and each
// record also sent to the journal, where the CloudWatch agent ships it with the rest of the audit trail.
// Debian 13 ships audit 4.0: auditd.service requires audit-rules.service, which runs `augenrules --load`
// (rules.d/*.rules, sorted, assembled into /etc/audit/audit.rules; the last `-e` line is put last).
import type { CloudConfigFile } from "./cloudConfig";
import { AUTHORIZED_CAS_DIR, REVOKED_KEYS_PATH } from "./sshd";

/** Debian packages: the daemon, and audisp-syslog (its plugin that writes each record to syslog, i.e. the journal). */
export const AUDITD_PACKAGES: readonly string[] = ["auditd", "audispd-plugins"];
/** jumpgate's rules; sorts after Debian's `audit.rules` (buffers, failure mode), so its `-e 2` ends the set. */
export const AUDIT_RULES_PATH = "/etc/audit/rules.d/jumpgate.rules";
/** Our own plugin file, so Debian's `syslog.conf` conffile (inactive) is never edited and apt never asks. */
export const AUDIT_SYSLOG_PLUGIN_PATH = "/etc/audit/plugins.d/jumpgate-syslog.conf";
/** The plugin binary (audispd-plugins). */
export const AUDISP_SYSLOG = "/usr/sbin/audisp-syslog";
/** The journal's SYSLOG_IDENTIFIER of the records audisp-syslog writes (its program name). */
export const AUDIT_JOURNAL_IDENTIFIER = "audisp-syslog";
/** Drop-ins: the audit units skip themselves in a container, where the kernel refuses them. */
export const AUDIT_UNIT_DROPIN_PATHS: readonly string[] = [
    "/etc/systemd/system/auditd.service.d/10-jumpgate.conf",
    "/etc/systemd/system/audit-rules.service.d/10-jumpgate.conf",
];
/** The first uid of a person's account (Debian's UID_MIN); system accounts and `unset` are below or excluded. */
export const FIRST_LOGIN_UID = 1000;

/** A key names each group, so `ausearch -k` and a log query find its records. */
export const AUDIT_KEYS = {
    identity: "identity",
    sudoers: "sudoers",
    sshd: "sshd-config",
    audit: "audit-config",
    privileged: "privileged",
    setid: "setid",
    time: "time-change",
    modules: "modules",
} as const;

/** A write or attribute change (`-p wa`) of a file, or of anything under a directory. */
function watch(path: string, key: string): string {
    return `-w ${path} -p wa -k ${key}`;
}

/** One syscall rule per ABI: amd64/arm64 hosts also run 32-bit programs (ia32 / compat), a way around b64 rules. */
function syscalls(fields: string, key: string): string[] {
    return ["b64", "b32"].map((arch) => `-a always,exit -F arch=${arch} ${fields} -k ${key}`);
}

/** By a person who logged in (auid set at login by pam_loginuid and kept across sudo and su). */
const BY_A_PERSON = `-F auid>=${FIRST_LOGIN_UID} -F auid!=unset`;

/**
 * The rules file. Each group with its reason:
 * - identity files and sudoers: a new account, group or sudo grant is the usual persistence;
 * - sshd's configuration, jumpgate's user CA keys and its KRL: who may log in and which keys are revoked;
 * - the audit configuration itself (a change would take effect at the next boot);
 * - every program started as root by a person (sudo, su, any setuid-root binary and what they run), and
 *   every set-id change of identity (setuid/setgid binaries of other owners);
 * - time changes (logs and certificates are only as trustworthy as the clock);
 * - kernel module loading and unloading (a rootkit's way in), and the kmod tool behind modprobe/insmod.
 * `-e 2` last: from then on neither rules nor the audit state can change until a reboot, so an intruder
 * who becomes root cannot quietly switch auditing off; a reboot shows as a new boot and a gap in the
 * records. jumpgate never changes rules on a running host (new user data replaces the instance).
 */
export function renderAuditRules(): string {
    const k = AUDIT_KEYS;
    return [
        "## Managed by jumpgate (see its README, host hardening).",
        ...["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"].map((p) => watch(p, k.identity)),
        watch("/etc/sudoers", k.sudoers),
        watch("/etc/sudoers.d", k.sudoers),
        watch("/etc/ssh/sshd_config", k.sshd),
        watch("/etc/ssh/sshd_config.d", k.sshd),
        watch(AUTHORIZED_CAS_DIR, k.sshd),
        watch(REVOKED_KEYS_PATH, k.sshd),
        watch("/etc/audit", k.audit),
        ...syscalls(`-S execve -F euid=0 ${BY_A_PERSON}`, k.privileged),
        ...syscalls(`-S execve -C uid!=euid ${BY_A_PERSON}`, k.setid),
        ...syscalls(`-S execve -C gid!=egid ${BY_A_PERSON}`, k.setid),
        ...syscalls("-S adjtimex,settimeofday,clock_settime", k.time),
        watch("/etc/localtime", k.time),
        ...syscalls("-S init_module,finit_module,delete_module", k.modules),
        `-w /usr/bin/kmod -p x -k ${k.modules}`,
        "-e 2",
        "",
    ].join("\n");
}

/**
 * auditd's syslog plugin: each record, as auditd formats it, written with syslog(3) at LOG_INFO, so it
 * lands in the journal with a PRIORITY the CloudWatch agent's journald input reads (info and above).
 * journald's own audit capture is not used: its entries carry no PRIORITY, so the agent would skip them.
 */
export function renderAuditSyslogPlugin(): string {
    return [
        "active = yes",
        "direction = out",
        `path = ${AUDISP_SYSLOG}`,
        "type = always",
        "args = LOG_INFO",
        "format = string",
        "",
    ].join("\n");
}

/**
 * In a container the kernel refuses the audit control messages of a process outside the first PID
 * namespace, so the units would only fail; on an instance (a VM) the condition holds and they run.
 */
export const AUDIT_UNIT_DROPIN = "[Unit]\nConditionVirtualization=!container\n";

/**
 * Written before packages are installed: the package's own first start already loads the rules and the
 * plugin. (Debian's postinst starts audit-rules.service and auditd.service.)
 */
export function auditdFiles(): CloudConfigFile[] {
    return [
        { path: AUDIT_RULES_PATH, content: renderAuditRules(), owner: "root:root", permissions: "0600" },
        {
            path: AUDIT_SYSLOG_PLUGIN_PATH,
            content: renderAuditSyslogPlugin(),
            owner: "root:root",
            permissions: "0640",
        },
        ...AUDIT_UNIT_DROPIN_PATHS.map((path) => ({
            path,
            content: AUDIT_UNIT_DROPIN,
            owner: "root:root",
            permissions: "0644",
        })),
    ];
}

/**
 * After packages: auditd may have started before apt unpacked audisp-syslog; SIGHUP makes it re-read its
 * plugins. Nothing to do where auditd does not run (a container).
 */
export const AUDITD_RELOAD_COMMAND = "if systemctl -q is-active auditd; then systemctl kill -s HUP auditd; fi";
