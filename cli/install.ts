// The installer's core: from checked stack outputs, plan exactly which files in ~/.ssh get which
// content and mode (`planInstall`, `planUninstall`: read-only), then `apply` them (cli/fsplan.ts).
//
// Where `~` points: OpenSSH expands `~` in IdentityFile, UserKnownHostsFile and ControlPath from the
// passwd entry, not $HOME, so the installed conf carries absolute paths under the home it is installed
// into. `Include` is different: ssh hands its pattern (relative ones under `~/.ssh/`) to glob(3) with
// GLOB_TILDE, which takes $HOME. So `Include config.d/*` is written when the home is $HOME (always, for
// an operator), and the absolute pattern otherwise (`--home` elsewhere).
import { readdirSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
    certificateFileOf,
    defaultIdentityFile,
    defaultKnownHostsFile,
    defaultPinnedHostsFile,
    JumpStyle,
} from "../components/render/sshConfig";
import { Action, backupPath, lstatOrUndefined, octal, preflight, readIfExists, sha256 } from "./fsplan";
import { atLeast, MINIMUM, PROXYJUMP_SINCE, SESSIONTYPE_SINCE, SshVersion, versionString } from "./openssh";
import { CliError, JumpgateOutputs, shortStackName } from "./outputs";
import {
    ConfSetting,
    firstValue,
    includeCovers,
    parseConf,
    ParsedConf,
    parseSetting,
    quoteArg,
    shellQuote,
} from "./sshconf";

/** Where the installer works and how ssh will see it. */
export interface HomeInfo {
    /** The home whose `.ssh` is written (absolute). */
    home: string;
    /** $HOME as ssh will see it: decides whether a relative `Include` reaches `home`. */
    envHome?: string;
    /** The passwd entry's home: what `~` means to ssh in IdentityFile and friends. */
    passwdHome: string;
}

export interface InstallOptions extends HomeInfo {
    force: boolean;
    /** The local `ssh -V`; undefined when unknown (ssh missing): the ProxyJump variant is installed. */
    sshVersion?: SshVersion;
    /** For backup names. */
    now: Date;
    /** Team access: whose role's config to install; defaults to the operator an earlier install remembered. */
    operator?: string;
    /** The operator's own key (its certificate is `<it>-cert.pub`) instead of the config's IdentityFile. */
    identity?: string;
}

/** Files of one stack in one home. */
export interface Paths {
    home: string;
    sshDir: string;
    confDir: string;
    userConfig: string;
    conf: string;
    knownHosts: string;
    /** Keys the operator pinned with `pin` (existing hosts); install never writes it, uninstall leaves it. */
    pinnedHosts: string;
    key: string;
    manifest: string;
}

/** `conf`: config.d file pulled in by `Include` (OpenSSH 7.3+). `inline`: a marked block at the top of ~/.ssh/config. */
export type Layout = "include" | "inline";

export interface ManifestFile {
    path: string;
    sha256: string;
    mode: string;
    label: string;
}

/** What an install wrote, kept in `~/.ssh/config.d/.jumpgate-<stack>.json` (hidden: `Include config.d/*` skips it). */
export interface Manifest {
    tool: "jumpgate-ssh";
    version: 1;
    stack: string;
    home: string;
    style: JumpStyle;
    layout: Layout;
    hosts: string[];
    files: ManifestFile[];
    /** Directories this stack's install created; uninstall removes them when empty. */
    createdDirs: string[];
    /** Team access: the operator whose role's config is installed (login and doctor read it). */
    operator?: string;
    role?: string;
}

