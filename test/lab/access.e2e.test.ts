// Team access stood up for real: operators of different roles get certificates from `jumpgate-ssh login`
// (signed with the stack CA secret) and connect through the bastion with the real OpenSSH client. Each
// reaches only its role's targets, sudo only for admin, the logs name the operator; operators come and go
// and certificates are revoked (a KRL through the SSM association) without touching a host (same boot
// id); a 1-minute certificate stops working when it expires; a FIDO2 role takes only PIN-verified FIDO keys
// (OpenSSH's software authenticator, sk-dummy.so, matched to this machine's ssh).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { comparePlans } from "../../offline/compare";
import { toSavedPlan } from "../../offline/planFile";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { REVOKED_KEYS_PATH } from "../../components/render/sshd";
import { runIn, sleep, type RunResult } from "../../lab/exec";
import { labExec, labRunCommands, labUp, type LabHostState, type LabState } from "../../lab/lab";
import type { LabPlan } from "../../lab/model";
import { bootId, programLabPlan, sshdJournal, tearDownLab } from "../helpers/labFixture";
import { plan as offlinePlan, T } from "../helpers/program";
import { inCi, isRootOrFail, toolsAvailable } from "../helpers/tools";

const STACK = "ta";
const BIN = resolve(__dirname, "../../bin/jumpgate-ssh.js");
/** Debian's openssh-tests software authenticator, the same release as this machine's ssh. */
const SK_DUMMY = "/usr/lib/openssh/regress/misc/sk-dummy/sk-dummy.so";
const gate = toolsAvailable("ssh", "ssh-keygen", "ip", "nft", "nsenter", "systemd-nspawn") && isRootOrFail();
if (gate && !existsSync(SK_DUMMY) && inCi) throw new Error(`CI=true and ${SK_DUMMY} is missing (openssh-tests)`);

const ROLES = [
    { name: "app", targets: ["app-*"] },
    { name: "sec", targets: ["db-1"], mfa: "fido2" },
];

