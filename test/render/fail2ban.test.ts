// The rendered jail.local, proven with the real fail2ban 1.0.2 tools: the jail is taken out of the
// rendered #cloud-config document, dropped into a copy of /etc/fail2ban, and checked with
// `fail2ban-client -t` / `-d` (the effective jail) and `fail2ban-regex` (what the sshd filter bans).
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import {
    FAIL2BAN_JAIL_PATH,
    FAIL2BAN_LOG_PATH,
    UBUNTU_FAIL2BAN_MIN_VERSION,
    fail2banSetupCommands,
    renderFail2banJail,
} from "../../components/render/fail2ban";
import { sampleBastionSpec, sampleFail2ban, sampleTargetSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

const TIMEOUT_MS = 30_000;

/** Realistic OpenSSH 9.x failures, one source address each (syslog form, as journald/rsyslog show them). */
const FAILURES: { ip: string; what: string; lines: string[] }[] = [
    {
        ip: "198.51.100.7",
        what: "invalid user",
        lines: [
            "Invalid user admin from 198.51.100.7 port 51234",
            "Connection closed by invalid user admin 198.51.100.7 port 51234 [preauth]",
        ],
    },
    {
        ip: "198.51.100.8",
        what: "failed publickey, then closed while authenticating",
        lines: [
            "Failed publickey for jump from 198.51.100.8 port 40022 ssh2: ED25519 SHA256:OjPly8zynbBeISao/eMxSlm/K0M9TXHxDxgHhNXryrU",
            "Connection closed by authenticating user jump 198.51.100.8 port 40022 [preauth]",
        ],
    },
    {
        ip: "198.51.100.9",
        what: "maximum authentication attempts exceeded",
        lines: [
            "error: maximum authentication attempts exceeded for root from 198.51.100.9 port 50000 ssh2 [preauth]",
            "Disconnecting authenticating user root 198.51.100.9 port 50000: Too many authentication failures [preauth]",
        ],
    },
    {
        ip: "198.51.100.10",
        what: "banner exchange: invalid format",
        lines: ["banner exchange: Connection from 198.51.100.10 port 44444: invalid format"],
    },
    {
        ip: "198.51.100.11",
        what: "kex_exchange_identification (scanner hangs up before the banner)",
        lines: [
            "error: kex_exchange_identification: Connection closed by remote host",
            "Connection closed by 198.51.100.11 port 33333",
        ],
    },
    {
        ip: "198.51.100.12",
        what: "not in AllowGroups",
        lines: ["User root from 198.51.100.12 not allowed because none of user's groups are listed in AllowGroups"],
    },
    {
        ip: "198.51.100.13",
        what: "no matching key exchange",
        lines: [
            "Unable to negotiate with 198.51.100.13 port 5555: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
        ],
    },
    {
        ip: "198.51.100.14",
        what: "disconnected while authenticating",
        lines: ["Disconnected from authenticating user jump 198.51.100.14 port 22222 [preauth]"],
    },
];
/** The operator's own successful login: never a failure. */
const SUCCESS = {
    ip: "203.0.113.5",
    lines: [
        "Accepted publickey for jump from 203.0.113.5 port 50001 ssh2: ED25519 SHA256:OjPly8zynbBeISao/eMxSlm/K0M9TXHxDxgHhNXryrU",
    ],
};

describe("jail.local text", () => {
    it("ignores only loopback by default, and adds configured addresses without repeating loopback", () => {
        expect(renderFail2banJail(sampleFail2ban, 22, "debian-12")).toMatch(/^ignoreip = 127\.0\.0\.1\/8 ::1$/m);
        const extra = renderFail2banJail({ ...sampleFail2ban, ignoreIps: ["::1", "10.0.0.0/16"] }, 22, "debian-12");
        expect(extra).toMatch(/^ignoreip = 127\.0\.0\.1\/8 ::1 10\.0\.0\.0\/16$/m);
    });

    it("ignores the hop in front (every jail, recidive too), once, before the configured addresses", () => {
        const jail = renderFail2banJail(
            { ...sampleFail2ban, ignoreIps: ["10.0.64.10", "198.51.100.0/24"] },
            22,
            "debian-12",
            ["10.0.0.0/24", "10.0.64.10"],
        );
        expect(jail).toMatch(/^ignoreip = 127\.0\.0\.1\/8 ::1 10\.0\.0\.0\/24 10\.0\.64\.10 198\.51\.100\.0\/24$/m);
        // [DEFAULT] is the only place it is set, so no jail overrides it.
        expect(jail.match(/^ignoreip/gm)).toHaveLength(1);
        expect(jail.indexOf("ignoreip")).toBeLessThan(jail.indexOf("[sshd]"));
        expect(() => renderFail2banJail(sampleFail2ban, 22, "debian-12", ["10.0.0.0/24 #"])).toThrow(/hopAddresses/);
    });

    it("refuses settings fail2ban would misread", () => {
        expect(() => renderFail2banJail({ ...sampleFail2ban, banTimeMaxSeconds: 10 }, 22, "debian-12")).toThrow(
            /banTimeMaxSeconds/,
        );
        expect(() => renderFail2banJail({ ...sampleFail2ban, maxRetry: 0 }, 22, "debian-12")).toThrow(/maxRetry/);
        expect(() => renderFail2banJail({ ...sampleFail2ban, ignoreIps: ["1.2.3.4 # x"] }, 22, "debian-12")).toThrow(
            /ignoreIps/,
        );
    });
});

describe.runIf(toolsAvailable("fail2ban-client", "fail2ban-regex", "python3"))(
    "fail2ban with the rendered jail",
    () => {
        let work: string;
        let createdLog = false;
        const bastionSpec = sampleBastionSpec({
            sshPort: 2222,
            fail2ban: { ...sampleFail2ban, ignoreIps: ["203.0.113.0/24"] },
        });
        const docs = {
            bastion: renderBastionCloudInit(bastionSpec),
            bastionUbuntu: renderBastionCloudInit({ ...bastionSpec, os: "ubuntu-24.04" }),
            bastionDebian13: renderBastionCloudInit({ ...bastionSpec, os: "debian-13" }),
            target: renderTargetCloudInit(sampleTargetSpec()),
            innerHop: renderBastionCloudInit({ ...bastionSpec, sshPort: 22, hopAddresses: ["10.0.0.0/24"] }),
        };

        beforeAll(() => {
            work = mkdtempSync(join(tmpdir(), "jgt-f2b-"));
            // The recidive jail needs fail2ban's log to exist, as it does once fail2ban has started once.
            if (!existsSync(FAIL2BAN_LOG_PATH)) {
                mkdirSync(join(FAIL2BAN_LOG_PATH, ".."), { recursive: true });
                writeFileSync(FAIL2BAN_LOG_PATH, "");
                chmodSync(FAIL2BAN_LOG_PATH, 0o640);
                createdLog = true;
            }
        });
        afterAll(() => {
            if (work) rmSync(work, { recursive: true, force: true });
            if (createdLog) rmSync(FAIL2BAN_LOG_PATH, { force: true });
        });

        /** A copy of /etc/fail2ban with the document's jail.local in it. */
        function configDir(name: string, doc: string): string {
            const dir = join(work, name);
            cpSync("/etc/fail2ban", dir, { recursive: true });
            writeFileSync(join(dir, "jail.local"), fileAt(parseCloudConfig(doc), FAIL2BAN_JAIL_PATH));
            return dir;
        }

        /** `fail2ban-client -d`: the command stream the server would get, parsed from Python literals. */
        function dump(dir: string): unknown[][] {
            const d = spawnSync("fail2ban-client", ["-c", dir, "-d"], { encoding: "utf8", timeout: TIMEOUT_MS });
            expect(d.status).toBe(0);
            const py =
                "import ast,json,sys\nprint(json.dumps([ast.literal_eval(l) for l in sys.stdin if l.startswith('[')]))";
            const j = spawnSync("python3", ["-c", py], { input: d.stdout, encoding: "utf8", timeout: TIMEOUT_MS });
            expect(j.status).toBe(0);
            return JSON.parse(j.stdout) as unknown[][];
        }

        const setOf = (cmds: unknown[][], jail: string, key: string) =>
            cmds.find((c) => c[0] === "set" && c[1] === jail && c[2] === key)?.slice(3);

        it("fail2ban-client -t accepts every rendered jail (bastion Debian, bastion Ubuntu, target, inner hop)", () => {
            for (const [name, doc] of Object.entries(docs)) {
                const r = spawnSync("fail2ban-client", ["-c", configDir(`t-${name}`, doc), "-t"], {
                    encoding: "utf8",
                    timeout: TIMEOUT_MS,
                });
                expect(r.stdout + r.stderr, name).toContain("OK: configuration test is successful");
                expect(r.status, name).toBe(0);
            }
        });

        it("the effective sshd jail: journal backend, aggressive filter, nftables on the SSH port, growing bans", () => {
            const cmds = dump(configDir("d-bastion", docs.bastion));
            const f = bastionSpec.fail2ban;
            expect(cmds).toContainEqual(["add", "sshd", "systemd"]);
            expect(setOf(cmds, "sshd", "maxretry")).toEqual([f.maxRetry]);
            expect(setOf(cmds, "sshd", "findtime")).toEqual([String(f.findTimeSeconds)]);
            expect(setOf(cmds, "sshd", "bantime")).toEqual([String(f.banTimeSeconds)]);
            expect(setOf(cmds, "sshd", "bantime.increment")).toEqual([true]);
            expect(setOf(cmds, "sshd", "bantime.maxtime")).toEqual([String(f.banTimeMaxSeconds)]);
            expect(setOf(cmds, "sshd", "addignoreip")).toEqual(["127.0.0.1/8", "::1", "203.0.113.0/24"]);
            expect(setOf(cmds, "sshd", "addaction")).toEqual(["nftables-multiport"]);
            const action = cmds.find((c) => c[0] === "multi-set" && c[1] === "sshd" && c[2] === "action");
            expect(action?.[4]).toContainEqual(["port", String(bastionSpec.sshPort)]);
            // Aggressive = normal + ddos (banner/kex errors) + extra (negotiation failures).
            const regexes = cmds.find(
                (c) => c[0] === "multi-set" && c[1] === "sshd" && c[2] === "addfailregex",
            )?.[3] as string[];
            expect(regexes.some((r) => r.includes("banner exchange"))).toBe(true);
            expect(regexes.some((r) => r.includes("Unable to negotiate"))).toBe(true);
            expect(regexes.some((r) => r.includes("maximum authentication attempts exceeded"))).toBe(true);
        });

        it("the sshd jail reads ssh.service's, sshd's and sshd-session's journal entries on every OS", () => {
            for (const [name, doc] of Object.entries(docs)) {
                const cmds = dump(configDir(`j-${name}`, doc));
                // `+` separates alternatives: any of the three matches.
                expect(setOf(cmds, "sshd", "addjournalmatch"), name).toEqual([
                    "_SYSTEMD_UNIT=ssh.service",
                    "+",
                    "_COMM=sshd",
                    "+",
                    "_COMM=sshd-session",
                ]);
            }
        });

        it("the recidive jail reads fail2ban's own log and bans on all ports up to the ceiling", () => {
            const cmds = dump(configDir("d-recidive", docs.bastion));
            expect(cmds).toContainEqual(["add", "recidive", "auto"]);
            expect(setOf(cmds, "recidive", "addlogpath")).toEqual([FAIL2BAN_LOG_PATH, "head"]);
            expect(setOf(cmds, "recidive", "addaction")).toEqual(["nftables-allports"]);
            expect(setOf(cmds, "recidive", "bantime")).toEqual([String(bastionSpec.fail2ban.banTimeMaxSeconds)]);
        });

        it("a target and an inner hop never ban the hop in front (sshd and recidive); the outer bastion ignores no hop", () => {
            const hop = sampleTargetSpec().hopAddresses[0];
            const expected = [
                ["target", docs.target, ["127.0.0.1/8", "::1", hop]],
                ["inner", docs.innerHop, ["127.0.0.1/8", "::1", hop, "203.0.113.0/24"]],
            ] as const;
            for (const [name, doc, ignored] of expected) {
                const cmds = dump(configDir(`d-hop-${name}`, doc));
                expect(setOf(cmds, "sshd", "addignoreip"), name).toEqual(ignored);
                expect(setOf(cmds, "recidive", "addignoreip"), name).toEqual(ignored);
            }
            const outer = dump(configDir("d-hop-outer", docs.bastion));
            expect(setOf(outer, "sshd", "addignoreip")).toEqual(["127.0.0.1/8", "::1", "203.0.113.0/24"]);
            expect(setOf(outer, "recidive", "addignoreip")).toEqual(["127.0.0.1/8", "::1", "203.0.113.0/24"]);
        });

        it("the target's jail watches port 22", () => {
            const cmds = dump(configDir("d-target", docs.target));
            const action = cmds.find((c) => c[0] === "multi-set" && c[1] === "sshd" && c[2] === "action");
            expect(action?.[4]).toContainEqual(["port", "22"]);
        });

        /** Source addresses fail2ban-regex reports as failures for `filter` over the sample log. */
        function failures(filter: string): string[] {
            const log = join(work, "sshd.log");
            const lines = [
                ...FAILURES.flatMap((f) => f.lines.map((l) => ({ l, pid: 1000 + FAILURES.indexOf(f) }))),
                ...SUCCESS.lines.map((l) => ({ l, pid: 2000 })),
            ];
            writeFileSync(
                log,
                lines
                    .map(
                        ({ l, pid }, i) =>
                            `2026-11-20T10:00:${String(i).padStart(2, "0")}.123456+00:00 bastion sshd[${pid}]: ${l}\n`,
                    )
                    .join(""),
            );
            const r = spawnSync("fail2ban-regex", ["--out", "ip", log, filter], {
                encoding: "utf8",
                timeout: TIMEOUT_MS,
            });
            expect(r.status).toBe(0);
            return r.stdout
                .split("\n")
                .map((s) => s.trim())
                .filter(Boolean);
        }

        it("fail2ban-regex in the rendered mode flags every realistic failure and not the operator's login", () => {
            const jail = fileAt(parseCloudConfig(docs.bastion), FAIL2BAN_JAIL_PATH);
            const mode = jail.match(/^\[sshd\][^[]*?^mode\s*=\s*(\S+)/m)?.[1];
            expect(mode).toBe("aggressive");
            const hits = failures(`sshd[mode=${mode}]`);
            for (const f of FAILURES) expect(hits, f.what).toContain(f.ip);
            expect(hits).not.toContain(SUCCESS.ip);
            // invalid user counts twice (the attempt and its preauth close); every other group once.
            expect(hits).toHaveLength(FAILURES.length + 1);
            // The default mode would let most of these through: the mode is what makes the difference.
            expect(failures("sshd[mode=normal]").length).toBeLessThan(FAILURES.length);
        });
    },
);

describe.runIf(toolsAvailable("dpkg", "sh"))("Ubuntu 24.04 fail2ban guard", () => {
    let bin: string;
    beforeAll(() => {
        bin = mkdtempSync(join(tmpdir(), "jgt-guard-"));
    });
    afterAll(() => {
        if (bin) rmSync(bin, { recursive: true, force: true });
    });

    /** Runs the rendered guard with a stub dpkg-query (reporting `version`) and a stub apt-get; real dpkg compares. */
    function guard(version: string): { aptCalled: boolean; stderr: string } {
        writeFileSync(join(bin, "dpkg-query"), `#!/bin/sh\nprintf '%s' '${version}'\n`, { mode: 0o755 });
        writeFileSync(join(bin, "apt-get"), `#!/bin/sh\necho "apt-get $*" >> "${bin}/apt.log"\n`, { mode: 0o755 });
        rmSync(join(bin, "apt.log"), { force: true });
        const cmds = fail2banSetupCommands("ubuntu-24.04").filter((c): c is string => typeof c === "string");
        expect(cmds.length).toBeGreaterThan(0);
        let stderr = "";
        for (const c of cmds) {
            const r = spawnSync("sh", ["-c", c], {
                encoding: "utf8",
                timeout: TIMEOUT_MS,
                env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
            });
            expect(r.status, c).toBe(0);
            stderr += r.stderr;
        }
        return { aptCalled: existsSync(join(bin, "apt.log")), stderr };
    }

    it("upgrades the broken release build from noble-updates, leaves fixed builds alone", () => {
        expect(guard("1.0.2-3").aptCalled).toBe(true);
        expect(guard("1.0.2-3").stderr).toContain(UBUNTU_FAIL2BAN_MIN_VERSION);
        for (const ok of [UBUNTU_FAIL2BAN_MIN_VERSION, "1.0.2-3ubuntu0.2", "1.1.0-1"]) {
            expect(guard(ok), ok).toEqual({ aptCalled: false, stderr: "" });
        }
    });

    it("is Ubuntu only, and every OS makes sure the recidive log exists", () => {
        expect(fail2banSetupCommands("debian-12")).toEqual([["touch", FAIL2BAN_LOG_PATH]]);
        expect(fail2banSetupCommands("ubuntu-24.04")).toContainEqual(["touch", FAIL2BAN_LOG_PATH]);
    });
});
