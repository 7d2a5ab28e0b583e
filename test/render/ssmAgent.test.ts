// The SSM agent installer the Debian bastion runs at first boot, RUN here with sh against packages served
// over loopback HTTP: a package signed by the pinned key is installed (dpkg into a scratch root) and the
// agent started; a tampered package, a missing signature and another key's signature are refused with
// the reason, and nothing is installed. Real gpg makes the keys and signatures, real dpkg-deb the package.
import { execFile, execFileSync } from "node:child_process";
import {
    chmodSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit } from "../../components/render/cloudInit";
import {
    AWS_SSM_AGENT_KEY,
    SSM_AGENT_INSTALLER_PATH,
    SSM_AGENT_UNIT,
    SSM_AGENT_UNIT_PATH,
    renderSsmAgentInstaller,
    ssmAgentBaseUrl,
    type SigningKey,
} from "../../components/render/ssmAgent";
import { sampleBastionSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

const TIMEOUT_MS = 60_000;

describe("rendering", () => {
    const spec = sampleBastionSpec();

    it("puts the installer on Debian bastions only, in a unit started last that retries with the region's bucket", () => {
        const doc = parseCloudConfig(
            renderBastionCloudInit({ ...spec, os: "debian-12", ssmAgentRegion: "eu-central-1" }),
        );
        expect(fileAt(doc, SSM_AGENT_INSTALLER_PATH)).toBe(renderSsmAgentInstaller());
        expect(doc.write_files.find((f) => f.path === SSM_AGENT_INSTALLER_PATH)?.permissions).toBe("0700");
        expect(doc.runcmd?.at(-1)).toEqual(["systemctl", "enable", "--now", "--no-block", SSM_AGENT_UNIT]);
        const unit = fileAt(doc, SSM_AGENT_UNIT_PATH);
        expect(unit).toContain(
            `ExecStart=${SSM_AGENT_INSTALLER_PATH} https://s3.eu-central-1.amazonaws.com/amazon-ssm-eu-central-1/latest`,
        );
        expect(unit).toMatch(/^Restart=on-failure$/m);
        expect(unit).toMatch(/^ConditionPathExists=!\/usr\/bin\/amazon-ssm-agent$/m);
        expect(doc.packages).toContain("curl");
        // Ubuntu's AMIs ship the agent as a snap: nothing to install.
        const ubuntu = parseCloudConfig(
            renderBastionCloudInit({ ...spec, os: "ubuntu-24.04", ssmAgentRegion: "eu-central-1" }),
        );
        expect(ubuntu.write_files.map((f) => f.path)).not.toContain(SSM_AGENT_INSTALLER_PATH);
        expect(JSON.stringify(ubuntu.runcmd)).not.toContain("ssm");
    });

    it("refuses a region name that is not one", () => {
        expect(() => ssmAgentBaseUrl("eu-central-1/../evil")).toThrow(/not an AWS region/);
        expect(ssmAgentBaseUrl("us-gov-west-1")).toBe(
            "https://s3.us-gov-west-1.amazonaws.com/amazon-ssm-us-gov-west-1/latest",
        );
    });
});

const tools = ["gpg", "gpgv", "dpkg", "dpkg-deb", "curl", "sh"];

describe.runIf(toolsAvailable(...tools))("the installer, run against packages served on loopback", () => {
    let work: string;
    let gnupg: string;
    let server: Server;
    let baseUrl: string;
    let arch: string;
    /** Files the server serves, by URL path. */
    const served = new Map<string, Buffer>();
    let pinned: SigningKey;
    let goodDeb: Buffer;

    const gpg = (...args: string[]) =>
        execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...args], { timeout: TIMEOUT_MS });

    /** A fresh ed25519 signing key in the test keyring; returns its fingerprint. */
    function newKey(uid: string, extra: string[] = [], expire = "1d"): string {
        gpg(...extra, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", expire);
        const colons = gpg("--with-colons", "--list-keys", uid).toString();
        return /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
    }
    const exportKey = (fpr: string): string => gpg("--export", fpr).toString("base64");
    function sign(fpr: string, data: Buffer): Buffer {
        const file = join(work, "to-sign");
        writeFileSync(file, data);
        rmSync(`${file}.sig`, { force: true });
        gpg("--local-user", fpr, "--detach-sign", "--output", `${file}.sig`, file);
        return readFileSync(`${file}.sig`);
    }

    function publish(deb: Buffer, sig: Buffer | undefined): void {
        served.clear();
        served.set(`/latest/debian_${arch}/amazon-ssm-agent.deb`, deb);
        if (sig) served.set(`/latest/debian_${arch}/amazon-ssm-agent.deb.sig`, sig);
    }

    interface Outcome {
        code: number;
        stderr: string;
        installed: string;
        systemctl: string;
        leftovers: string[];
    }

    /** Renders the installer with `key`, runs it with sh, and reports what it did to a scratch dpkg root. */
    function runInstaller(key: SigningKey): Promise<Outcome> {
        const run = mkdtempSync(join(work, "run-"));
        const root = join(run, "root");
        for (const d of ["var/lib/dpkg/info", "var/lib/dpkg/updates"]) mkdirSync(join(root, d), { recursive: true });
        writeFileSync(join(root, "var/lib/dpkg/status"), "");
        // systemctl stands in for the host's init: it records the call instead of starting anything here.
        const bin = join(run, "bin");
        mkdirSync(bin);
        writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >> ${join(run, "systemctl.log")}\n`);
        chmodSync(join(bin, "systemctl"), 0o755);
        const script = join(run, "installer");
        writeFileSync(script, renderSsmAgentInstaller(key));
        const tmp = join(run, "tmp");
        mkdirSync(tmp);
        return new Promise((resolve) => {
            execFile(
                "sh",
                [script, `${baseUrl}/latest`],
                {
                    encoding: "utf8",
                    timeout: TIMEOUT_MS,
                    // DPKG_ROOT: dpkg installs into the scratch root, not this machine.
                    env: { PATH: `${bin}:${process.env.PATH ?? ""}`, DPKG_ROOT: root, TMPDIR: tmp, LC_ALL: "C" },
                },
                (error, _stdout, stderr) => {
                    const query = (() => {
                        try {
                            return execFileSync(
                                "dpkg-query",
                                [
                                    "--admindir",
                                    join(root, "var/lib/dpkg"),
                                    "-W",
                                    "-f",
                                    "${Status} ${Version}",
                                    "amazon-ssm-agent",
                                ],
                                { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
                            );
                        } catch {
                            return "";
                        }
                    })();
                    const log = join(run, "systemctl.log");
                    resolve({
                        code: error ? Number(error.code ?? 1) : 0,
                        stderr,
                        installed: query,
                        systemctl: existsSync(log) ? readFileSync(log, "utf8") : "",
                        leftovers: readdirSync(tmp),
                    });
                },
            );
        });
    }

    beforeAll(async () => {
        work = mkdtempSync(join(tmpdir(), "jgt-ssm-"));
        gnupg = join(work, "gnupg");
        mkdirSync(gnupg, { mode: 0o700 });
        arch = execFileSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).trim();
        const fpr = newKey("jumpgate test signer <signer@example.invalid>");
        pinned = { base64: exportKey(fpr), fingerprint: fpr };

        // A dummy amazon-ssm-agent package, built by dpkg-deb.
        const pkg = join(work, "pkg");
        mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
        mkdirSync(join(pkg, "usr/share/jumpgate-test"), { recursive: true });
        writeFileSync(
            join(pkg, "DEBIAN/control"),
            [
                "Package: amazon-ssm-agent",
                "Version: 3.3.9999.0-1",
                `Architecture: ${arch}`,
                "Maintainer: jumpgate tests <tests@example.invalid>",
                "Description: stand-in for the SSM agent package",
                "",
            ].join("\n"),
        );
        writeFileSync(join(pkg, "usr/share/jumpgate-test/agent"), "not the real agent\n");
        execFileSync("dpkg-deb", ["--root-owner-group", "--build", pkg, join(work, "agent.deb")], {
            stdio: "ignore",
            timeout: TIMEOUT_MS,
        });
        goodDeb = readFileSync(join(work, "agent.deb"));

        server = createServer((req, res) => {
            const body = served.get(req.url ?? "");
            res.writeHead(body ? 200 : 404);
            res.end(body ?? "not found");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
        if (server) await new Promise((resolve) => server.close(resolve));
        if (work) rmSync(work, { recursive: true, force: true });
    });

    it("installs and starts a package signed by the pinned key, and cleans up its downloads", async () => {
        publish(goodDeb, sign(pinned.fingerprint, goodDeb));
        const r = await runInstaller(pinned);
        expect(r.stderr).toContain(`installed and started the agent from ${baseUrl}/latest/debian_${arch}/`);
        expect(r.code).toBe(0);
        expect(r.installed).toBe("install ok installed 3.3.9999.0-1");
        expect(r.systemctl).toBe("enable --now amazon-ssm-agent.service\n");
        expect(r.leftovers).toEqual([]);
    });

    it("refuses a package changed after signing", async () => {
        const sig = sign(pinned.fingerprint, goodDeb);
        const tampered = Buffer.concat([goodDeb, Buffer.from("\n")]);
        publish(tampered, sig);
        const r = await runInstaller(pinned);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/refused, agent not installed: no valid signature by [0-9A-F]{40} .*BAD signature/);
        expect(r.installed).toBe("");
        expect(r.systemctl).toBe("");
        expect(r.leftovers).toEqual([]);
    });

    it("refuses a package without its signature", async () => {
        publish(goodDeb, undefined);
        const r = await runInstaller(pinned);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
            `refused, agent not installed: cannot download ${baseUrl}/latest/debian_${arch}/amazon-ssm-agent.deb.sig`,
        );
        expect(r.installed).toBe("");
        expect(r.systemctl).toBe("");
    });

    it("refuses a package signed by any other key", async () => {
        const other = newKey("someone else <other@example.invalid>");
        publish(goodDeb, sign(other, goodDeb));
        const r = await runInstaller(pinned);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`no valid signature by ${pinned.fingerprint}`);
        expect(r.installed).toBe("");
    });

    it("accepts a good signature checked against an expired copy of the pinned key, as AWS's copy is", async () => {
        // The key is made in 2020 with one day of validity and copied; then its expiry is extended (a new
        // self-signature, as AWS does) and it signs today. The installer holds only the expired copy.
        const uid = "extended signer <extended@example.invalid>";
        const fpr = newKey(uid, ["--faked-system-time", "20200101T000000"]);
        const expiredCopy: SigningKey = { base64: exportKey(fpr), fingerprint: fpr };
        gpg("--faked-system-time", "20200101T010000", "--quick-set-expire", fpr, "20y");
        publish(goodDeb, sign(fpr, goodDeb));
        const r = await runInstaller(expiredCopy);
        expect(r.stderr).toContain("installed and started the agent");
        expect(r.code).toBe(0);
    });

    it("pins the key AWS publishes: the embedded key's fingerprint, computed by gpg, is the pinned one", () => {
        const file = join(work, "aws.gpg");
        writeFileSync(file, Buffer.from(AWS_SSM_AGENT_KEY.base64, "base64"));
        const colons = gpg("--with-colons", "--show-keys", file).toString();
        expect(/^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1]).toBe(AWS_SSM_AGENT_KEY.fingerprint);
        expect(colons).toContain("SSM Agent <ssm-agent-signer@amazon.com>");
    });
});
