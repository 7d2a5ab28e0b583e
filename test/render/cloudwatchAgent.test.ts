// The CloudWatch agent every host runs to ship its audit trail: the rendered configuration is judged by
// the agent's own published JSON schema (translator/config/schema.json, a fixture with its source and
// licence in test/fixtures/cloudwatch-agent/), the user data carries it with the installer and its unit,
// and the installer is RUN with sh against packages served over loopback: only a package signed by the
// pinned fingerprint is installed and started. Real gpg makes keys and signatures, real dpkg-deb the package.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Ajv04 from "ajv-draft-04";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import { AUDIT_SYSLOG_IDENTIFIER } from "../../components/render/auditRecord";
import {
    AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT,
    CLOUDWATCH_AGENT_CONFIG_PATH,
    CLOUDWATCH_AGENT_CTL,
    CLOUDWATCH_AGENT_INSTALLER_PATH,
    CLOUDWATCH_AGENT_UNIT,
    CLOUDWATCH_AGENT_UNIT_PATH,
    renderCloudWatchAgentConfig,
    renderCloudWatchAgentInstaller,
} from "../../components/render/cloudwatchAgent";
import { SSHD_JOURNAL_MATCH } from "../../components/render/fail2ban";
import { sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import {
    openSignedPackageBucket,
    SIGNED_PACKAGE_TOOLS,
    type SignedPackageBucket,
} from "../helpers/signedPackageBucket";
import { toolsAvailable } from "../helpers/tools";

const SCHEMA_FILE = resolve(__dirname, "../fixtures/cloudwatch-agent/schema.json");
const shipping = { region: "eu-central-1", logGroupName: "/jumpgate/prod/audit", logStreamName: "bastion" };

function agentSchemaValidator() {
    const ajv = new Ajv04({ allErrors: true, strict: false });
    return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as object);
}

describe("the agent configuration, judged by the agent's published schema", () => {
    const validate = agentSchemaValidator();

    it("is valid for the bastion and for a target name", () => {
        for (const logStreamName of ["bastion", "app-1", "db-primary-2"]) {
            const config: unknown = JSON.parse(renderCloudWatchAgentConfig({ ...shipping, logStreamName }));
            expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
        }
    });

    it("the schema is a real judge: the same document with a key the journald input does not know is refused", () => {
        const config = JSON.parse(renderCloudWatchAgentConfig(shipping)) as {
            logs: { logs_collected: { journald: { collect_list: Record<string, unknown>[] } } };
        };
        config.logs.logs_collected.journald.collect_list[0]!.identifiers = ["sshd"];
        expect(validate(config)).toBe(false);
        expect(JSON.stringify(validate.errors)).toContain("additionalProperties");
    });

    it("ships sshd's entries (the terms fail2ban's jail reads), fail2ban's and the audit records, into the host's own stream", () => {
        const config = JSON.parse(renderCloudWatchAgentConfig(shipping)) as {
            logs: { logs_collected: { journald: { collect_list: Record<string, unknown>[] } } };
        };
        const [entry, ...more] = config.logs.logs_collected.journald.collect_list;
        expect(more).toEqual([]);
        expect(entry!.log_group_name).toBe("/jumpgate/prod/audit");
        expect(entry!.log_stream_name).toBe("bastion");
        // The group exists with its retention; the hosts may not set one.
        expect(entry).not.toHaveProperty("retention_in_days");
        const matches = entry!.matches as Record<string, string>[];
        expect(matches).toContainEqual({ SYSLOG_IDENTIFIER: AUDIT_SYSLOG_IDENTIFIER });
        expect(matches).toContainEqual({ _SYSTEMD_UNIT: "fail2ban.service" });
        for (const term of SSHD_JOURNAL_MATCH.split(" + ")) {
            const [field, value] = term.split("=") as [string, string];
            expect(matches).toContainEqual({ [field]: value });
        }
    });

    it("refuses a stream name CloudWatch Logs refuses and a region that is not one", () => {
        expect(() => renderCloudWatchAgentConfig({ ...shipping, logStreamName: "a:b" })).toThrow(/':' or '\*'/);
        expect(() => renderCloudWatchAgentConfig({ ...shipping, region: "eu/../x" })).toThrow(/not an AWS region/);
    });
});

