// `jumpgate-ssh install|uninstall` run as the operator runs it (node + bin/jumpgate-ssh.js, HOME set to
// a temporary home), the result judged by the real `ssh -G` (with -F, since ssh reads ~/.ssh/config from
// the passwd entry, not $HOME), and bad input shown to leave ~/.ssh exactly as it was.
import { spawnSync } from "node:child_process";
import {
    chmodSync,
    existsSync,
    lstatSync,
    mkdirSync,
    readdirSync,
    readFileSync,
    readlinkSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasTool, toolsAvailable } from "../helpers/tools";
import { Fixtures, fixtures, json } from "./fixtures";
import { cleanupHomes, cli, one, snapshotTree, sshG, tempHome } from "./home";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const OLD_SSH = "OpenSSH_7.2p2 Ubuntu-4ubuntu2.10, OpenSSL 1.0.2g  1 Mar 2016";

let fx: Fixtures;
let dir: string;
/** Writes an outputs file (outside the home) and returns its path. */
const outputsFile = (outputs: Record<string, unknown> | string, name = "outputs.json") => {
    const file = join(dir, name);
    writeFileSync(file, typeof outputs === "string" ? outputs : json(outputs));
    return file;
};
const mode = (p: string) => (lstatSync(p).mode & 0o777).toString(8);
/** A home with an operator's own ~/.ssh/config: a global setting and a host of theirs. */
const USER_CONFIG = "ServerAliveInterval 77\n\nHost work\n  HostName 192.0.2.7\n  User me\n";
function homeWithConfig(name?: string): string {
    const home = tempHome(name);
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh", "config"), USER_CONFIG, { mode: 0o600 });
    return home;
}
const withoutBackups = (tree: Record<string, string>) =>
    Object.fromEntries(Object.entries(tree).filter(([p]) => !p.includes(".jumpgate-bak-")));

