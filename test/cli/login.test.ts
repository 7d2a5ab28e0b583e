// `npx jumpgate-ssh login` end to end: the bin as operators run it, a stack CA key file or the KMS
// CA (real AWS SDK, KMS-protocol endpoint on 127.0.0.1), and a real sshd that trusts both CAs and
// takes nothing but certificates (test/helpers/certSshd.ts).
import { KMSClient } from "@aws-sdk/client-kms";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackCaSigner } from "../../components/render/caKeys";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { kmsCaSigner } from "../../cli/kmsSigner";
import { parseValidity } from "../../cli/login";
import { CertSshd, loggedSince, runAsync, sshWithCertificate, startCertSshd } from "../helpers/certSshd";
import { KmsEndpoint, startKmsEndpoint, TEST_AWS_ENV } from "../helpers/kmsEndpoint";
import { inCi, isRootOrFail, toolsAvailable } from "../helpers/tools";
import { fixtures, json } from "./fixtures";
import { BIN, cli } from "./home";

const haveTools = toolsAvailable("ssh", "ssh-keygen", "sshd", "unshare", "mount") && isRootOrFail();

/** Debian's openssh-tests software authenticator: FIDO keys without hardware (same release as ssh). */
const SK_DUMMY = "/usr/lib/openssh/regress/misc/sk-dummy/sk-dummy.so";
const haveSkDummy = existsSync(SK_DUMMY);
if (!haveSkDummy && inCi) throw new Error(`CI=true and ${SK_DUMMY} is missing (apt-get install openssh-tests)`);

