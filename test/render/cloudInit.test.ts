// The rendered #cloud-config documents: valid for cloud-init 22.4 (`cloud-init schema -c`), read
// the same by PyYAML as by us, spelled with keys cloud-init knows (22.4 lets unknown top-level keys
// pass silently), and saying what the bastion and targets need. The files inside are proven with
// sshd and fail2ban in sshd.test.ts and fail2ban.test.ts; apt's config here with apt-config.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fileAt, parseCloudConfig, type CloudConfig, type CloudConfigUser } from "../../components/render/cloudConfig";
import {
    LOGIN_SHELL,
    LOGIN_SUDO,
    PACKAGES,
    SSH_ONLINE_DROPIN_PATH,
    UNATTENDED_UPGRADES_PATH,
    renderBastionCloudInit,
    renderTargetCloudInit,
    renderUnattendedUpgrades,
} from "../../components/render/cloudInit";
import { FAIL2BAN_JAIL_PATH } from "../../components/render/fail2ban";
import {
    BANNER_PATH,
    BANNER_TEXT,
    JUMP_GROUP,
    LOGIN_GROUP,
    NOLOGIN,
    SSHD_DROPIN_PATH,
} from "../../components/render/sshd";
import { sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

const TIMEOUT_MS = 60_000;
const bastionSpec = sampleBastionSpec();
const targetSpec = sampleTargetSpec();
const DOCS: Record<string, string> = {
    "bastion-debian": renderBastionCloudInit(bastionSpec),
    // As the program renders a Debian bastion: SSM agent and audit record builder (gz+b64 files).
    "bastion-debian-ssm": renderBastionCloudInit({
        ...bastionSpec,
        ssmAgentRegion: "eu-central-1",
        audit: { stack: "dev", host: "bastion" },
    }),
    "bastion-ubuntu": renderBastionCloudInit({ ...bastionSpec, os: "ubuntu-24.04", upgrades: { rebootTime: "03:30" } }),
    "target-debian": renderTargetCloudInit(targetSpec),
    "target-ubuntu": renderTargetCloudInit({ ...targetSpec, os: "ubuntu-24.04" }),
    // The audit trail's CloudWatch agent (configuration, installer, unit) on both kinds of host.
    "bastion-debian-audit": renderBastionCloudInit({
        ...bastionSpec,
        ssmAgentRegion: "eu-central-1",
        auditShipping: { region: "eu-central-1", logGroupName: "/jumpgate/prod/audit", logStreamName: "bastion" },
    }),
    "target-debian-audit": renderTargetCloudInit({
        ...targetSpec,
        auditShipping: { region: "eu-central-1", logGroupName: "/jumpgate/prod/audit", logStreamName: "app-1" },
    }),
};

function onlyUser(c: CloudConfig): CloudConfigUser {
    expect(c.users).toHaveLength(1); // no "default": the AMI's own admin/ubuntu user is not created
    const u = c.users[0];
    if (u === undefined || u === "default") throw new Error("expected one named user");
    return u;
}

const flat = (runcmd: CloudConfig["runcmd"]) => (runcmd ?? []).map((c) => (Array.isArray(c) ? c.join(" ") : c));

describe("document shape", () => {
    it("every document starts with #cloud-config, parses, and renders the same twice (no spurious diffs)", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            expect(doc.startsWith("#cloud-config\n"), name).toBe(true);
            expect(() => parseCloudConfig(doc), name).not.toThrow();
        }
        expect(renderBastionCloudInit(bastionSpec)).toBe(DOCS["bastion-debian"]);
        // gzip output is the same every time, or every deploy would replace the bastion.
        const audited = { ...bastionSpec, ssmAgentRegion: "eu-central-1", audit: { stack: "dev", host: "bastion" } };
        expect(renderBastionCloudInit(audited)).toBe(DOCS["bastion-debian-ssm"]);
    });

    it("bastion: pinned ED25519 host key only, no passwords, no root", () => {
        const c = parseCloudConfig(DOCS["bastion-debian"] ?? "");
        expect(c.ssh_keys).toEqual({
            ed25519_private: bastionSpec.hostKey.privateKeyOpenssh.endsWith("\n")
                ? bastionSpec.hostKey.privateKeyOpenssh
                : `${bastionSpec.hostKey.privateKeyOpenssh}\n`,
            ed25519_public: bastionSpec.hostKey.publicKeyOpenssh,
        });
        expect(c.extra).toMatchObject({
            ssh_genkeytypes: ["ed25519"],
            ssh_deletekeys: true,
            ssh_pwauth: false,
            disable_root: true,
        });
    });

    it("bastion: the jump user has the operator keys, nologin, a locked password, the jump group and no sudo", () => {
        const c = parseCloudConfig(DOCS["bastion-debian"] ?? "");
        const u = onlyUser(c);
        expect(u.name).toBe(bastionSpec.jumpUser);
        expect(u.shell).toBe(NOLOGIN);
        expect(u.lock_passwd).toBe(true);
        expect(u.groups?.split(",")).toContain(JUMP_GROUP);
        expect(u.sudo).toBeUndefined();
        // restrict: only forwards come back (sshd's PermitOpen still says where).
        expect(u.ssh_authorized_keys).toEqual(
            bastionSpec.operatorPublicKeys.map((k) => `restrict,port-forwarding ${k}`),
        );
        expect(c.groups).toContain(JUMP_GROUP);
    });

    it("target: hostname, the login user with a shell, sudo, the login group and the operator keys", () => {
        const c = parseCloudConfig(DOCS["target-debian"] ?? "");
        expect(c.hostname).toBe(targetSpec.name);
        const u = onlyUser(c);
        expect(u).toMatchObject({
            name: targetSpec.loginUser,
            shell: LOGIN_SHELL,
            lock_passwd: true,
            sudo: LOGIN_SUDO,
        });
        expect(u.groups?.split(",")).toContain(LOGIN_GROUP);
        // restrict: only a PTY comes back (no forward, agent, X11 or ~/.ssh/rc).
        expect(u.ssh_authorized_keys).toEqual(targetSpec.operatorPublicKeys.map((k) => `restrict,pty ${k}`));
        // sshd binds the private address only, so after a reboot it must wait for the network.
        expect(fileAt(c, SSH_ONLINE_DROPIN_PATH)).toMatch(/^After=network-online\.target$/m);
        expect(fileAt(c, SSH_ONLINE_DROPIN_PATH)).toMatch(/^Wants=network-online\.target$/m);
        expect(parseCloudConfig(DOCS["bastion-debian"] ?? "").write_files.map((f) => f.path)).not.toContain(
            SSH_ONLINE_DROPIN_PATH,
        );
        expect(fileAt(c, SSHD_DROPIN_PATH)).toMatch(
            new RegExp(`^ListenAddress ${targetSpec.privateIp.replace(/\./g, "\\.")}$`, "m"),
        );
    });

    it("sshd files are written before sshd first starts; package config after the packages (defer)", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            const c = parseCloudConfig(doc);
            const file = (p: string) => c.write_files.find((f) => f.path === p);
            expect(file(SSHD_DROPIN_PATH), name).toMatchObject({ permissions: "0600", owner: "root:root" });
            expect(file(SSHD_DROPIN_PATH)?.defer, name).toBeFalsy();
            expect(file(BANNER_PATH)?.defer, name).toBeFalsy();
            expect(fileAt(c, BANNER_PATH)).toBe(BANNER_TEXT);
            expect(file(FAIL2BAN_JAIL_PATH)?.defer, name).toBe(true);
            expect(file(UNATTENDED_UPGRADES_PATH)?.defer, name).toBe(true);
            expect(c.packages, name).toEqual(
                expect.arrayContaining(["fail2ban", "python3-systemd", "nftables", "unattended-upgrades"]),
            );
            // curl only where an agent is fetched (SSM on the Debian bastion, CloudWatch with the audit trail).
            const fetches = name.endsWith("-ssm") || name.endsWith("-audit");
            expect(c.packages, name).toEqual(fetches ? [...PACKAGES, "curl"] : [...PACKAGES]);
            expect(c.extra.package_update, name).toBe(true);
        }
    });

    it("runcmd restarts sshd only after sshd -t, and fail2ban after its setup; Ubuntu leaves socket activation first", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            const cmds = flat(parseCloudConfig(doc).runcmd);
            const at = (re: RegExp) => cmds.findIndex((c) => re.test(c));
            // One chained command: nothing about sshd changes unless sshd -t accepts the files.
            const ssh = cmds.filter((c) => /ssh\.s(ervice|ocket)/.test(c));
            expect(ssh, name).toHaveLength(1);
            const steps = (ssh[0] ?? "").replace(/^sh -c /, "").split(" && ");
            expect(steps.indexOf("sshd -t"), name).toBeGreaterThanOrEqual(0);
            expect(steps.indexOf("sshd -t"), name).toBeLessThan(steps.findIndex((s) => /ssh\.s(ervice|ocket)/.test(s)));
            expect(steps.at(-1), name).toBe("systemctl restart ssh.service");
            expect(steps, name).toContain("systemctl daemon-reload"); // the targets' ssh.service drop-in
            const f2bRestart = at(/^systemctl restart fail2ban\.service$/);
            expect(f2bRestart, name).toBeGreaterThan(at(/^touch \/var\/log\/fail2ban\.log$/));
            if (name.endsWith("ubuntu")) {
                expect(steps, name).toContain("systemctl disable --now ssh.socket");
                expect(steps, name).toContain("systemctl enable ssh.service");
                expect(at(/noble-updates fail2ban/), name).toBeGreaterThanOrEqual(0);
                expect(at(/noble-updates fail2ban/), name).toBeLessThan(f2bRestart);
            } else {
                expect(
                    cmds.some((c) => /ssh\.socket|noble/.test(c)),
                    name,
                ).toBe(false);
            }
        }
    });

    it("refuses specs that would lock the operator out or break the document", () => {
        expect(() => renderBastionCloudInit({ ...bastionSpec, operatorPublicKeys: ["ssh-rsa AAAAB3Nza me"] })).toThrow(
            /ssh-rsa/,
        );
        expect(() => renderBastionCloudInit({ ...bastionSpec, operatorPublicKeys: [] })).toThrow(/at least one/);
        expect(() => renderBastionCloudInit({ ...bastionSpec, jumpUser: "root" })).toThrow(/user name/);
        expect(() => renderTargetCloudInit({ ...targetSpec, loginUser: "Ops Admin" })).toThrow(/user name/);
        expect(() => renderTargetCloudInit({ ...targetSpec, name: "app_1" })).toThrow(/hostname/);
        expect(() => renderUnattendedUpgrades({ rebootTime: "3am" })).toThrow(/HH:MM/);
    });
});

