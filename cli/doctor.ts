// `jumpgate-ssh doctor`: checks what the installed stack needs from the operator's side, in the order
// ssh trips over it: the client version, permissions ssh enforces, the Include, the pinned keys, and
// finally what `ssh -G` makes of every host. One line per check; any FAIL makes the exit status 1.
import { createHash } from "node:crypto";
import { readdirSync, Stats } from "node:fs";
import { join, resolve } from "node:path";
import { lstatOrUndefined, octal, readIfExists, sha256 } from "./fsplan";
import { HomeInfo, installPaths, Manifest, sectionBegin, sectionEnd } from "./install";
import {
    atLeast,
    DASH_G_SINCE,
    DashGResult,
    MINIMUM,
    parseCertificateListing,
    PROXYJUMP_SINCE,
    SshVersion,
    versionString,
} from "./openssh";
import { shortStackName } from "./outputs";
import { firstArg, firstValue, includeCovers, parseConf } from "./sshconf";

export interface Check {
    ok: boolean;
    /** Works now, but needs attention soon (a certificate about to expire). */
    warn?: boolean;
    what: string;
    detail: string;
    fix?: string;
}

export interface DoctorOptions extends HomeInfo {
    stack?: string;
    sshVersion?: SshVersion;
    /** `ssh -G [-F config] alias` with HOME set to the home. */
    dashG: (alias: string, config?: string) => DashGResult;
    uid: number;
    /** `ssh-keygen -L -f file` (TZ=UTC). */
    listCertificate: (file: string) => { ok: boolean; stdout: string; stderr: string };
    now: Date;
}

/** A certificate closer to its end than this gets a warning. */
export const CERTIFICATE_WARN_SECONDS = 3600;

export function formatCheck(c: Check): string {
    return `${!c.ok ? "FAIL" : c.warn ? "warn" : "ok  "}  ${c.what}: ${c.detail}${c.fix ? `; fix: ${c.fix}` : ""}`;
}

