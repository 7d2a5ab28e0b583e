// The rendered client config, judged by the real OpenSSH client (`ssh -G` prints the effective config).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renderKnownHosts, renderSshConfig, SshClientInventory } from "../../components/render/sshConfig";
import { plan } from "../helpers/program";
import { toolsAvailable } from "../helpers/tools";
import { fixtures } from "../cli/fixtures";

/** `ssh -G` for `alias` as a map of lowercase key to value(s). */
function effective(configText: string, alias: string): Map<string, string[]> {
    const dir = mkdtempSync(path.join(tmpdir(), "jg-sshg-"));
    const file = path.join(dir, "config");
    writeFileSync(file, configText, { mode: 0o600 });
    const out = execFileSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8" });
    const map = new Map<string, string[]>();
    for (const line of out.trim().split("\n")) {
        const [k, ...rest] = line.split(" ");
        map.set(k!, [...(map.get(k!) ?? []), rest.join(" ")]);
    }
    return map;
}
const one = (m: Map<string, string[]>, k: string) => m.get(k)?.[0];

describe.runIf(toolsAvailable("ssh", "ssh-keygen"))("sshConfig judged by ssh -G", () => {
    let sshConfig: string;
    let proxyCommandConfig: string;
    let knownHosts: string;
    const home = process.env.HOME ?? "/root";
    beforeAll(async () => {
        const run = await plan({ "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }] }, "dev");
        sshConfig = String(run.outputs.sshConfig);
        proxyCommandConfig = String(run.outputs.sshConfigProxyCommand);
        knownHosts = String(run.outputs.knownHosts);
    });

    it("sends each target through the bastion alias with pinned, strict host keys", () => {
        for (const [alias, ip] of [
            ["dev-app-1", "10.42.128.10"],
            ["dev-db-1", "10.42.192.10"],
        ] as const) {
            const g = effective(sshConfig, alias);
            expect(one(g, "hostname")).toBe(ip);
            expect(one(g, "user")).toBe("ops");
            expect(one(g, "port")).toBe("22");
            expect(one(g, "proxyjump")).toBe("dev-bastion");
            expect(one(g, "stricthostkeychecking")).toBe("true");
            expect(one(g, "hostkeyalias")).toBe(alias);
            // ssh -G prints IdentityFile unexpanded; it is expanded at connect time.
            expect(g.get("identityfile")).toEqual(["~/.ssh/jumpgate-dev_ed25519"]);
            expect(one(g, "identitiesonly")).toBe("yes");
            expect(one(g, "userknownhostsfile")).toBe(`${home}/.ssh/jumpgate-dev_known_hosts`);
            expect(one(g, "forwardagent")).toBe("no");
            expect(one(g, "controlmaster")).toBe("false");
        }
    });

    it("connects to the bastion itself directly, multiplexed, as the jump user", () => {
        const g = effective(sshConfig, "dev-bastion");
        expect(one(g, "hostname")).toMatch(/^198\.51\.100\.\d+$/);
        expect(one(g, "user")).toBe("jump");
        expect(g.has("proxyjump")).toBe(false);
        expect(one(g, "controlmaster")).toBe("auto");
        expect(one(g, "controlpersist")).toBe("600");
        // %C is expanded to a hash of the connection, short enough for a socket path.
        expect(one(g, "controlpath")).toMatch(new RegExp(`^${home}/\\.ssh/cm-jumpgate-[0-9a-f]{40}$`));
        expect(one(g, "stricthostkeychecking")).toBe("true");
    });

    it("renders a ProxyCommand variant for OpenSSH older than 7.3", () => {
        const g = effective(proxyCommandConfig, "dev-app-1");
        expect(one(g, "proxycommand")).toBe("ssh -W %h:%p dev-bastion");
        expect(g.has("proxyjump")).toBe(false);
    });

    it("pins every alias in known_hosts, found by ssh-keygen -F", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-kh-"));
        const file = path.join(dir, "known_hosts");
        writeFileSync(file, knownHosts);
        for (const alias of ["dev-bastion", "dev-app-1", "dev-db-1"]) {
            const out = execFileSync("ssh-keygen", ["-F", alias, "-f", file], { encoding: "utf8" });
            expect(out).toContain(`${alias} ssh-ed25519 AAAA`);
        }
        expect(() => execFileSync("ssh-keygen", ["-F", "10.42.128.10", "-f", file], { stdio: "ignore" })).toThrow();
    });

    it("omits multiplexing when controlMaster is off", () => {
        const inv: SshClientInventory = {
            stack: "s",
            bastions: [
                {
                    name: "bastion",
                    hostName: "198.51.100.9",
                    port: 2222,
                    user: "jump",
                    hostPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPgcPxffI2idXW8LzCZGLrW9whC5VPh63Wf0tHvsFk0c",
                },
            ],
            targets: [],
            identityFile: "~/.ssh/k",
            knownHostsFile: "~/.ssh/kh",
            controlMaster: false,
        };
        const g = effective(renderSshConfig(inv), "s-bastion");
        expect(one(g, "controlmaster")).toBe("false");
        expect(one(g, "port")).toBe("2222");
        expect(renderKnownHosts(inv)).toBe(`s-bastion ${inv.bastions[0]!.hostPublicKey}\n`);
    });
});

describe.runIf(toolsAvailable("ssh"))("chained bastions and tunnels judged by ssh -G", () => {
    let sshConfig: string;
    let proxyCommandConfig: string;
    let knownHosts: string;
    beforeAll(async () => {
        const run = await plan(
            {
                "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
                "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
                "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
            },
            "prod",
        );
        sshConfig = String(run.outputs.sshConfig);
        proxyCommandConfig = String(run.outputs.sshConfigProxyCommand);
        knownHosts = String(run.outputs.knownHosts);
    });

    it("reaches targets through the whole chain, outer hop first", () => {
        const g = effective(sshConfig, "prod-db-1");
        expect(one(g, "proxyjump")).toBe("prod-edge,prod-mgmt");
        // With a chain the VPC is cut in /19s: public, management, then private in the upper half.
        expect(one(g, "hostname")).toBe("10.42.160.10");
        expect(one(g, "hostkeyalias")).toBe("prod-db-1");
    });

    it("reaches the inner hop through the outer one, on its private address", () => {
        const inner = effective(sshConfig, "prod-mgmt");
        expect(one(inner, "proxyjump")).toBe("prod-edge");
        expect(one(inner, "hostname")).toMatch(/^10\.42\.64\.10$/);
        expect(one(inner, "user")).toBe("jump");
        const outer = effective(sshConfig, "prod-edge");
        expect(outer.has("proxyjump")).toBe(false);
        expect(one(outer, "hostname")).toMatch(/^198\.51\.100\.\d+$/);
    });

    it("chains ProxyCommand hop by hop for old clients", () => {
        expect(one(effective(proxyCommandConfig, "prod-mgmt"), "proxycommand")).toBe("ssh -W %h:%p prod-edge");
        expect(one(effective(proxyCommandConfig, "prod-app-1"), "proxycommand")).toBe("ssh -W %h:%p prod-mgmt");
    });

    it("opens a declared tunnel as a forward-only login to the last hop", () => {
        const g = effective(sshConfig, "prod-tunnel-pg");
        expect(g.get("localforward")).toEqual(["[127.0.0.1]:15432 [10.42.160.10]:5432"]);
        expect(one(g, "exitonforwardfailure")).toBe("yes");
        expect(one(g, "sessiontype")).toBe("none");
        expect(one(g, "hostkeyalias")).toBe("prod-mgmt");
        expect(one(g, "proxyjump")).toBe("prod-edge");
        expect(one(g, "stricthostkeychecking")).toBe("true");
        expect(one(effective(proxyCommandConfig, "prod-tunnel-pg"), "sessiontype")).toBe("default");
    });

    it("pins every hop and target", () => {
        expect(
            knownHosts
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split(" ")[0]),
        ).toEqual(["prod-edge", "prod-mgmt", "prod-app-1", "prod-db-1"]);
    });
});

