// The host hardening files and commands in the rendered documents, judged by the real tools: procps' sysctl
// parses the kernel settings against this machine's kernel (never writing them), kmod's modprobe resolves the
// module rules, and the login.defs command runs on Debian 13's own login.defs in a private mount namespace.
// The booted hosts are checked in test/lab/hostHardening.e2e.test.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileAt, parseCloudConfig, type CloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import {
    BASTION_KEPT_SERVICES,
    BASTION_MASKED_UNITS,
    BLACKLISTED_MODULES,
    COREDUMP_CONF,
    COREDUMP_CONF_PATH,
    CORE_LIMITS,
    CORE_LIMITS_PATH,
    LOGIN_DEFS_PATH,
    LOGIN_DEFS_SETTINGS,
    MODPROBE_PATH,
    PAM_UMASK_FILES,
    SYSCTL_PATH,
    SYSCTL_SETTINGS,
    SYSTEM_CORE,
    SYSTEM_CORE_PATH,
    loginDefsCommand,
    pamUmaskCommand,
} from "../../components/render/hostHardening";
import { debian13Root } from "../helpers/debian13";
import { sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

// Debian 13 is what hosts boot by default.
const bastion = parseCloudConfig(renderBastionCloudInit(sampleBastionSpec({ os: "debian-13" })));
const target = parseCloudConfig(renderTargetCloudInit(sampleTargetSpec({ os: "debian-13" })));
const ubuntu = parseCloudConfig(renderBastionCloudInit(sampleBastionSpec({ os: "ubuntu-24.04" })));
const commands = (c: CloudConfig) => (c.runcmd ?? []).map((x) => (Array.isArray(x) ? x.join(" ") : x));

/**
 * Keys this machine's kernel (a Firecracker build without Yama and kexec) does not have. Only these may go
 * unparsed here; the Debian and Ubuntu kernels have them all. Any other unparsed key is a misspelling.
 */
const NOT_IN_THIS_BUILD = ["kernel.yama.ptrace_scope", "kernel.kexec_load_disabled"];

describe("the documents", () => {
    it("both kinds of host write the same hardening files before sshd's first start (not deferred)", () => {
        for (const c of [bastion, target, ubuntu]) {
            for (const path of [SYSCTL_PATH, MODPROBE_PATH, CORE_LIMITS_PATH, COREDUMP_CONF_PATH, SYSTEM_CORE_PATH]) {
                const f = c.write_files.find((w) => w.path === path);
                expect(f, path).toMatchObject({ owner: "root:root", permissions: "0644" });
                expect(f?.defer, path).toBeFalsy();
            }
            expect(fileAt(c, CORE_LIMITS_PATH)).toBe(CORE_LIMITS);
            expect(fileAt(c, COREDUMP_CONF_PATH)).toBe(COREDUMP_CONF);
            expect(fileAt(c, SYSTEM_CORE_PATH)).toBe(SYSTEM_CORE);
        }
        // pam_limits' `*` leaves root out: root is named.
        expect(CORE_LIMITS).toMatch(/^\* hard core 0$/m);
        expect(CORE_LIMITS).toMatch(/^root hard core 0$/m);
    });

    it("sysctl sorts after the distribution's 50-*.conf and reapplies before sshd restarts", () => {
        expect(SYSCTL_PATH.split("/").pop()! > "50-default.conf").toBe(true);
        for (const c of [bastion, target]) {
            const cmds = commands(c);
            const sysctl = cmds.indexOf("systemctl restart systemd-sysctl.service");
            expect(sysctl).toBeGreaterThanOrEqual(0);
            expect(sysctl).toBeLessThan(cmds.findIndex((x) => x.includes("systemctl restart ssh.service")));
            expect(cmds).toContain("systemctl daemon-reexec");
        }
    });

    it("only the bastion masks services, and never one it keeps", () => {
        const mask = (c: CloudConfig) => commands(c).filter((x) => x.startsWith("systemctl mask --now "));
        expect(mask(bastion)).toEqual([`systemctl mask --now ${BASTION_MASKED_UNITS.map((u) => u.unit).join(" ")}`]);
        expect(mask(target)).toEqual([]);
        const kept = BASTION_KEPT_SERVICES.map(
            (k) => new RegExp(`^${k.unit.replace(/[.@]/g, "\\$&").replace(/\*/g, ".*")}$`),
        );
        for (const m of BASTION_MASKED_UNITS)
            expect(
                kept.filter((k) => k.test(m.unit)),
                m.unit,
            ).toEqual([]);
    });

    it("the bastion clears the distribution's AcceptEnv before sshd -t; the target keeps it", () => {
        const at = (c: CloudConfig, re: RegExp) => commands(c).findIndex((x) => re.test(x));
        expect(at(bastion, /AcceptEnv.*\/etc\/ssh\/sshd_config$/)).toBeGreaterThanOrEqual(0);
        expect(at(bastion, /AcceptEnv/)).toBeLessThan(at(bastion, /sshd -t/));
        expect(at(target, /AcceptEnv/)).toBe(-1);
    });
});

describe.runIf(toolsAvailable("sysctl"))(
    "procps' sysctl reads the kernel settings (dry run: nothing is written)",
    () => {
        let work: string;
        beforeAll(() => (work = mkdtempSync(join(tmpdir(), "jgt-sysctl-"))));
        afterAll(() => rmSync(work, { recursive: true, force: true }));

        it("parses every key with its value; only keys this kernel build lacks are unknown", () => {
            const file = join(work, "60-jumpgate-hardening.conf");
            writeFileSync(file, fileAt(bastion, SYSCTL_PATH));
            const r = spawnSync("sysctl", ["--dry-run", "-p", file], { encoding: "utf8" });
            const parsed = new Map(r.stdout.split("\n").map((l) => l.split(" = ") as [string, string]));
            const missing = [...r.stderr.matchAll(/cannot stat \/proc\/sys\/(\S+): No such file/g)].map((m) =>
                m[1]!.replace(/\//g, "."),
            );
            // Only keys absent from this kernel (and only known ones) fail; nothing else on stderr.
            for (const k of missing) expect(existsSync(`/proc/sys/${k.replace(/\./g, "/")}`), k).toBe(false);
            expect(missing.filter((k) => !NOT_IN_THIS_BUILD.includes(k))).toEqual([]);
            expect(r.stderr.replace(/sysctl: cannot stat \S+: No such file or directory\n/g, "")).toBe("");
            for (const s of SYSCTL_SETTINGS) {
                if (missing.includes(s.key)) continue;
                // A glob expands to all, default and every interface this machine has.
                const key = s.key.replace("*", "all");
                expect(parsed.get(key), s.key).toBe(s.value);
                if (s.key.includes("*")) expect(parsed.get(s.key.replace("*", "default")), s.key).toBe(s.value);
            }
        });

        it("sets each key once; the README gives the reason for every key, module, login.defs line and unit", () => {
            const keys = fileAt(target, SYSCTL_PATH)
                .split("\n")
                .filter((l) => l && !l.startsWith("#"));
            expect(keys).toHaveLength(SYSCTL_SETTINGS.length);
            expect(new Set(keys.map((l) => l.split(" = ")[0])).size).toBe(keys.length);
            const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
            const section = readme.slice(readme.indexOf("### Kernel, system and sshd"));
            for (const s of SYSCTL_SETTINGS)
                expect(section, s.key).toContain(`\`${s.key} = ${s.value.replace("|", "\\|")}\``);
            for (const m of BLACKLISTED_MODULES) expect(section, m.name).toContain(`\`${m.name}\``);
            for (const l of LOGIN_DEFS_SETTINGS) expect(section, l.key).toContain(`\`${l.key} ${l.value}\``);
            for (const u of BASTION_MASKED_UNITS) expect(section, u.unit).toContain(`\`${u.unit}\``);
        });
    },
);

describe.runIf(toolsAvailable("modprobe"))("kmod's modprobe resolves the module rules", () => {
    let work: string;
    beforeAll(() => (work = mkdtempSync(join(tmpdir(), "jgt-modprobe-"))));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it("modprobe -n -v runs /bin/false instead of loading any listed module, and lists it as blacklisted", () => {
        const file = join(work, "jumpgate-blacklist.conf");
        writeFileSync(file, fileAt(bastion, MODPROBE_PATH));
        for (const m of BLACKLISTED_MODULES) {
            const r = spawnSync("modprobe", ["-C", file, "-n", "-v", m.name], { encoding: "utf8" });
            expect(r.stdout.trim(), `${m.name}: ${r.stderr}`).toBe("install /bin/false");
            expect(r.status, m.name).toBe(0);
        }
        const config = spawnSync("modprobe", ["-C", file, "-c"], { encoding: "utf8" }).stdout;
        // kmod spells module names with underscores.
        for (const m of BLACKLISTED_MODULES)
            expect(config).toMatch(new RegExp(`^blacklist ${m.name.replace(/-/g, "_")}$`, "m"));
        // Without the rules the same dry run would go looking for the module.
        const bare = spawnSync("modprobe", ["-C", "/dev/null", "-n", "-v", "dccp"], { encoding: "utf8" });
        expect(bare.stdout).not.toContain("/bin/false");
    });

    it("keeps the modules EC2 and Ubuntu need (squashfs for snaps, vfat for EFI, the NVMe and ENA drivers)", () => {
        const names = BLACKLISTED_MODULES.map((m) => m.name);
        for (const keep of ["squashfs", "vfat", "nvme", "ena", "ext4", "xfs"]) expect(names).not.toContain(keep);
    });
});

const root = debian13Root();

describe.runIf(root !== undefined)("the login.defs and PAM commands on Debian 13's own files", () => {
    it("Debian 13 only: pam_umask gets nousergroups on both session files, once", () => {
        expect(pamUmaskCommand("debian-12")).toEqual([]);
        expect(pamUmaskCommand("ubuntu-24.04")).toEqual([]);
        const [cmd] = pamUmaskCommand("debian-13");
        expect(commands(bastion)).toContain(cmd!.join(" "));
        expect(commands(target)).toContain(cmd!.join(" "));
        const work = mkdtempSync(join(tmpdir(), "jgt-pam-"));
        try {
            const copies = PAM_UMASK_FILES.map((f, i) => {
                const copy = join(work, String(i));
                writeFileSync(copy, readFileSync(join(root ?? "", f), "utf8"));
                return copy;
            });
            // The rendered command, with the files replaced by the copies.
            const r = spawnSync(cmd![0]!, [...cmd!.slice(1, -PAM_UMASK_FILES.length), ...copies], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            for (const c of copies) {
                const lines = readFileSync(c, "utf8")
                    .split("\n")
                    .filter((l) => l.includes("pam_umask"));
                expect(lines.filter((l) => !l.startsWith("#"))).toEqual([
                    "session optional\t\t\tpam_umask.so nousergroups",
                ]);
            }
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    });

    it("leaves exactly one line per key with jumpgate's value, the rest of the file untouched", () => {
        const work = mkdtempSync(join(tmpdir(), "jgt-logindefs-"));
        try {
            const original = readFileSync(join(root ?? "", "etc/login.defs"), "utf8");
            const copy = join(work, "login.defs");
            writeFileSync(copy, original);
            // The rendered command, on the copy.
            const [sh, c, script] = loginDefsCommand();
            const r = spawnSync("sh", ["-c", script!.replaceAll(LOGIN_DEFS_PATH, copy)], { encoding: "utf8" });
            expect([sh, c]).toEqual(["sh", "-c"]);
            expect(r.status, r.stderr).toBe(0);
            const edited = readFileSync(copy, "utf8");
            for (const s of LOGIN_DEFS_SETTINGS) {
                const lines = edited.split("\n").filter((l) => new RegExp(`^${s.key}\\s`).test(l));
                expect(lines, s.key).toEqual([`${s.key}\t${s.value}`]);
            }
            // Everything else stays as it was, in order; jumpgate's lines come last.
            const isKey = (l: string) => LOGIN_DEFS_SETTINGS.some((k) => new RegExp(`^${k.key}\\s`).test(l));
            const kept = original.split("\n").filter((l) => !isKey(l));
            expect(edited.startsWith(kept.join("\n"))).toBe(true);
            // Debian 13 has no UMASK line of its own: pam_umask would leave sshd's 022.
            expect(original).not.toMatch(/^UMASK\s/m);
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    });
});