describe.runIf(toolsAvailable("cloud-init", "sh"))("cloud-init 22.4 and PyYAML on the documents", () => {
    let work: string;
    /** The interpreter cloud-init runs on (its shebang), which has cloud-init's schema and PyYAML. */
    let python: string;
    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "jgt-ci-"));
        const bin = spawnSync("sh", ["-c", "command -v cloud-init"], { encoding: "utf8" }).stdout.trim();
        python = (readFileSync(bin, "utf8").split("\n")[0] ?? "").replace(/^#!\s*/, "").split(" ")[0] ?? "python3";
    });
    afterAll(() => {
        if (work) rmSync(work, { recursive: true, force: true });
    });

    it("cloud-init schema -c accepts every document", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            const file = join(work, `${name}.yaml`);
            writeFileSync(file, doc);
            const r = spawnSync("cloud-init", ["schema", "-c", file], { encoding: "utf8", timeout: TIMEOUT_MS });
            expect(r.stdout + r.stderr, name).toContain("Valid cloud-config");
            expect(r.status, name).toBe(0);
        }
    });

    it("every key is one cloud-init's schema knows (22.4 would ignore a misspelt top-level key)", () => {
        const where = spawnSync(
            python,
            ["-c", "import os, cloudinit.config.schemas as s; print(os.path.dirname(s.__file__))"],
            { encoding: "utf8", timeout: TIMEOUT_MS },
        );
        expect(where.status).toBe(0);
        const schema = JSON.parse(readFileSync(join(where.stdout.trim(), "schema-cloud-config-v1.json"), "utf8")) as {
            $defs: Record<string, { properties?: Record<string, unknown> }>;
        };
        const topLevel = new Set(
            Object.entries(schema.$defs)
                .filter(([k]) => k.startsWith("cc_"))
                .flatMap(([, d]) => Object.keys(d.properties ?? {})),
        );
        const userKeys = new Set(Object.keys(schema.$defs["users_groups.user"]?.properties ?? {}));
        expect(topLevel.size).toBeGreaterThan(50);
        for (const [name, doc] of Object.entries(DOCS)) {
            const raw = parse(doc) as Record<string, unknown>;
            for (const key of Object.keys(raw)) expect(topLevel, `${name}: ${key}`).toContain(key);
            for (const u of parseCloudConfig(doc).users) {
                if (u !== "default")
                    for (const key of Object.keys(u)) expect(userKeys, `${name}: users.${key}`).toContain(key);
            }
        }
    });

    it("PyYAML (what cloud-init uses) reads exactly what we wrote: no YAML 1.1 surprises such as 0600 or no", () => {
        // Names YAML 1.1 would read as booleans if they were left unquoted.
        const tricky = {
            "user-on": renderBastionCloudInit({ ...bastionSpec, jumpUser: "on" }),
            "host-no": renderTargetCloudInit({ ...targetSpec, name: "no" }),
        };
        for (const [name, doc] of Object.entries({ ...DOCS, ...tricky })) {
            const r = spawnSync(
                python,
                ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                { input: doc, encoding: "utf8", timeout: TIMEOUT_MS },
            );
            expect(r.status, name).toBe(0);
            expect(JSON.parse(r.stdout), name).toEqual(parse(doc));
        }
    });

    it("every shell command in runcmd is valid sh", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            for (const c of parseCloudConfig(doc).runcmd ?? []) {
                const script = Array.isArray(c) ? (c[0] === "sh" && c[1] === "-c" ? (c[2] ?? "") : "") : c;
                const r = spawnSync("sh", ["-n", "-c", script], { encoding: "utf8", timeout: TIMEOUT_MS });
                expect(r.status, `${name}: ${script}`).toBe(0);
            }
        }
    });
});

