// Audit records from booted Debian 13 hosts: a scripted day on a team-access stack (ten operators with
// certificates from the stack CA, `ssh <target>`, `scp -J`, a `-L` tunnel, two refused `-W`, a brute force
// from the hostile peer, test/lab/auditDay.ts) must leave exactly the expected records in the bastion's
// journal, written by the sandboxed builder unit from sshd's and fail2ban's own logs; `jumpgate-ssh audit`
// prints them. The CloudWatch agent's journald input, as cloud-init wrote it on each host, run as the
// journalctl query the agent would run, must select those records, sshd's and fail2ban's entries and
// nothing else; its selection over the day is the measured log volume (offline/prices.json).
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditRecord } from "../../cli/audit";
import { labHostRecords } from "../../lab/auditSource";
import type { AuditRecord } from "../../components/render/auditRecord";
import { runIn, sleep, waitFor } from "../../lab/exec";
import { PRICES } from "../../offline/cost";
import { labExec, labUp, type LabHostState, type LabState } from "../../lab/lab";
import { tearDownLab } from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";
import {
    MAX_RETRY,
    auditLabPlan,
    journalAndShipped,
    runDay,
    setUpOperators,
    type AuditLabPlan,
    type Day,
    type JournalEntry,
    type LabOperator,
} from "./auditDay";

const STACK = "au";
const gate = toolsAvailable("ssh", "scp", "ssh-keygen", "ip", "nsenter", "systemd-nspawn", "python3") && isRootOrFail();
const ROOT = join(__dirname, "../..");

