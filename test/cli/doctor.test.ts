// `jumpgate-ssh doctor` on installed homes broken the ways operators break them, with the real ssh -G
// (whose own errors, such as "Bad owner or permissions", doctor passes on with the fix).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackCaSigner } from "../../components/render/caKeys";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { runDoctor } from "../../cli/doctor";
import { parseCertificateListing, parseSshVersion, sshDashG, sshKeygenList } from "../../cli/openssh";
import { toolsAvailable } from "../helpers/tools";
import { Fixtures, fixtures, json } from "./fixtures";
import { cleanupHomes, cli, tempHome } from "./home";

let fx: Fixtures;

function installed(outputs: () => Record<string, unknown> = () => fx.dev, args: string[] = []): string {
    const home = tempHome();
    const file = join(tempHome("outputs"), "outputs.json");
    writeFileSync(file, json(outputs()));
    const res = cli(home, ["install", "--from", file, ...args]);
    if (res.status !== 0) throw new Error(res.stderr);
    return home;
}
const doctor = (home: string, args: string[] = []) => cli(home, ["doctor", ...args]);
const failLines = (out: string) => out.split("\n").filter((l) => l.startsWith("FAIL"));

describe.runIf(toolsAvailable("ssh"))("jumpgate-ssh doctor", () => {
    beforeAll(async () => {
        fx = await fixtures();
    });
    afterAll(cleanupHomes);

    it("passes every check on a fresh install, one line each", () => {
        const home = installed();
        const res = doctor(home);
        expect(res.status).toBe(0);
        const lines = res.stdout.trim().split("\n");
        expect(lines[0]).toBe(`jumpgate-ssh doctor: ${home}/.ssh`);
        expect(lines.at(-1)).toBe("all checks passed");
        expect(lines.slice(1, -1).every((l) => l.startsWith("ok  "))).toBe(true);
        expect(lines).toContain("ok    stack dev: proxyjump variant, hosts dev-bastion, dev-app-1, dev-db-1");
        expect(lines).toContain(`ok    ${home}/.ssh/jumpgate-dev_known_hosts: pins 3 host keys`);
        const app = (fx.dev.targets as Record<string, string>)["app-1"];
        expect(lines).toContain(`ok    ssh -G dev-app-1: ops@${app}:22 via dev-bastion`);
    });

    it("passes for --home elsewhere with a space in its path", () => {
        const home = tempHome("my home");
        const file = join(tempHome("outputs"), "outputs.json");
        writeFileSync(file, json(fx.dev));
        expect(cli(tempHome(), ["install", "--home", home, "--from", file]).status).toBe(0);
        const res = cli(tempHome(), ["doctor", "--home", home]);
        expect(res.stdout).toContain(`ok    ssh -G dev-bastion: jump@${String(fx.dev.bastionPublicIp)}:22`);
        expect(res.status).toBe(0);
    });

    it("fails on a private key others can read, with the chmod that fixes it", () => {
        const home = installed();
        const key = join(home, ".ssh", "jumpgate-dev_ed25519");
        chmodSync(key, 0o644);
        const res = doctor(home);
        expect(res.status).toBe(1);
        expect(failLines(res.stdout)).toEqual([
            `FAIL  ${key}: mode 0644: ssh ignores a private key others can read ("UNPROTECTED PRIVATE KEY FILE"); fix: chmod 600 ${key}`,
        ]);
        expect(res.stdout.trim().split("\n").at(-1)).toBe("1 check(s) failed");
    });

    it("passes on ssh's own refusal of a world-writable config", () => {
        const home = installed();
        const conf = join(home, ".ssh", "config.d", "jumpgate-dev.conf");
        // 0666, not 0664: Debian's ssh (user-group-modes patch) accepts group write when the group is
        // only you; upstream OpenSSH does not, and neither does doctor.
        chmodSync(conf, 0o666);
        const fails = failLines(doctor(home).stdout);
        expect(fails[0]).toBe(
            `FAIL  ${conf}: mode 0666, owner ${process.getuid?.() ?? 0}: ssh refuses it ("Bad owner or permissions"); fix: chmod 600 ${conf}`,
        );
        // The real ssh refuses the whole config, so every host fails with its message.
        expect(fails.slice(1)).toEqual(
            ["dev-bastion", "dev-app-1", "dev-db-1"].map(
                (a) =>
                    `FAIL  ssh -G ${a}: Bad owner or permissions on ${conf}; fix: chmod 600 ${conf} (and chown it to yourself)`,
            ),
        );
    });

    it("fails when the Include is gone", () => {
        const home = installed();
        writeFileSync(join(home, ".ssh", "config"), "Host work\n  User me\n");
        const fails = failLines(doctor(home).stdout);
        expect(fails[0]).toBe(
            `FAIL  ${home}/.ssh/config: no Include before the first Host/Match block pulls in ${home}/.ssh/config.d/jumpgate-dev.conf; fix: npx jumpgate-ssh install --stack dev`,
        );
        expect(fails.slice(1).every((l) => /^FAIL  ssh -G dev-\S+: hostname is dev-\S+, expected /.test(l))).toBe(true);
    });

    it("fails when a setting above the Include wins for the stack's hosts", () => {
        const home = installed();
        const cfg = join(home, ".ssh", "config");
        writeFileSync(cfg, `User alice\n${readFileSync(cfg, "utf8")}`);
        const fails = failLines(doctor(home).stdout);
        expect(fails).toEqual(
            ["dev-bastion", "dev-app-1", "dev-db-1"].map(
                (a) =>
                    `FAIL  ssh -G ${a}: user is alice, expected ${a === "dev-bastion" ? "jump" : "ops"}; fix: an earlier Host or Match block in ~/.ssh/config sets it first: keep the jumpgate Include at the very top`,
            ),
        );
    });

    it("fails when the installed ProxyJump variant meets an OpenSSH older than 7.3", () => {
        const home = installed();
        const res = doctor(home, ["--ssh-version", "OpenSSH_7.2p2 Ubuntu-4ubuntu2.10"]);
        expect(res.status).toBe(1);
        expect(failLines(res.stdout)).toEqual([
            `FAIL  stack dev: the ProxyJump variant is installed but OpenSSH 7.2 rejects ProxyJump and Include ("Bad configuration option"); fix: npx jumpgate-ssh install --stack dev (installs the ProxyCommand variant)`,
        ]);
    });

    it("passes the ProxyCommand variant installed for an old OpenSSH", () => {
        const old = "OpenSSH_7.2p2 Ubuntu-4ubuntu2.10";
        const home = installed(() => fx.dev, ["--ssh-version", old]);
        const res = doctor(home, ["--ssh-version", old]);
        expect(res.stdout).toContain("ok    OpenSSH client: OpenSSH 7.2: no ProxyJump or Include (7.3+)");
        expect(res.stdout).toContain(`ok    ${home}/.ssh/config: holds the block for stack dev`);
        expect(res.status).toBe(0);
    });

    it("fails when nothing is installed", () => {
        const res = doctor(tempHome());
        expect(res.status).toBe(1);
        expect(failLines(res.stdout)[0]).toMatch(/\.ssh: missing; fix: npx jumpgate-ssh install --stack <stack>$/);
    });

    it("fails when the key the operator brought is not where the config says", () => {
        const home = installed(() => fx.byo);
        const v = parseSshVersion("OpenSSH_9.2p1")!;
        const check = (passwdHome: string) =>
            runDoctor({
                home,
                envHome: home,
                passwdHome,
                sshVersion: v,
                uid: process.getuid?.() ?? 0,
                dashG: (alias, config) => sshDashG(alias, home, config),
                listCertificate: sshKeygenList,
                now: new Date(),
            }).filter((c) => c.what.endsWith("id_ed25519"));
        // `~` in IdentityFile is the passwd entry's home; here, the temporary home stands in for it.
        expect(check(home)).toEqual([
            {
                ok: false,
                what: `${home}/.ssh/id_ed25519`,
                detail: "IdentityFile does not exist",
                fix: "put your private key there, or set jumpgate:identityFile to its path and pulumi up",
            },
        ]);
        writeFileSync(join(home, ".ssh", "id_ed25519"), "key\n", { mode: 0o600 });
        expect(check(home)[0]!.ok).toBe(true);
    });
});