describe.runIf(toolsAvailable("ssh", "ssh-keygen"))("jumpgate-ssh install, judged by ssh -G", () => {
    beforeAll(async () => {
        fx = await fixtures();
        dir = tempHome("outputs");
    });
    afterAll(cleanupHomes);

    it("installs into an empty home: 0700 directories, 0600 files, every alias resolved by ssh", () => {
        const home = tempHome();
        const res = cli(home, ["install", "--from", outputsFile(fx.dev)]);
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(res.stdout).toContain("Try: ssh dev-app-1");
        const ssh = join(home, ".ssh");
        expect(mode(ssh)).toBe("700");
        expect(mode(join(ssh, "config.d"))).toBe("700");
        for (const f of ["config", "config.d/jumpgate-dev.conf", "jumpgate-dev_known_hosts", "jumpgate-dev_ed25519"]) {
            expect([f, mode(join(ssh, f))]).toEqual([f, "600"]);
        }
        expect(readFileSync(join(ssh, "config"), "utf8")).toMatch(/^# jumpgate-ssh: .*\nInclude config\.d\/\*\n$/);

        const targets = fx.dev.targets as Record<string, string>;
        for (const [alias, hostname, user] of [
            ["dev-bastion", String(fx.dev.bastionPublicIp), "jump"],
            ["dev-app-1", targets["app-1"]!, "ops"],
            ["dev-db-1", targets["db-1"]!, "ops"],
        ] as const) {
            const g = sshG(home, alias);
            expect([alias, one(g, "hostname"), one(g, "user"), one(g, "port")]).toEqual([alias, hostname, user, "22"]);
            expect(one(g, "proxyjump")).toBe(alias === "dev-bastion" ? undefined : "dev-bastion");
            expect(g.get("identityfile")).toEqual([`${ssh}/jumpgate-dev_ed25519`]);
            expect(one(g, "userknownhostsfile")).toBe(`${ssh}/jumpgate-dev_known_hosts`);
            expect(one(g, "hostkeyalias")).toBe(alias);
            expect(one(g, "stricthostkeychecking")).toBe("true");
            expect(one(g, "identitiesonly")).toBe("yes");
        }
        expect(one(sshG(home, "dev-bastion"), "controlpath")).toMatch(new RegExp(`^${ssh}/cm-jumpgate-[0-9a-f]{40}$`));
        // The pinned keys are found under the aliases, and the key is a key ssh can use.
        for (const alias of ["dev-bastion", "dev-app-1", "dev-db-1"]) {
            const found = spawnSync("ssh-keygen", ["-F", alias, "-f", join(ssh, "jumpgate-dev_known_hosts")]);
            expect([alias, found.status]).toEqual([alias, 0]);
        }
        const pub = spawnSync("ssh-keygen", ["-y", "-f", join(ssh, "jumpgate-dev_ed25519")], { encoding: "utf8" });
        expect(pub.stdout).toMatch(/^ssh-ed25519 AAAA/);
    });

    it("runs as `npx jumpgate-ssh` from the project directory (the package's bin, through tsx)", () => {
        const home = tempHome();
        const res = spawnSync("npx", ["--offline", "jumpgate-ssh", "install", "--from", outputsFile(fx.dev)], {
            cwd: join(__dirname, "..", ".."),
            encoding: "utf8",
            // A cache of its own: npx links the project into it, as on a fresh checkout.
            env: {
                ...process.env,
                HOME: home,
                npm_config_cache: join(dir, "npm-cache"),
                npm_config_update_notifier: "false",
            },
        });
        expect(res.status).toBe(0);
        expect(res.stdout).toContain(`jumpgate-ssh: stack dev in ${home}/.ssh (ProxyJump, OpenSSH `);
        expect(one(sshG(home, "dev-app-1"), "proxyjump")).toBe("dev-bastion");
    });

    it("shows what it would do with --dry-run and changes nothing", () => {
        const home = homeWithConfig();
        const before = snapshotTree(home);
        const res = cli(home, ["install", "--from", outputsFile(fx.dev), "--dry-run"]);
        expect(res.status).toBe(0);
        expect(res.stdout).toContain(`[dry run] created   ${home}/.ssh/jumpgate-dev_ed25519 (private key, 0600)`);
        expect(res.stdout).toContain("(dry run: nothing was changed)");
        expect(snapshotTree(home)).toEqual(before);
    });

    it("is idempotent: a second install changes nothing", () => {
        const home = homeWithConfig();
        const from = outputsFile(fx.dev);
        expect(cli(home, ["install", "--from", from]).status).toBe(0);
        const before = snapshotTree(home);
        const again = cli(home, ["install", "--from", from]);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("(up to date, nothing changed)");
        expect(snapshotTree(home)).toEqual(before);
    });

    it("puts the Include at the top of an existing ~/.ssh/config, keeps a backup, and leaves the user's hosts alone", () => {
        const home = homeWithConfig();
        const before = sshG(home, "work");
        expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
        const ssh = join(home, ".ssh");
        const config = readFileSync(join(ssh, "config"), "utf8");
        expect(config.split("\n").slice(0, 3)).toEqual([
            "# jumpgate-ssh: added the Include below; uninstall removes it with the last jumpgate stack",
            "Include config.d/*",
            "",
        ]);
        expect(config.endsWith(`\n${USER_CONFIG}`)).toBe(true);
        const backups = readdirSync(ssh).filter((n) => n.startsWith("config.jumpgate-bak-"));
        expect(backups).toHaveLength(1);
        expect(readFileSync(join(ssh, backups[0]!), "utf8")).toBe(USER_CONFIG);
        expect(sshG(home, "work")).toEqual(before);
        // The user's global setting still applies to their hosts; the stack's own value wins for its hosts.
        expect(one(sshG(home, "work"), "serveraliveinterval")).toBe("77");
        expect(one(sshG(home, "dev-app-1"), "serveraliveinterval")).toBe("30");
    });

    it("leaves ~/.ssh/config alone when an Include already covers config.d", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"), { mode: 0o700 });
        const cfg = "Include ~/.ssh/config.d/*.conf\n\nHost work\n  User me\n";
        writeFileSync(join(home, ".ssh", "config"), cfg, { mode: 0o600 });
        const res = cli(home, ["install", "--from", outputsFile(fx.dev)]);
        expect(res.status).toBe(0);
        expect(res.stdout).toContain(`unchanged ${home}/.ssh/config`);
        expect(readFileSync(join(home, ".ssh", "config"), "utf8")).toBe(cfg);
        expect(readdirSync(join(home, ".ssh")).filter((n) => n.includes("bak"))).toEqual([]);
        expect(one(sshG(home, "dev-db-1"), "proxyjump")).toBe("dev-bastion");
    });

    it("reads the outputs from stdin with --from -", () => {
        const home = tempHome();
        const res = cli(home, ["install", "--from", "-"], { input: json(fx.dev) });
        expect(res.status).toBe(0);
        expect(one(sshG(home, "dev-app-1"), "hostname")).toBe((fx.dev.targets as Record<string, string>)["app-1"]);
    });

    it("runs pulumi stack output --json --show-secrets --stack S without --from", () => {
        const home = tempHome();
        const bin = join(dir, "fake-pulumi");
        mkdirSync(bin, { recursive: true });
        writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "$@" > ${bin}/args\ncat ${outputsFile(fx.dev)}\n`, {
            mode: 0o755,
        });
        const res = cli(home, ["install", "--stack", "dev"], { env: { PATH: `${bin}:${process.env.PATH}` } });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(readFileSync(join(bin, "args"), "utf8").trim()).toBe("stack output --json --show-secrets --stack dev");
        expect(one(sshG(home, "dev-db-1"), "proxyjump")).toBe("dev-bastion");
    });

    it("writes absolute paths and an absolute Include for --home elsewhere, even with a space in it", () => {
        const home = tempHome("my home");
        const res = cli(tempHome(), ["install", "--home", home, "--from", outputsFile(fx.dev)]);
        expect(res.status).toBe(0);
        expect(readFileSync(join(home, ".ssh", "config"), "utf8")).toContain(`Include "${home}/.ssh/config.d/*"\n`);
        // ssh finds it whatever $HOME is.
        const g = sshG(home, "dev-app-1", [], "/nonexistent");
        expect(g.get("identityfile")).toEqual([`${home}/.ssh/jumpgate-dev_ed25519`]);
        expect(one(g, "userknownhostsfile")).toBe(`${home}/.ssh/jumpgate-dev_known_hosts`);
        expect(one(g, "proxyjump")).toBe("dev-bastion");
    });

    it("keeps the IdentityFile of a key the operator brought and writes no key", () => {
        const home = tempHome();
        expect(cli(home, ["install", "--from", outputsFile(fx.byo)]).status).toBe(0);
        expect(existsSync(join(home, ".ssh", "jumpgate-byo_ed25519"))).toBe(false);
        // ssh -G prints IdentityFile unexpanded; it is expanded (from the passwd entry) at connect time.
        expect(sshG(home, "byo-app-1").get("identityfile")).toEqual(["~/.ssh/id_ed25519"]);
    });

    it("installs a bastion chain with its tunnel", () => {
        const home = tempHome();
        expect(cli(home, ["install", "--from", outputsFile(fx.chain)]).status).toBe(0);
        expect(one(sshG(home, "prod-mgmt"), "proxyjump")).toBe("prod-edge");
        expect(one(sshG(home, "prod-app-1"), "proxyjump")).toBe("prod-edge,prod-mgmt");
        const tunnel = sshG(home, "prod-tunnel-pg");
        expect(one(tunnel, "localforward")).toMatch(/^\[?127\.0\.0\.1\]?:15432 \[?10\.42\.\d+\.10\]?:5432$/);
        expect(one(tunnel, "sessiontype")).toBe("none");
        expect(one(tunnel, "hostkeyalias")).toBe("prod-mgmt");
    });

    it("gives sshCommands' rsync and Ansible lines an ssh that resolves through the installed config", () => {
        const home = tempHome();
        expect(cli(home, ["install", "--from", outputsFile(fx.chain)]).status).toBe(0);
        const cmds = fx.chain.sshCommands as Record<string, string>;
        const rsync = /^rsync -av -e 'ssh -J (\S+)' \.\/dir\/ (\S+):\/tmp\/dir\/$/.exec(cmds.rsync!);
        expect(rsync).not.toBeNull();
        const viaRsync = sshG(home, rsync![2]!, ["-J", rsync![1]!]);
        expect([one(viaRsync, "proxyjump"), one(viaRsync, "user")]).toEqual(["prod-edge,prod-mgmt", "ops"]);
        const ansible = /^(\S+) ansible_ssh_common_args='(-o ProxyJump=\S+)'$/.exec(cmds.ansible!);
        expect(ansible).not.toBeNull();
        const viaAnsible = sshG(home, ansible![1]!, ansible![2]!.split(" "));
        expect([one(viaAnsible, "proxyjump"), one(viaAnsible, "hostkeyalias")]).toEqual([
            "prod-edge,prod-mgmt",
            "prod-app-1",
        ]);
    });

    it("keeps a symlinked ~/.ssh/config a symlink and edits the file it points to", () => {
        const home = tempHome();
        mkdirSync(join(home, ".ssh"), { mode: 0o700 });
        mkdirSync(join(home, "dotfiles"));
        writeFileSync(join(home, "dotfiles", "ssh_config"), USER_CONFIG, { mode: 0o600 });
        symlinkSync("../dotfiles/ssh_config", join(home, ".ssh", "config"));
        expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
        expect(readlinkSync(join(home, ".ssh", "config"))).toBe("../dotfiles/ssh_config");
        expect(readFileSync(join(home, "dotfiles", "ssh_config"), "utf8")).toContain("Include config.d/*\n");
        expect(one(sshG(home, "dev-app-1"), "proxyjump")).toBe("dev-bastion");
    });

    describe("OpenSSH older than 7.3", () => {
        it("gets the ProxyCommand variant inline, with no Include and no ProxyJump anywhere", () => {
            const home = homeWithConfig();
            const res = cli(home, ["install", "--from", outputsFile(fx.dev), "--ssh-version", OLD_SSH]);
            expect(res.status).toBe(0);
            expect(res.stdout).toContain("OpenSSH 7.2 has neither ProxyJump nor Include");
            expect(existsSync(join(home, ".ssh", "config.d", "jumpgate-dev.conf"))).toBe(false);
            const config = readFileSync(join(home, ".ssh", "config"), "utf8");
            // Either keyword would stop OpenSSH 7.2 with "Bad configuration option".
            expect(config).not.toMatch(/^\s*(Include|ProxyJump)\b/im);
            const g = sshG(home, "dev-app-1");
            // The temporary home is not the passwd home ssh would read for the bastion hop: -F points there.
            expect(one(g, "proxycommand")).toBe(`ssh -F ${home}/.ssh/config -W %h:%p dev-bastion`);
            expect(g.has("proxyjump")).toBe(false);
            // `Host *` closes the block: the user's global setting still applies to every other host.
            expect(one(sshG(home, "work"), "serveraliveinterval")).toBe("77");
            expect(one(sshG(home, "work"), "hostname")).toBe("192.0.2.7");
        });

        it("is idempotent and uninstalls to the user's config exactly", () => {
            const home = homeWithConfig();
            const args = ["install", "--from", outputsFile(fx.dev), "--ssh-version", OLD_SSH];
            expect(cli(home, args).status).toBe(0);
            const once = snapshotTree(home);
            expect(cli(home, args).status).toBe(0);
            expect(snapshotTree(home)).toEqual(once);
            expect(cli(home, ["uninstall", "--stack", "dev"]).status).toBe(0);
            expect(readFileSync(join(home, ".ssh", "config"), "utf8")).toBe(USER_CONFIG);
        });
    });

    describe("refuses to overwrite what it did not write", () => {
        it("leaves a foreign conf and key in place, and replaces them with backups under --force", () => {
            const home = homeWithConfig();
            mkdirSync(join(home, ".ssh", "config.d"), { mode: 0o700 });
            const conf = join(home, ".ssh", "config.d", "jumpgate-dev.conf");
            writeFileSync(conf, "Host mine\n  HostName 192.0.2.9\n", { mode: 0o600 });
            const before = snapshotTree(home);
            const res = cli(home, ["install", "--from", outputsFile(fx.dev)]);
            expect(res.status).toBe(1);
            expect(res.stderr).toContain(
                `refusing to overwrite file(s) jumpgate-ssh did not write: ${conf} (ssh config)`,
            );
            expect(res.stderr).toContain(`nothing in ${home}/.ssh was changed`);
            expect(snapshotTree(home)).toEqual(before);

            const forced = cli(home, ["install", "--from", outputsFile(fx.dev), "--force"]);
            expect(forced.status).toBe(0);
            expect(forced.stdout).toMatch(
                /replaced .*jumpgate-dev\.conf \(ssh config, 0600\), backup .*\.jumpgate-bak-/,
            );
            const backup = readdirSync(join(home, ".ssh", "config.d")).find((n) => n.includes(".jumpgate-bak-"))!;
            expect(readFileSync(join(home, ".ssh", "config.d", backup), "utf8")).toBe(
                "Host mine\n  HostName 192.0.2.9\n",
            );
        });
    });

    describe("bad input gives a clear error and leaves ~/.ssh untouched", () => {
        const cases: [string, () => string[], RegExp][] = [
            ["a file that is not JSON", () => ["--from", outputsFile("{ oops", "bad.json")], /bad\.json: not JSON/],
            ["a JSON array", () => ["--from", outputsFile("[]", "arr.json")], /JSON is an array, expected the object/],
            [
                "outputs missing knownHosts",
                () => ["--from", outputsFile({ ...fx.dev, knownHosts: undefined }, "nokh.json")],
                /output "knownHosts" is missing \(outputs present: auditAlarmTopicArn, auditLogGroupName, bastionPublicIp, privateKeyOpenssh, sshCommands, sshConfig/,
            ],
            [
                "a redacted key",
                () => ["--from", outputsFile({ ...fx.dev, privateKeyOpenssh: "[secret]" }, "redacted.json")],
                /"privateKeyOpenssh" is redacted \("\[secret\]"\); read the outputs with --show-secrets/,
            ],
            [
                "a missing --from file",
                () => ["--from", join(dir, "nope.json")],
                /--from .*nope\.json: cannot read it \(no such file\)/,
            ],
            [
                "the outputs of another stack",
                () => ["--stack", "prod", "--from", outputsFile(fx.dev)],
                /these are the outputs of stack "dev", not "prod"/,
            ],
        ];
        for (const [name, args, message] of cases) {
            it(name, () => {
                for (const home of [homeWithConfig(), tempHome()]) {
                    const before = snapshotTree(home);
                    const res = cli(home, ["install", ...args()]);
                    expect(res.status).toBe(1);
                    expect(res.stderr).toMatch(message);
                    expect(res.stderr).toContain(`nothing in ${home}/.ssh was changed`);
                    expect(res.stdout).toBe("");
                    expect(snapshotTree(home)).toEqual(before);
                }
            });
        }

        it("says to install Pulumi or use --from when pulumi is not on PATH", () => {
            const home = homeWithConfig();
            const before = snapshotTree(home);
            const path = join(dir, "path-without-pulumi");
            mkdirSync(path, { recursive: true });
            const res = cli(home, ["install", "--stack", "dev"], { env: { PATH: path } });
            expect(res.status).toBe(1);
            expect(res.stderr).toContain("the Pulumi CLI (pulumi) is not on PATH");
            expect(res.stderr).toContain("https://www.pulumi.com/docs/install/");
            expect(res.stderr).toContain("pulumi stack output --json --show-secrets --stack dev > outputs.json");
            expect(res.stderr).toContain("npx jumpgate-ssh install --from outputs.json");
            expect(snapshotTree(home)).toEqual(before);
        });

        it("passes pulumi's own error on", () => {
            const home = tempHome();
            const bin = join(dir, "failing-pulumi");
            mkdirSync(bin, { recursive: true });
            writeFileSync(join(bin, "pulumi"), "#!/bin/sh\necho 'error: no stack named dev found' >&2\nexit 255\n", {
                mode: 0o755,
            });
            const res = cli(home, ["install", "--stack", "dev"], { env: { PATH: `${bin}:${process.env.PATH}` } });
            expect(res.status).toBe(1);
            expect(res.stderr).toContain("pulumi stack output --json --show-secrets --stack dev failed (exit 255):");
            expect(res.stderr).toContain("error: no stack named dev found");
            expect(snapshotTree(home)).toEqual({ [home]: "dir 700" });
        });

        it("an unwritable ~/.ssh", () => {
            const home = homeWithConfig();
            const ssh = join(home, ".ssh");
            const before = snapshotTree(home);
            // Root ignores permission bits: a read-only bind mount in a private mount namespace instead.
            const wrap =
                isRoot && hasTool("unshare")
                    ? [
                          "unshare",
                          "-m",
                          "sh",
                          "-c",
                          'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"',
                          ssh,
                      ]
                    : [];
            if (wrap.length === 0) chmodSync(ssh, 0o500);
            const res = cli(home, ["install", "--from", outputsFile(fx.dev)], { wrap });
            if (wrap.length === 0) chmodSync(ssh, 0o700);
            expect(res.status).toBe(1);
            expect(res.stderr).toMatch(
                new RegExp(
                    `${ssh} is not writable \\((read-only file system|permission denied)\\)\\nnothing in ${ssh} was changed`,
                ),
            );
            expect(snapshotTree(home)).toEqual(before);
        });

        it("a file where ~/.ssh/config.d should be", () => {
            const home = homeWithConfig();
            writeFileSync(join(home, ".ssh", "config.d"), "not a directory\n");
            const before = snapshotTree(home);
            const res = cli(home, ["install", "--from", outputsFile(fx.dev)]);
            expect(res.status).toBe(1);
            expect(res.stderr).toContain(`${home}/.ssh/config.d exists and is not a directory`);
            expect(snapshotTree(home)).toEqual(before);
        });

        it("a usage error", () => {
            const res = cli(tempHome(), ["instal"]);
            expect(res.status).toBe(2);
            expect(res.stderr).toContain('unknown command "instal"');
            expect(res.stderr).toContain("Usage: npx jumpgate-ssh");
        });
    });

    describe("uninstall removes exactly what install wrote", () => {
        it("restores the home it found, apart from the backups of ~/.ssh/config", () => {
            const home = homeWithConfig();
            const before = snapshotTree(home);
            expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
            const res = cli(home, ["uninstall", "--stack", "dev"]);
            expect(res.status).toBe(0);
            expect(withoutBackups(snapshotTree(home))).toEqual(before);
            expect(cli(home, ["uninstall", "--stack", "dev"]).stdout).toContain("stack dev is not installed");
        });

        it("removes ~/.ssh itself when install created it and nothing else is there", () => {
            const home = tempHome();
            expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
            expect(cli(home, ["uninstall"]).status).toBe(0);
            expect(snapshotTree(home)).toEqual({ [home]: "dir 700" });
        });

        it("refuses to remove a file changed since install, unless forced", () => {
            const home = homeWithConfig();
            expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
            const key = join(home, ".ssh", "jumpgate-dev_ed25519");
            writeFileSync(key, "a key I put here myself\n");
            const before = snapshotTree(home);
            const res = cli(home, ["uninstall", "--stack", "dev"]);
            expect(res.status).toBe(1);
            expect(res.stderr).toContain(
                `refusing to remove file(s) changed since jumpgate-ssh installed them: ${key}`,
            );
            expect(snapshotTree(home)).toEqual(before);
            expect(cli(home, ["uninstall", "--stack", "dev", "--force"]).status).toBe(0);
            expect(existsSync(key)).toBe(false);
        });

        it("keeps the shared Include until the last stack goes", () => {
            const home = homeWithConfig();
            expect(cli(home, ["install", "--from", outputsFile(fx.dev)]).status).toBe(0);
            expect(cli(home, ["install", "--from", outputsFile(fx.chain)]).status).toBe(0);
            expect(cli(home, ["uninstall"]).stderr).toContain("several stacks are installed (dev, prod): pass --stack");
            expect(cli(home, ["uninstall", "--stack", "dev"]).status).toBe(0);
            expect(readFileSync(join(home, ".ssh", "config"), "utf8")).toContain("Include config.d/*");
            expect(one(sshG(home, "prod-app-1"), "proxyjump")).toBe("prod-edge,prod-mgmt");
            expect(cli(home, ["uninstall", "--stack", "prod"]).status).toBe(0);
            expect(readFileSync(join(home, ".ssh", "config"), "utf8")).toBe(USER_CONFIG);
        });
    });
});

describe.runIf(toolsAvailable("ssh", "ssh-keygen"))("jumpgate-ssh install --operator, judged by ssh -G", () => {
    let team: string;
    beforeAll(async () => {
        fx = await fixtures();
        dir = tempHome("team-outputs");
        team = outputsFile(fx.team, "team.json");
    });
    afterAll(cleanupHomes);

    it("installs the operator's role: its account on the targets it reaches, the certificate everywhere", () => {
        const home = tempHome();
        const key = join(home, ".ssh", "id_ed25519");
        const res = cli(home, ["install", "--from", team, "--operator", "bob", "--identity", key]);
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        expect(res.stdout).toContain(
            "note: operator bob, role dba: its account on the targets and your certificate; left out (your role does not reach them): team-app-1",
        );
        const db = sshG(home, "team-db-1");
        expect(one(db, "user")).toBe("ops-dba");
        expect(db.get("identityfile")).toEqual([key]);
        expect(db.get("certificatefile")).toEqual([`${key}-cert.pub`]);
        expect(one(db, "identitiesonly")).toBe("yes");
        expect(one(db, "proxyjump")).toBe("team-bastion");
        const hop = sshG(home, "team-bastion");
        expect(one(hop, "user")).toBe("jump");
        expect(hop.get("certificatefile")).toEqual([`${key}-cert.pub`]);
        expect(one(sshG(home, "team-tunnel-pg"), "user")).toBe("jump");
        // The role does not reach app-1: no block, so ssh has nothing of jumpgate's for it.
        const app = sshG(home, "team-app-1");
        expect(one(app, "hostname")).toBe("team-app-1");
        expect(app.has("proxyjump")).toBe(false);
        const conf = readFileSync(join(home, ".ssh", "config.d", "jumpgate-team.conf"), "utf8");
        expect(conf).toContain("# Not reached by role dba, so left out: app-1\n");
        // No key of jumpgate's is written for a team stack: the operator brings theirs.
        expect(existsSync(join(home, ".ssh", "jumpgate-team_ed25519"))).toBe(false);
        const manifest = JSON.parse(readFileSync(join(home, ".ssh", "config.d", ".jumpgate-team.json"), "utf8"));
        expect([manifest.operator, manifest.role]).toEqual(["bob", "dba"]);
    });

    it("remembers the operator: a re-install needs no --operator and changes nothing", () => {
        const home = tempHome();
        expect(cli(home, ["install", "--from", team, "--operator", "alice"]).status).toBe(0);
        expect(one(sshG(home, "team-app-1"), "user")).toBe("ops-admin");
        const before = snapshotTree(join(home, ".ssh"));
        const again = cli(home, ["install", "--from", team]);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("up to date, nothing changed");
        expect(snapshotTree(join(home, ".ssh"))).toEqual(before);
        // Without --identity the stack's IdentityFile stays, and the certificate sits next to it.
        expect(sshG(home, "team-db-1").get("certificatefile")).toEqual(["~/.ssh/jumpgate-team_ed25519-cert.pub"]);
        expect(cli(home, ["uninstall", "--stack", "team"]).status).toBe(0);
        expect(existsSync(join(home, ".ssh"))).toBe(false); // it created ~/.ssh, so it removes it
    });

    it("without an operator, or with one not in the stack, names the operators and changes nothing", () => {
        const home = homeWithConfig();
        const before = snapshotTree(home);
        const none = cli(home, ["install", "--from", team]);
        expect(none.stderr).toContain(
            "stack team has operators (alice, bob): say which you are, e.g. npx jumpgate-ssh install --stack team --operator <name>",
        );
        expect(none.status).toBe(2);
        const carol = cli(home, ["install", "--from", team, "--operator", "carol"]);
        expect(carol.stderr).toContain('operator "carol" is not in stack team (operators: alice, bob)');
        expect(snapshotTree(home)).toEqual(before);
    });

    it("a stack deployed before role configs asks for pulumi up", () => {
        const { roleSshConfigs: _gone, ...old } = fx.team;
        const res = cli(tempHome(), ["install", "--from", outputsFile(old, "old.json"), "--operator", "bob"]);
        expect(res.stderr).toContain(
            'has no "roleSshConfigs" output: the stack was deployed by an older jumpgate; run pulumi up',
        );
        expect(res.status).toBe(1);
    });

    it("--operator on a stack without operators is refused: its config is everyone's", () => {
        const res = cli(tempHome(), ["install", "--from", outputsFile(fx.dev, "dev.json"), "--operator", "bob"]);
        expect(res.stderr).toContain("stack dev has no operators");
        expect(res.status).toBe(2);
    });

    it("installs the ProxyCommand variant of the role for OpenSSH before 7.3", () => {
        const home = tempHome();
        const res = cli(home, ["install", "--from", team, "--operator", "bob", "--ssh-version", OLD_SSH]);
        expect(res.status).toBe(0);
        const db = sshG(home, "team-db-1");
        expect(one(db, "proxycommand")).toMatch(/ssh .*-W %h:%p team-bastion$/);
        expect(one(db, "user")).toBe("ops-dba");
    });
});
