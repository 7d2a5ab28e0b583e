// Applying a cloud-config to a lab host's own /etc: the account files, the files written, what is
// left out, the fail2ban adaptation, and the tree on disk (built from a fake machine /etc, so the
// test needs neither root nor the machine's shadow file).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { adaptJails, fail2banPathsOverride, idOf, materializeHostEtc, parseIni, planHostEtc } from "../../lab/hostfs";
import type { LabHost } from "../../lab/model";
import { programLabPlan } from "../helpers/labFixture";

let bastion: LabHost;
let target: LabHost;
beforeAll(async () => {
    const plan = await programLabPlan();
    bastion = plan.hosts.find((h) => h.role === "bastion") as LabHost;
    target = plan.hosts.find((h) => h.role === "target") as LabHost;
});

const base = {
    passwd: "root:x:0:0:root:/root:/bin/bash\nsshd:x:102:65534::/run/sshd:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n",
    group: "root:x:0:\nshadow:x:42:\nsudo:x:27:alice\nalice:x:1000:\n",
    shadow: "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\n",
    gshadow: "root:*::\nshadow:*::\nsudo:*::alice\nalice:!::\n",
};
const entries = new Set(["passwd", "group", "shadow", "gshadow", "ssh", "fail2ban", "sudoers.d", "skel", "apt"]);
const now = new Date("2026-11-20T10:00:00Z");

describe("planHostEtc", () => {
    it("creates the bastion's group and jump user as cloud-init would: next free ids, locked, nologin", () => {
        const p = planHostEtc(parseCloudConfig(bastion.cloudInit), base, entries, now);
        expect(p.accounts.group).toContain("jumpgate-jump:x:1001:jump\n");
        expect(p.accounts.passwd).toContain(
            "jump:x:1001:1002:jumpgate jump user (ProxyJump only):/home/jump:/usr/sbin/nologin\n",
        );
        expect(p.accounts.group).toContain("jump:x:1002:\n");
        expect(p.accounts.shadow).toContain(`jump:!:${Math.floor(now.getTime() / 86_400_000)}:0:99999:7:::\n`);
        expect(p.accounts.gshadow).toContain("jumpgate-jump:!::jump\n");
        // The machine's own lines stay as they were.
        expect(p.accounts.passwd.startsWith(base.passwd)).toBe(true);
        expect(p.users).toEqual([
            expect.objectContaining({ name: "jump", uid: 1001, groups: ["jumpgate-jump"], locked: true }),
        ]);
        expect(p.users[0].authorizedKeys[0]).toMatch(/^ssh-ed25519 /);
        expect(p.fail2ban).toBe(true);
    });

    it("writes the host key, the sshd drop-in and the jail where the document says, with its modes", () => {
        const p = planHostEtc(parseCloudConfig(bastion.cloudInit), base, entries, now);
        const byPath = new Map(p.writes.map((w) => [w.path, w]));
        expect(byPath.get("/etc/ssh/ssh_host_ed25519_key")?.mode).toBe(0o600);
        expect(byPath.get("/etc/ssh/ssh_host_ed25519_key")?.content).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
        expect(byPath.get("/etc/ssh/ssh_host_ed25519_key.pub")?.mode).toBe(0o644);
        const dropin = byPath.get("/etc/ssh/sshd_config.d/10-jumpgate.conf");
        expect(dropin?.mode).toBe(0o600);
        expect(dropin?.content).toMatch(/Match Group jumpgate-jump\n\s+DisableForwarding no/);
        expect(byPath.get("/etc/fail2ban/jail.local")?.content).toContain("backend = systemd");
        expect(p.tops.sort()).toEqual(["apt", "fail2ban", "group", "gshadow", "passwd", "shadow", "ssh"]);
        expect(p.notes.join("\n")).toMatch(/runcmd: not run/);
        expect(p.notes.join("\n")).toMatch(/packages: not installed/);
        expect(p.notes.join("\n")).toMatch(/ssh_pwauth/);
    });

    it("gives a target's login user its sudo rule in sudoers.d, and the host its name in /etc/hosts", () => {
        const p = planHostEtc(parseCloudConfig(target.cloudInit), base, new Set([...entries, "hosts"]), now, {
            hostname: "app-1",
            machineHosts: "127.0.0.1 localhost",
        });
        expect(p.writes.find((w) => w.path === "/etc/hosts")?.content).toBe("127.0.0.1 localhost\n127.0.1.1 app-1\n");
        expect(p.tops).toContain("hosts");
        expect(p.hostname).toBe("app-1");
        const sudo = p.writes.find((w) => w.path === "/etc/sudoers.d/90-cloud-init-users");
        expect(sudo?.mode).toBe(0o440);
        expect(sudo?.content).toContain("ops ALL=(ALL) NOPASSWD:ALL");
        expect(p.accounts.passwd).toMatch(/^ops:x:1001:1002:jumpgate login user:\/home\/ops:\/bin\/bash$/m);
    });

    it("reports what it cannot apply: files outside /etc, /etc entries this machine lacks, the default user", () => {
        const doc = [
            "#cloud-config",
            "users: [default, {name: bob, groups: 'wheel, audit'}]",
            "groups: [{admins: [bob]}]",
            "write_files:",
            "  - {path: /usr/local/bin/x, content: 'echo'}",
            "  - {path: /etc/nosuchdir/a.conf, content: 'a'}",
            "  - {path: /etc/apt/apt.conf.d/52x, content: 'b', permissions: '0640', owner: 'root:bob'}",
            "ssh_keys: {rsa_private: 'x'}",
            "",
        ].join("\n");
        const p = planHostEtc(parseCloudConfig(doc), base, entries, now);
        const notes = p.notes.join("\n");
        expect(notes).toMatch(/'default'/);
        expect(notes).toMatch(/\/usr\/local\/bin\/x is outside \/etc/);
        expect(notes).toMatch(/\/etc\/nosuchdir does not exist/);
        expect(notes).toMatch(/only ed25519/);
        expect(notes).toMatch(/no ed25519 host key/);
        expect(p.writes.map((w) => w.path)).toEqual(["/etc/apt/apt.conf.d/52x"]);
        expect(p.writes[0]).toMatchObject({ mode: 0o640, owner: "root", group: "bob" });
        expect(p.tops).toContain("apt");
        expect(p.accounts.group).toMatch(/^admins:x:\d+:bob$/m);
        expect(p.accounts.group).toMatch(/^wheel:x:\d+:bob$/m);
        expect(p.accounts.group).toMatch(/^audit:x:\d+:bob$/m);
        expect(p.accounts.shadow).toMatch(/^bob:!:/m);
        expect(p.accounts.passwd).toMatch(/^bob:x:1001:\d+::\/home\/bob:\/bin\/sh$/m);
        expect(p.fail2ban).toBe(false);
    });

    it("leaves an existing machine user alone", () => {
        const p = planHostEtc(parseCloudConfig("#cloud-config\nusers: [{name: alice}]\n"), base, entries, now);
        expect(p.users).toEqual([]);
        expect(p.accounts.passwd).toBe(base.passwd);
        expect(p.notes.join("\n")).toMatch(/'alice' already exists/);
    });
});