describe.runIf(toolsAvailable("ssh", "ssh-keygen"))("jumpgate-ssh doctor: the operator's certificate", () => {
    let outputsFile: string;
    let caKey: string;
    beforeAll(async () => {
        fx = await fixtures();
        const dir = tempHome("team-outputs");
        outputsFile = join(dir, "team.json");
        writeFileSync(outputsFile, json(fx.team));
        caKey = String(fx.team.userCaPrivateKeyOpenssh);
    });
    afterAll(cleanupHomes);

    /** A home where bob installed stack team with his own key (`<home>/.ssh/id_ed25519`). */
    function bobsHome(): { home: string; key: string } {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"), { mode: 0o700 });
        const key = join(home, ".ssh", "id_ed25519");
        const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f", key]);
        if (made.status !== 0) throw new Error(String(made.stderr));
        const res = cli(home, ["install", "--from", outputsFile, "--operator", "bob", "--identity", key]);
        if (res.status !== 0) throw new Error(res.stderr);
        return { home, key };
    }
    /** A certificate for the key signed by the stack's CA, valid from `from` to `to` seconds from now. */
    async function certify(key: string, from: number, to: number, principals = ["dba"]): Promise<void> {
        const now = Math.floor(Date.now() / 1000) * 1000;
        const { certificate } = await issueCertificate(
            {
                publicKey: readFileSync(`${key}.pub`, "utf8"),
                serial: 7n,
                keyId: "jumpgate-team:bob",
                principals,
                validAfter: new Date(now + from * 1000),
                validBefore: new Date(now + to * 1000),
            },
            stackCaSigner(caKey),
        );
        writeFileSync(`${key}-cert.pub`, certificateLine(certificate, "bob@laptop"), { mode: 0o644 });
    }
    const certLine = (out: string, key: string) =>
        out.split("\n").find((l) => l.includes(`certificate ${key}-cert.pub:`)) ?? "(no certificate line)";
    const LOGIN_FIX = "; fix: npx jumpgate-ssh login --stack team";

    it("a missing certificate fails, with the login command that fixes it", () => {
        const { home, key } = bobsHome();
        const res = doctor(home);
        expect(res.status).toBe(1);
        expect(certLine(res.stdout, key)).toBe(
            `FAIL  certificate ${key}-cert.pub: missing (ssh offers only the key, which hosts refuse)${LOGIN_FIX}`,
        );
    });

    it("a fresh certificate from login passes, with its key ID, principals and time left; ssh -G offers it", () => {
        const { home, key } = bobsHome();
        const login = cli(home, ["login", "--stack", "team", "--from", outputsFile]);
        expect(login.status).toBe(0);
        const res = doctor(home);
        expect(res.stdout).toContain("all checks passed\n");
        expect(res.status).toBe(0);
        expect(certLine(res.stdout, key)).toMatch(
            new RegExp(
                `^ok    certificate ${key}-cert\\.pub: key ID jumpgate-team:bob, principals dba, valid until \\S+Z \\((7h 59m|8h 0m) left\\)$`,
            ),
        );
        expect(res.stdout).toMatch(/ok    ssh -G team-db-1: ops-dba@10\.42\.192\.10:22 via team-bastion/);
    });

    it("warns within an hour of expiry (exit 0), and fails once expired", async () => {
        const { home, key } = bobsHome();
        await certify(key, -300, 1800);
        const soon = doctor(home);
        expect(soon.status).toBe(0);
        expect(soon.stdout).toContain("all checks passed, 1 warning(s)");
        expect(certLine(soon.stdout, key)).toMatch(
            /^warn  .*principals dba, .*: expires in (29|30) min; fix: npx jumpgate-ssh login --stack team$/,
        );
        await certify(key, -7200, -60);
        const expired = doctor(home);
        expect(expired.status).toBe(1);
        expect(certLine(expired.stdout, key)).toMatch(/^FAIL  .*: expired; fix: npx jumpgate-ssh login --stack team$/);
    });

    it("fails on a certificate for another role, or for another key", async () => {
        const { home, key } = bobsHome();
        await certify(key, -300, 7200, ["admin"]);
        expect(certLine(doctor(home).stdout, key)).toMatch(
            /^FAIL  .*principals admin, .*: is not for your role dba; fix/,
        );
        const { key: other } = bobsHome();
        await certify(other, -300, 7200);
        writeFileSync(`${key}-cert.pub`, readFileSync(`${other}-cert.pub`));
        expect(certLine(doctor(home).stdout, key)).toMatch(/: certifies another key than the one next to it; fix/);
    });

    it("reads ssh-keygen -L as the certificate says: the project's certificate, listed by the real tool", async () => {
        const { key } = bobsHome();
        await certify(key, -300, 3600, ["dba", "admin"]);
        const listed = parseCertificateListing(sshKeygenList(`${key}-cert.pub`).stdout)!;
        expect(listed.keyId).toBe("jumpgate-team:bob");
        expect(listed.principals).toEqual(["dba", "admin"]);
        expect(listed.validBefore!.getTime() - listed.validAfter!.getTime()).toBe(3900_000);
        const fp = spawnSync("ssh-keygen", ["-l", "-f", `${key}.pub`], { encoding: "utf8" }).stdout.split(" ")[1];
        expect(listed.publicKeyFingerprint).toBe(fp);
    });
});
