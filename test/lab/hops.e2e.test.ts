// One teammate must not lock everyone out of a target. Every connection reaches a target from the
// bastion's private address, so the target's sshd and fail2ban see the whole team as one source. Stood up
// for real (namespaces, sshd, fail2ban, nftables): a teammate holding many channels open and failing to
// log in with a wrong key leaves another operator's access to that target intact.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIn, waitFor, type RunResult } from "../../lab/exec";
import { labExec, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import {
    bannedBy,
    fail2banLog,
    fail2banOn,
    holdChannel,
    jailsOn,
    tearDownLab,
    programLabPlan,
    sshdJournal,
    teammateSshConfig,
} from "../helpers/labFixture";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "hp";
/** Channels one teammate holds open before authenticating: more than the old per-source limit of 5. */
const HELD_CHANNELS = 8;
/** What "normal time" means for one fresh connection through the bastion in the lab (measured ~1 s). */
const NORMAL_CONNECT_MS = 8_000;
const gate = toolsAvailable("sshd", "ssh", "nft", "ip", "fail2ban-client", "unshare", "ss") && isRootOrFail();

describe.runIf(gate)("lab: one teammate cannot lock the others out of a target", () => {
    let plan: LabPlan;
    let state: LabState;
    let dir = "";
    /** The teammate's files, outside the lab dir (whose teardown must leave nothing). */
    let scratch = "";
    /** The teammate's ssh_config: own control socket, and a key the target does not know. */
    let teammateConfig = "";
    const held: ChildProcess[] = [];
    const timings: Record<string, number> = {};
    const env = { PATH: process.env.PATH };

    const target = (): LabHostState => state.hosts.find((h) => h.role === "target")!;
    const bastion = (): LabHostState => state.hosts.find((h) => h.role === "bastion")!;
    const teammateNs = () => state.topology.peers.find((p) => p.role === "hostile")!.ns;
    const alias = () => `${STACK}-${target().name}`;
    const f2b = (args: string[]) => fail2banOn(target(), args);
    /** Addresses the target's fail2ban has banned, by its own report and in its nftables sets. */
    const targetBans = () => {
        const jails = jailsOn(target());
        const reported = jails.flatMap((j) => bannedBy(target(), j));
        // fail2ban creates a jail's set with its first ban: no set, no ban.
        const sets = jails.map((j) =>
            // The host's own nft (this machine's older one cannot always read trixie's fail2ban table).
            labExec(target(), "nft", ["list", "set", "inet", "f2b-table", `addr-set-${j}`], { check: false }),
        );
        return { reported, nft: sets.map((s) => s.stdout).join("\n") };
    };
    /** The operator: a fresh connection (no control master) through the bastion, timed. */
    const operatorConnects = (label: string): RunResult => {
        const t0 = Date.now();
        const res = runIn(
            state.clientNs,
            "ssh",
            ["-F", state.sshConfig, "-o", "BatchMode=yes", "-o", "ControlPath=none", alias(), "hostname"],
            { check: false, timeoutMs: 30_000, env },
        );
        timings[label] = Date.now() - t0;
        return res;
    };
    const teammate = (args: string[], timeoutMs = 20_000): RunResult =>
        runIn(teammateNs(), "ssh", ["-F", teammateConfig, "-o", "BatchMode=yes", ...args], {
            check: false,
            timeoutMs,
            env,
        });

    beforeAll(async () => {
        plan = await programLabPlan({ stack: STACK, config: { "jumpgate:targets": [{ name: "app-1" }] } });
        dir = mkdtempSync("/tmp/jg-lab-hops-");
        scratch = mkdtempSync("/tmp/jg-lab-teammate-");
        state = (await labUp(plan, dir)).state;
        // The teammate reaches the bastion with a valid key but offers the target a key it does not know.
        teammateConfig = teammateSshConfig(state.sshConfig, scratch, [alias()]);
    }, 120_000);

    afterAll(async () => {
        for (const c of held) c.kill("SIGKILL");
        console.log("hops e2e timings (ms):", JSON.stringify(timings));
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("the operator reaches the target, and the target sees the bastion's private address as the source", () => {
        const res = operatorConnects("operator, before");
        expect(res.status, res.stderr).toBe(0);
        expect(res.stdout.trim()).toBe(target().hostname);
        const log = sshdJournal(target());
        expect(log).toMatch(new RegExp(`Accepted publickey for ${plan.loginUser} from ${bastion().privateIp} port`));
        expect(log).not.toMatch(/from 203\.0\.113\./);
    });

    it(`a teammate holding ${HELD_CHANNELS} unauthenticated channels to the target does not block the operator`, async () => {
        // One connection to the bastion (the teammate's control master), many channels through it.
        const master = teammate(["-f", "-N", `${STACK}-bastion`]);
        expect(master.status, master.stderr).toBe(0);
        const openAtTarget = () =>
            runIn(target().ns, "ss", ["-Htn", "state", "established", "( sport = :22 )"])
                .stdout.split("\n")
                .filter(Boolean).length;
        try {
            const channels = await Promise.all(
                Array.from({ length: HELD_CHANNELS }, () =>
                    holdChannel(teammateNs(), teammateConfig, `${STACK}-bastion`, `${target().privateIp}:22`),
                ),
            );
            held.push(...channels.map((c) => c.child));
            const answered = channels.filter((c) => c.banner).length;
            console.log(`held channels the target answered: ${answered} of ${HELD_CHANNELS}`);

            // Within LoginGraceTime (20 s) of opening them, so the held ones still count against the limits.
            const res = operatorConnects("operator, teammate holding channels");
            expect(res.status, res.stderr).toBe(0);
            expect(res.stdout.trim()).toBe(target().hostname);
            expect(timings["operator, teammate holding channels"]).toBeLessThan(NORMAL_CONNECT_MS);
            // The teammate's own channels were all served too, and are still held.
            expect(answered).toBe(HELD_CHANNELS);
            expect(openAtTarget()).toBeGreaterThanOrEqual(HELD_CHANNELS);
        } finally {
            for (const c of held.splice(0)) c.kill("SIGKILL");
            teammate(["-O", "exit", `${STACK}-bastion`]);
            await waitFor("the target to drop the held channels", 15_000, () => openAtTarget() === 0, 250).catch(
                () => undefined,
            );
        }
    }, 60_000);

    it("a teammate failing to log in with a wrong key, more than maxretry times, gets the bastion banned nowhere", async () => {
        const jail = jailsOn(target()).find((j) => /Journal matches:.*ssh\.service/.test(f2b(["status", j]).stdout));
        expect(jail, "the target runs a fail2ban jail on sshd's journal").toBeDefined();
        const maxRetry = Number(f2b(["get", jail!, "maxretry"]).stdout.trim());
        expect(maxRetry).toBeGreaterThan(0);
        const failedBefore = countFailures(sshdJournal(target()), plan.loginUser, bastion().privateIp);
        const f2bLogBefore = fail2banLog(target()).length;
        const attempts = maxRetry + 1;
        const outcomes: string[] = [];
        for (let i = 0; i < attempts; i++) {
            // Bounded: a connection a ban cuts off mid-handshake would hang until LoginGraceTime.
            const res = teammate(["-o", "ConnectTimeout=5", alias(), "true"], 10_000);
            expect(res.status).not.toBe(0);
            outcomes.push(res.stderr.trim().split("\n").pop() ?? `(cut off, status ${res.status})`);
            // fail2ban polls the log: give it the time a person takes to try again.
            await new Promise((r) => setTimeout(r, 500));
        }
        console.log(`teammate's attempts: ${JSON.stringify(outcomes)}`);
        expect(outcomes[0]).toContain(`${plan.loginUser}@${target().privateIp}: Permission denied (publickey)`);
        // Once fail2ban has read the failures (it names the bastion's address either way), nothing is banned.
        await waitFor("fail2ban to read the failures", 15_000, () =>
            fail2banLog(target()).slice(f2bLogBefore).includes(bastion().privateIp),
        );
        const bans = targetBans();
        console.log(f2b(["status", jail!]).stdout, bans.nft);
        const res = operatorConnects("operator, after the teammate's failures");
        expect(res.status, res.stderr).toBe(0);
        expect(res.stdout.trim()).toBe(target().hostname);
        expect(timings["operator, after the teammate's failures"]).toBeLessThan(NORMAL_CONNECT_MS);
        expect(bans.reported).not.toContain(bastion().privateIp);
        expect(bans.nft).not.toContain(bastion().privateIp);
        // Every attempt reached the target's sshd as a failure from the bastion's address; fail2ban ignored them.
        expect(outcomes.every((o) => o.includes("Permission denied (publickey)"))).toBe(true);
        const failed = countFailures(sshdJournal(target()), plan.loginUser, bastion().privateIp) - failedBefore;
        expect(failed).toBeGreaterThanOrEqual(attempts);
        expect(fail2banLog(target()).slice(f2bLogBefore)).toContain(`Ignore ${bastion().privateIp} by ip`);
    }, 90_000);
});

/** `Failed publickey for <user> from <ip>` lines in the target's log. */
function countFailures(journal: string, user: string, ip: string): number {
    return journal.split("\n").filter((l) => l.includes(`Failed publickey for ${user} from ${ip} port`)).length;
}
