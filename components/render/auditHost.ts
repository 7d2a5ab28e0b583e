// The audit record builder on a bastion hop: a small Python program (standard library only; cloud-init
// needs python3, so every image has it) run by a sandboxed systemd unit. It reads sshd's journal lines
// and fail2ban's log and writes one JSON record per event (auditRecord.ts) to the journal. It reads what
// sshd itself logged, so a jump user (no shell, nologin) has nothing to bypass.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CloudConfigFile } from "./cloudConfig";
import { FAIL2BAN_LOG_PATH } from "./fail2ban";
import type { TargetEndpoint } from "./model";
import { permitOpenEntry } from "./sshd";

export const AUDIT_PROGRAM_PATH = "/usr/local/lib/jumpgate/jumpgate-audit.py";
export const AUDIT_UNIT = "jumpgate-audit.service";
export const AUDIT_UNIT_PATH = `/etc/systemd/system/${AUDIT_UNIT}`;
/** A record every 5 minutes, so "no records" means the host or its shipper stopped. */
export const AUDIT_HEARTBEAT_SECONDS = 300;

/** Who writes the records: the stack and this host's name (`bastion`, or the hop's name in a chain). */
export interface AuditHostIdentity {
    stack: string;
    host: string;
}

/** The program's source (shipped next to this file). */
export function auditProgramSource(): string {
    return readFileSync(join(__dirname, "audit", "jumpgate-audit.py"), "utf8");
}

/** The builder's configuration: who it is, and the name of each `ip:port` this hop forwards to. */
export function auditConfig(who: AuditHostIdentity, targets: readonly TargetEndpoint[]): Record<string, unknown> {
    if (!/^[A-Za-z0-9._-]+$/.test(who.stack) || !/^[a-z0-9-]+$/.test(who.host))
        throw new Error(`audit records: invalid stack '${who.stack}' or host '${who.host}'`);
    return {
        stack: who.stack,
        host: who.host,
        targets: Object.fromEntries(targets.map((t) => [permitOpenEntry(t), t.name])),
        fail2banLog: FAIL2BAN_LOG_PATH,
        heartbeatSeconds: AUDIT_HEARTBEAT_SECONDS,
    };
}

/**
 * The file the host runs: the configuration as its first statement (JSON of strings and numbers is a
 * Python literal), then the program without its comment lines (user data is capped at 16 KiB).
 */
export function renderAuditProgram(who: AuditHostIdentity, targets: readonly TargetEndpoint[]): string {
    const [shebang, ...rest] = auditProgramSource().split("\n");
    const code = rest.filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
    return [shebang, `CONFIG = ${JSON.stringify(auditConfig(who, targets))}`, ...code, ""].join("\n");
}

/**
 * The unit: no root, no network, no capabilities, a read-only system; it may only read the journal
 * (group systemd-journal) and fail2ban's log (group adm, as logrotate leaves it) and write its own state
 * (where it had got to, so a restart writes no record twice).
 */
export function renderAuditUnit(): string {
    return [
        "[Unit]",
        "Description=jumpgate audit records from sshd's and fail2ban's logs",
        "After=systemd-journald.service ssh.service",
        "",
        "[Service]",
        `ExecStart=/usr/bin/python3 -I ${AUDIT_PROGRAM_PATH}`,
        "Restart=always",
        "RestartSec=5",
        "DynamicUser=yes",
        "SupplementaryGroups=systemd-journal adm",
        "StateDirectory=jumpgate-audit",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateNetwork=yes",
        "PrivateIPC=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_UNIX",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "UMask=0077",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** cloud-init's gz+b64 encoding: the program and the target map are the bulk, and user data is capped at 16 KiB. */
function gzipped(content: string): string {
    return gzipSync(Buffer.from(content, "utf8"), { level: 9 }).toString("base64");
}

/** The builder's files, written before packages are installed (the unit starts in runcmd). */
export function auditFiles(who: AuditHostIdentity, targets: readonly TargetEndpoint[]): CloudConfigFile[] {
    const file = (path: string, content: string, permissions: string): CloudConfigFile => ({
        path,
        content: gzipped(content),
        encoding: "gz+b64",
        owner: "root:root",
        permissions,
    });
    return [
        file(AUDIT_PROGRAM_PATH, renderAuditProgram(who, targets), "0755"),
        file(AUDIT_UNIT_PATH, renderAuditUnit(), "0644"),
    ];
}

/** Started last in runcmd, once sshd runs with the drop-in and fail2ban has its log. */
export const AUDIT_START_COMMAND = ["systemctl", "enable", "--now", AUDIT_UNIT];
