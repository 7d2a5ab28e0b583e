// `jumpgate-ssh audit --source lab`: the audit records in the journals of the lab's booted bastion hops.
// It lives with the lab, which only a repository checkout has: the published package ships the CLI
// without the lab, and cli/audit.ts loads this module only when the lab source is asked for.
import { resolve } from "node:path";
import type { AuditRecord } from "../components/render/auditRecord";
import { AUDIT_SYSLOG_IDENTIFIER } from "../components/render/auditRecord";
import { AUDIT_UNIT } from "../components/render/auditHost";
import { type AuditSource, parseAuditRecord } from "../cli/audit";
import { CliError } from "../cli/outputs";
import { labExec, readLabState, type LabHostState } from "./lab";

/** The audit records in a booted lab host's journal since `since`: only what the builder's unit wrote. */
export function labHostRecords(host: LabHostState, since: Date): AuditRecord[] {
    const args = ["--no-pager", "-o", "cat", `--since=@${Math.floor(since.getTime() / 1000)}`];
    const out = labExec(
        host,
        "journalctl",
        [...args, `SYSLOG_IDENTIFIER=${AUDIT_SYSLOG_IDENTIFIER}`, `_SYSTEMD_UNIT=${AUDIT_UNIT}`],
        { timeoutMs: 30_000 },
    ).stdout;
    return out
        .split("\n")
        .map(parseAuditRecord)
        .filter((r): r is AuditRecord => r !== undefined);
}

/** The lab's source: every bastion hop of the lab recorded in `dir` (`npm run lab` uses `.lab`). */
export function labAuditSource(dir: string): AuditSource {
    return async (q) => {
        const state = readLabState(dir);
        if (!state) throw new CliError(`no lab in ${resolve(dir)}: start it with npm run lab -- up --stack ${q.stack}`);
        if (state.stack !== q.stack)
            throw new CliError(`the lab in ${resolve(dir)} runs stack ${state.stack}, not ${q.stack}`, 2);
        const hops = state.hosts.filter((h) => h.role === "bastion" && h.boot);
        return hops.flatMap((h) => labHostRecords(h, q.since)).sort((a, b) => a.time.localeCompare(b.time));
    };
}
