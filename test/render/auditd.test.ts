// auditd on every host: the rules, the journal plugin and the units' drop-ins as the user data writes them,
// and the rules judged by Debian 13's own audit 4.0 tools (auditctl, ausyscall, augenrules) from the lab
// mirror's packages, run chrooted in a PID namespace of their own: the kernel refuses audit control from
// outside the first PID namespace, so nothing reaches this machine's audit state (checked first).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    AUDIT_JOURNAL_IDENTIFIER,
    AUDIT_RULES_PATH,
    AUDIT_SYSLOG_PLUGIN_PATH,
    AUDIT_UNIT_DROPIN_PATHS,
    AUDITD_PACKAGES,
    AUDITD_RELOAD_COMMAND,
    AUDISP_SYSLOG,
    renderAuditRules,
} from "../../components/render/auditd";
import { fileAt, parseCloudConfig, type CloudConfig } from "../../components/render/cloudConfig";
import { renderBastionCloudInit, renderTargetCloudInit } from "../../components/render/cloudInit";
import { SHIPPED_JOURNAL_MATCHES } from "../../components/render/cloudwatchAgent";
import { AUTHORIZED_CAS_DIR, REVOKED_KEYS_PATH } from "../../components/render/sshd";
import { debian13Root } from "../helpers/debian13";
import { sampleBastionSpec, sampleTargetSpec } from "../helpers/renderFixtures";
import { toolsAvailable } from "../helpers/tools";

const docs: [string, CloudConfig][] = [
    ["bastion", parseCloudConfig(renderBastionCloudInit(sampleBastionSpec()))],
    ["target", parseCloudConfig(renderTargetCloudInit(sampleTargetSpec()))],
];