describe.runIf(haveTools)("jumpgate-ssh login against a real sshd", () => {
    let work: string;
    let kms: KmsEndpoint;
    let sshd: CertSshd;
    let knownHosts: string;
    const ca = { stack: "", other: "" };
    const caPub = { stack: "", kms: "" };

    beforeAll(async () => {
        work = mkdtempSync(join(tmpdir(), "jgt-login-"));
        kms = await startKmsEndpoint();
        for (const name of ["stack", "other"] as const) ca[name] = keygenKey(`ca-${name}`);
        caPub.stack = readFileSync(`${ca.stack}.pub`, "utf8").trim();
        const credentials = {
            accessKeyId: TEST_AWS_ENV.AWS_ACCESS_KEY_ID,
            secretAccessKey: TEST_AWS_ENV.AWS_SECRET_ACCESS_KEY,
        };
        const client = new KMSClient({ region: kms.region, endpoint: kms.url, credentials });
        caPub.kms = await kmsCaSigner({ keyId: kms.caKey.arn, region: kms.region }, client).caPublicKey();
        sshd = await startCertSshd({ trustedCaKeys: [caPub.stack, caPub.kms], principals: ["ops"] });
        knownHosts = join(work, "known_hosts");
        writeFileSync(knownHosts, sshd.knownHostsLine);
    });
    afterAll(async () => {
        await sshd?.stop();
        await kms?.close();
        if (work) rmSync(work, { recursive: true, force: true });
    });

    function keygenKey(name: string): string {
        const file = join(work, name);
        const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test`, "-f", file]);
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
        return file;
    }

    /** Flags for each CA backend. */
    const caFlags = (backend: "stack" | "kms" | "other"): string[] =>
        backend === "kms"
            ? ["--ca", "kms", "--kms-key-id", kms.caAlias, "--region", kms.region, "--endpoint", kms.url]
            : ["--ca", "stack", "--ca-key-file", ca[backend]];

    /** `npx jumpgate-ssh login ...` for `key`, as operator alice, stack lab. */
    const login = (key: string, extra: string[], home = work) =>
        runAsync(
            process.execPath,
            [BIN, "login", "--stack", "lab", "--identity", key, "--operator", "alice", ...extra],
            { ...process.env, ...TEST_AWS_ENV, HOME: home, AWS_PROFILE: "" },
        );

    /** ssh with `key` and its certificate, and what sshd logged meanwhile. */
    const attempt = async (key: string) => {
        const from = sshd.log().length;
        const ssh = await sshWithCertificate(sshd, key, knownHosts);
        return { ...ssh, logged: await loggedSince(sshd, from) };
    };

    const listing = (certFile: string) =>
        spawnSync("ssh-keygen", ["-L", "-f", certFile], { encoding: "utf8", env: { TZ: "UTC" } }).stdout;

    const validity = (certFile: string): number => {
        const m = /Valid: from (\S+) to (\S+)/.exec(listing(certFile));
        return (Date.parse(`${m![2]}Z`) - Date.parse(`${m![1]}Z`)) / 1000;
    };

    it.each(["stack", "kms"] as const)(
        "%s CA: writes <key>-cert.pub (0644) next to the untouched key, and sshd lets the operator in",
        async (backend) => {
            const key = keygenKey(`alice-${backend}`);
            const keyBefore = [readFileSync(key), statSync(key).mode, statSync(key).mtimeMs];
            const valid = backend === "kms" ? ["--valid", "2h"] : [];
            const r = await login(key, ["--principal", "ops", ...caFlags(backend), ...valid]);
            expect(r.stderr).not.toMatch(/jumpgate-ssh login:/);
            expect(r.status).toBe(0);
            expect(r.stdout).toContain(`wrote ${key}-cert.pub`);
            expect(r.stdout).toMatch(backend === "kms" ? /\(in 2h\)/ : /\(in 8h\)/);
            expect(statSync(`${key}-cert.pub`).mode & 0o777).toBe(0o644);
            expect([readFileSync(key), statSync(key).mode, statSync(key).mtimeMs]).toEqual(keyBefore);
            // Valid from 5 minutes ago (clock skew) until the requested end.
            expect(validity(`${key}-cert.pub`)).toBe((backend === "kms" ? 2 * 3600 : 8 * 3600) + 300);
            const to = /Valid: from \S+ to (\S+)/.exec(listing(`${key}-cert.pub`))![1]!;
            expect(r.stdout).toContain(`expires ${to}Z`);
            const serial = /serial (\d+)/.exec(r.stdout)![1]!;
            const ssh = await attempt(key);
            expect(ssh.stderr).not.toMatch(/Permission denied/);
            expect(ssh.stdout).toBe("jgt-ops\n");
            expect(ssh.logged).toContain(`ID jumpgate-lab:alice (serial ${serial}) CA ED25519`);
        },
    );

    it("the KMS CA signs as the operator: the Sign request carries their access key", async () => {
        const signs = kms.requests.filter((q) => q.target === "TrentService.Sign");
        expect(signs.length).toBeGreaterThan(0);
        expect(signs.every((q) => q.accessKeyId === TEST_AWS_ENV.AWS_ACCESS_KEY_ID)).toBe(true);
    });

    it("refuses a certificate for another principal", async () => {
        const key = keygenKey("alice-admin");
        expect((await login(key, ["--principal", "admin", ...caFlags("kms")])).status).toBe(0);
        const ssh = await attempt(key);
        expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(ssh.stdout).toBe("");
        expect(ssh.logged).toContain("Certificate does not contain an authorized principal");
    });

    it("refuses a certificate signed by a CA sshd does not trust", async () => {
        const key = keygenKey("alice-other-ca");
        const r = await login(key, ["--principal", "ops", ...caFlags("other")]);
        expect(r.status).toBe(0);
        const ssh = await attempt(key);
        expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
        const fingerprint = /SHA256:\S+/.exec(r.stdout.split("signed by")[1] ?? "")![0];
        expect(ssh.logged).toMatch(
            new RegExp(`Failed publickey .* ED25519-CERT .* CA ED25519 ${fingerprint.replace(/[+/]/g, "\\$&")}`),
        );
        expect(ssh.logged).not.toContain("Accepted certificate");
    });

    it("refuses an expired certificate", async () => {
        const key = keygenKey("alice-expired");
        const now = Date.now();
        const { certificate } = await issueCertificate(
            {
                publicKey: readFileSync(`${key}.pub`, "utf8"),
                serial: 99n,
                keyId: "jumpgate-lab:alice",
                principals: ["ops"],
                validAfter: new Date(now - 3 * 3600_000),
                validBefore: new Date(now - 3600_000),
            },
            stackCaSigner(readFileSync(ca.stack, "utf8")),
        );
        writeFileSync(`${key}-cert.pub`, certificateLine(certificate, ""));
        const ssh = await attempt(key);
        expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(ssh.logged).toContain("Certificate invalid: expired");
    });

    it.each(["stack", "kms"] as const)(
        "%s CA: a serial revoked in a KRL (ssh-keygen -k -s ca.pub) is refused; a fresh certificate is not",
        async (backend) => {
            const key = keygenKey(`alice-revoked-${backend}`);
            const first = await login(key, ["--principal", "ops", ...caFlags(backend)]);
            const serial = /serial (\d+)/.exec(first.stdout)![1]!;
            expect((await sshWithCertificate(sshd, key, knownHosts)).stdout).toBe("jgt-ops\n");
            const caFile = join(work, `revoke-${backend}.pub`);
            writeFileSync(caFile, `${caPub[backend]}\n`);
            const spec = join(work, `revoke-${backend}.spec`);
            writeFileSync(spec, `serial: ${serial}\n`);
            const krl = spawnSync("ssh-keygen", ["-q", "-k", "-f", sshd.revokedKeysFile, "-s", caFile, spec]);
            expect(krl.status).toBe(0);
            const refused = await attempt(key);
            expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
            expect(refused.logged).toMatch(/ED25519-CERT \S+ revoked by file \/etc\/ssh\/revoked_keys/);
            expect((await login(key, ["--principal", "ops", ...caFlags(backend)])).status).toBe(0);
            expect((await sshWithCertificate(sshd, key, knownHosts)).stdout).toBe("jgt-ops\n");
        },
    );

    describe.runIf(haveSkDummy)("FIDO keys (software authenticator)", () => {
        const skKey = (name: string, verifyRequired: boolean): string => {
            const file = join(work, name);
            const uv = verifyRequired ? ["-O", "verify-required"] : [];
            const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519-sk", "-w", SK_DUMMY, "-N", "", ...uv, "-f", file], {
                input: "",
            });
            if (r.status !== 0) throw new Error(`ssh-keygen -t ed25519-sk: ${r.stderr}`);
            return file;
        };
        /** ssh with the software authenticator; a PIN prompt is answered through SSH_ASKPASS. */
        const skAttempt = async (key: string) => {
            const askpass = join(work, "askpass");
            writeFileSync(askpass, "#!/bin/sh\necho 123456\n", { mode: 0o755 });
            const from = sshd.log().length;
            const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force" };
            const ssh = await sshWithCertificate(sshd, key, knownHosts, {
                options: [`SecurityKeyProvider=${SK_DUMMY}`],
                env,
            });
            return { ...ssh, logged: await loggedSince(sshd, from) };
        };
        const issueVerifyRequired = async (key: string) => {
            const now = Date.now();
            const { certificate } = await issueCertificate(
                {
                    publicKey: readFileSync(`${key}.pub`, "utf8"),
                    serial: 501n,
                    keyId: "jumpgate-lab:alice-fido",
                    principals: ["ops"],
                    validAfter: new Date(now - 60_000),
                    validBefore: new Date(now + 3600_000),
                    criticalOptions: { verifyRequired: true },
                },
                stackCaSigner(readFileSync(ca.stack, "utf8")),
            );
            writeFileSync(`${key}-cert.pub`, certificateLine(certificate, ""));
        };

        it("login certifies an sk-ssh-ed25519 key, and sshd accepts the sk certificate", async () => {
            const key = skKey("alice-sk", false);
            expect((await login(key, ["--principal", "ops", ...caFlags("kms")])).status).toBe(0);
            expect(listing(`${key}-cert.pub`)).toContain("Type: sk-ssh-ed25519-cert-v01@openssh.com user certificate");
            const ssh = await skAttempt(key);
            expect(ssh.stdout).toBe("jgt-ops\n");
            expect(ssh.logged).toMatch(/Accepted publickey for jgt-ops .* ED25519-SK-CERT /);
        });

        it("verify-required: accepted from a key that verifies the user (PIN), refused from one that does not", async () => {
            const withPin = skKey("alice-sk-uv", true);
            await issueVerifyRequired(withPin);
            const ok = await skAttempt(withPin);
            expect(ok.stdout).toBe("jgt-ops\n");
            const noPin = skKey("alice-sk-no-uv", false);
            await issueVerifyRequired(noPin);
            const refused = await skAttempt(noPin);
            expect(refused.stderr).toMatch(/Permission denied \(publickey\)/);
            expect(refused.logged).toMatch(/user verification requirement not met/);
        });
    });
});

describe.runIf(toolsAvailable("ssh-keygen"))("jumpgate-ssh login: flags and files", () => {
    let work: string;
    let caKey: string;
    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "jgt-login-flags-"));
        caKey = join(work, "ca");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", caKey]);
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    const run = (home: string, args: string[]) => cli(home, ["login", ...args]);

    it("defaults to the installed stack's key; when its .pub is missing, says how to make it, then works", async () => {
        const home = join(work, "home");
        mkdirSync(home, { mode: 0o700 });
        const outputs = join(work, "dev.json");
        writeFileSync(outputs, json((await fixtures()).dev));
        expect(cli(home, ["install", "--from", outputs]).status).toBe(0);
        const key = join(home, ".ssh", "jumpgate-dev_ed25519");
        const args = [
            "--stack",
            "dev",
            "--principal",
            "ops",
            "--operator",
            "bob",
            "--ca",
            "stack",
            "--ca-key-file",
            caKey,
        ];
        const missing = run(home, args);
        expect(missing.stderr).toContain(
            `no public key at ${key}.pub; make it from the key with: ssh-keygen -y -f ${key} > ${key}.pub`,
        );
        expect(missing.status).toBe(1);
        writeFileSync(`${key}.pub`, spawnSync("ssh-keygen", ["-y", "-f", key], { encoding: "utf8" }).stdout);
        const r = run(home, args);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`wrote ${key}-cert.pub`);
        expect(spawnSync("ssh-keygen", ["-L", "-f", `${key}-cert.pub`], { encoding: "utf8" }).stdout).toContain(
            'Key ID: "jumpgate-dev:bob"',
        );
    });

    it("--verify-required puts the option in a FIDO key's certificate and refuses a plain key", async () => {
        const home = join(work, "home-verify");
        mkdirSync(home, { mode: 0o700 });
        const plainKey = join(work, "plain-verify");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", plainKey]);
        const args = ["--stack", "dev", "--principal", "sec", "--operator", "dave", "--identity", plainKey].concat([
            "--ca",
            "stack",
            "--ca-key-file",
            caKey,
            "--verify-required",
        ]);
        const r = run(home, args);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("verify-required: only FIDO (sk-) keys can assert user verification");
        expect(existsSync(`${plainKey}-cert.pub`)).toBe(false);
    });

    it.each([
        ["8h", 8 * 3600],
        ["90m", 90 * 60],
        ["1h30m", 5400],
        ["2d", 2 * 86400],
        ["45s", 45],
    ])("--valid %s is %i seconds", (text, seconds) => {
        expect(parseValidity(text)).toBe(seconds);
    });

    it.each(["", "0h", "8", "h", "1.5h", "-2h", "8h junk"])("--valid %j is refused", (text) => {
        expect(() => parseValidity(text)).toThrow(/not a duration such as 8h/);
    });

    it("login's options are refused on other commands, and install's on login", () => {
        const install = cli(work, ["install", "--ca", "kms", "--principal", "ops"]);
        expect(install.stderr).toContain("--ca, --principal: not an option of install");
        expect(install.status).toBe(2);
        const dry = run(work, ["--stack", "lab", "--dry-run"]);
        expect(dry.stderr).toContain("--dry-run: not an option of login");
        expect(dry.status).toBe(2);
    });

    it("reports every flag problem at once, exit 2, and writes nothing", () => {
        const r = run(work, ["--stack", "lab", "--ca", "kms", "--valid", "forever"]);
        expect(r.status).toBe(2);
        for (const m of [
            /--principal is required/,
            /--operator is required/,
            /--valid "forever"/,
            /--kms-key-id .* and --region/,
            /--identity/,
        ]) {
            expect(r.stderr).toMatch(m);
        }
    });

    it("refuses a validity over the maximum (24h) and writes no certificate", () => {
        const key = join(work, "too-long");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
        const r = run(work, [
            "--stack",
            "lab",
            "--identity",
            key,
            "--principal",
            "ops",
            "--operator",
            "a",
            "--ca",
            "stack",
            "--ca-key-file",
            caKey,
            "--valid",
            "25h",
        ]);
        expect(r.stderr).toMatch(/--valid 25h: longer than the maximum of 24h/);
        expect(r.status).toBe(2);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("needs only the public key; without it, says how to make it", () => {
        const key = join(work, "no-pub");
        const r = run(work, [
            "--stack",
            "lab",
            "--identity",
            key,
            "--principal",
            "ops",
            "--operator",
            "a",
            "--ca",
            "stack",
            "--ca-key-file",
            caKey,
        ]);
        expect(r.stderr).toContain(
            `no public key at ${key}.pub; make it from the key with: ssh-keygen -y -f ${key} > ${key}.pub`,
        );
        expect(r.status).toBe(1);
    });

    it("refuses a CA key file others can read, and says how to fix it", () => {
        const key = join(work, "user-open");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
        const open = join(work, "ca-open");
        writeFileSync(open, readFileSync(caKey), { mode: 0o644 });
        const r = run(work, [
            "--stack",
            "lab",
            "--identity",
            key,
            "--principal",
            "ops",
            "--operator",
            "a",
            "--ca",
            "stack",
            "--ca-key-file",
            open,
        ]);
        expect(r.stderr).toContain(`--ca-key-file ${open}: mode 0644 lets others read the CA key; chmod 600 ${open}`);
        expect(r.status).toBe(1);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("refuses a CA key file that is not an unencrypted ED25519 OpenSSH key", () => {
        const key = join(work, "user");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
        const locked = join(work, "ca-locked");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", locked]);
        const r = run(work, [
            "--stack",
            "lab",
            "--identity",
            key,
            "--principal",
            "ops",
            "--operator",
            "a",
            "--ca",
            "stack",
            "--ca-key-file",
            locked,
        ]);
        expect(r.stderr).toMatch(/passphrase-protected/);
        expect(r.status).toBe(1);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });
});
