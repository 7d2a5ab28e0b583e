// The lab's scripted day as captured from a booted Debian 13 bastion (test/fixtures/audit): the
// journal and fail2ban log replayed through the rendered record builder by the real python3.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderAuditProgram, type AuditHostIdentity } from "../../components/render/auditHost";
import type { TargetEndpoint } from "../../components/render/model";

export const AUDIT_FIXTURES = join(__dirname, "../fixtures/audit");
export const AUDIT_DAY_JOURNAL = join(AUDIT_FIXTURES, "debian13-day.journal.jsonl");
export const AUDIT_DAY_FAIL2BAN_LOG = join(AUDIT_FIXTURES, "debian13-day.fail2ban.log");

/**
 * Writes the record builder for `who` and `targets` to `dir`/jumpgate-audit.py and replays the day
 * through it; returns the records it printed, one JSON line each.
 */
export function replayAuditDay(dir: string, who: AuditHostIdentity, targets: readonly TargetEndpoint[]): string[] {
    const program = join(dir, "jumpgate-audit.py");
    writeFileSync(program, renderAuditProgram(who, targets));
    const out = execFileSync("python3", ["-I", program, "--replay", AUDIT_DAY_JOURNAL, AUDIT_DAY_FAIL2BAN_LOG], {
        encoding: "utf8",
        env: { TZ: "UTC", PATH: process.env.PATH },
    });
    return out.trim().split("\n");
}