describe.runIf(toolsAvailable("ssh"))("team access: each role's config judged by ssh -G", () => {
    type RoleConfigs = Record<string, { sshConfig: string; sshConfigProxyCommand: string }>;
    let stackWide: string;
    let roles: RoleConfigs;
    const cert = "~/.ssh/jumpgate-team_ed25519-cert.pub";
    beforeAll(async () => {
        const fx = await fixtures();
        stackWide = String(fx.team.sshConfig);
        roles = fx.team.roleSshConfigs as RoleConfigs;
    });

    it("publishes one config per role, built-in and configured", () => {
        expect(Object.keys(roles).sort()).toEqual(["admin", "dba", "developer"]);
    });

    it("admin logs in to every target as its own account, offering key and certificate only", () => {
        for (const [alias, ip] of [
            ["team-app-1", "10.42.128.10"],
            ["team-db-1", "10.42.192.10"],
        ] as const) {
            const g = effective(roles.admin!.sshConfig, alias);
            expect(one(g, "hostname")).toBe(ip);
            expect(one(g, "user")).toBe("ops-admin");
            expect(g.get("identityfile")).toEqual(["~/.ssh/jumpgate-team_ed25519"]);
            expect(g.get("certificatefile")).toEqual([cert]);
            expect(one(g, "identitiesonly")).toBe("yes");
            expect(one(g, "proxyjump")).toBe("team-bastion");
        }
    });

    it("the bastion hop stays the jump account, with the certificate", () => {
        const g = effective(roles.dba!.sshConfig, "team-bastion");
        expect(one(g, "user")).toBe("jump");
        expect(g.get("certificatefile")).toEqual([cert]);
        expect(one(g, "identitiesonly")).toBe("yes");
    });

    it("a narrow role gets only what it reaches, says what it left out, and keeps its tunnel", () => {
        const dba = roles.dba!.sshConfig;
        expect(one(effective(dba, "team-db-1"), "user")).toBe("ops-dba");
        // No block for app-1: ssh falls back to its defaults (the alias as host name, no jump).
        const app = effective(dba, "team-app-1");
        expect(one(app, "hostname")).toBe("team-app-1");
        expect(app.has("proxyjump")).toBe(false);
        expect(dba).toContain("# Not reached by role dba, so left out: app-1\n");
        expect(one(effective(dba, "team-tunnel-pg"), "localforward")).toBe("[127.0.0.1]:15432 [10.42.192.10]:5432");
        expect(one(effective(roles.dba!.sshConfigProxyCommand, "team-db-1"), "proxycommand")).toBe(
            "ssh -W %h:%p team-bastion",
        );
    });

    it("the stack-wide config names no account on targets and says how to install a role's", () => {
        const g = effective(stackWide, "team-app-1");
        expect(one(g, "user")).toBe(userInfo().username);
        expect(g.get("certificatefile")).toEqual([cert]);
        expect(stackWide).not.toMatch(/^\s*User ops\s*$/m);
        expect(stackWide).toContain("npx jumpgate-ssh install --stack team --operator <you>");
    });
});