describe("fail2ban adaptation", () => {
    const debianDefaults = "[sshd]\nenabled = true\n";
    let rendered = "";
    beforeAll(() => {
        rendered =
            parseCloudConfig(bastion.cloudInit).write_files.find((f) => f.path === "/etc/fail2ban/jail.local")
                ?.content ?? "";
    });
    const logs = { sshd: "/lab/hosts/bastion/auth.log", fail2ban: "/lab/hosts/bastion/fail2ban.log" };

    it("switches every running jail to files at the lab's paths and changes nothing else", () => {
        const a = adaptJails([debianDefaults, rendered], logs);
        expect(a.jails).toEqual([
            { name: "sshd", logpath: logs.sshd },
            { name: "recidive", logpath: logs.fail2ban },
        ]);
        expect(a.disabled).toEqual([]);
        const ini = parseIni(a.text);
        expect(ini.map((s) => s.name)).toEqual(["DEFAULT", "sshd", "recidive"]);
        for (const s of ini) {
            expect(s.values.get("backend")).toBe("auto");
            expect([...s.values.keys()].every((k) => ["backend", "logpath"].includes(k))).toBe(true);
        }
    });

    it("switches off jails the lab has no log for, and ignores disabled ones", () => {
        const extra =
            "[nginx-http-auth]\nenabled = true\n\n[postfix]\nenabled = false\n\n[custom]\nenabled = true\nfilter = sshd[mode=ddos]\n";
        const a = adaptJails([debianDefaults, extra], logs);
        expect(a.disabled).toEqual(["nginx-http-auth"]);
        expect(a.jails.map((j) => j.name)).toEqual(["sshd", "custom"]);
        expect(a.text).toMatch(/\[nginx-http-auth\]\n# .*\nenabled = false/);
        expect(a.text).not.toContain("[postfix]");
    });

    it("gives each server its own socket, pid file, database and log", () => {
        const text = fail2banPathsOverride({ socket: "/l/s", pidfile: "/l/p", dbfile: "/l/d", logtarget: "/l/log" });
        const def = parseIni(text).find((s) => s.name === "Definition");
        expect(Object.fromEntries(def?.values ?? [])).toEqual({
            logtarget: "/l/log",
            socket: "/l/s",
            pidfile: "/l/p",
            dbfile: "/l/d",
        });
    });

    it("parses continuation lines and comments like fail2ban", () => {
        const ini = parseIni("# c\n[a]\nignoreip = 1.2.3.4\n    5.6.7.8\n; x\nk: v\n");
        expect(ini[0].values.get("ignoreip")).toBe("1.2.3.4\n5.6.7.8");
        expect(ini[0].values.get("k")).toBe("v");
    });
});

describe("materializeHostEtc", () => {
    const root = mkdtempSync(join(tmpdir(), "jg-hostfs-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    // A fake machine /etc: Debian's sshd_config layout, machine host keys, a cloud image drop-in, fail2ban.
    const src = join(root, "etc");
    mkdirSync(join(src, "ssh", "sshd_config.d"), { recursive: true });
    mkdirSync(join(src, "fail2ban", "jail.d"), { recursive: true });
    mkdirSync(join(src, "skel"), { recursive: true });
    writeFileSync(join(src, "ssh", "sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n");
    writeFileSync(join(src, "ssh", "ssh_host_rsa_key"), "machine key", { mode: 0o600 });
    writeFileSync(join(src, "ssh", "ssh_host_ed25519_key.pub"), "machine pub");
    writeFileSync(join(src, "ssh", "sshd_config.d", "50-image.conf"), "PasswordAuthentication yes\n");
    writeFileSync(join(src, "fail2ban", "jail.conf"), "[DEFAULT]\n");
    writeFileSync(join(src, "fail2ban", "jail.d", "defaults-debian.conf"), "[sshd]\nenabled = true\n");
    writeFileSync(join(src, "skel", ".profile"), "# profile\n");
    for (const [f, text] of Object.entries(base))
        writeFileSync(join(src, f), text, { mode: f.includes("shadow") ? 0o640 : 0o644 });

    it("builds the host's /etc and homes: Debian's sshd_config, only the document's drop-in and host key", () => {
        const etcRoot = join(root, "netns", "jg-t-bastion");
        const homeRoot = join(root, "home");
        const p = planHostEtc(parseCloudConfig(bastion.cloudInit), base, new Set(readdirSync(src)), now);
        const extra = [
            {
                path: "/etc/fail2ban/jail.d/zz-jumpgate-lab.local",
                content: "[DEFAULT]\n",
                mode: 0o644,
                owner: "root",
                group: "root",
            },
        ];
        materializeHostEtc(p, { etcRoot, homeRoot, sourceEtc: src }, extra);

        expect(readdirSync(etcRoot).sort()).toEqual(["fail2ban", "group", "gshadow", "passwd", "shadow", "ssh"]);
        expect(readFileSync(join(etcRoot, "ssh", "sshd_config"), "utf8")).toContain("UsePAM yes");
        expect(readdirSync(join(etcRoot, "ssh", "sshd_config.d"))).toEqual(["10-jumpgate.conf"]);
        expect(
            readdirSync(join(etcRoot, "ssh"))
                .filter((f) => f.startsWith("ssh_host_"))
                .sort(),
        ).toEqual(["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
        expect(statSync(join(etcRoot, "ssh", "ssh_host_ed25519_key")).mode & 0o777).toBe(0o600);
        expect(statSync(join(etcRoot, "ssh", "sshd_config.d", "10-jumpgate.conf")).mode & 0o777).toBe(0o600);
        expect(statSync(join(etcRoot, "shadow")).mode & 0o777).toBe(0o640);
        expect(readFileSync(join(etcRoot, "passwd"), "utf8")).toContain("\njump:x:1001:");
        expect(readdirSync(join(etcRoot, "fail2ban", "jail.d")).sort()).toEqual([
            "defaults-debian.conf",
            "zz-jumpgate-lab.local",
        ]);
        expect(readFileSync(join(etcRoot, "fail2ban", "jail.local"), "utf8")).toContain("backend = systemd");

        const home = join(homeRoot, "jump");
        expect(statSync(home).mode & 0o777).toBe(0o755);
        expect(readFileSync(join(home, ".profile"), "utf8")).toBe("# profile\n");
        expect(statSync(join(home, ".ssh")).mode & 0o777).toBe(0o700);
        const keys = join(home, ".ssh", "authorized_keys");
        expect(statSync(keys).mode & 0o777).toBe(0o600);
        expect(readFileSync(keys, "utf8")).toMatch(/^ssh-ed25519 \S+\n$/);
        if (process.getuid?.() === 0) {
            expect(statSync(keys).uid).toBe(idOf(p.accounts.passwd, "jump"));
            expect(statSync(home).gid).toBe(idOf(p.accounts.group, "jump"));
        }
        // The machine's files were only read.
        expect(readdirSync(join(src, "ssh", "sshd_config.d"))).toEqual(["50-image.conf"]);
        expect(readFileSync(join(src, "passwd"), "utf8")).toBe(base.passwd);
    });
});