describe.runIf(gate)("lab: team access with the stack CA", () => {
    let scratch = "";
    let dir = "";
    let plan: LabPlan;
    let state: LabState;
    const keySeed = `lab-${process.pid}-${Date.now()}-${Math.random()}`;
    const key: Record<string, string> = {};
    const boots = new Map<string, string>();
    const timings: Record<string, number> = {};
    const host = (name: string): LabHostState => state.hosts.find((h) => h.name === name)!;
    const ip = (name: string) => host(name).privateIp;

    const keygen = (name: string, type: "ed25519" | "ed25519-sk", opts: string[] = []): string => {
        const file = join(scratch, name);
        const sk = type === "ed25519-sk" ? ["-w", SK_DUMMY] : [];
        const r = spawnSync("ssh-keygen", ["-q", "-t", type, ...sk, "-N", "", ...opts, "-C", name, "-f", file], {
            input: "",
        });
        if (r.status !== 0) throw new Error(`ssh-keygen ${name}: ${r.stderr}`);
        return file;
    };
    const publicKey = (name: string) => readFileSync(`${key[name]}.pub`, "utf8").trim();
    const operator = (name: string, role: string, keyName = name) => ({
        name,
        role,
        publicKeys: [publicKey(keyName)],
    });
    // The stack CA: the lab has no KMS.
    const teamConfig = (operators: unknown[], revoked?: unknown) => ({
        "jumpgate:userCa": "stack",
        "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
        "jumpgate:roles": ROLES,
        "jumpgate:operators": operators,
        ...(revoked === undefined ? {} : { "jumpgate:revokedCertificates": revoked }),
    });
    // The refusals this suite provokes must not get the operator's address banned (fail2ban has its own tests).
    const labPlan = (config: Record<string, unknown>) =>
        programLabPlan({ stack: STACK, keySeed, config, maxRetry: 100 });

    /** The outputs of the plan last applied, as `pulumi stack output --json --show-secrets` prints them. */
    let current: LabPlan;
    let outputsWritten = 0;
    const outputsFile = (p: LabPlan): string => {
        const file = join(scratch, `outputs-${(outputsWritten += 1)}.json`);
        writeFileSync(file, `${JSON.stringify(p.outputs, null, 2)}\n`, { mode: 0o600 });
        return file;
    };
    /** `npx jumpgate-ssh login` reading the stack's outputs (its stack CA secret among them). */
    const loginRun = (who: string, keyName: string, role: string, extra: string[] = []) =>
        spawnSync(
            process.execPath,
            [BIN, "login", "--stack", STACK, "--from", outputsFile(current), "--identity", key[keyName]!].concat([
                "--operator",
                who,
                "--principal",
                role,
                ...extra,
            ]),
            { encoding: "utf8", env: { ...process.env, HOME: scratch } },
        );
    /** login that must succeed; returns the certificate's serial. */
    const login = (who: string, keyName: string, role: string, extra: string[] = []): string => {
        const r = loginRun(who, keyName, role, extra);
        if (r.status !== 0) throw new Error(`login ${who}: ${r.stderr}`);
        return /serial (\d+)/.exec(r.stdout)![1]!;
    };
    /** A certificate signed by hand with the CA key (ssh-keygen -s), as someone bypassing login would. */
    const signByHand = (who: string, keyName: string, role: string): void => {
        const r = spawnSync(
            "ssh-keygen",
            ["-q", "-s", state.userCaKey!, "-I", `jumpgate-${STACK}:${who}`].concat([
                "-n",
                role,
                "-V",
                "-5m:+1h",
                `${key[keyName]}.pub`,
            ]),
        );
        if (r.status !== 0) throw new Error(`ssh-keygen -s: ${r.stderr}`);
    };

    /** The generated ssh_config with this key and its certificate for every hop, no connection sharing between operators. */
    const configFor = (keyName: string, fido = false): string => {
        const file = join(scratch, `ssh_config-${keyName}`);
        const text = readFileSync(state.sshConfig, "utf8")
            .replace(/^(\s*IdentityFile\s+).*$/gm, `$1${key[keyName]}`)
            .replace(/^(\s*CertificateFile\s+).*$/gm, `$1${key[keyName]}-cert.pub`)
            .replace(/^(\s*ControlMaster\s+).*$/gm, "$1no")
            .replace(/^(\s*ControlPath\s+).*$/gm, "$1none");
        writeFileSync(file, `${fido ? `SecurityKeyProvider ${SK_DUMMY}\n` : ""}${text}`, { mode: 0o600 });
        return file;
    };
    /**
     * ssh from the operator's namespace as `account` on `target`, through the bastion. After a few refused
     * logins from the operator's address, sshd 10's PerSourcePenalties closes its next connections before
     * the key exchange for a while: that is waited out (and counted), so each attempt is judged on its key.
     */
    const sshAs = (keyName: string, account: string, target: string, command: string, fido = false): RunResult => {
        const askpass = join(scratch, "askpass");
        writeFileSync(askpass, "#!/bin/sh\necho 123456\n", { mode: 0o755 });
        const env = { PATH: process.env.PATH, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" };
        const args = ["-F", configFor(keyName, fido), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"];
        const started = Date.now();
        for (;;) {
            const r = runIn(state.clientNs, "ssh", [...args, "-l", account, `${STACK}-${target}`, command], {
                check: false,
                timeoutMs: 30_000,
                env,
            });
            const bastionIp = host("bastion").publicIp!;
            // Penalized: sshd drops the connection before its banner, which the client sees closed or reset.
            const penalized = [`Connection closed by ${bastionIp} port`, `Connection reset by ${bastionIp} port`].some(
                (m) => r.stderr.includes(m),
            );
            if (!penalized) return r;
            if (Date.now() - started > 30_000) {
                const tail = sshdJournal(host("bastion")).split("\n").slice(-25).join("\n");
                throw new Error(`the bastion kept closing connections before the key exchange:\n${r.stderr}\n${tail}`);
            }
            penaltyWaits += 1;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000);
        }
    };
    const journalSince = (name: string, since: number) => sshdJournal(host(name)).slice(since);
    const expectSameBoots = () => {
        for (const [name, id] of boots) expect(bootId(host(name)), `${name}'s boot id`).toBe(id);
    };

    let shortLivedIssuedAt = 0;
    let penaltyWaits = 0;

    beforeAll(async () => {
        scratch = mkdtempSync("/tmp/jg-lab-access-");
        key.alice = keygen("alice", "ed25519");
        key.bob = keygen("bob", "ed25519");
        key.carol = keygen("carol", "ed25519");
        key.brief = keygen("brief", "ed25519");
        key.dave = keygen("dave", "ed25519-sk", ["-O", "verify-required"]);
        key.davenopin = keygen("davenopin", "ed25519-sk");
        key.daveplain = keygen("daveplain", "ed25519");
        plan = await labPlan(
            teamConfig([
                operator("alice", "admin"),
                operator("bob", "app"),
                operator("brief", "app"),
                { name: "dave", role: "sec", publicKeys: [publicKey("dave"), publicKey("davenopin")] },
            ]),
        );
        current = plan;
        dir = mkdtempSync("/tmp/jg-lab-ta-");
        const t0 = Date.now();
        state = (await labUp(plan, dir)).state;
        expect(JSON.parse(readFileSync(state.outputsFile!, "utf8"))).toEqual(plan.outputs);
        timings.up = Date.now() - t0;
        for (const h of state.hosts) boots.set(h.name, bootId(h));
        console.log(`access lab boot ids: ${JSON.stringify(Object.fromEntries(boots))}`);
        // Issued first, checked last: the wait for its expiry overlaps the other tests.
        shortLivedIssuedAt = Date.now();
        login("brief", "brief", "app", ["--valid", "1m"]);
    }, 180_000);

    afterAll(async () => {
        console.log(`access lab timings (ms): ${JSON.stringify(timings)}; PerSourcePenalties waits: ${penaltyWaits}`);
        await tearDownLab(plan?.stack, dir, scratch);
    }, 60_000);

    it("each operator reaches only their role's targets, sudo only for admin, logged with their key ID", () => {
        // The 1-minute certificate works while it is valid (its expiry is checked last).
        expect(sshAs("brief", "ops-app", "app-1", "hostname").stdout.trim()).toBe("app-1");
        expect(Date.now() - shortLivedIssuedAt).toBeLessThan(50_000);
        const aliceSerial = login("alice", "alice", "admin");
        const bobSerial = login("bob", "bob", "app");
        const bastionFrom = sshdJournal(host("bastion")).length;
        const dbFrom = sshdJournal(host("db-1")).length;
        const t0 = Date.now();
        const aliceDb = sshAs("alice", "ops-admin", "db-1", "hostname && sudo -n id -u");
        timings.firstLogin = Date.now() - t0;
        expect(aliceDb.stdout.trim().split("\n"), aliceDb.stderr).toEqual(["db-1", "0"]);
        expect(sshAs("alice", "ops-admin", "app-1", "hostname").stdout.trim()).toBe("app-1");

        const bobApp = sshAs("bob", "ops-app", "app-1", "hostname; sudo -n true && echo SUDO");
        expect(bobApp.stdout.trim(), bobApp.stderr).toBe("app-1");
        // bob's role does not reach db-1: the bastion refuses the channel, and db-1 has no account for it.
        const bobDb = sshAs("bob", "ops-app", "db-1", "hostname");
        expect(bobDb.status).not.toBe(0);
        expect(bobDb.stderr).toMatch(/administratively prohibited/);
        expect(labExec(host("db-1"), "getent", ["passwd", "ops-app"], { check: false }).stdout).toBe("");
        expect(labExec(host("app-1"), "getent", ["passwd", "ops-app"]).stdout).toMatch(/^ops-app:/);

        // sshd names the person and the certificate on the bastion and on the target.
        const bastionLog = journalSince("bastion", bastionFrom);
        expect(bastionLog).toMatch(
            new RegExp(`Accepted publickey for jump .* ID jumpgate-${STACK}:alice \\(serial ${aliceSerial}\\)`),
        );
        expect(bastionLog).toMatch(
            new RegExp(`Accepted publickey for jump .* ID jumpgate-${STACK}:bob \\(serial ${bobSerial}\\)`),
        );
        expect(journalSince("db-1", dbFrom)).toMatch(
            new RegExp(
                `Accepted publickey for ops-admin from ${ip("bastion")} .* ID jumpgate-${STACK}:alice \\(serial ${aliceSerial}\\)`,
            ),
        );
    });

    it("checks the KRL on the bastion: empty at first boot accepts, a missing file refuses every key (sshd 10)", () => {
        const krl = parseCloudConfig(plan.hosts.find((h) => h.name === "bastion")!.cloudInit).write_files.find(
            (f) => f.path === REVOKED_KEYS_PATH,
        );
        expect(krl?.content).toBe("");
        const bastion = host("bastion");
        const saved = labExec(bastion, "base64", ["-w0", REVOKED_KEYS_PATH]).stdout;
        try {
            labExec(bastion, "sh", ["-c", `: > ${REVOKED_KEYS_PATH}`]);
            expect(sshAs("alice", "ops-admin", "app-1", "hostname").stdout.trim()).toBe("app-1");
            labExec(bastion, "rm", ["-f", REVOKED_KEYS_PATH]);
            const from = sshdJournal(bastion).length;
            const refused = sshAs("alice", "ops-admin", "app-1", "hostname");
            expect(refused.status).not.toBe(0);
            expect(journalSince("bastion", from)).toMatch(/Error checking authentication key .* revoked keys file/);
        } finally {
            labExec(bastion, "sh", ["-c", `printf '%s' '${saved}' | base64 -d > ${REVOKED_KEYS_PATH}`]);
        }
        expect(sshAs("alice", "ops-admin", "app-1", "hostname").stdout.trim()).toBe("app-1");
    });

    it("day two: a new operator connects and a removed one's plan leaves every host as it is", async () => {
        const added = await labPlan(
            teamConfig([
                operator("alice", "admin"),
                operator("bob", "app"),
                operator("brief", "app"),
                operator("carol", "app"),
                { name: "dave", role: "sec", publicKeys: [publicKey("dave"), publicKey("davenopin")] },
            ]),
        );
        const removed = await labPlan(teamConfig([operator("alice", "admin"), operator("carol", "app")]));
        for (const next of [added, removed]) {
            expect(next.hosts.map((h) => h.cloudInit)).toEqual(plan.hosts.map((h) => h.cloudInit));
            expect(next.runCommands).toEqual(plan.runCommands);
        }
        // The plan comparison agrees: no instance input changes at all.
        const config = teamConfig([operator("alice", "admin"), operator("bob", "app")]);
        const saved = toSavedPlan(await offlinePlan(config, STACK));
        const next = await offlinePlan(teamConfig([operator("alice", "admin"), operator("carol", "app")]), STACK);
        expect(comparePlans(saved, next).resources.filter((r) => r.action !== "same")).toEqual([]);
        expect(next.resources.filter((r) => r.type === T.instance)).toHaveLength(3);

        current = removed; // pulumi up: only the outputs change
        login("carol", "carol", "app");
        expect(sshAs("carol", "ops-app", "app-1", "id -un").stdout.trim()).toBe("ops-app");
        // Removing bob from config does not stop a certificate he already holds: that is what the KRL is for.
        expect(sshAs("bob", "ops-app", "app-1", "hostname").stdout.trim()).toBe("app-1");
        expectSameBoots();
    }, 60_000);

    it("revokes by key ID and serial through the association's commands: refused, the same role still works", async () => {
        const carolOld = login("carol", "carol", "app");
        const revoked = await labPlan(
            teamConfig([operator("alice", "admin"), operator("carol", "app")], {
                keyIds: [`jumpgate-${STACK}:bob`],
                serials: [carolOld],
            }),
        );
        expect(revoked.hosts.map((h) => h.cloudInit)).toEqual(plan.hosts.map((h) => h.cloudInit));
        expect(revoked.runCommands?.map((r) => r.hosts)).toEqual([["bastion"]]);
        const t0 = Date.now();
        current = revoked;
        const ran = labRunCommands(state, revoked);
        timings.revoke = Date.now() - t0;
        expect(ran.map((r) => [r.host, r.status, r.stderr])).toEqual([["bastion", 0, ""]]);

        const from = sshdJournal(host("bastion")).length;
        const bob = sshAs("bob", "ops-app", "app-1", "hostname");
        expect(bob.status).not.toBe(0);
        expect(bob.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(sshAs("carol", "ops-app", "app-1", "hostname").status).not.toBe(0);
        expect(journalSince("bastion", from)).toMatch(
            new RegExp(`ED25519-CERT \\S+ revoked by file ${REVOKED_KEYS_PATH}`),
        );
        // A fresh certificate of the same role (a new serial) and everyone else still get in.
        login("carol", "carol", "app");
        expect(sshAs("carol", "ops-app", "app-1", "hostname").stdout.trim()).toBe("app-1");
        expect(sshAs("alice", "ops-admin", "db-1", "hostname").stdout.trim()).toBe("db-1");
        expectSameBoots();
    }, 60_000);

    it.runIf(existsSync(SK_DUMMY))(
        "an MFA role takes only PIN-verified FIDO keys",
        async () => {
            // dave joins again (day two: no host changes); the outputs say his role needs fido2 (roleMfa).
            current = await labPlan(
                teamConfig(
                    [
                        operator("alice", "admin"),
                        operator("carol", "app"),
                        { name: "dave", role: "sec", publicKeys: [publicKey("dave"), publicKey("davenopin")] },
                    ],
                    { keyIds: [`jumpgate-${STACK}:bob`] },
                ),
            );
            expect(current.hosts.map((h) => h.cloudInit)).toEqual(plan.hosts.map((h) => h.cloudInit));
            expect(current.outputs?.roleMfa).toEqual({ sec: "fido2" });
            login("dave", "dave", "sec");
            const listing = spawnSync("ssh-keygen", ["-L", "-f", `${key.dave}-cert.pub`], { encoding: "utf8" }).stdout;
            expect(listing).toMatch(/Critical Options:\s+verify-required/);
            const ok = sshAs("dave", "ops-sec", "db-1", "id -un", true);
            expect(ok.stdout.trim(), ok.stderr).toBe("ops-sec");

            // A FIDO key that does not verify its user: refused at the bastion, whatever its certificate says
            // (login's, with verify-required, and one signed by hand without it).
            const bastionFrom = sshdJournal(host("bastion")).length;
            login("dave", "davenopin", "sec");
            expect(sshAs("davenopin", "ops-sec", "db-1", "id -un", true).status).not.toBe(0);
            signByHand("dave", "davenopin", "sec");
            expect(sshAs("davenopin", "ops-sec", "db-1", "id -un", true).status).not.toBe(0);
            expect(journalSince("bastion", bastionFrom)).toMatch(/user verification requirement not met/);

            // A plain key: login will not certify it for the role; signed by hand, the role's account on the
            // target takes FIDO certificates only.
            const refused = loginRun("dave", "daveplain", "sec");
            expect(refused.status).toBe(1);
            expect(refused.stderr).toContain("verify-required: only FIDO (sk-) keys can assert user verification");
            const dbFrom = sshdJournal(host("db-1")).length;
            signByHand("dave", "daveplain", "sec");
            const plain = sshAs("daveplain", "ops-sec", "db-1", "id -un");
            expect(plain.status).not.toBe(0);
            expect(plain.stderr).toMatch(/Permission denied \(publickey\)/);
            expect(journalSince("db-1", dbFrom)).toMatch(
                /signature algorithm ssh-ed25519-cert-v01@openssh.com not in PubkeyAcceptedAlgorithms/,
            );
            expectSameBoots();
        },
        60_000,
    );

    it("a certificate valid for 1 minute works, then is refused once it expired", async () => {
        // login dates it 5 minutes back (clock skew) and ends it 60 s after issuing; wait that out.
        timings.expiryWait = Math.max(0, shortLivedIssuedAt + 62_000 - Date.now());
        await sleep(timings.expiryWait);
        const from = sshdJournal(host("bastion")).length;
        const expired = sshAs("brief", "ops-app", "app-1", "hostname");
        expect(expired.status).not.toBe(0);
        expect(expired.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(journalSince("bastion", from)).toContain("Certificate invalid: expired");
        expectSameBoots();
    }, 90_000);
});