describe.runIf(toolsAvailable("apt-config"))("unattended upgrades, read by apt-config", () => {
    let work: string;
    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "jgt-apt-"));
    });
    afterAll(() => {
        if (work) rmSync(work, { recursive: true, force: true });
    });

    /** apt's view of the document's file (read after the system's own apt.conf.d, as 52… is on the host). */
    function aptView(doc: string): string {
        const file = join(work, "52jumpgate-unattended");
        writeFileSync(file, fileAt(parseCloudConfig(doc), UNATTENDED_UPGRADES_PATH));
        const r = spawnSync("apt-config", ["-c", file, "dump"], { encoding: "utf8", timeout: TIMEOUT_MS });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        return r.stdout;
    }

    it("daily security upgrades on; no automatic reboot by default", () => {
        const v = aptView(DOCS["bastion-debian"] ?? "");
        expect(v).toContain('APT::Periodic::Update-Package-Lists "1";');
        expect(v).toContain('APT::Periodic::Unattended-Upgrade "1";');
        expect(v).toContain('Unattended-Upgrade::Automatic-Reboot "false";');
        expect(v).not.toContain("Automatic-Reboot-Time");
    });

    it("retries downloads with backoff on every host, so a first boot outlasts a late EIP or NAT route", () => {
        for (const [name, doc] of Object.entries(DOCS)) {
            const file = join(work, "94cloud-init-config");
            const apt = parseCloudConfig(doc).extra.apt as { conf?: string } | undefined;
            writeFileSync(file, apt?.conf ?? "");
            const r = spawnSync("apt-config", ["-c", file, "dump"], { encoding: "utf8", timeout: TIMEOUT_MS });
            expect(r.stderr, name).toBe("");
            expect(r.stdout, name).toContain('Acquire::Retries "20";');
            expect(r.stdout, name).toContain('Acquire::Retries::Delay::Maximum "30";');
        }
    });

    it("reboots at the configured time when a reboot window is set", () => {
        const v = aptView(DOCS["bastion-ubuntu"] ?? "");
        expect(v).toContain('Unattended-Upgrade::Automatic-Reboot "true";');
        expect(v).toContain('Unattended-Upgrade::Automatic-Reboot-Time "03:30";');
    });
});