export interface Plan {
    stack: string;
    paths: Paths;
    actions: Action[];
    /** Files already as they should be. */
    unchanged: string[];
    notes: string[];
    style?: JumpStyle;
    layout?: Layout;
    /** A target alias to suggest (`ssh <it>`). */
    example?: string;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export function markerLine(stack: string): string {
    return `# jumpgate-ssh: managed file for stack ${stack}; remove with: npx jumpgate-ssh uninstall --stack ${stack}`;
}
export const INCLUDE_MARK =
    "# jumpgate-ssh: added the Include below; uninstall removes it with the last jumpgate stack";
export const sectionBegin = (stack: string) =>
    `# jumpgate-ssh begin stack ${stack}: managed block (OpenSSH before 7.3 has no Include); remove with: npx jumpgate-ssh uninstall --stack ${stack}`;
export const sectionEnd = (stack: string) => `# jumpgate-ssh end stack ${stack}`;

/** `~/...` under `home`. */
const underHome = (home: string, tildePath: string) => join(home, tildePath.replace(/^~\//, ""));

export function installPaths(home: string, stack: string): Paths {
    const sshDir = join(home, ".ssh");
    const confDir = join(sshDir, "config.d");
    return {
        home,
        sshDir,
        confDir,
        userConfig: join(sshDir, "config"),
        conf: join(confDir, `jumpgate-${stack}.conf`),
        knownHosts: underHome(home, defaultKnownHostsFile(stack)),
        pinnedHosts: underHome(home, defaultPinnedHostsFile(stack)),
        key: underHome(home, defaultIdentityFile(stack)),
        manifest: join(confDir, `.jumpgate-${stack}.json`),
    };
}

/** Refuses homes ssh_config cannot carry: `%` is a token, `"` ends a quoted value, glob characters in Include. */
export function checkHome(home: string): string {
    if (!home.startsWith("/")) throw new CliError(`home ${JSON.stringify(home)} is not an absolute path`, 2);
    const bad = /["%\\\n*?[\]]/.exec(home);
    if (bad) {
        throw new CliError(
            `home ${JSON.stringify(home)} contains ${JSON.stringify(bad[0])}, which ssh_config paths cannot carry safely; use --home with another directory`,
            2,
        );
    }
    const st = lstatOrUndefined(home);
    if (!st) throw new CliError(`home ${home} does not exist`);
    return resolve(home);
}

/** The Include line for `home`: relative when ssh's $HOME is that home, else absolute. */
export function includeLine(info: HomeInfo): string {
    return info.envHome !== undefined && resolve(info.envHome) === info.home
        ? "Include config.d/*"
        : `Include ${quoteArg(join(info.home, ".ssh", "config.d", "*"))}`;
}

/** What `~` and relative Include arguments resolve to for ssh reading this home's config. */
const tildeHomeFor = (info: HomeInfo) =>
    info.envHome !== undefined && resolve(info.envHome) === info.home ? info.home : undefined;

/** What to change in the output's config for this machine. */
export interface Rewrite {
    home: string;
    knownHosts: string;
    /** Where `pin` writes (an unpinned existing host's second known_hosts file). */
    pinnedHosts?: string;
    /** The installed key; undefined keeps the IdentityFile of the output (a key the operator brought). */
    key?: string;
    /** Adds `-F <it>` to ProxyCommand's ssh. */
    proxyCommandConfig?: string;
    /** Drops `SessionType` (OpenSSH before 8.7 rejects it; use `ssh -N` for tunnels there). */
    dropSessionType?: boolean;
}

/**
 * The installed config: the output's lines with IdentityFile (when the key was generated),
 * UserKnownHostsFile and ControlPath pointing at absolute paths under the home. A ProxyCommand gets
 * `-F <config>` when ssh would otherwise read another home's config for the bastion hop.
 */
export function rewriteConfig(text: string, r: Rewrite): string {
    return text
        .split("\n")
        .flatMap((raw, i) => {
            const s = parseSetting(raw, i);
            if (!s) return [raw];
            const sessionType =
                s.keyword === "sessiontype" || (s.keyword === "ignoreunknown" && s.args.join(" ") === "SessionType");
            if (sessionType && r.dropSessionType) return [];
            return [rewriteLine(raw, s, r)];
        })
        .join("\n");
}

function rewriteLine(raw: string, s: ConfSetting, r: Rewrite): string {
    const set = (keyword: string, value: string) => `${s.indent}${keyword} ${value}`;
    const value = s.args.join(" ");
    switch (s.keyword) {
        case "identityfile":
            return r.key ? set("IdentityFile", quoteArg(r.key)) : raw;
        case "certificatefile":
            // The certificate login writes next to the key.
            return r.key ? set("CertificateFile", quoteArg(certificateFileOf(r.key))) : raw;
        case "userknownhostsfile":
            // outputs.ts admits a second file only as the stack's pinned file.
            return set(
                "UserKnownHostsFile",
                [r.knownHosts, ...(s.args.length > 1 && r.pinnedHosts ? [r.pinnedHosts] : [])].map(quoteArg).join(" "),
            );
        case "controlpath":
            return value.startsWith("~/") ? set("ControlPath", quoteArg(underHome(r.home, value))) : raw;
        case "proxycommand":
            return r.proxyCommandConfig && value.startsWith("ssh ")
                ? set("ProxyCommand", `ssh -F ${shellQuote(r.proxyCommandConfig)} ${value.slice(4)}`)
                : raw;
        default:
            return raw;
    }
}

/** A host to suggest trying: one that jumps, is no hop of another host's jump, and forwards nothing. */
export function exampleHost(conf: ParsedConf): string | undefined {
    const hops = new Set(
        conf.blocks.flatMap((b) =>
            (firstValue(b, "proxyjump") ?? "").split(",").concat(firstValue(b, "proxycommand")?.split(" ").pop() ?? ""),
        ),
    );
    const candidates = conf.blocks.filter(
        (b) =>
            (firstValue(b, "proxyjump") ?? firstValue(b, "proxycommand")) !== undefined &&
            !hops.has(b.patterns[0]!) &&
            firstValue(b, "localforward") === undefined,
    );
    return (candidates[0] ?? conf.blocks[0])?.patterns[0];
}

function readManifest(path: string, force: boolean): Manifest | undefined {
    const text = readIfExists(path);
    if (text === undefined) return undefined;
    try {
        const m = JSON.parse(text) as Manifest;
        if (m.tool === "jumpgate-ssh" && Array.isArray(m.files)) return m;
    } catch {
        // fall through
    }
    if (force) return undefined;
    throw new CliError(`${path} is not a jumpgate-ssh manifest; remove it or pass --force`);
}

/** True when the file's first line is this stack's marker. */
function hasMarker(text: string | undefined, stack: string): boolean {
    return text !== undefined && text.split("\n", 1)[0] === markerLine(stack);
}

/** Removes this stack's marked block from ~/.ssh/config text (with the blank line after it). */
export function removeSection(text: string, stack: string): string {
    const lines = text.split("\n");
    const begin = lines.indexOf(sectionBegin(stack));
    const end = lines.indexOf(sectionEnd(stack), begin + 1);
    if (begin < 0 || end < 0) return text;
    const after = lines[end + 1] === "" && end + 1 < lines.length - 1 ? end + 2 : end + 1;
    return [...lines.slice(0, begin), ...lines.slice(after)].join("\n");
}

/** Removes the Include line jumpgate-ssh added (with its mark and the blank line after it). */
export function removeIncludePair(text: string): string {
    const lines = text.split("\n");
    const i = lines.findIndex((l, n) => l === INCLUDE_MARK && /^Include /.test(lines[n + 1] ?? ""));
    if (i < 0) return text;
    const after = lines[i + 2] === "" && i + 2 < lines.length - 1 ? i + 3 : i + 2;
    return [...lines.slice(0, i), ...lines.slice(after)].join("\n");
}

export const hasIncludePair = (text: string) => removeIncludePair(text) !== text;

/** ~/.ssh/config itself, or the file it links to (dotfile managers): written in place, link kept. */
function userConfigTarget(path: string): string {
    const st = lstatOrUndefined(path);
    if (!st?.isSymbolicLink()) return path;
    try {
        return realpathSync(path);
    } catch {
        throw new CliError(`${path} is a symbolic link to a file that does not exist; fix or remove the link`);
    }
}

/** A write of `content` to `path` at `mode`, or undefined when the file already is exactly that. */
function writeIfChanged(
    path: string,
    content: string,
    mode: number,
    label: string,
    change: "create" | "update" | "replace",
    backup?: string,
): Action | undefined {
    const st = lstatOrUndefined(path);
    if (st && readIfExists(path) === content) {
        if ((st.mode & 0o777) === mode) return undefined;
        return { kind: "chmod", path, mode, from: st.mode & 0o777 };
    }
    return { kind: "write", path, content, mode, change, label, backup };
}

function dirActions(paths: Paths, created: string[]): Action[] {
    const actions: Action[] = [];
    for (const dir of [paths.sshDir, paths.confDir]) {
        const st = lstatOrUndefined(dir);
        if (!st) {
            actions.push({ kind: "mkdir", path: dir, mode: DIR_MODE });
            created.push(dir);
        } else if (!st.isDirectory()) {
            throw new CliError(`${dir} exists and is not a directory`);
        } else if ((st.mode & 0o077) !== 0) {
            actions.push({ kind: "chmod", path: dir, mode: DIR_MODE, from: st.mode & 0o777 });
        }
    }
    return actions;
}

/** The operator's role, and the outputs with its config in place of the stack-wide one. */
export interface OperatorView {
    outputs: JumpgateOutputs;
    operator?: string;
    role?: string;
    /** Host aliases of the stack the role does not reach. */
    leftOut: string[];
}

/** The names of a stack's operators, for messages. */
const operatorList = (principals: Record<string, string[]>) => Object.keys(principals).sort().join(", ") || "none";

/** The operator's principals (roles); errors name the operators there are and the fix. */
export function operatorRoles(outputs: JumpgateOutputs, operator: string | undefined, command: string): string[] {
    const access = outputs.access;
    if (!access) {
        const instead = command === "login" ? "ssh with your key as it is" : "drop --operator";
        throw new CliError(
            `stack ${outputs.stack} has no operators: its hosts take operatorPublicKeys and need no certificate; ${instead}`,
            2,
        );
    }
    const known = operatorList(access.operatorPrincipals);
    if (operator === undefined) {
        throw new CliError(
            `stack ${outputs.stack} has operators (${known}): say which you are, e.g. npx jumpgate-ssh ${command} --stack ${outputs.stack} --operator <name>`,
            2,
        );
    }
    const principals = access.operatorPrincipals[operator];
    if (!principals || principals.length === 0) {
        throw new CliError(
            `operator ${JSON.stringify(operator)} is not in stack ${outputs.stack} (operators: ${known}); an admin adds you to jumpgate:operators and runs pulumi up`,
            2,
        );
    }
    return principals;
}

/** With team access, the config of the operator's role; without, the stack's config as it is. */
export function operatorView(outputs: JumpgateOutputs, operator: string | undefined): OperatorView {
    if (!outputs.access && operator === undefined) return { outputs, leftOut: [] };
    const principals = operatorRoles(outputs, operator, "install");
    const configs = outputs.access!.roleSshConfigs;
    if (!configs) {
        throw new CliError(
            `${outputs.source} has no "roleSshConfigs" output: the stack was deployed by an older jumpgate; run pulumi up, then install again`,
        );
    }
    const roles = principals.filter((p) => configs[p] !== undefined);
    if (roles.length !== 1) {
        throw new CliError(
            `operator ${operator} has ${roles.length === 0 ? "no role with" : "several roles with"} a config in "roleSshConfigs" (principals ${principals.join(", ")}); one role per operator is supported`,
        );
    }
    const role = roles[0]!;
    const chosen = configs[role]!;
    const reached = new Set(parseConf(chosen.sshConfig).blocks.flatMap((b) => b.patterns));
    const leftOut = parseConf(outputs.sshConfig)
        .blocks.flatMap((b) => b.patterns)
        .filter((a) => !reached.has(a));
    const view = { ...outputs, sshConfig: chosen.sshConfig, sshConfigProxyCommand: chosen.sshConfigProxyCommand };
    return { outputs: view, operator, role, leftOut };
}

/** Plans an install from checked outputs. Reads the home; writes nothing. */
export function planInstall(stackOutputs: JumpgateOutputs, opts: InstallOptions): Plan {
    const home = checkHome(opts.home);
    const info: HomeInfo = { ...opts, home };
    const stack = stackOutputs.stack;
    const paths = installPaths(home, stack);
    const notes: string[] = [];
    const remembered = stackOutputs.access ? readManifest(paths.manifest, opts.force)?.operator : undefined;
    const who = operatorView(stackOutputs, opts.operator ?? remembered);
    const outputs = who.outputs;
    if (who.role !== undefined) {
        const out =
            who.leftOut.length > 0 ? `; left out (your role does not reach them): ${who.leftOut.join(", ")}` : "";
        notes.push(`operator ${who.operator}, role ${who.role}: its account on the targets and your certificate${out}`);
        notes.push(`get your certificate with: npx jumpgate-ssh login --stack ${stack}`);
    }

    // Which config the local ssh can read.
    let style: JumpStyle = "proxyjump";
    let layout: Layout = "include";
    const v = opts.sshVersion;
    if (!v) {
        notes.push("could not run `ssh -V`: installed the ProxyJump variant (needs OpenSSH 7.3+)");
    } else if (!atLeast(v, MINIMUM)) {
        throw new CliError(
            `${versionString(v)} is too old for jumpgate (ED25519 keys need 6.5, ControlPath %C 6.7); upgrade OpenSSH (${v.text})`,
        );
    } else if (!atLeast(v, PROXYJUMP_SINCE)) {
        if (outputs.sshConfigProxyCommand === undefined) {
            throw new CliError(
                `${versionString(v)} has no ProxyJump (7.3+) and ${outputs.source} has no "sshConfigProxyCommand" output`,
            );
        }
        style = "proxycommand";
        layout = "inline";
        notes.push(
            `${versionString(v)} has neither ProxyJump nor Include (7.3+): installed the ProxyCommand variant as a block in ${paths.userConfig}`,
        );
    }

    const previous = readManifest(paths.manifest, opts.force);
    const conflicts: string[] = [];
    const actions: Action[] = [];
    const unchanged: string[] = [];
    const createdDirs: string[] = [...(previous?.createdDirs ?? [])];
    const newlyCreated: string[] = [];
    actions.push(...dirActions(paths, newlyCreated));
    for (const d of newlyCreated) if (!createdDirs.includes(d)) createdDirs.push(d);

    const configText = rewriteConfig(style === "proxyjump" ? outputs.sshConfig : outputs.sshConfigProxyCommand!, {
        home,
        knownHosts: paths.knownHosts,
        pinnedHosts: paths.pinnedHosts,
        key: opts.identity ?? (outputs.privateKeyOpenssh !== undefined ? paths.key : undefined),
        proxyCommandConfig: home !== resolve(opts.passwdHome) ? paths.userConfig : undefined,
        dropSessionType: v !== undefined && !atLeast(v, SESSIONTYPE_SINCE),
    });
    if (v && !atLeast(v, SESSIONTYPE_SINCE) && /^\s*SessionType\s/im.test(outputs.sshConfig)) {
        notes.push(
            `${versionString(v)} has no SessionType (8.7+): dropped it; open the tunnels with ssh -N <tunnel alias>`,
        );
    }
    const marker = markerLine(stack);
    const files: { path: string; content: string; label: string; marked: boolean }[] = [
        {
            path: paths.knownHosts,
            content: `${marker}\n${outputs.knownHosts.replace(/\n*$/, "\n")}`,
            label: "pinned host keys",
            marked: true,
        },
    ];
    if (outputs.privateKeyOpenssh !== undefined && opts.identity === undefined) {
        files.push({
            path: paths.key,
            content: outputs.privateKeyOpenssh.replace(/\n*$/, "\n"),
            label: "private key",
            marked: false,
        });
    }
    if (layout === "include") {
        files.push({ path: paths.conf, content: `${marker}\n${configText}`, label: "ssh config", marked: true });
    }

    const manifestFiles: ManifestFile[] = [];
    for (const f of files) {
        const st = lstatOrUndefined(f.path);
        let change: "create" | "update" | "replace" = "create";
        let backup: string | undefined;
        if (st) {
            if (!st.isFile()) throw new CliError(`${f.path} exists and is not a regular file`);
            const current = readIfExists(f.path) ?? "";
            const recorded = previous?.files.find((m) => m.path === f.path);
            const ours =
                current === f.content || (f.marked ? hasMarker(current, stack) : recorded?.sha256 === sha256(current));
            change = "update";
            if (!ours) {
                if (!opts.force) conflicts.push(`${f.path} (${f.label})`);
                change = "replace";
                backup = backupPath(f.path, opts.now);
            }
        }
        const a = writeIfChanged(f.path, f.content, FILE_MODE, f.label, change, backup);
        if (a) actions.push(a);
        else unchanged.push(f.path);
        manifestFiles.push({ path: f.path, sha256: sha256(f.content), mode: octal(FILE_MODE), label: f.label });
    }
    if (conflicts.length > 0) {
        throw new CliError(
            `refusing to overwrite file(s) jumpgate-ssh did not write: ${conflicts.join(", ")}; ` +
                `move them away, or pass --force to replace them (a backup of each is kept)`,
        );
    }

    // Files an earlier install wrote that this one does not (a key now brought by the operator, a layout change).
    for (const old of previous?.files ?? []) {
        if (files.some((f) => f.path === old.path)) continue;
        const current = readIfExists(old.path);
        if (current === undefined) continue;
        if (sha256(current) === old.sha256)
            actions.push({ kind: "remove", path: old.path, label: `no longer used: ${old.label}` });
        else notes.push(`${old.path} is no longer used but was changed since it was installed: left in place`);
    }

    // ~/.ssh/config: the Include (or the inline block), at the top, with a backup of the old file.
    const target = userConfigTarget(paths.userConfig);
    const existing = readIfExists(target);
    let text = removeSection(existing ?? "", stack);
    if (layout === "include") {
        if (!includeCovers(parseConf(text), paths.conf, tildeHomeFor(info))) {
            text = `${INCLUDE_MARK}\n${includeLine(info)}\n${text === "" ? "" : `\n${text}`}`;
        }
    } else {
        if (hasIncludePair(text)) {
            text = removeIncludePair(text);
            notes.push(
                `removed the Include jumpgate-ssh had added to ${paths.userConfig}: OpenSSH before 7.3 rejects Include`,
            );
        }
        const block = configText.replace(/\n*$/, "");
        // `Host *` closes the block, so the settings that follow it apply to every host again.
        text = `${sectionBegin(stack)}\n${block}\n\nHost *\n${sectionEnd(stack)}\n${text === "" ? "" : `\n${text}`}`;
    }
    if (text !== (existing ?? "")) {
        const st = lstatOrUndefined(target);
        actions.push({
            kind: "write",
            path: target,
            content: text,
            mode: st ? st.mode & 0o777 : FILE_MODE,
            change: existing === undefined ? "create" : "update",
            backup: existing === undefined ? undefined : backupPath(target, opts.now),
            label: layout === "include" ? `Include config.d/* at the top` : `block for stack ${stack} at the top`,
        });
    } else {
        unchanged.push(paths.userConfig);
    }

    const manifest: Manifest = {
        tool: "jumpgate-ssh",
        version: 1,
        stack,
        home,
        style,
        layout,
        hosts: parseConf(configText).blocks.flatMap((b) => b.patterns),
        files: manifestFiles,
        createdDirs,
        ...(who.operator === undefined ? {} : { operator: who.operator, role: who.role }),
    };
    const manifestAction = writeIfChanged(
        paths.manifest,
        `${JSON.stringify(manifest, null, 2)}\n`,
        FILE_MODE,
        "what jumpgate-ssh installed",
        previous ? "update" : "create",
    );
    if (manifestAction) actions.push(manifestAction);
    else unchanged.push(paths.manifest);

    preflight(actions);
    return { stack, paths, actions, unchanged, notes, style, layout, example: exampleHost(parseConf(configText)) };
}

export interface UninstallOptions extends HomeInfo {
    stack: string;
    force: boolean;
    now: Date;
}

/** Plans the removal of exactly what the install of `stack` wrote. Reads the home; writes nothing. */
export function planUninstall(opts: UninstallOptions): Plan {
    const home = checkHome(opts.home);
    const stack = shortStackName(opts.stack);
    const paths = installPaths(home, stack);
    const notes: string[] = [];
    const manifest = readManifest(paths.manifest, false);
    if (!manifest) {
        const leftovers = [paths.conf, paths.knownHosts].filter((p) => hasMarker(readIfExists(p), stack));
        notes.push(
            `stack ${stack} is not installed in ${paths.sshDir} (no ${paths.manifest}); nothing removed` +
                (leftovers.length
                    ? `. Marked files without a manifest, remove them by hand: ${leftovers.join(", ")}`
                    : ""),
        );
        return { stack, paths, actions: [], unchanged: [], notes };
    }

    const actions: Action[] = [];
    const changed: string[] = [];
    for (const f of manifest.files) {
        const current = readIfExists(f.path);
        if (current === undefined) {
            notes.push(`${f.path} was already gone`);
            continue;
        }
        if (sha256(current) !== f.sha256 && !opts.force) changed.push(f.path);
        actions.push({ kind: "remove", path: f.path, label: f.label });
    }
    if (changed.length > 0) {
        throw new CliError(
            `refusing to remove file(s) changed since jumpgate-ssh installed them: ${changed.join(", ")}; ` +
                `pass --force to remove them anyway`,
        );
    }
    actions.push({ kind: "remove", path: paths.manifest, label: "what jumpgate-ssh installed" });
    if (lstatOrUndefined(paths.pinnedHosts))
        notes.push(
            `kept ${paths.pinnedHosts}: keys you pinned with pin (install never wrote it); remove it by hand when done`,
        );
    const removed = () => new Set(actions.filter((a) => a.kind === "remove" || a.kind === "rmdir").map((a) => a.path));

    // What the Include would still pull in once this stack's files are gone.
    const remainingInConfDir = () =>
        lstatOrUndefined(paths.confDir)
            ? readdirSync(paths.confDir).filter((n) => !removed().has(join(paths.confDir, n)))
            : [];
    const target = userConfigTarget(paths.userConfig);
    const existing = readIfExists(target);
    if (existing !== undefined) {
        let text = removeSection(existing, stack);
        if (hasIncludePair(text) && remainingInConfDir().filter((n) => !n.startsWith(".")).length === 0) {
            text = removeIncludePair(text);
        }
        if (text !== existing) {
            if (text.trim() === "") {
                // Nothing but what jumpgate-ssh wrote: the file goes, as it came.
                actions.push({ kind: "remove", path: target, label: "held only what jumpgate-ssh added" });
            } else {
                const st = lstatOrUndefined(target);
                actions.push({
                    kind: "write",
                    path: target,
                    content: text,
                    mode: (st?.mode ?? FILE_MODE) & 0o777,
                    change: "update",
                    backup: backupPath(target, opts.now),
                    label: "removed what jumpgate-ssh added",
                });
            }
        }
    }
    for (const dir of [...manifest.createdDirs].sort((a, b) => b.length - a.length)) {
        if (!lstatOrUndefined(dir)) continue;
        const gone = removed();
        const left = readdirSync(dir).filter((n) => !gone.has(join(dir, n)));
        if (left.length === 0 && !actions.some((a) => a.kind === "write" && dirname(a.path) === dir)) {
            actions.push({ kind: "rmdir", path: dir });
        }
    }
    preflight(actions);
    return { stack, paths, actions, unchanged: [], notes, style: manifest.style, layout: manifest.layout };
}
