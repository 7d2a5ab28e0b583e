// `jumpgate-ssh audit` on the records of the lab's scripted day: the captured Debian 13 bastion journal
// (test/fixtures/audit) run through the rendered record builder, then the command's filters and table.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    filterRecords,
    parseAuditRecord,
    parseSince,
    runAudit,
    type AuditQuery,
    type AuditSource,
} from "../../cli/audit";
import { main } from "../../cli/jumpgate-ssh";
import type { AuditRecord } from "../../components/render/auditRecord";
import { replayAuditDay } from "../helpers/auditDay";
import { toolsAvailable } from "../helpers/tools";

const TARGETS = [
    { name: "app-1", privateIp: "10.42.128.10", port: 22 },
    { name: "db-1", privateIp: "10.42.192.10", port: 22 },
];

describe.runIf(toolsAvailable("python3"))("jumpgate-ssh audit on the lab day's records", () => {
    let dir = "";
    let records: AuditRecord[] = [];
    const since = new Date("2026-11-30T00:00:00Z");
    const q = (extra: Partial<AuditQuery> = {}): AuditQuery => ({ stack: "au", since, ...extra });
    const run = async (args: Record<string, string>, source: AuditSource) => {
        let out = "";
        let err = "";
        const status = await runAudit(
            { stack: "au", since: since.toISOString(), ...args },
            { now: new Date("2026-11-30T14:00:00Z"), cwd: dir, out: (s) => (out += s), err: (s) => (err += s) },
            { lab: () => source, cloudwatch: undefined },
        );
        return { status, out, err };
    };

    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "jg-audit-cli-"));
        records = replayAuditDay(dir, { stack: "au", host: "bastion" }, TARGETS).map((l) => parseAuditRecord(l)!);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("reads only records of this format version", () => {
        expect(records.every((r) => r !== undefined)).toBe(true);
        expect(parseAuditRecord(JSON.stringify({ ...records[0], v: 2 }))).toBeUndefined();
        expect(parseAuditRecord("Accepted publickey for jump")).toBeUndefined();
        expect(parseAuditRecord(JSON.stringify({ ...records[0], event: "shell" }))).toBeUndefined();
    });

    it("filters by operator (key ID or the name in it), target (name or ip:port) and time", () => {
        const op03 = filterRecords(records, q({ operator: "op03" }));
        expect(op03.map((r) => [r.event, r.target ?? r.destination])).toEqual([
            ["login", undefined],
            ["forward", "app-1"],
            ["login", undefined],
            ["refused", "10.42.128.10:8081"],
        ]);
        expect(filterRecords(records, q({ operator: "jumpgate-au:op03" }))).toEqual(op03);
        const db = filterRecords(records, q({ target: "db-1" }));
        expect(db.every((r) => r.event === "forward" && r.destination === "10.42.192.10:22")).toBe(true);
        expect(filterRecords(records, q({ target: "10.42.192.10:22" }))).toEqual(db);
        expect(db).toHaveLength(6);
        const after = records.find((r) => r.event === "ban")!.time;
        expect(filterRecords(records, q({ since: new Date(Date.parse(after) + 1) }))).toEqual([]);
    });

    it("prints one row per forward, refusal, failure and ban: identity, target, start, duration, result", async () => {
        const { status, out } = await run({}, async () => records);
        expect(status).toBe(0);
        const rows = out.trim().split("\n");
        expect(rows[0]).toMatch(/^IDENTITY\s+TARGET\s+START\s+DURATION\s+RESULT\s+SOURCE$/);
        expect(rows.slice(1)).toHaveLength(13 + 2 + 3 + 1);
        expect(rows[1]).toMatch(
            /^jumpgate-au:op01\s+app-1\s+2026-11-30T\d\d:\d\d:\d\dZ\s+0\.\ds\s+ok\s+203\.0\.113\.10$/,
        );
        expect(rows.filter((r) => /\srefused\s/.test(r))).toHaveLength(2);
        expect(
            rows.filter((r) => /^key SHA256:\S+\s+-\s+\S+\s+-\s+auth failed\s+203\.0\.113\.66$/.test(r)),
        ).toHaveLength(3);
        expect(rows.at(-1)).toMatch(/^-\s+-\s+\S+\s+-\s+banned \(sshd\)\s+203\.0\.113\.66$/);
        // Columns line up.
        const start = rows[0]!.indexOf("START");
        expect(rows.every((r) => r.slice(start - 2, start) === "  ")).toBe(true);
    });

    it("asks the source for the stack and the time, and reports a source's error without a stack trace", async () => {
        let asked: AuditQuery | undefined;
        await run({ operator: "op05" }, async (query) => {
            asked = query;
            return records;
        });
        expect(asked).toEqual({ stack: "au", since, operator: "op05" });
        const { status, err } = await run({}, async () => {
            const { CliError } = await import("../../cli/outputs");
            throw new CliError("no lab in /x: start it with npm run lab -- up --stack au");
        });
        expect(status).toBe(1);
        expect(err).toBe("jumpgate-ssh audit: no lab in /x: start it with npm run lab -- up --stack au\n");
    });

    it("names the sources that exist", async () => {
        const bad = await run({ source: "s3" }, async () => records);
        expect(bad.err).toContain("--source s3: use lab or cloudwatch");
    });
});

describe("the audit command's flags", () => {
    it("parses --since as a duration or an ISO time, and refuses anything else", () => {
        const now = new Date("2026-11-30T14:00:00Z");
        expect(parseSince("90m", now).toISOString()).toBe("2026-11-30T12:30:00.000Z");
        expect(parseSince("2d", now).toISOString()).toBe("2026-11-28T14:00:00.000Z");
        expect(parseSince("2026-11-30T09:00:00Z", now).toISOString()).toBe("2026-11-30T09:00:00.000Z");
        expect(() => parseSince("yesterday", now)).toThrow(/--since "yesterday": use 30m, 1h, 2d or an ISO time/);
    });

    it("is a command of jumpgate-ssh, refuses other commands' options and needs --stack", async () => {
        let err = "";
        const io = {
            out: () => undefined,
            err: (s: string) => (err += s),
            env: {},
            readStdin: () => "",
            runPulumi: () => ({ status: 1, stdout: "", stderr: "" }),
            sshVersionText: () => undefined,
            passwdHome: () => "/nonexistent",
            uid: () => 0,
            now: () => new Date(),
        };
        expect(await main(["audit", "--force", "--stack", "au"], io)).toBe(2);
        expect(err).toContain("--force: not an option of audit");
        err = "";
        expect(await main(["audit"], io)).toBe(2);
        expect(err).toContain("--stack is required");
        err = "";
        expect(await main(["install", "--since", "1h"], io)).toBe(2);
        expect(err).toContain("--since: not an option of install");
    });
});