/** The rule lines (no comments, no blank lines). */
function ruleLines(text: string): string[] {
    return text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

const WATCHED = [
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d",
    AUTHORIZED_CAS_DIR,
    REVOKED_KEYS_PATH,
    "/etc/localtime",
];

describe("auditd in every host's user data", () => {
    it.each(docs)("the %s installs auditd and writes its rules, plugin and drop-ins before the packages", (_, c) => {
        for (const pkg of AUDITD_PACKAGES) expect(c.packages).toContain(pkg);
        for (const path of [AUDIT_RULES_PATH, AUDIT_SYSLOG_PLUGIN_PATH, ...AUDIT_UNIT_DROPIN_PATHS]) {
            const file = c.write_files.find((f) => f.path === path);
            expect(file, path).toBeDefined();
            // Not deferred: the package's own first start (its postinst) already loads them.
            expect(file?.defer, path).toBeUndefined();
            expect(file?.owner).toBe("root:root");
        }
        expect(c.write_files.find((f) => f.path === AUDIT_RULES_PATH)?.permissions).toBe("0600");
        expect(fileAt(c, AUDIT_RULES_PATH)).toBe(renderAuditRules());
        // After the packages (runcmd), before fail2ban restarts: auditd re-reads its plugins.
        expect(c.runcmd).toContain(AUDITD_RELOAD_COMMAND);
    });

    it("watches the identity, sudoers, sshd and CA files, and records root's programs, time and modules", () => {
        const lines = ruleLines(renderAuditRules());
        for (const path of WATCHED) {
            expect(
                lines.some((l) => new RegExp(`^-w ${path} -p wa -k \\S+$`).test(l)),
                path,
            ).toBe(true);
        }
        const syscallRules = lines.filter((l) => l.startsWith("-a "));
        const covered = (name: string, extra = "") =>
            ["b64", "b32"].every((arch) =>
                syscallRules.some(
                    (l) =>
                        l.includes(`-F arch=${arch} `) &&
                        new RegExp(`-S (\\S+,)?${name}(,\\S+)? `).test(l) &&
                        l.includes(extra),
                ),
            );
        for (const name of [
            "adjtimex",
            "settimeofday",
            "clock_settime",
            "init_module",
            "finit_module",
            "delete_module",
        ])
            expect(covered(name), name).toBe(true);
        expect(covered("execve", "-F euid=0 -F auid>=1000 -F auid!=unset")).toBe(true);
        expect(covered("execve", "-C uid!=euid")).toBe(true);
        expect(lines).toContain("-w /usr/bin/kmod -p x -k modules");
        // Every syscall rule exists for both ABIs, so a 32-bit program is no way around it.
        for (const l of syscallRules.filter((r) => r.includes("arch=b64")))
            expect(syscallRules, l).toContain(l.replace("arch=b64", "arch=b32"));
        // Immutable last: nothing after it could load.
        expect(lines.at(-1)).toBe("-e 2");
    });

    it("sends every record to the journal at info, where the CloudWatch agent ships it", () => {
        const plugin = fileAt(docs[0][1], AUDIT_SYSLOG_PLUGIN_PATH);
        expect(plugin).toMatch(/^active = yes$/m);
        expect(plugin).toMatch(new RegExp(`^path = ${AUDISP_SYSLOG}$`, "m"));
        expect(plugin).toMatch(/^args = LOG_INFO$/m);
        expect(SHIPPED_JOURNAL_MATCHES).toContainEqual({ SYSLOG_IDENTIFIER: AUDIT_JOURNAL_IDENTIFIER });
    });
});

// ---- Debian 13's audit tools judge the rules ----

const root = toolsAvailable("unshare", "mount", "chroot", "dpkg-deb") ? debian13Root() : undefined;

/** The audit packages' files, unpacked from the lab mirror's .debs (the hosts install them from there). */
function unpackAuditPackages(into: string): void {
    const pool = `${root}.mirror/debian/pool/main/a/audit`;
    if (!existsSync(pool)) throw new Error(`${pool} is missing: the lab root's mirror has no audit packages`);
    const debs = readdirSync(pool).filter((f) => /^(auditd|libauparse0t64|libaudit1)_.*\.deb$/.test(f));
    expect(debs.filter((d) => d.startsWith("auditd_"))).toHaveLength(1);
    for (const deb of debs) {
        const r = spawnSync("dpkg-deb", ["-x", join(pool, deb), into], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
    }
}

/**
 * Runs `script` (sh) chrooted in the Debian 13 root with the audit packages and `files` laid over it, in
 * new PID and mount namespaces. The script's first step proves the kernel refuses it audit control.
 */
function inAuditRoot(files: Record<string, string>, script: string): { status: number | null; out: string } {
    const dir = mkdtempSync(join(tmpdir(), "jg-auditd-"));
    try {
        const layer = join(dir, "layer");
        unpackAuditPackages(layer);
        for (const [path, content] of Object.entries(files)) {
            mkdirSync(join(layer, path, ".."), { recursive: true });
            writeFileSync(join(layer, path), content, { mode: 0o600 });
        }
        for (const d of ["upper", "work", "merged"]) mkdirSync(join(dir, d));
        const guard = [
            "out=$(auditctl -s 2>&1)",
            'case "$out" in *"Operation not permitted"*) ;; *) echo "audit control not refused: $out"; exit 99;; esac',
        ].join("\n");
        const outer = [
            "set -e",
            `mount -t overlay jg-auditd -o "lowerdir=$1/layer:$2,upperdir=$1/upper,workdir=$1/work" "$1/merged"`,
            'mount -t proc proc "$1/merged/proc"',
            'exec chroot "$1/merged" /bin/sh -c "$3"',
        ].join("\n");
        const r = spawnSync(
            "unshare",
            [
                "--mount",
                "--pid",
                "--fork",
                "--propagation",
                "private",
                "sh",
                "-c",
                outer,
                "sh",
                dir,
                root ?? "",
                `${guard}\n${script}`,
            ],
            { encoding: "utf8", timeout: 60_000, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
        );
        return { status: r.status, out: r.stdout + r.stderr };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** What auditctl prints for a rule it parsed and then could not send (the kernel's refusal here). */
const SENT_ONLY = [
    /^Old style watch rules are slower$/,
    /^Error sending (status|add rule data|enable) request \(Operation not permitted\)$/,
    /^There was an error while processing parameters$/,
];

describe.runIf(root !== undefined)("Debian 13's audit 4.0 tools judge the rules", () => {
    it("auditctl parses every rule; only the kernel's refusal to load it stops it", () => {
        // One auditctl per rule (`-R` stops at the first send error); set -f: no globbing of the words.
        const check = [
            "set -f",
            "n=0",
            'while IFS= read -r line; do n=$((n+1)); case "$line" in ""|"#"*) continue;; esac',
            '  echo "@@ $n $line"; auditctl $line 2>&1; done < /rules',
            // Each auditctl fails (nothing can be sent from here); the blocks say why.
            "exit 0",
        ].join("\n");
        const r = inAuditRoot({ "/rules": renderAuditRules() }, check);
        expect(r.status, r.out).toBe(0);
        const blocks = r.out.split(/^@@ /m).slice(1);
        expect(blocks).toHaveLength(ruleLines(renderAuditRules()).length);
        for (const block of blocks) {
            const [head, ...said] = block.trimEnd().split("\n");
            expect(
                said.filter((l) => !SENT_ONLY.some((re) => re.test(l))),
                head,
            ).toEqual([]);
            expect(
                said.some((l) => l.startsWith("Error sending ")),
                head,
            ).toBe(true);
        }
    });

    it("auditctl rejects a broken rule, so the check above can fail", () => {
        const r = inAuditRoot(
            { "/rules": "-a always,exit -F arch=b64 -S no_such_call -k x\n" },
            "set -f; auditctl $(cat /rules) 2>&1",
        );
        expect(r.out).toMatch(/Syscall name unknown: no_such_call/);
    });

    it("every syscall named exists on amd64 and arm64 hosts and their 32-bit ABIs (ausyscall)", () => {
        const names = [...new Set([...renderAuditRules().matchAll(/-S (\S+)/g)].flatMap((m) => m[1].split(",")))];
        const script = ["x86_64", "i386", "aarch64", "arm"]
            .flatMap((arch) => names.map((n) => `ausyscall ${arch} ${n} >/dev/null || echo "missing ${arch} ${n}"`))
            .join("\n");
        const r = inAuditRoot({}, script);
        expect(r.status, r.out).toBe(0);
        expect(r.out.trim()).toBe("");
    });

    it("augenrules puts jumpgate's rules after Debian's and ends the set with -e 2", () => {
        const r = inAuditRoot(
            { [AUDIT_RULES_PATH]: renderAuditRules() },
            "augenrules >/dev/null 2>&1 || true; cat /etc/audit/audit.rules",
        );
        const lines = ruleLines(r.out.split("\n").slice(0).join("\n")).filter((l) => l.startsWith("-"));
        expect(lines[0]).toBe("-D");
        expect(lines).toContain("-b 8192");
        expect(lines.at(-1)).toBe("-e 2");
        for (const rule of ruleLines(renderAuditRules())) expect(lines, rule).toContain(rule);
    });
});
