// The SSM agent installer the Debian bastion runs at first boot, RUN here with sh against packages served
// over loopback HTTP: a package signed by the pinned key is installed (dpkg into a scratch root) and the
// agent started; a tampered package, a missing signature and another key's signature are refused with
// the reason, and nothing is installed. Real gpg makes the keys and signatures, real dpkg-deb the package.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
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
import {
    openSignedPackageBucket,
    SIGNED_PACKAGE_TOOLS,
    type SignedPackageBucket,
} from "../helpers/signedPackageBucket";
import { toolsAvailable } from "../helpers/tools";

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

describe.runIf(toolsAvailable(...SIGNED_PACKAGE_TOOLS))(
    "the installer, run against packages served on loopback",
    () => {
        let bucket: SignedPackageBucket;
        let pinned: SigningKey;
        let goodDeb: Buffer;

        const exportKey = (fpr: string): string => bucket.exportKey(fpr).toString("base64");

        function publish(deb: Buffer, sig: Buffer | undefined): void {
            bucket.publish({
                [`/latest/debian_${bucket.arch}/amazon-ssm-agent.deb`]: deb,
                [`/latest/debian_${bucket.arch}/amazon-ssm-agent.deb.sig`]: sig,
            });
        }

        interface Outcome {
            code: number;
            stderr: string;
            installed: string;
            systemctl: string;
            leftovers: string[];
        }

        /** Renders the installer with `key`, runs it with sh, and reports what it did to a scratch dpkg root. */
        async function runInstaller(key: SigningKey): Promise<Outcome> {
            // systemctl stands in for the host's init: it records the call instead of starting anything here.
            const r = await bucket.runInstaller(renderSsmAgentInstaller(key), `${bucket.baseUrl}/latest`, {
                stubs: ["systemctl"],
                env: { LC_ALL: "C" },
            });
            return {
                code: r.code,
                stderr: r.stderr,
                installed: installedVersion(r.root),
                systemctl: r.calls.systemctl ?? "",
                leftovers: r.leftovers,
            };
        }

        /** dpkg's status and version of amazon-ssm-agent in the scratch root, "" when it knows none. */
        function installedVersion(root: string): string {
            try {
                return execFileSync(
                    "dpkg-query",
                    ["--admindir", join(root, "var/lib/dpkg"), "-W", "-f", "${Status} ${Version}", "amazon-ssm-agent"],
                    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
                );
            } catch {
                return "";
            }
        }

        beforeAll(async () => {
            bucket = await openSignedPackageBucket("jgt-ssm-");
            const fpr = bucket.newKey("jumpgate test signer <signer@example.invalid>");
            pinned = { base64: exportKey(fpr), fingerprint: fpr };
            // A dummy amazon-ssm-agent package, built by dpkg-deb.
            goodDeb = bucket.buildDeb({
                name: "amazon-ssm-agent",
                version: "3.3.9999.0-1",
                description: "stand-in for the SSM agent package",
                files: { "usr/share/jumpgate-test/agent": { content: "not the real agent\n" } },
            });
        });

        afterAll(async () => {
            if (bucket) await bucket.close();
        });

        it("installs and starts a package signed by the pinned key, and cleans up its downloads", async () => {
            publish(goodDeb, bucket.sign(pinned.fingerprint, goodDeb));
            const r = await runInstaller(pinned);
            expect(r.stderr).toContain(
                `installed and started the agent from ${bucket.baseUrl}/latest/debian_${bucket.arch}/`,
            );
            expect(r.code).toBe(0);
            expect(r.installed).toBe("install ok installed 3.3.9999.0-1");
            expect(r.systemctl).toBe("enable --now amazon-ssm-agent.service\n");
            expect(r.leftovers).toEqual([]);
        });

        it("refuses a package changed after signing", async () => {
            const sig = bucket.sign(pinned.fingerprint, goodDeb);
            const tampered = Buffer.concat([goodDeb, Buffer.from("\n")]);
            publish(tampered, sig);
            const r = await runInstaller(pinned);
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(
                /refused, agent not installed: no valid signature by [0-9A-F]{40} .*BAD signature/,
            );
            expect(r.installed).toBe("");
            expect(r.systemctl).toBe("");
            expect(r.leftovers).toEqual([]);
        });

        it("refuses a package without its signature", async () => {
            publish(goodDeb, undefined);
            const r = await runInstaller(pinned);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(
                `refused, agent not installed: cannot download ${bucket.baseUrl}/latest/debian_${bucket.arch}/amazon-ssm-agent.deb.sig`,
            );
            expect(r.installed).toBe("");
            expect(r.systemctl).toBe("");
        });

        it("refuses a package signed by any other key", async () => {
            const other = bucket.newKey("someone else <other@example.invalid>");
            publish(goodDeb, bucket.sign(other, goodDeb));
            const r = await runInstaller(pinned);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`no valid signature by ${pinned.fingerprint}`);
            expect(r.installed).toBe("");
        });

        it("accepts a good signature checked against an expired copy of the pinned key, as AWS's copy is", async () => {
            // The key is made in 2020 with one day of validity and copied; then its expiry is extended (a new
            // self-signature, as AWS does) and it signs today. The installer holds only the expired copy.
            const uid = "extended signer <extended@example.invalid>";
            const fpr = bucket.newKey(uid, ["--faked-system-time", "20200101T000000"]);
            const expiredCopy: SigningKey = { base64: exportKey(fpr), fingerprint: fpr };
            bucket.gpg("--faked-system-time", "20200101T010000", "--quick-set-expire", fpr, "20y");
            publish(goodDeb, bucket.sign(fpr, goodDeb));
            const r = await runInstaller(expiredCopy);
            expect(r.stderr).toContain("installed and started the agent");
            expect(r.code).toBe(0);
        });

        it("pins the key AWS publishes: the embedded key's fingerprint, computed by gpg, is the pinned one", () => {
            const file = join(bucket.dir, "aws.gpg");
            writeFileSync(file, Buffer.from(AWS_SSM_AGENT_KEY.base64, "base64"));
            const colons = bucket.gpg("--with-colons", "--show-keys", file).toString();
            expect(/^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1]).toBe(AWS_SSM_AGENT_KEY.fingerprint);
            expect(colons).toContain("SSM Agent <ssm-agent-signer@amazon.com>");
        });
    },
);