/** ssh's rule for config and known_hosts files: owned by you or root, writable by no one else. */
function ownerAndModeOk(st: Stats, uid: number): boolean {
    return (st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0;
}

/** The stacks installed in the home: one manifest each. */
export function installedStacks(home: string): string[] {
    const dir = installPaths(home, "x").confDir;
    if (!lstatOrUndefined(dir)) return [];
    return readdirSync(dir)
        .map((n) => /^\.jumpgate-(.+)\.json$/.exec(n)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

export function runDoctor(opts: DoctorOptions): Check[] {
    const home = resolve(opts.home);
    const checks: Check[] = [];
    const v = opts.sshVersion;
    if (!v) {
        checks.push({
            ok: false,
            what: "OpenSSH client",
            detail: "`ssh -V` did not run or is not OpenSSH",
            fix: "install the OpenSSH client (Debian/Ubuntu: apt-get install openssh-client)",
        });
    } else if (!atLeast(v, MINIMUM)) {
        checks.push({
            ok: false,
            what: "OpenSSH client",
            detail: `${versionString(v)} is older than 6.7`,
            fix: "upgrade OpenSSH",
        });
    } else {
        const pj = atLeast(v, PROXYJUMP_SINCE);
        checks.push({
            ok: true,
            what: "OpenSSH client",
            detail: `${versionString(v)}: ${pj ? "ProxyJump and Include supported" : "no ProxyJump or Include (7.3+), the ProxyCommand variant is needed"}`,
        });
    }

    const sshDir = installPaths(home, "x").sshDir;
    const dirSt = lstatOrUndefined(sshDir);
    if (!dirSt?.isDirectory()) {
        checks.push({ ok: false, what: sshDir, detail: "missing", fix: "npx jumpgate-ssh install --stack <stack>" });
        return checks;
    }
    const dirOk = (dirSt.uid === opts.uid || dirSt.uid === 0) && (dirSt.mode & 0o022) === 0;
    checks.push({
        ok: dirOk,
        what: sshDir,
        detail: `mode ${octal(dirSt.mode)}${dirOk ? "" : ", writable by others"}`,
        fix: dirOk ? undefined : `chmod 700 ${sshDir}`,
    });

    const stacks = opts.stack ? [shortStackName(opts.stack)] : installedStacks(home);
    if (stacks.length === 0) {
        checks.push({
            ok: false,
            what: "stacks",
            detail: `no jumpgate stack installed in ${sshDir}`,
            fix: "npx jumpgate-ssh install --stack <stack>",
        });
    }
    for (const stack of stacks) checks.push(...checkStack(stack, home, opts));
    return checks;
}

function checkStack(stack: string, home: string, opts: DoctorOptions): Check[] {
    const checks: Check[] = [];
    const paths = installPaths(home, stack);
    const reinstall = `npx jumpgate-ssh install --stack ${stack}`;
    let manifest: Manifest | undefined;
    try {
        manifest = JSON.parse(readIfExists(paths.manifest) ?? "null") as Manifest | undefined;
    } catch {
        manifest = undefined;
    }
    if (!manifest?.files) {
        checks.push({
            ok: false,
            what: `stack ${stack}`,
            detail: `not installed (no ${paths.manifest})`,
            fix: reinstall,
        });
        return checks;
    }
    const v = opts.sshVersion;
    if (v && manifest.style === "proxyjump" && !atLeast(v, PROXYJUMP_SINCE)) {
        checks.push({
            ok: false,
            what: `stack ${stack}`,
            detail: `the ProxyJump variant is installed but ${versionString(v)} rejects ProxyJump and Include ("Bad configuration option")`,
            fix: `${reinstall} (installs the ProxyCommand variant)`,
        });
    } else {
        checks.push({
            ok: true,
            what: `stack ${stack}`,
            detail: `${manifest.style} variant, hosts ${manifest.hosts.filter((h) => h !== "*").join(", ")}${
                v && manifest.style === "proxycommand" && atLeast(v, PROXYJUMP_SINCE)
                    ? ` (${versionString(v)} can use ProxyJump: ${reinstall})`
                    : ""
            }`,
        });
    }

    for (const f of manifest.files) {
        const st = lstatOrUndefined(f.path);
        const content = readIfExists(f.path);
        if (!st || content === undefined) {
            checks.push({ ok: false, what: f.path, detail: "missing", fix: reinstall });
            continue;
        }
        const isKey = f.path === paths.key;
        if (isKey ? (st.mode & 0o077) !== 0 : !ownerAndModeOk(st, opts.uid)) {
            checks.push({
                ok: false,
                what: f.path,
                detail: isKey
                    ? `mode ${octal(st.mode)}: ssh ignores a private key others can read ("UNPROTECTED PRIVATE KEY FILE")`
                    : `mode ${octal(st.mode)}, owner ${st.uid}: ssh refuses it ("Bad owner or permissions")`,
                fix: `chmod 600 ${f.path}`,
            });
        } else if (sha256(content) !== f.sha256) {
            checks.push({
                ok: false,
                what: f.path,
                detail: "changed since jumpgate-ssh installed it",
                fix: `${reinstall}${isKey ? " --force" : ""}`,
            });
        } else {
            checks.push({ ok: true, what: f.path, detail: `${f.label}, mode ${octal(st.mode)}` });
        }
    }

    // ~/.ssh/config: ssh enforces its permissions, and it must pull the stack in.
    const cfgSt = lstatOrUndefined(paths.userConfig);
    const cfgText = readIfExists(paths.userConfig);
    let confText: string | undefined;
    if (cfgText === undefined || !cfgSt) {
        checks.push({ ok: false, what: paths.userConfig, detail: "missing", fix: reinstall });
    } else {
        const st = cfgSt.isSymbolicLink() ? undefined : cfgSt;
        if (st && !ownerAndModeOk(st, opts.uid)) {
            checks.push({
                ok: false,
                what: paths.userConfig,
                detail: `mode ${octal(st.mode)}, owner ${st.uid}: ssh refuses it ("Bad owner or permissions")`,
                fix: `chmod 600 ${paths.userConfig}`,
            });
        }
        if (manifest.layout === "include") {
            const tildeHome = opts.envHome !== undefined && resolve(opts.envHome) === home ? home : undefined;
            const covered = includeCovers(parseConf(cfgText), paths.conf, tildeHome);
            checks.push({
                ok: covered,
                what: paths.userConfig,
                detail: covered
                    ? `an Include before any Host block pulls in ${paths.conf}`
                    : `no Include before the first Host/Match block pulls in ${paths.conf}`,
                fix: covered ? undefined : reinstall,
            });
            confText = readIfExists(paths.conf);
        } else {
            const lines = cfgText.split("\n");
            const b = lines.indexOf(sectionBegin(stack));
            const e = lines.indexOf(sectionEnd(stack), b + 1);
            checks.push({
                ok: b >= 0 && e > b,
                what: paths.userConfig,
                detail:
                    b >= 0 && e > b ? `holds the block for stack ${stack}` : `the block for stack ${stack} is missing`,
                fix: b >= 0 && e > b ? undefined : reinstall,
            });
            if (b >= 0 && e > b) confText = lines.slice(b + 1, e).join("\n");
        }
    }
    if (confText === undefined) return checks;
    const conf = parseConf(confText);
    // The inline block ends with `Host *` (it hands the rest of ~/.ssh/config back to every host).
    conf.blocks = conf.blocks.filter((b) => b.patterns.join(" ") !== "*");

    // Pinned keys for every alias the config checks against, and the key files it offers.
    const aliasesIn = (text: string) =>
        text
            .split("\n")
            .filter((l) => l.trim() && !l.startsWith("#"))
            .flatMap((l) => (l.split(/\s+/)[0] ?? "").split(","));
    const pinned = new Set(aliasesIn(readIfExists(paths.knownHosts) ?? ""));
    // Existing hosts whose key the stack does not know: the operator pins them into their own file.
    const pinnedByOperator = new Set(aliasesIn(readIfExists(paths.pinnedHosts) ?? ""));
    const operatorPins = (b: (typeof conf.blocks)[number]) =>
        b.settings.find((x) => x.keyword === "userknownhostsfile")?.args[1] === paths.pinnedHosts;
    const awaitingPin = conf.blocks
        .filter((b) => operatorPins(b) && !pinnedByOperator.has(firstValue(b, "hostkeyalias") ?? b.patterns[0]!))
        .map((b) => b.patterns[0]!);
    if (awaitingPin.length > 0)
        checks.push({
            ok: true,
            warn: true,
            what: paths.pinnedHosts,
            detail: `existing host(s) not pinned yet, so ssh refuses them: ${awaitingPin.join(", ")}`,
            fix: `get each one's fingerprint out of band, then: npx jumpgate-ssh pin <alias> --fingerprint SHA256:...`,
        });
    const unpinned = conf.blocks
        .filter((b) => !operatorPins(b))
        .map((b) => firstValue(b, "hostkeyalias") ?? b.patterns[0]!)
        .filter((a) => !pinned.has(a));
    checks.push({
        ok: unpinned.length === 0,
        what: paths.knownHosts,
        detail: unpinned.length === 0 ? `pins ${pinned.size} host keys` : `no pinned key for ${unpinned.join(", ")}`,
        fix: unpinned.length === 0 ? undefined : reinstall,
    });
    const identityFiles = new Set(conf.blocks.map((b) => firstArg(b, "identityfile")).filter((x): x is string => !!x));
    const operatorFix = manifest.operator === undefined ? "" : `, or: ${reinstall} --identity <your key>`;
    for (const id of identityFiles) {
        if (id === paths.key) continue; // checked above
        const file = id.startsWith("~/") ? join(opts.passwdHome, id.slice(2)) : id;
        const st = lstatOrUndefined(file);
        checks.push(
            !st
                ? {
                      ok: false,
                      what: file,
                      detail: "IdentityFile does not exist",
                      fix: `put your private key there, or set jumpgate:identityFile to its path and pulumi up${operatorFix}`,
                  }
                : (st.mode & 0o077) !== 0
                  ? {
                        ok: false,
                        what: file,
                        detail: `mode ${octal(st.mode)}: ssh ignores it ("UNPROTECTED PRIVATE KEY FILE")`,
                        fix: `chmod 600 ${file}`,
                    }
                  : { ok: true, what: file, detail: `your private key, mode ${octal(st.mode)}` },
        );
    }

    // Team access: the certificate each host is offered.
    const certificates = new Set(
        conf.blocks.map((b) => firstArg(b, "certificatefile")).filter((x): x is string => !!x),
    );
    for (const c of certificates) {
        const file = c.startsWith("~/") ? join(opts.passwdHome, c.slice(2)) : c;
        checks.push(checkCertificate(file, stack, manifest, opts));
    }

    // What ssh itself makes of each alias.
    if (v && !atLeast(v, DASH_G_SINCE)) {
        checks.push({ ok: true, what: "ssh -G", detail: `skipped: ${versionString(v)} has no ssh -G (6.8+)` });
        return checks;
    }
    const config = home !== resolve(opts.passwdHome) ? paths.userConfig : undefined;
    for (const b of conf.blocks) checks.push(checkDashG(b.patterns[0]!, b, opts.dashG(b.patterns[0]!, config)));
    return checks;
}

/** Compares `ssh -G alias` with the settings of the installed Host block. */
function checkDashG(alias: string, block: ReturnType<typeof parseConf>["blocks"][number], g: DashGResult): Check {
    const what = `ssh -G ${alias}`;
    if (!g.ok) {
        const first = g.stderr.split("\n").find((l) => l.trim() && !/Pseudo-terminal/.test(l)) ?? "failed";
        const perms = /Bad owner or permissions on (.+)$/.exec(first);
        const fix = perms
            ? `chmod 600 ${perms[1]} (and chown it to yourself)`
            : /Bad configuration option/.test(first)
              ? `npx jumpgate-ssh install --stack <stack> (picks the variant your OpenSSH reads), or remove the option`
              : "see the Troubleshooting section of the jumpgate README";
        return { ok: false, what, detail: first, fix };
    }
    const one = (k: string) => g.values.get(k)?.[0];
    const knownHosts = firstArg(block, "userknownhostsfile");
    const expect: [string, string | undefined, string | undefined][] = [
        ["hostname", firstValue(block, "hostname"), one("hostname")],
        ["user", firstValue(block, "user"), one("user")],
        ["port", firstValue(block, "port"), one("port")],
        ["proxyjump", firstValue(block, "proxyjump"), one("proxyjump")],
        ["proxycommand", firstValue(block, "proxycommand"), one("proxycommand")],
        ["hostkeyalias", firstValue(block, "hostkeyalias"), one("hostkeyalias")],
        ["identityfile", firstArg(block, "identityfile"), one("identityfile")],
        ["certificatefile", firstArg(block, "certificatefile"), one("certificatefile")],
        // -G prints every known_hosts file on one line, space-separated: ours must come first.
        [
            "userknownhostsfile",
            knownHosts,
            one("userknownhostsfile")?.startsWith(`${knownHosts} `) ? knownHosts : one("userknownhostsfile"),
        ],
        [
            "stricthostkeychecking",
            firstValue(block, "stricthostkeychecking") === "yes" ? "true" : undefined,
            one("stricthostkeychecking"),
        ],
    ];
    const wrong = expect.filter(([, want, got]) => want !== undefined && want !== got);
    if (wrong.length > 0) {
        return {
            ok: false,
            what,
            detail: wrong.map(([k, want, got]) => `${k} is ${got ?? "unset"}, expected ${want}`).join(", "),
            fix: "an earlier Host or Match block in ~/.ssh/config sets it first: keep the jumpgate Include at the very top",
        };
    }
    const via = one("proxyjump") ?? (one("proxycommand") ? "ProxyCommand" : undefined);
    return { ok: true, what, detail: `${one("user")}@${one("hostname")}:${one("port")}${via ? ` via ${via}` : ""}` };
}

/** The operator's certificate: there, readable by ssh-keygen, for their role, and not (about to be) expired. */
function checkCertificate(file: string, stack: string, manifest: Manifest, opts: DoctorOptions): Check {
    const login = `npx jumpgate-ssh login --stack ${stack}${manifest.operator === undefined ? " --operator <you>" : ""}`;
    const what = `certificate ${file}`;
    if (!lstatOrUndefined(file))
        return { ok: false, what, detail: "missing (ssh offers only the key, which hosts refuse)", fix: login };
    const listed = opts.listCertificate(file);
    const cert = listed.ok ? parseCertificateListing(listed.stdout) : undefined;
    if (!cert) {
        const why = listed.stderr.split("\n")[0] || "not a certificate";
        return { ok: false, what, detail: `ssh-keygen -L cannot read it (${why})`, fix: login };
    }
    const keyFingerprint = publicKeyFingerprint(file.replace(/-cert\.pub$/, ".pub"));
    const until = cert.validBefore;
    const left = until === undefined ? Infinity : Math.floor((until.getTime() - opts.now.getTime()) / 1000);
    const about = `key ID ${cert.keyId}, principals ${cert.principals.join(",") || "(none)"}, valid until ${
        until === undefined ? "forever" : until.toISOString().replace(/\.000Z$/, "Z")
    }`;
    const problem =
        keyFingerprint !== undefined && keyFingerprint !== cert.publicKeyFingerprint
            ? "certifies another key than the one next to it"
            : manifest.role !== undefined && !cert.principals.includes(manifest.role)
              ? `is not for your role ${manifest.role}`
              : cert.validAfter !== undefined && cert.validAfter > opts.now
                ? "is not valid yet (check this machine's clock)"
                : left <= 0
                  ? "expired"
                  : undefined;
    if (problem) return { ok: false, what, detail: `${about}: ${problem}`, fix: login };
    if (left < CERTIFICATE_WARN_SECONDS) {
        return {
            ok: true,
            warn: true,
            what,
            detail: `${about}: expires in ${Math.max(1, Math.round(left / 60))} min`,
            fix: login,
        };
    }
    return { ok: true, what, detail: `${about} (${Math.floor(left / 3600)}h ${Math.floor((left % 3600) / 60)}m left)` };
}

/** `SHA256:...` of a public key file, as ssh-keygen prints it; undefined when there is none to read. */
function publicKeyFingerprint(pubFile: string): string | undefined {
    const blob = (readIfExists(pubFile) ?? "").trim().split(/\s+/)[1];
    if (!blob) return undefined;
    return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}