describe.runIf(gate)("lab: the audit records of a scripted day", () => {
    let a: AuditLabPlan;
    let state: LabState;
    let ops: LabOperator[];
    let day: Day;
    let records: AuditRecord[] = [];
    let dir = "";
    let scratch = "";
    const ms: Record<string, number> = {};
    const bastion = (): LabHostState => state.hosts.find((h) => h.role === "bastion")!;
    const ipOf = (name: string) => a.plan.hosts.find((h) => h.name === name)!.privateIp;
    const nameOf = (dest: string) => a.plan.hosts.find((h) => `${h.privateIp}:22` === dest)?.name;
    const events = (rs: AuditRecord[]) => rs.filter((r) => r.event !== "heartbeat");
    const of = (event: string) => records.filter((r) => r.event === event);
    const failedAttempts = () => day.connections.filter((c) => c.failed).length;
    const expectedForwards = () => day.connections.flatMap((c) => c.forwards.map((d) => [c.operator!.keyId, d]));
    const unitDiagnostics = () =>
        labExec(bastion(), "journalctl", ["--no-pager", "-u", "jumpgate-audit.service", "-n", "30"], {
            check: false,
        }).stdout;

    beforeAll(async () => {
        let t = Date.now();
        a = await auditLabPlan(STACK);
        dir = mkdtempSync("/tmp/jg-lab-audit-");
        scratch = mkdtempSync("/tmp/jg-lab-audit-ops-");
        state = (await labUp(a.plan, dir)).state;
        ms.up = Date.now() - t;
        ops = await setUpOperators(a, state, scratch);
        t = Date.now();
        day = await runDay(a, state, ops, scratch);
        ms.day = Date.now() - t;
        t = Date.now();
        // Until every expected record is there (or a minute passed): the assertions below then say what is missing.
        const complete = (rs: AuditRecord[]) =>
            rs.filter((r) => r.event === "forward").length >= expectedForwards().length &&
            rs.filter((r) => r.event === "auth-failure").length >= failedAttempts() &&
            rs.some((r) => r.event === "ban");
        for (const deadline = Date.now() + 60_000; ; await sleep(500)) {
            records = labHostRecords(bastion(), day.start);
            if (complete(records) || Date.now() > deadline) break;
        }
        ms.records = Date.now() - t;
        const connections = day.connections.length;
        console.log(
            `audit lab: up ${ms.up} ms, day ${ms.day} ms (${connections} connections), records complete ` +
                `${ms.records} ms after; ${events(records).length} records, ` +
                `${(events(records).length / connections).toFixed(2)} per connection`,
        );
    }, 300_000);

    afterAll(async () => {
        await tearDownLab(a?.plan.stack, dir, scratch);
    }, 60_000);

    it("runs the builder as its own unit: no root, no network, a read-only system", () => {
        const show = labExec(bastion(), "systemctl", [
            "show",
            "jumpgate-audit.service",
            "-p",
            "ActiveState,MainPID,DynamicUser,PrivateNetwork,ProtectSystem,NoNewPrivileges",
        ]).stdout;
        expect(show, unitDiagnostics()).toMatch(/^ActiveState=active$/m);
        expect(show).toMatch(/^DynamicUser=yes$/m);
        expect(show).toMatch(/^PrivateNetwork=yes$/m);
        expect(show).toMatch(/^ProtectSystem=strict$/m);
        const pid = /^MainPID=(\d+)$/m.exec(show)![1];
        const status = labExec(bastion(), "cat", [`/proc/${pid}/status`]).stdout;
        expect(/^Uid:\s+(\d+)/m.exec(status)![1]).not.toBe("0");
        expect(/^CapEff:\s+(\S+)/m.exec(status)![1]).toBe("0000000000000000");
    });

    it("one login per operator connection, with the certificate's key ID, serial and the operator's key", () => {
        const expected = day.connections.filter((c) => c.operator).map((c) => c.operator!);
        expect(of("login").map((r) => r.identity)).toEqual(expected.map((o) => o.keyId));
        for (const r of of("login")) {
            const op = ops.find((o) => o.keyId === r.identity)!;
            expect(r).toMatchObject({ stack: STACK, host: "bastion", user: a.plan.jumpUser, sourceIp: "203.0.113.10" });
            expect(r.serial).toBe(String(op.serial));
            expect(r.fingerprint).toBe(op.fingerprint);
        }
        expect(new Set(of("login").map((r) => r.identity)).size).toBe(10);
    });

    it("one forward per ssh, scp -J and tunnel connection: identity, source, destination, target, duration", () => {
        expect(of("forward").map((r) => [r.identity, r.destination])).toEqual(expectedForwards());
        for (const r of of("forward")) {
            const login = of("login").find((l) => l.session === r.session)!;
            expect(r).toMatchObject({ sourceIp: login.sourceIp, sourcePort: login.sourcePort, user: login.user });
            expect(r.target).toBe(nameOf(r.destination!));
            expect(r.durationSeconds).toBeGreaterThan(0);
            expect(Date.parse(r.end!)).toBeGreaterThanOrEqual(Date.parse(r.start!));
        }
        const withBytes = of("forward").filter((r) => r.bytesSent !== undefined).length;
        console.log(`audit lab: ${withBytes} of ${of("forward").length} forwards carry sshd's byte count`);
    });

    it("the two refused -W forwards, with what was asked", () => {
        expect(of("refused").map((r) => [r.identity, r.destination])).toEqual([
            [ops[2]!.keyId, `${ipOf("app-1")}:8081`],
            [ops[3]!.keyId, "10.42.0.99:5432"],
        ]);
    });

    it("the brute force: one auth-failure per attempt, then the ban; and nothing else", () => {
        const hostileLines = () =>
            labExec(bastion(), "journalctl", ["--no-pager", "-u", "ssh.service", "-o", "short-iso"])
                .stdout.split("\n")
                .filter((l) => l.includes(day.hostileIp))
                .join("\n");
        expect(failedAttempts()).toBeGreaterThanOrEqual(2);
        expect(failedAttempts()).toBeLessThanOrEqual(MAX_RETRY);
        expect(of("auth-failure"), hostileLines()).toHaveLength(failedAttempts());
        for (const r of of("auth-failure"))
            expect(r, `${JSON.stringify(r)}\n${hostileLines()}`).toMatchObject({
                sourceIp: day.hostileIp,
                user: a.plan.jumpUser,
            });
        expect(of("ban")).toEqual([expect.objectContaining({ sourceIp: day.hostileIp, reason: "sshd" })]);
        const operatorConnections = day.connections.filter((c) => c.operator).length;
        expect(events(records)).toHaveLength(
            operatorConnections + expectedForwards().length + 2 + failedAttempts() + 1,
        );
    });

    it("writes a heartbeat when it starts (then every 5 minutes)", () => {
        const beats = labHostRecords(bastion(), new Date(state.createdAt)).filter((r) => r.event === "heartbeat");
        expect(beats.length).toBeGreaterThanOrEqual(1);
        expect(beats[0]).toMatchObject({ v: 1, stack: STACK, host: "bastion" });
    });

    it("jumpgate-ssh audit prints the day's sessions, filtered by operator and target", () => {
        const audit = (...args: string[]) =>
            spawnSync(
                "npx",
                ["--offline", "jumpgate-ssh", "audit", "--stack", STACK, "--lab-dir", dir, "--since", "30m", ...args],
                { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
            );
        const all = audit();
        expect(all.status, all.stderr).toBe(0);
        const rows = all.stdout.trim().split("\n");
        expect(rows[0]).toMatch(/^IDENTITY\s+TARGET\s+START\s+DURATION\s+RESULT\s+SOURCE$/);
        expect(rows.filter((r) => /\sok\s/.test(r))).toHaveLength(expectedForwards().length);
        expect(rows.filter((r) => /\srefused\s/.test(r))).toHaveLength(2);
        expect(rows.filter((r) => /\sauth failed\s/.test(r))).toHaveLength(failedAttempts());
        expect(rows.filter((r) => /\sbanned \(sshd\)\s/.test(r))).toHaveLength(1);
        const op03 = audit("--operator", "op03").stdout.trim().split("\n").slice(1);
        expect(op03).toEqual([
            expect.stringMatching(/^jumpgate-au:op03\s+app-1\s+\S+Z\s+\d+\.\ds\s+ok\s+203\.0\.113\.10$/),
            expect.stringMatching(/^jumpgate-au:op03\s+10\.42\.128\.10:8081\s+\S+Z\s+-\s+refused\s+203\.0\.113\.10$/),
        ]);
        const db = audit("--target", "db-1").stdout.trim().split("\n").slice(1);
        expect(db).toHaveLength(expectedForwards().filter(([, d]) => d === `${ipOf("db-1")}:22`).length);
    }, 120_000);

    it("the agent's journald input, as cloud-init wrote it, selects sshd, fail2ban and every record, nothing else", async () => {
        // An unrelated unit's line (a cron job's), beside whatever systemd-logind and cloud-init logged since boot.
        const cron = ["--unit=jumpgate-lab-cron", "-p", "SyslogIdentifier=CRON", "--wait", "--quiet"];
        labExec(bastion(), "systemd-run", [...cron, "echo", "(root) CMD (run-parts /etc/cron.hourly)"]);
        await sleep(1_000);
        const { all, shipped, args } = journalAndShipped(bastion(), new Date(state.createdAt), new Date());
        const field = (e: JournalEntry, k: string) => e.fields[k] as string | undefined;
        const shouldShip = (e: JournalEntry) =>
            field(e, "PRIORITY") !== undefined &&
            Number(field(e, "PRIORITY")) <= 6 &&
            (["ssh.service", "fail2ban.service"].includes(field(e, "_SYSTEMD_UNIT") ?? "") ||
                ["sshd", "sshd-session"].includes(field(e, "_COMM") ?? "") ||
                field(e, "SYSLOG_IDENTIFIER") === "jumpgate-audit");
        const cursors = (es: JournalEntry[]) => es.map((e) => field(e, "__CURSOR"));
        expect(cursors(shipped), `journalctl ${args.join(" ")}`).toEqual(cursors(all.filter(shouldShip)));
        const shippedRecords = shipped.map((e) => parseAuditRecord(String(field(e, "MESSAGE"))));
        expect(records.length).toBeGreaterThan(0);
        expect(shippedRecords).toEqual(expect.arrayContaining(records));
        const unit = (es: JournalEntry[], u: string) => es.filter((e) => field(e, "_SYSTEMD_UNIT") === u);
        expect(unit(shipped, "ssh.service").length).toBeGreaterThan(0);
        expect(shipped.filter((e) => field(e, "_COMM") === "sshd-session").length).toBeGreaterThan(0);
        expect(unit(all, "jumpgate-lab-cron.service").length).toBeGreaterThan(0);
        for (const u of ["jumpgate-lab-cron.service", "systemd-logind.service", "cron.service"])
            expect(unit(shipped, u)).toEqual([]);
        console.log(
            `audit lab: the agent's selection (journalctl ${args.join(" ")}) ships ${shipped.length} of ` +
                `${all.length} entries since boot: ssh.service ${unit(shipped, "ssh.service").length}, ` +
                `fail2ban.service ${unit(shipped, "fail2ban.service").length}, systemd-logind left out ` +
                `${unit(all, "systemd-logind.service").length}`,
        );
    }, 60_000);

    it("measures what the day ships: entries and bytes per connection, on every host", () => {
        // Heartbeats are priced per host and hour, not per connection: left out here.
        const isHeartbeat = (e: JournalEntry) =>
            parseAuditRecord(String(e.fields.MESSAGE ?? ""))?.event === "heartbeat";
        const perHost = state.hosts.map((h) => {
            const { shipped } = journalAndShipped(h, day.start, new Date());
            return { name: h.name, entries: shipped.filter((e) => !isHeartbeat(e)) };
        });
        const entries = perHost.flatMap((h) => h.entries);
        const bytes = entries.reduce((sum, e) => sum + e.bytes, 0);
        const messageBytes = entries.reduce((sum, e) => sum + Buffer.byteLength(String(e.fields.MESSAGE ?? "")), 0);
        const connections = day.connections.length;
        expect(perHost.find((h) => h.name === "bastion")!.entries.length).toBeGreaterThan(connections);
        for (const h of perHost.filter((x) => x.name !== "bastion")) expect(h.entries.length).toBeGreaterThan(0);
        // The cost table rests on these figures (offline/prices.json): within 10%, or it must be measured again.
        const drift = (measured: number, priced: number) => Math.abs(measured / priced - 1);
        const priced = PRICES.assumptions;
        expect(drift(entries.length / connections, priced.auditEntriesPerConnection.value)).toBeLessThan(0.1);
        expect(drift(bytes / entries.length, priced.auditEntryBytes.value)).toBeLessThan(0.1);
        console.log(
            `audit lab: shipped volume over ${connections} connections: ${entries.length} entries ` +
                `(${perHost.map((h) => `${h.name} ${h.entries.length}`).join(", ")}), ` +
                `${(entries.length / connections).toFixed(2)} per connection; ${bytes} bytes of journalctl -o json ` +
                `(${Math.round(bytes / entries.length)} an entry, ${Math.round(bytes / connections)} per connection), ` +
                `MESSAGE alone ${Math.round(messageBytes / entries.length)} an entry`,
        );
    }, 60_000);

    it("a restart of the builder writes no record twice, and the next connection is recorded", async () => {
        labExec(bastion(), "systemctl", ["restart", "jumpgate-audit.service"]);
        await sleep(3_000);
        const before = events(labHostRecords(bastion(), day.start));
        // No record twice; every record of the day still there. A record may be new since the day was read
        // (a forward closed inside a multiplexed session is written up to a minute later), so no exact count.
        const key = (r: AuditRecord) => JSON.stringify(r);
        const extra = before.filter((r) => !events(records).some((d) => key(d) === key(r)));
        if (extra.length > 0)
            console.log(`audit lab: records written since the day was read: ${extra.map(key).join(" ")}`);
        expect(new Set(before.map(key)).size).toBe(before.length);
        expect(before.map(key)).toEqual(expect.arrayContaining(events(records).map(key)));
        const op = ops[5]!;
        const ssh = (args: string[]) =>
            runIn(state.clientNs, "ssh", ["-F", op.config, "-o", "BatchMode=yes", ...args], {
                check: false,
                timeoutMs: 30_000,
                env: { PATH: process.env.PATH },
            });
        const r = ssh([`${STACK}-app-1`, "true"]);
        expect(r.status, r.stderr).toBe(0);
        // The jump leg is a control master that would persist for 10 minutes: close it, so the session ends.
        ssh(["-O", "exit", `${STACK}-bastion`]);
        const after = await waitFor(
            "the new connection's records",
            20_000,
            () => {
                const rs = events(labHostRecords(bastion(), day.start));
                return rs.length >= before.length + 2 ? rs : false;
            },
            500,
        );
        expect(after.slice(before.length).map((x) => [x.event, x.identity, x.target])).toEqual([
            ["login", op.keyId, undefined],
            ["forward", op.keyId, "app-1"],
        ]);
    }, 60_000);
});