describe("the user data", () => {
    it("carries the configuration, the installer and its unit on the bastion and targets, started last", () => {
        const docs = [
            parseCloudConfig(renderBastionCloudInit(sampleBastionSpec({ auditShipping: shipping }))),
            parseCloudConfig(
                renderTargetCloudInit(sampleTargetSpec({ auditShipping: { ...shipping, logStreamName: "app-1" } })),
            ),
        ];
        for (const doc of docs) {
            expect(fileAt(doc, CLOUDWATCH_AGENT_INSTALLER_PATH)).toBe(renderCloudWatchAgentInstaller());
            expect(doc.write_files.find((f) => f.path === CLOUDWATCH_AGENT_INSTALLER_PATH)?.permissions).toBe("0700");
            const unit = fileAt(doc, CLOUDWATCH_AGENT_UNIT_PATH);
            expect(unit).toContain(
                `ExecStart=${CLOUDWATCH_AGENT_INSTALLER_PATH} https://s3.eu-central-1.amazonaws.com/amazoncloudwatch-agent-eu-central-1`,
            );
            expect(unit).toMatch(/^Restart=on-failure$/m);
            expect(unit).toContain(`ConditionPathExists=!${CLOUDWATCH_AGENT_CTL}`);
            expect(doc.runcmd?.at(-1)).toEqual(["systemctl", "enable", "--now", "--no-block", CLOUDWATCH_AGENT_UNIT]);
            expect(doc.packages).toContain("curl");
        }
        const target = JSON.parse(fileAt(docs[1]!, CLOUDWATCH_AGENT_CONFIG_PATH)!) as {
            logs: { logs_collected: { journald: { collect_list: { log_stream_name: string }[] } } };
        };
        expect(target.logs.logs_collected.journald.collect_list[0]!.log_stream_name).toBe("app-1");
    });

    it("has none of it when the audit trail is off", () => {
        const doc = parseCloudConfig(renderTargetCloudInit(sampleTargetSpec()));
        expect(doc.write_files.map((f) => f.path)).not.toContain(CLOUDWATCH_AGENT_UNIT_PATH);
        expect(JSON.stringify(doc.runcmd)).not.toContain("cloudwatch");
        expect(doc.packages).not.toContain("curl");
    });
});

describe.runIf(toolsAvailable(...SIGNED_PACKAGE_TOOLS))(
    "the installer, run against packages served on loopback",
    () => {
        let bucket: SignedPackageBucket;
        let signer: string;
        let goodDeb: Buffer;

        /** What the bucket serves: the package, its signature and the signing key AWS publishes. */
        function publish(deb: Buffer, sig: Buffer | undefined, keyFpr: string): void {
            bucket.publish({
                [`/debian/${bucket.arch}/latest/amazon-cloudwatch-agent.deb`]: deb,
                [`/debian/${bucket.arch}/latest/amazon-cloudwatch-agent.deb.sig`]: sig,
                "/assets/amazon-cloudwatch-agent.gpg": bucket.exportKey(keyFpr),
            });
        }

        /** Runs the installer pinned to `fingerprint`; `ctl` is how it called the agent's control script. */
        async function runInstaller(
            fingerprint: string,
        ): Promise<{ code: number; stderr: string; ctl: string; tmp: string[] }> {
            const r = await bucket.runInstaller(renderCloudWatchAgentInstaller(fingerprint), bucket.baseUrl);
            const log = join(r.root, "ctl.log");
            return {
                code: r.code,
                stderr: r.stderr,
                ctl: existsSync(log) ? readFileSync(log, "utf8") : "",
                tmp: r.leftovers,
            };
        }

        beforeAll(async () => {
            bucket = await openSignedPackageBucket("jgt-cwagent-");
            signer = bucket.newKey("jumpgate test agent signer <signer@example.invalid>");
            // A stand-in package whose control script records how it was called (inside the scratch root).
            goodDeb = bucket.buildDeb({
                name: "amazon-cloudwatch-agent",
                version: "1.300099.0-1",
                description: "stand-in for the CloudWatch agent",
                files: {
                    "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl": {
                        content: '#!/bin/sh\necho "$*" >> "$DPKG_ROOT/ctl.log"\n',
                        mode: 0o755,
                    },
                },
            });
        });

        afterAll(async () => {
            if (bucket) await bucket.close();
        });

        it("installs a package signed by the pinned fingerprint and starts the agent on the rendered configuration", async () => {
            publish(goodDeb, bucket.sign(signer, goodDeb), signer);
            const r = await runInstaller(signer);
            expect(r.stderr).toContain(`installed and started the agent from ${bucket.baseUrl}/debian/${bucket.arch}/`);
            expect(r.code).toBe(0);
            expect(r.ctl).toBe(`-a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_PATH}\n`);
            expect(r.tmp).toEqual([]);
        });

        it("refuses when the published key was swapped for another that signed the package", async () => {
            const attacker = bucket.newKey("someone else <other@example.invalid>");
            publish(goodDeb, bucket.sign(attacker, goodDeb), attacker);
            const r = await runInstaller(signer);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`no valid signature by ${signer}`);
            expect(r.ctl).toBe("");
        });

        it("refuses a package changed after signing, and one without its signature", async () => {
            publish(Buffer.concat([goodDeb, Buffer.from("\n")]), bucket.sign(signer, goodDeb), signer);
            const tampered = await runInstaller(signer);
            expect(tampered.code).toBe(1);
            expect(tampered.stderr).toMatch(
                /refused, agent not installed: no valid signature by [0-9A-F]{40} .*BAD signature/,
            );
            publish(goodDeb, undefined, signer);
            const unsigned = await runInstaller(signer);
            expect(unsigned.stderr).toContain(
                `cannot download ${bucket.baseUrl}/debian/${bucket.arch}/latest/amazon-cloudwatch-agent.deb.sig`,
            );
            expect(unsigned.ctl).toBe("");
        });

        it("pins the fingerprint AWS's user guide gives for the agent's signing key", () => {
            expect(renderCloudWatchAgentInstaller()).toContain(`FPR=${AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT}`);
            expect(AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT).toBe(
                "9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72".replace(/ /g, ""),
            );
        });
    },
);
