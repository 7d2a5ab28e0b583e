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
    /** Outputs of stack team as `pulumi stack output --json --show-secrets` prints them, per CA sshd trusts or not. */
    const outputs = { stack: "", other: "", kms: "" };

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
        // Stack team, as if its CA were the test's: alice's roles are ops (which sshd lets in) and admin.
        const team = (await fixtures()).team;
        const teamWith = (name: string, extra: Record<string, unknown>) => {
            const file = join(work, `outputs-${name}.json`);
            const { userCaPrivateKeyOpenssh: _secret, ...pub } = team;
            writeFileSync(file, json({ ...pub, operatorPrincipals: { alice: ["ops", "admin"] }, ...extra }));
            return file;
        };
        outputs.stack = teamWith("stack", { userCaPublicKey: caPub.stack });
        outputs.other = teamWith("other", { userCaPublicKey: readFileSync(`${ca.other}.pub`, "utf8").trim() });
        outputs.kms = teamWith("kms", {
            userCa: "kms",
            userCaPublicKey: caPub.kms,
            userCaKmsKeyArns: { ops: kms.caKey.arn, admin: kms.caKey.arn },
        });
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

    /** `npx jumpgate-ssh login ...` for `key`, as operator alice of stack team (outputs of the backend's stack). */
    const login = (key: string, extra: string[], backend: "stack" | "kms" | "other" = "stack") =>
        runAsync(
            process.execPath,
            [
                BIN,
                "login",
                "--stack",
                "team",
                "--from",
                outputs[backend],
                "--identity",
                key,
                "--operator",
                "alice",
                ...extra,
            ],
            { ...process.env, ...TEST_AWS_ENV, HOME: work, AWS_PROFILE: "" },
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
            const r = await login(key, ["--principal", "ops", ...caFlags(backend), ...valid], backend);
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
            expect(ssh.logged).toContain(`ID jumpgate-team:alice (serial ${serial}) CA ED25519`);
        },
    );

    it("kms CA: the role's key comes from userCaKmsKeyArns and its region from the ARN", async () => {
        const key = keygenKey("alice-kms-from-outputs");
        const r = await login(key, ["--principal", "ops", "--endpoint", kms.url], "kms");
        expect(r.stderr).not.toMatch(/jumpgate-ssh login:/);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`signed by KMS key ${kms.caKey.arn} (${kms.region})`);
        expect((await attempt(key)).stdout).toBe("jgt-ops\n");
    });

    it("the KMS CA signs as the operator: the Sign request carries their access key", async () => {
        const signs = kms.requests.filter((q) => q.target === "TrentService.Sign");
        expect(signs.length).toBeGreaterThan(0);
        expect(signs.every((q) => q.accessKeyId === TEST_AWS_ENV.AWS_ACCESS_KEY_ID)).toBe(true);
    });

    it("refuses a certificate for another principal", async () => {
        const key = keygenKey("alice-admin");
        expect((await login(key, ["--principal", "admin", ...caFlags("kms")], "kms")).status).toBe(0);
        const ssh = await attempt(key);
        expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
        expect(ssh.stdout).toBe("");
        expect(ssh.logged).toContain("Certificate does not contain an authorized principal");
    });

    it("refuses a certificate signed by a CA sshd does not trust", async () => {
        const key = keygenKey("alice-other-ca");
        const r = await login(key, ["--principal", "ops", ...caFlags("other")], "other");
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
            const first = await login(key, ["--principal", "ops", ...caFlags(backend)], backend);
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
            expect((await login(key, ["--principal", "ops", ...caFlags(backend)], backend)).status).toBe(0);
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
            expect((await login(key, ["--principal", "ops", ...caFlags("kms")], "kms")).status).toBe(0);
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

describe.runIf(toolsAvailable("ssh-keygen"))("jumpgate-ssh login: the stack's outputs, flags and files", () => {
    let work: string;
    let fx: Awaited<ReturnType<typeof fixtures>>;
    /** Stack team's outputs as --show-secrets prints them (its stack CA's private key included). */
    let teamFile: string;
    let otherCa: string;
    beforeAll(async () => {
        work = mkdtempSync(join(tmpdir(), "jgt-login-flags-"));
        fx = await fixtures();
        teamFile = outputsFile("team", fx.team);
        otherCa = keygen("other-ca");
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    function outputsFile(name: string, outputs: Record<string, unknown>): string {
        const file = join(work, `${name}.json`);
        writeFileSync(file, json(outputs));
        return file;
    }
    function keygen(name: string, extra: string[] = []): string {
        const file = join(work, name);
        const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", ...extra, "-f", file]);
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
        return file;
    }
    const run = (home: string, args: string[]) => cli(home, ["login", ...args]);
    const listing = (file: string) =>
        spawnSync("ssh-keygen", ["-L", "-f", file], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } }).stdout;
    const fingerprint = (publicKey: string) => {
        const file = join(work, `fp-${Math.random().toString(36).slice(2)}.pub`);
        writeFileSync(file, `${publicKey}\n`);
        return spawnSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" }).stdout.split(" ")[1]!;
    };
    /** Login for operator alice of stack team with `key`, outputs from `from`. */
    const asAlice = (key: string, extra: string[], from = teamFile) =>
        run(work, ["--stack", "team", "--from", from, "--identity", key, "--operator", "alice", ...extra]);

    it("an installed operator needs only --stack: role, stack CA and 8h come from the outputs", () => {
        const home = join(work, "bob-home");
        mkdirSync(home, { mode: 0o700 });
        const key = keygen("bob-key", ["-C", "bob@laptop"]);
        const installed = cli(home, ["install", "--from", teamFile, "--operator", "bob", "--identity", key]);
        expect(installed.stderr).toBe("");
        expect(installed.status).toBe(0);
        const r = run(home, ["--stack", "team", "--from", teamFile]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`wrote ${key}-cert.pub`);
        expect(r.stdout).toMatch(/principals dba\n/);
        expect(r.stdout).toContain("(in 8h)");
        const cert = listing(`${key}-cert.pub`);
        expect(cert).toContain('Key ID: "jumpgate-team:bob"');
        expect(cert).toMatch(/Principals: \n\s+dba\n\s+Critical/);
        expect(cert).toContain(`Signing CA: ED25519 ${fingerprint(String(fx.team.userCaPublicKey))}`);
        const m = /Valid: from (\S+) to (\S+)/.exec(cert)!;
        expect((Date.parse(`${m[2]}Z`) - Date.parse(`${m[1]}Z`)) / 1000).toBe(8 * 3600 + 300);
        expect(statSync(`${key}-cert.pub`).mode & 0o777).toBe(0o644);
    });

    it("--principal narrows, never widens: a role the operator does not have is refused", () => {
        const key = keygen("alice-widen");
        const r = asAlice(key, ["--principal", "dba"]);
        expect(r.stderr).toContain(
            "--principal dba: operator alice of stack team has only admin; drop --principal, or ask an admin to change your role",
        );
        expect(r.status).toBe(2);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("names the stack's operators when none is given or the name is not one of them", () => {
        const key = keygen("nobody");
        const none = run(work, ["--stack", "team", "--from", teamFile, "--identity", key]);
        expect(none.stderr).toContain(
            "stack team has operators (alice, bob): say which you are, e.g. npx jumpgate-ssh login --stack team --operator <name>",
        );
        expect(none.status).toBe(2);
        const carol = run(work, ["--stack", "team", "--from", teamFile, "--identity", key, "--operator", "carol"]);
        expect(carol.stderr).toContain('operator "carol" is not in stack team (operators: alice, bob)');
        expect(carol.status).toBe(2);
    });

    it("a stack without operators needs no certificate, and says so", () => {
        const r = run(work, ["--stack", "dev", "--from", outputsFile("dev", fx.dev), "--identity", keygen("dev")]);
        expect(r.stderr).toContain(
            "stack dev has no operators: its hosts take operatorPublicKeys and need no certificate",
        );
        expect(r.status).toBe(2);
    });

    it("with the CA key redacted, asks for --show-secrets or --ca-key-file", () => {
        const redacted = outputsFile("redacted", { ...fx.team, userCaPrivateKeyOpenssh: "[secret]" });
        const r = asAlice(keygen("alice-redacted"), [], redacted);
        expect(r.stderr).toMatch(/its stack CA, whose private key is not in \S+redacted.json: read the outputs with/);
        expect(r.stderr).toContain("pulumi stack output --json --show-secrets");
        expect(r.stderr).toContain("--ca-key-file");
        expect(r.status).toBe(2);
    });

    it("refuses a CA key file that is not the stack's CA (no host would accept what it signs)", () => {
        const key = keygen("alice-wrong-ca");
        const r = asAlice(key, ["--ca-key-file", otherCa]);
        expect(r.stderr).toContain(`--ca-key-file ${otherCa} is not stack team's user CA`);
        expect(r.status).toBe(1);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("a kms stack without a key for the role says which output or flag is missing", () => {
        const kmsStack = outputsFile("kms-nokey", { ...fx.team, userCa: "kms", userCaKmsKeyArns: {} });
        const r = asAlice(keygen("alice-kms"), [], kmsStack);
        expect(r.stderr).toContain("stack team signs with AWS KMS, but");
        expect(r.stderr).toContain('has no KMS key for admin in "userCaKmsKeyArns": pass --kms-key-id <key ARN>');
        expect(r.status).toBe(2);
    });

    it("the stack's maximum caps the validity: the default shrinks to it, a longer --valid is refused", () => {
        const capped = outputsFile("capped", { ...fx.team, certificateMaxValiditySeconds: 3600 });
        const key = keygen("alice-capped");
        const long = asAlice(key, ["--valid", "2h"], capped);
        expect(long.stderr).toContain("--valid 2h: longer than the stack's maximum of 1h");
        expect(long.status).toBe(2);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
        const r = asAlice(key, [], capped);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("(in 1h)");
    });

    it("without a stack maximum, the CLI's 24h is the cap", () => {
        const key = keygen("too-long");
        const r = asAlice(key, ["--valid", "25h"]);
        expect(r.stderr).toMatch(/--valid 25h: longer than the maximum of 24h/);
        expect(r.status).toBe(2);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("--verify-required, or outputs saying the role has mfa fido2, put the option in a FIDO key's certificate; a plain key is refused", () => {
        const plainKey = keygen("plain-verify");
        const refusal = "verify-required: only FIDO (sk-) keys can assert user verification";
        const flagged = asAlice(plainKey, ["--verify-required"]);
        expect(flagged.stderr).toContain(refusal);
        expect(flagged.status).toBe(1);
        // The stack says alice's role needs FIDO2: login sets the option without the flag.
        const fido2File = outputsFile("team-fido2", { ...fx.team, roleMfa: { admin: "fido2" } });
        const automatic = asAlice(plainKey, [], fido2File);
        expect(automatic.stderr).toContain(refusal);
        expect(automatic.status).toBe(1);
        expect(existsSync(`${plainKey}-cert.pub`)).toBe(false);
        // Another role's mfa does not reach alice's certificate.
        expect(
            asAlice(plainKey, [], outputsFile("team-dba-fido2", { ...fx.team, roleMfa: { dba: "fido2" } })).status,
        ).toBe(0);
        expect(listing(`${plainKey}-cert.pub`)).not.toContain("verify-required");
        if (!haveSkDummy) return;
        const skKey = join(work, "alice-sk-verify");
        const gen = spawnSync("ssh-keygen", ["-q", "-t", "ed25519-sk", "-w", SK_DUMMY, "-N", "", "-f", skKey], {
            input: "",
        });
        expect(gen.status, String(gen.stderr)).toBe(0);
        const r = asAlice(skKey, [], fido2File);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(listing(`${skKey}-cert.pub`)).toMatch(/Critical Options: \n\s+verify-required/);
    });

    it("refuses a roleMfa output that is not fido2", () => {
        const bad = outputsFile("team-bad-mfa", { ...fx.team, roleMfa: { admin: "totp" } });
        const r = asAlice(keygen("bad-mfa"), [], bad);
        expect(r.stderr).toContain(`output "roleMfa.admin" is a string, expected "fido2"`);
        expect(r.status).not.toBe(0);
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

    it("reports every flag problem at once, exit 2, before reading any outputs", () => {
        const r = run(work, ["--stack", "a/b/c d", "--ca", "vault", "--valid", "forever", "--principal", "a b"]);
        expect(r.status).toBe(2);
        for (const m of [/--stack "a\/b\/c d"/, /--ca "vault"/, /--valid "forever"/, /--principal "a b"/]) {
            expect(r.stderr).toMatch(m);
        }
        expect(r.stderr).not.toMatch(/pulumi/);
        const mixed = run(work, ["--stack", "team", "--ca-key-file", "ca", "--kms-key-id", "alias/x"]);
        expect(mixed.stderr).toContain("--ca-key-file is the stack CA's key: it does not go with --ca kms");
        expect(mixed.stderr).not.toMatch(/pulumi/);
        expect(mixed.status).toBe(2);
    });

    it("needs only the public key; without it, says how to make it", () => {
        const key = join(work, "no-pub");
        const r = asAlice(key, []);
        expect(r.stderr).toContain(
            `no public key at ${key}.pub; make it from the key with: ssh-keygen -y -f ${key} > ${key}.pub`,
        );
        expect(r.status).toBe(1);
    });

    it("refuses a CA key file others can read, and says how to fix it", () => {
        const key = keygen("user-open");
        const open = join(work, "ca-open");
        writeFileSync(open, String(fx.team.userCaPrivateKeyOpenssh), { mode: 0o644 });
        const r = asAlice(key, ["--ca-key-file", open]);
        expect(r.stderr).toContain(`--ca-key-file ${open}: mode 0644 lets others read the CA key; chmod 600 ${open}`);
        expect(r.status).toBe(1);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });

    it("refuses a CA key file that is not an unencrypted ED25519 OpenSSH key", () => {
        const key = keygen("user");
        const locked = join(work, "ca-locked");
        spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", locked]);
        const r = asAlice(key, ["--ca-key-file", locked]);
        expect(r.stderr).toMatch(/passphrase-protected/);
        expect(r.status).toBe(1);
        expect(existsSync(`${key}-cert.pub`)).toBe(false);
    });
});
