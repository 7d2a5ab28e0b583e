// The bastion's audit record builder, run by the real python3 on what a real sshd and fail2ban logged:
// test/fixtures/audit/debian13-day.* were captured from the lab's booted Debian 13 bastion (OpenSSH 10.0,
// fail2ban 1.1) during the scripted day of test/lab/auditDay.ts (`journalctl -b -o json` of ssh.service,
// trimmed to the fields the builder reads, and fail2ban's Found/Ban lines). The day's own account of what
// it did (debian13-day.json) says which records must come out.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    AUDIT_PROGRAM_PATH,
    AUDIT_UNIT_PATH,
    auditProgramSource,
    renderAuditUnit,
} from "../../components/render/auditHost";
import type { AuditRecord } from "../../components/render/auditRecord";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit } from "../../components/render/cloudInit";
import { renderBastionSshd } from "../../components/render/sshd";
import { sampleBastionSpec } from "../helpers/renderFixtures";
import { AUDIT_DAY_JOURNAL, AUDIT_FIXTURES, replayAuditDay } from "../helpers/auditDay";
import { toolsAvailable } from "../helpers/tools";

interface DayFixture {
    day: { connections: { operator?: { name: string }; forwards: string[]; refused?: string; failed?: boolean }[] };
    ops: { name: string; keyId: string; serial: string; fingerprint: string }[];
    hosts: [string, string, string | null][];
}
const day = JSON.parse(readFileSync(join(AUDIT_FIXTURES, "debian13-day.json"), "utf8")) as DayFixture;
const ipOf = (name: string) => day.hosts.find((h) => h[0] === name)![1];
const TARGETS = ["app-1", "db-1"].map((name) => ({ name, privateIp: ipOf(name), port: 22 }));
const WHO = { stack: "au", host: "bastion" };
const CLIENT = "203.0.113.10";
const HOSTILE = "203.0.113.66";

const haveTools = toolsAvailable("python3");

describe.runIf(haveTools)("records from a real Debian 13 bastion's journal", () => {
    let dir = "";
    let records: AuditRecord[] = [];
    const of = (event: string) => records.filter((r) => r.event === event);

    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "jg-audit-"));
        records = replayAuditDay(dir, WHO, TARGETS).map((l) => JSON.parse(l) as AuditRecord);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("writes exactly one login per operator connection, naming the certificate's key ID, serial and key", () => {
        const expected = day.day.connections.filter((c) => c.operator).map((c) => c.operator!.name);
        const logins = of("login");
        expect(logins.map((r) => r.identity)).toEqual(expected.map((n) => `jumpgate-au:${n}`));
        for (const r of logins) {
            const op = day.ops.find((o) => `jumpgate-au:${o.name}` === r.identity)!;
            expect(r).toMatchObject({ v: 1, stack: "au", host: "bastion", user: "jump", sourceIp: CLIENT });
            expect(r.serial).toBe(op.serial);
            expect(r.fingerprint).toBe(op.fingerprint);
            expect(r.sourcePort).toBeGreaterThan(0);
        }
        // Ten distinct operators, each with their own key.
        expect(new Set(logins.map((r) => r.fingerprint)).size).toBe(10);
    });

    it("writes one forward per forwarded connection: who, from where, to which target, when and how long", () => {
        const expected = day.day.connections.flatMap((c) =>
            c.forwards.map((dest) => ({ identity: `jumpgate-au:${c.operator!.name}`, destination: dest })),
        );
        const forwards = of("forward");
        expect(forwards.map((r) => ({ identity: r.identity, destination: r.destination }))).toEqual(expected);
        for (const r of forwards) {
            const login = of("login").find((l) => l.session === r.session)!;
            expect(r.identity).toBe(login.identity);
            expect(r.sourcePort).toBe(login.sourcePort);
            expect(r.target).toBe(TARGETS.find((t) => `${t.privateIp}:22` === r.destination)!.name);
            expect(r.durationSeconds).toBeGreaterThan(0);
            expect(Date.parse(r.end!) - Date.parse(r.start!)).toBeCloseTo(r.durationSeconds! * 1000, -1);
            expect(r.time).toBe(r.end);
        }
        // op05 ran two commands through one multiplexed bastion session: two forwards, one session.
        const op05 = forwards.filter((r) => r.identity === "jumpgate-au:op05");
        expect(op05).toHaveLength(2);
        expect(op05[0]!.session).toBe(op05[1]!.session);
    });

    it("writes a refused record with the destination that was asked for, and no forward for it", () => {
        const refused = of("refused");
        expect(refused.map((r) => [r.identity, r.destination])).toEqual(
            day.day.connections.filter((c) => c.refused).map((c) => [`jumpgate-au:${c.operator!.name}`, c.refused]),
        );
        expect(refused.every((r) => r.target === undefined && /denied/.test(r.reason!))).toBe(true);
    });

    it("writes one auth-failure per failed connection and none for the operators' key-then-certificate tries", () => {
        // Every operator's ssh offers the plain key first ("Failed publickey"), then the certificate.
        const failures = of("auth-failure");
        expect(failures).toHaveLength(day.day.connections.filter((c) => c.failed).length);
        for (const r of failures) {
            expect(r).toMatchObject({ sourceIp: HOSTILE, user: "jump" });
            expect(r.identity).toBeUndefined();
            expect(r.reason).toMatch(/^Failed publickey for jump from 203\.0\.113\.66/);
        }
    });

    it("writes the ban with the address and the jail", () => {
        expect(of("ban")).toEqual([expect.objectContaining({ event: "ban", sourceIp: HOSTILE, reason: "sshd" })]);
        // Nothing else: 14 logins, 13 forwards, 2 refusals, 3 failures, 1 ban.
        expect(records).toHaveLength(14 + 13 + 2 + 3 + 1);
    });

    it("writes a forward within a minute while its multiplexed session goes on, and never twice", () => {
        // Feed the journal up to op05's second channel close (its control master stays up), let 61 s pass
        // with the session's processes alive, then feed the rest.
        const probe = `
import json, runpy, sys, time
g = runpy.run_path(sys.argv[1], run_name="audit")
out = []
b = g["Builder"](out.append)
lines = open(sys.argv[2]).read().splitlines()
cut = max(i for i, l in enumerate(lines) if "channel_free" in l and "pid=523" in l) + 1
for l in lines[:cut]:
    b.journal(json.loads(l))
before = len(out)
b.tick(time.time() + 61, lambda pid: True)
held = out[before:]
for l in lines[cut:]:
    b.journal(json.loads(l))
b.tick(float("inf"), lambda pid: False, 1)
print(json.dumps({"held": held, "op05": [r for r in out if r.get("identity") == "jumpgate-au:op05" and r["event"] == "forward"]}))
`;
        const program = join(dir, "jumpgate-audit.py");
        const res = JSON.parse(
            execFileSync("python3", ["-I", "-c", probe, program, AUDIT_DAY_JOURNAL], {
                encoding: "utf8",
            }),
        ) as { held: AuditRecord[]; op05: AuditRecord[] };
        expect(res.held.map((r) => [r.event, r.identity, r.target])).toEqual([
            ["forward", "jumpgate-au:op05", "app-1"],
            ["forward", "jumpgate-au:op05", "app-1"],
        ]);
        expect(res.op05).toHaveLength(2);
    });

    it("leaves bytes out unless sshd logged them for a single-forward session", () => {
        // OpenSSH clients end with a disconnect message, after which sshd logs no byte count.
        expect(of("forward").filter((r) => r.bytesSent !== undefined)).toEqual([]);
    });
});

