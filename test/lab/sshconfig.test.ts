// The operator's ssh_config pointed at the lab's files, and the syslog lines the lab feeds fail2ban.
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../lab/exec";
import { ConnectionPids, syslogLine, syslogTimestamp } from "../../lab/logpipe";
import type { LabPlan } from "../../lab/model";
import { identityFileName, rewriteSshConfig, sshAliases } from "../../lab/sshconfig";
import { programLabPlan } from "../helpers/labFixture";
import { toolsAvailable } from "../helpers/tools";

let plan: LabPlan;
beforeAll(async () => {
    plan = await programLabPlan();
});
const paths = {
    identityFile: "/w/.lab/jumpgate-e2e_ed25519",
    knownHostsFile: "/w/.lab/known_hosts",
    controlDir: "/w/.lab",
};

describe("rewriteSshConfig", () => {
    it("rewrites only the key, known_hosts and control socket paths", () => {
        const out = rewriteSshConfig(plan.sshConfig, paths);
        const before = plan.sshConfig.split("\n");
        const after = out.split("\n");
        expect(after.length).toBe(before.length);
        const changed = before.filter((l, i) => l !== after[i]);
        expect(changed.every((l) => /^\s*(IdentityFile|UserKnownHostsFile|ControlPath) /.test(l))).toBe(true);
        expect(out).toContain("  IdentityFile /w/.lab/jumpgate-e2e_ed25519\n");
        expect(out).toContain("  UserKnownHostsFile /w/.lab/known_hosts\n");
        expect(out).toContain("  ControlPath /w/.lab/cm-%C\n");
        expect(out).toContain(`  HostName ${plan.hosts.find((h) => h.role === "bastion")!.publicIp}\n`);
        expect(out).toContain("  ProxyJump e2e-bastion\n");
        expect(out).not.toContain("~/");
    });

    it("handles `Key=value`, odd case and paths with spaces; refuses socket paths that cannot work", () => {
        const out = rewriteSshConfig("Host x\n  identityfile=~/.ssh/k\n", { ...paths, identityFile: "/a b/k" });
        expect(out).toBe('Host x\n  identityfile="/a b/k"\n');
        expect(() => rewriteSshConfig("", { ...paths, controlDir: `/${"d".repeat(60)}` })).toThrow(/too long/);
    });

    it("finds the aliases and the key's file name", () => {
        expect(sshAliases(plan.sshConfig)).toEqual(["e2e-bastion", "e2e-app-1", "e2e-db-1"]);
        expect(identityFileName(plan.sshConfig)).toBe("jumpgate-e2e_ed25519");
        expect(identityFileName("IdentityFile ~/.ssh/../.hidden\n")).toBe("id_ed25519");
    });
});

describe("syslog lines", () => {
    it("formats lines like rsyslog's high-precision format", () => {
        const d = new Date("2026-11-20T10:00:01.123Z");
        expect(syslogTimestamp(d)).toBe("2026-11-20T10:00:01.123000+00:00");
        expect(syslogLine(d, "bastion", "sshd", 1234, "Invalid user x from 198.51.100.7 port 51234")).toBe(
            "2026-11-20T10:00:01.123000+00:00 bastion sshd[1234]: Invalid user x from 198.51.100.7 port 51234",
        );
    });

    it("gives each connection its own pid and the rest the daemon's", () => {
        const pids = new ConnectionPids(500);
        expect(pids.pidFor("Server listening on 0.0.0.0 port 22.")).toBe(500);
        const a = pids.pidFor('Connection from 203.0.113.10 port 40000 on 198.51.100.10 port 22 rdomain ""');
        const b = pids.pidFor("Invalid user x from 203.0.113.66 port 40001");
        expect(a).not.toBe(b);
        expect(pids.pidFor("Accepted publickey for jump from 203.0.113.10 port 40000 ssh2")).toBe(a);
    });
});

describe.runIf(toolsAvailable("fail2ban-regex"))("syslog lines against fail2ban's own sshd filter", () => {
    it("are matched by sshd[mode=aggressive] (as the jail's lines would be)", () => {
        const line = syslogLine(
            new Date(),
            "bastion",
            "sshd",
            4242,
            "Invalid user intruder from 203.0.113.66 port 51234",
        );
        const res = run("fail2ban-regex", ["--print-all-matched", line, "sshd[mode=aggressive]"], {
            check: false,
            timeoutMs: 30_000,
        });
        expect(res.status, res.stderr).toBe(0);
        expect(res.stdout).toMatch(/Lines: 1 lines, 0 ignored, 1 matched, 0 missed/);
        expect(res.stdout).toContain("203.0.113.66");
    });
});
