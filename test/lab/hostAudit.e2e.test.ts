// auditd and the sandboxed units on a booted Debian 13 bastion, from its user data alone. What a container
// can show is shown here: the first boot installs auditd from the lab's mirror, the rules and the plugin are
// in place and assembled by Debian's own augenrules, the units are enabled for the next (VM) boot and skip
// themselves in the container because the kernel refuses audit control there (auditctl says so), a record
// that audisp-syslog writes lands in the journal where the CloudWatch agent's query picks it up, and
// fail2ban, sandboxed, still reads the journal and bans with nft. `systemd-analyze security` (systemd 257)
// scores jumpgate's units. Stack `ad`.
import { existsSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    AUDIT_JOURNAL_IDENTIFIER,
    AUDIT_RULES_PATH,
    AUDIT_SYSLOG_PLUGIN_PATH,
    AUDISP_SYSLOG,
    renderAuditRules,
} from "../../components/render/auditd";
import { AUDIT_UNIT } from "../../components/render/auditHost";
import { FAIL2BAN_SANDBOX_DROPIN_PATH } from "../../components/render/fail2ban";
import { runIn, waitFor } from "../../lab/exec";
import { labExec, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { ensureLabRoot } from "../../lab/rootfs";
import { bannedBy, fail2banLog, programLabPlan, tearDownLab, hostileLoginArgs } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";
import { journalAndShipped } from "./auditDay";

const STACK = "ad";
const gate = toolsAvailable("ssh", "ip", "nsenter", "systemd-nspawn") && isRootOrFail();

/** Ceilings for `systemd-analyze security` on the booted host (0 safe .. 10 unsafe); measured below them. */
export const EXPOSURE_CEILING = { fail2ban: 2.5, audit: 1.5 } as const;

function exposure(out: string): number {
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
    if (!m) throw new Error(`no exposure level in: ${out}`);
    return Number(m[1]);
}

describe.runIf(gate)("lab: auditd and the sandboxed units on a booted Debian 13 bastion", () => {
    let plan: LabPlan;
    let state: LabState;
    let dir = "";
    const bastion = (): LabHostState => state.hosts.find((h) => h.role === "bastion")!;
    const on = (cmd: string, args: string[]) => labExec(bastion(), cmd, args, { check: false, timeoutMs: 60_000 });
    const measured: Record<string, number> = {};

    beforeAll(async () => {
        plan = await programLabPlan({ stack: STACK, config: { "jumpgate:targets": [{ name: "app-1" }] } });
        dir = mkdtempSync("/tmp/jg-lab-ad-");
        state = (await labUp(plan, dir)).state;
    }, 180_000);

    afterAll(async () => {
        console.log(`exposure: ${JSON.stringify(measured)}`);
        await tearDownLab(plan?.stack, dir);
    }, 60_000);

    it("installs auditd at first boot from the lab's mirror (the root has none), with the rules and plugin", () => {
        expect(existsSync(join(ensureLabRoot().rootDir, "usr/sbin/auditd"))).toBe(false);
        for (const pkg of ["auditd", "audispd-plugins"])
            expect(on("dpkg-query", ["-W", "-f", "${Status}", pkg]).stdout).toBe("install ok installed");
        expect(on("cat", [AUDIT_RULES_PATH]).stdout).toBe(renderAuditRules());
        expect(on("stat", ["-c", "%a %U", AUDIT_RULES_PATH]).stdout.trim()).toBe("600 root");
        // The package's postinst assembled the rules with Debian's augenrules: Debian's first, ours, -e 2 last.
        const assembled = on("cat", ["/etc/audit/audit.rules"])
            .stdout.split("\n")
            .filter((l) => l.startsWith("-"));
        expect(assembled[0]).toBe("-D");
        expect(assembled.at(-1)).toBe("-e 2");
        expect(assembled).toContain("-w /etc/ssh/sshd_config.d -p wa -k sshd-config");
        expect(on("cat", [AUDIT_SYSLOG_PLUGIN_PATH]).stdout).toMatch(/^active = yes$/m);
        expect(on("test", ["-x", AUDISP_SYSLOG]).status).toBe(0);
        // What the install costs the first boot (apt's own record of the transaction).
        console.log(on("grep", ["-A4", "auditd", "/var/log/apt/history.log"]).stdout);
        console.log(on("cloud-init", ["analyze", "blame"]).stdout.split("\n").slice(0, 6).join("\n"));
    });

    it("enables the audit units for the next boot, and they skip themselves where the kernel refuses audit", () => {
        for (const unit of ["auditd.service", "audit-rules.service"]) {
            expect(on("systemctl", ["is-enabled", unit]).stdout.trim(), unit).toBe("enabled");
            const show = on("systemctl", ["show", unit, "-p", "ConditionResult", "-p", "ActiveState"]).stdout;
            expect(show, unit).toMatch(/^ConditionResult=no$/m);
            expect(show, unit).toMatch(/^ActiveState=inactive$/m);
        }
        expect(on("systemd-detect-virt", ["--container"]).stdout.trim()).toBe("systemd-nspawn");
        // The reason: a process outside the first PID namespace gets no audit control from the kernel.
        const status = on("auditctl", ["-s"]);
        expect(status.status).not.toBe(0);
        expect(status.stderr).toMatch(/Operation not permitted/);
        expect(on("systemctl", ["--failed", "--no-legend", "--plain"]).stdout).not.toMatch(/audit/);
    });

    it("a record audisp-syslog writes lands in the journal at info, and the CloudWatch agent's query ships it", async () => {
        const since = new Date(Date.now() - 2_000);
        const marker = `jumpgate-lab-${Date.now()}`;
        const record = `type=SYSCALL msg=audit(1764500000.123:4242): arch=c000003e syscall=257 success=yes exit=3 auid=1000 uid=0 euid=0 comm="vi" exe="/usr/bin/vi" key="${marker}"`;
        // The plugin reads auditd's records on stdin (as auditd feeds it) and exits at its end.
        const fed = on("sh", ["-c", `printf '%s\\n' '${record}' | ${AUDISP_SYSLOG} LOG_INFO`]);
        expect(fed.status, fed.stderr).toBe(0);
        let entries: Record<string, unknown>[] = [];
        await waitFor("the record in the journal", 10_000, () => {
            entries = on("journalctl", ["--no-pager", "-o", "json", `SYSLOG_IDENTIFIER=${AUDIT_JOURNAL_IDENTIFIER}`])
                .stdout.split("\n")
                .filter((l) => l.includes(marker))
                .map((l) => JSON.parse(l) as Record<string, unknown>);
            return entries.length > 0;
        });
        expect(entries).toHaveLength(1);
        expect(entries[0]!.PRIORITY).toBe("6");
        expect(String(entries[0]!.MESSAGE)).toContain(`key="${marker}"`);
        const { shipped } = journalAndShipped(bastion(), since, new Date(Date.now() + 1_000));
        expect(shipped.filter((e) => String(e.fields.MESSAGE).includes(marker))).toHaveLength(1);
    });

    it("scores jumpgate's units with systemd-analyze security: fail2ban sandboxed, the audit builder low", () => {
        expect(on("cat", [FAIL2BAN_SANDBOX_DROPIN_PATH]).status).toBe(0);
        // Debian's unit under another name, so no drop-in of fail2ban.service applies to it.
        const copy = "/run/fail2ban-debian-unit.service";
        expect(on("cp", ["/usr/lib/systemd/system/fail2ban.service", copy]).status).toBe(0);
        const vendor = on("systemd-analyze", ["security", "--offline=yes", "--no-pager", copy]);
        measured["fail2ban.service (Debian's unit alone)"] = exposure(vendor.stdout);
        measured["fail2ban.service"] = exposure(
            on("systemd-analyze", ["security", "--no-pager", "fail2ban.service"]).stdout,
        );
        measured[AUDIT_UNIT] = exposure(on("systemd-analyze", ["security", "--no-pager", AUDIT_UNIT]).stdout);
        expect(measured["fail2ban.service"]).toBeLessThanOrEqual(EXPOSURE_CEILING.fail2ban);
        expect(measured["fail2ban.service (Debian's unit alone)"]).toBeGreaterThan(measured["fail2ban.service"]!);
        expect(measured[AUDIT_UNIT]).toBeLessThanOrEqual(EXPOSURE_CEILING.audit);
        // The running server has only the capability nft needs.
        const caps = on("systemctl", ["show", "fail2ban.service", "-p", "CapabilityBoundingSet"]).stdout.trim();
        expect(caps).toBe("CapabilityBoundingSet=cap_net_admin");
        expect(on("systemctl", ["is-active", "fail2ban.service", AUDIT_UNIT]).stdout.trim().split("\n")).toEqual([
            "active",
            "active",
        ]);
    });

    it("sandboxed fail2ban still reads sshd's journal and bans with nft", async () => {
        const hostile = state.topology.peers.find((p) => p.role === "hostile");
        if (!hostile) throw new Error("no hostile peer in the lab");
        const bastionIp = plan.hosts.find((h) => h.role === "bastion")!.publicIp!;
        const isBanned = () => bannedBy(bastion(), "sshd").includes(hostile.ip);
        for (let i = 1; i <= 4 && !isBanned(); i++) {
            runIn(hostile.ns, "ssh", hostileLoginArgs(`intruder${i}`, bastionIp, plan.sshPort), {
                check: false,
                timeoutMs: 8_000,
                env: { PATH: process.env.PATH },
            });
        }
        await waitFor(`fail2ban to ban ${hostile.ip}`, 20_000, isBanned, 250);
        const set = on("nft", ["list", "set", "inet", "f2b-table", "addr-set-sshd"]).stdout;
        expect(set).toContain(hostile.ip);
        // Its own log (which recidive and the audit builder read) is still written.
        expect(fail2banLog(bastion())).toContain(`Ban ${hostile.ip}`);
        // And the server really runs confined: its view of /etc is read-only.
        const pid = on("systemctl", ["show", "-p", "MainPID", "--value", "fail2ban.service"]).stdout.trim();
        const write = on("nsenter", ["-t", pid, "-m", "touch", "/etc/jumpgate-sandbox-probe"]);
        expect(write.status).not.toBe(0);
        expect(write.stderr).toMatch(/Read-only file system/);
    }, 90_000);
});