describe("what the bastion's user data carries", () => {
    const spec = sampleBastionSpec({ os: "debian-13", audit: WHO });
    const doc = parseCloudConfig(renderBastionCloudInit(spec));

    it("the program with the stack, the host and every target's name by ip:port, comments left out", () => {
        const program = fileAt(doc, AUDIT_PROGRAM_PATH);
        const config = /^CONFIG = (.*)$/m.exec(program)![1]!;
        expect(JSON.parse(config)).toMatchObject({
            stack: "au",
            host: "bastion",
            targets: { "10.0.1.20:22": "app-1", "10.0.2.21:22": "app-2" },
            heartbeatSeconds: 300,
        });
        expect(program.split("\n").filter((l) => l.trimStart().startsWith("#"))).toEqual(["#!/usr/bin/python3"]);
        expect(auditProgramSource().split("\n").length).toBeGreaterThan(program.split("\n").length);
        expect(doc.write_files.find((f) => f.path === AUDIT_PROGRAM_PATH)).toMatchObject({
            encoding: "gz+b64",
            permissions: "0755",
        });
    });

    it("starts the unit last, after sshd and fail2ban", () => {
        expect(fileAt(doc, AUDIT_UNIT_PATH)).toBe(renderAuditUnit());
        expect(doc.runcmd?.at(-1)).toEqual(["systemctl", "enable", "--now", "jumpgate-audit.service"]);
    });

    it("sshd logs the forwarding functions at VERBOSE on the bastion of every OS, never LogLevel DEBUG", () => {
        for (const os of ["debian-12", "debian-13", "ubuntu-24.04"] as const) {
            const text = renderBastionSshd(sampleBastionSpec({ os }));
            expect(text).toMatch(
                /^LogVerbose serverloop\.c:server_request_direct_tcpip\(\):\*,channels\.c:channel_new\(\):\*,channels\.c:channel_free\(\):\*,channels\.c:channel_connect_to_port\(\):\*$/m,
            );
            expect(text).toMatch(/^LogLevel VERBOSE$/m);
        }
    });

    it("a bastion without audit identity carries no builder", () => {
        const plain = parseCloudConfig(renderBastionCloudInit(sampleBastionSpec()));
        expect(plain.write_files.map((f) => f.path)).not.toContain(AUDIT_PROGRAM_PATH);
    });
});

const haveAnalyze = toolsAvailable("systemd-analyze");

describe.runIf(haveAnalyze)("the unit, judged by systemd", () => {
    it("systemd-analyze verify accepts it, and its security exposure is low", () => {
        const dir = mkdtempSync(join(tmpdir(), "jg-audit-unit-"));
        try {
            const unit = join(dir, "jumpgate-audit.service");
            writeFileSync(unit, renderAuditUnit().replace(AUDIT_PROGRAM_PATH, "/usr/bin/true"));
            const verify = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
            expect(verify.stderr.split("\n").filter((l) => l.includes("jumpgate-audit"))).toEqual([]);
            const security = spawnSync("systemd-analyze", ["security", "--offline=yes", unit], { encoding: "utf8" });
            const score = Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(security.stdout)?.[1]);
            expect(score, security.stdout + security.stderr).toBeLessThanOrEqual(2.0);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