describe.runIf(toolsAvailable("ssh", "ssh-keygen"))("existing hosts judged by ssh -G", () => {
    const home = userInfo().homedir;
    const hostKey = (seed: string) => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-exkey-"));
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", seed, "-f", path.join(dir, "k")]);
        return readFileSync(path.join(dir, "k.pub"), "utf8").trim();
    };
    const inv: SshClientInventory = {
        stack: "dev",
        bastions: [{ name: "bastion", hostName: "198.51.100.7", port: 22, user: "jump", hostPublicKey: hostKey("b") }],
        targets: [],
        existingHosts: [
            { name: "legacy-1", hostName: "172.31.40.5", port: 2222, user: "admin", hostPublicKey: hostKey("l1") },
            { name: "legacy-2", hostName: "172.31.40.6", port: 22, user: "ec2-user" },
        ],
        identityFile: "~/.ssh/jumpgate-dev_ed25519",
        knownHostsFile: "~/.ssh/jumpgate-dev_known_hosts",
        controlMaster: true,
    };

    it.each(["proxyjump", "proxycommand"] as const)(
        "reaches each through the chain as its own user and port, strictly checked (%s)",
        (style) => {
            const config = renderSshConfig(inv, style);
            for (const [alias, ip, user, port] of [
                ["dev-legacy-1", "172.31.40.5", "admin", "2222"],
                ["dev-legacy-2", "172.31.40.6", "ec2-user", "22"],
            ] as const) {
                const g = effective(config, alias);
                expect(one(g, "hostname")).toBe(ip);
                expect(one(g, "user")).toBe(user);
                expect(one(g, "port")).toBe(port);
                if (style === "proxyjump") expect(one(g, "proxyjump")).toBe("dev-bastion");
                else expect(one(g, "proxycommand")).toBe("ssh -W %h:%p dev-bastion");
                expect(one(g, "stricthostkeychecking")).toBe("true");
                expect(one(g, "hostkeyalias")).toBe(alias);
                expect(one(g, "forwardagent")).toBe("no");
            }
        },
    );

    it("pins a known key in the stack's known_hosts; an unknown one checks the operator's pinned file, empty until pin", () => {
        const config = renderSshConfig(inv);
        expect(one(effective(config, "dev-legacy-1"), "userknownhostsfile")).toBe(
            `${home}/.ssh/jumpgate-dev_known_hosts`,
        );
        expect(one(effective(config, "dev-legacy-2"), "userknownhostsfile")).toBe(
            `${home}/.ssh/jumpgate-dev_known_hosts ${home}/.ssh/jumpgate-dev_pinned_hosts`,
        );
        const dir = mkdtempSync(path.join(tmpdir(), "jg-exkh-"));
        const file = path.join(dir, "known_hosts");
        writeFileSync(file, renderKnownHosts(inv));
        const found = (alias: string) =>
            execFileSync("sh", ["-c", `ssh-keygen -F ${alias} -f ${file} >/dev/null && echo yes || echo no`], {
                encoding: "utf8",
            }).trim();
        expect(found("dev-legacy-1")).toBe("yes");
        expect(found("dev-legacy-2")).toBe("no");
    });

    it("labels the unpinned entry and gives the command that pins it after a fingerprint check", () => {
        const config = renderSshConfig(inv);
        const before = config.slice(0, config.indexOf("Host dev-legacy-2\n"));
        const comment = before.slice(before.lastIndexOf("\n\n"));
        expect(comment).toContain("# UNPINNED existing host legacy-2");
        expect(comment).toContain("aws ec2 get-console-output --instance-id <id> --latest");
        expect(comment).toContain("#   npx jumpgate-ssh pin dev-legacy-2 --fingerprint SHA256:<fingerprint>");
        expect(config).not.toContain("# UNPINNED existing host legacy-1");
        expect(config).not.toMatch(/StrictHostKeyChecking (no|accept-new|ask)/);
    });
});
