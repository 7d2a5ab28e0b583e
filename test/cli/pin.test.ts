// `npx jumpgate-ssh pin` end to end: a real sshd stands in for the bastion and another for an existing
// host whose key the stack does not know (test/helpers/certSshd.ts; both take the operator's
// certificate). The installed config is the rendered one; ssh refuses the unpinned host, pin refuses a
// wrong fingerprint and writes nothing, and after a pin with the right one ssh logs in, strictly checked.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderKnownHosts, renderSshConfig, SshClientInventory } from "../../components/render/sshConfig";
import { CERT_USER, CertSshd, runAsync, startCertSshd } from "../helpers/certSshd";
import { isRootOrFail, toolsAvailable } from "../helpers/tools";
import { cleanupHomes, cli, snapshotTree, tempHome } from "./home";

const haveTools = toolsAvailable("ssh", "ssh-keygen", "ssh-keyscan", "sshd", "unshare", "mount") && isRootOrFail();

const STACK = "pin";
const ALIAS = `${STACK}-legacy-1`;

describe.runIf(haveTools)("jumpgate-ssh pin through a real bastion sshd", () => {
    let work: string;
    let home: string;
    let bastion: CertSshd;
    let legacy: CertSshd;
    let operatorKey: string;

    const keygen = (name: string, ...extra: string[]) => {
        const file = join(work, name);
        const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file, ...extra]);
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
        return file;
    };
    const fingerprint = (publicKey: string) => {
        const r = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], { input: publicKey, encoding: "utf8" });
        return /SHA256:\S+/.exec(r.stdout)![0];
    };
    /** `type base64` of a known_hosts line `[127.0.0.1]:port type base64`. */
    const keyOf = (line: string) => line.trim().split(" ").slice(1).join(" ");
    const ssh = () =>
        runAsync(
            "ssh",
            ["-F", join(home, ".ssh", "config"), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ALIAS, "id", "-un"],
            { ...process.env, HOME: home },
        );
    const pinnedFile = () => join(home, ".ssh", `jumpgate-${STACK}_pinned_hosts`);

    beforeAll(async () => {
        work = mkdtempSync(join(tmpdir(), "jgt-pin-"));
        const ca = keygen("ca");
        operatorKey = keygen("operator");
        const sign = spawnSync("ssh-keygen", ["-q", "-s", ca, "-I", "operator", "-n", "ops", `${operatorKey}.pub`]);
        if (sign.status !== 0) throw new Error(`ssh-keygen -s: ${sign.stderr}`);
        const caPub = readFileSync(`${ca}.pub`, "utf8").trim();
        bastion = await startCertSshd({ trustedCaKeys: [caPub], principals: ["ops"] });
        legacy = await startCertSshd({ trustedCaKeys: [caPub], principals: ["ops"] });
        // The stack pins the bastion; it knows nothing of the existing host's key.
        const inv: SshClientInventory = {
            stack: STACK,
            bastions: [
                {
                    name: "bastion",
                    hostName: "127.0.0.1",
                    port: bastion.port,
                    user: CERT_USER,
                    hostPublicKey: keyOf(bastion.knownHostsLine),
                },
            ],
            targets: [],
            existingHosts: [{ name: "legacy-1", hostName: "127.0.0.1", port: legacy.port, user: CERT_USER }],
            identityFile: operatorKey,
            knownHostsFile: `~/.ssh/jumpgate-${STACK}_known_hosts`,
            controlMaster: false,
        };
        const outputs = join(work, "outputs.json");
        writeFileSync(outputs, JSON.stringify({ sshConfig: renderSshConfig(inv), knownHosts: renderKnownHosts(inv) }));
        home = tempHome();
        const install = cli(home, ["install", "--from", outputs]);
        if (install.status !== 0) throw new Error(`install failed: ${install.stderr}`);
    }, 60_000);
    afterAll(async () => {
        await bastion?.stop();
        await legacy?.stop();
        cleanupHomes();
        if (work) rmSync(work, { recursive: true, force: true });
    });

    it("ssh refuses the unpinned host (the bastion itself is pinned and lets the operator through)", async () => {
        const r = await ssh();
        expect(r.status).toBe(255);
        expect(r.stderr).toContain(`No ED25519 host key is known for ${ALIAS}`);
        expect(r.stderr).toContain("Host key verification failed");
        expect(r.stdout).toBe("");
        // doctor names it and the way out, without failing the stack's pinned hosts.
        const doctor = cli(home, ["doctor", "--stack", STACK]);
        expect(doctor.stdout).toContain(`existing host(s) not pinned yet, so ssh refuses them: ${ALIAS}`);
        expect(doctor.stdout).not.toMatch(/no pinned key for/);
    }, 60_000);

    it("refuses a wrong fingerprint and writes nothing", () => {
        const before = snapshotTree(home);
        const wrong = fingerprint(readFileSync(`${keygen("impostor")}.pub`, "utf8"));
        const r = cli(home, ["pin", ALIAS, "--fingerprint", wrong]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`refusing to pin ${ALIAS}`);
        // It did reach the host: the message names the key the host presents.
        expect(r.stderr).toContain(fingerprint(keyOf(legacy.knownHostsLine)));
        expect(r.stderr).toContain("Nothing was written");
        expect(existsSync(pinnedFile())).toBe(false);
        expect(snapshotTree(home)).toEqual(before);
    }, 60_000);

    it("refuses something that is not a SHA256 fingerprint", () => {
        const r = cli(home, ["pin", ALIAS, "--fingerprint", "MD5:aa:bb"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("is not a SHA256 fingerprint");
        expect(existsSync(pinnedFile())).toBe(false);
    });

    it("pins the key with the right fingerprint, and ssh then logs in with StrictHostKeyChecking yes", async () => {
        const right = fingerprint(keyOf(legacy.knownHostsLine));
        const r = cli(home, ["pin", ALIAS, "--fingerprint", right]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`pinned ${ALIAS}: ${right}`);
        expect(readFileSync(pinnedFile(), "utf8")).toBe(`${ALIAS} ${keyOf(legacy.knownHostsLine)}\n`);
        expect(statSync(pinnedFile()).mode & 0o777).toBe(0o600);
        const g = spawnSync("ssh", ["-G", "-F", join(home, ".ssh", "config"), ALIAS], {
            encoding: "utf8",
            env: { ...process.env, HOME: home },
        });
        expect(g.stdout).toMatch(/^stricthostkeychecking true$/m);
        const login = await ssh();
        expect(login.stderr).not.toMatch(/Warning: Permanently added/);
        expect(login.stdout.trim()).toBe(CERT_USER);
        expect(login.status).toBe(0);
        // Pinning again changes nothing.
        const again = cli(home, ["pin", ALIAS, "--fingerprint", right]);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("already pinned");
        expect(cli(home, ["doctor", "--stack", STACK]).stdout).not.toContain("not pinned yet");
    }, 60_000);

    it("survives a re-install: install never writes the pinned file", async () => {
        const outputs = join(work, "outputs.json");
        const r = cli(home, ["install", "--from", outputs]);
        expect(r.status).toBe(0);
        expect(readFileSync(pinnedFile(), "utf8")).toContain(ALIAS);
        expect((await ssh()).status).toBe(0);
    }, 60_000);

    it("uninstall keeps the operator's pins and says so", () => {
        const r = cli(home, ["uninstall", "--stack", STACK]);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`kept ${pinnedFile()}`);
        expect(readFileSync(pinnedFile(), "utf8")).toContain(ALIAS);
        expect(existsSync(join(home, ".ssh", "config.d", `jumpgate-${STACK}.conf`))).toBe(false);
    });
});
