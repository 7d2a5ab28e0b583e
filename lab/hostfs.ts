// A lab host's own /etc, made from the host's cloud-config the way cloud-init would apply it.
//
// `ip netns exec NS` bind-mounts every entry of /etc/netns/NS/ over /etc/, so each host gets private
// copies of passwd/group/shadow/gshadow (the machine's, plus the users and groups cloud-init would
// create), of /etc/ssh (Debian's full sshd_config, cloud-init's host-key handling, sshd_config.d with
// exactly the drop-ins the document writes), of /etc/fail2ban, and of any other /etc directory the
// document writes into. The machine's own users and configuration are never touched. Home directories
// live under the lab dir and are bind-mounted over /home in the sshd's own mount namespace.
//
// Applied from the document: users (name, gecos, groups, shell, lock_passwd, ssh_authorized_keys,
// sudo), groups, write_files (deferred ones too: the packages are already installed here), ssh_keys.
// Not applied: `packages` (.ci/run installs them on this machine), `runcmd` (the lab starts sshd and
// fail2ban itself, see daemons.ts), files outside /etc, and other keys (listed in the host's notes).
import {
    chmodSync,
    chownSync,
    cpSync,
    existsSync,
    lchownSync,
    lstatSync,
    mkdirSync,
    readFileSync,
    readdirSync,
    rmSync,
    statSync,
    writeFileSync,
} from "node:fs";
import { dirname, join, posix } from "node:path";
import type { CloudConfig, CloudConfigUser } from "../components/render/cloudConfig";

export interface AccountFiles {
    passwd: string;
    group: string;
    shadow: string;
    /** Absent when the machine has no /etc/gshadow. */
    gshadow?: string;
}

export interface CreatedUser {
    name: string;
    uid: number;
    gid: number;
    /** Home as the host sees it (`/home/<name>`). */
    home: string;
    shell: string;
    groups: string[];
    authorizedKeys: string[];
    locked: boolean;
}

/** One file the host's /etc gets. */
export interface EtcWrite {
    /** Absolute path as the host sees it, always under /etc/. */
    path: string;
    content: string;
    mode: number;
    /** Owner and group names (resolved against the host's own passwd/group). */
    owner: string;
    group: string;
}

export interface HostEtcPlan {
    hostname?: string;
    accounts: AccountFiles;
    users: CreatedUser[];
    /** Top-level /etc entries the host gets its own copy of (bind-mounted over /etc/<entry>). */
    tops: string[];
    /** Files to write, in order (host key, sudoers, then write_files). */
    writes: EtcWrite[];
    /** Whether the host runs fail2ban (the document installs or configures it). */
    fail2ban: boolean;
    /** What the lab did not apply, and why. */
    notes: string[];
}

const FIRST_ID = 1000; // login.defs UID_MIN / GID_MIN
const LAST_ID = 59999; // login.defs UID_MAX / GID_MAX
const DEFAULT_SHELL = "/bin/sh"; // /etc/default/useradd SHELL on Debian
const SUDOERS_PATH = "/etc/sudoers.d/90-cloud-init-users";
const HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";
/** Account files every host gets its own copy of. */
export const ACCOUNT_FILES = ["passwd", "group", "shadow", "gshadow"] as const;
/** Keys of the document the lab handles (applies, or deliberately ignores as documented above). */
const HANDLED_KEYS = new Set(["hostname", "users", "groups", "write_files", "ssh_keys", "packages", "runcmd"]);
/** Keys whose effect the lab reproduces implicitly. */
const IMPLICIT_KEYS: Record<string, string> = {
    ssh_deletekeys: "the machine's host keys are removed from the host's /etc/ssh copy",
    ssh_genkeytypes: "no keys are generated when ssh_keys gives them",
    package_update: "packages are installed on this machine",
    package_upgrade: "packages are installed on this machine",
};

function lines(text: string): string[] {
    return text.split("\n").filter((l) => l.length > 0);
}

function fields(line: string): string[] {
    return line.split(":");
}

function withNl(text: string): string {
    return text.length === 0 || text.endsWith("\n") ? text : `${text}\n`;
}

/** Next free id >= 1000 among the 3rd fields of `text` (like useradd/groupadd), preferring `wish`. */
function nextId(text: string, wish?: number): number {
    const used = new Set(lines(text).map((l) => Number(fields(l)[2])));
    if (wish !== undefined && wish >= FIRST_ID && !used.has(wish)) return wish;
    const max = Math.max(FIRST_ID - 1, ...[...used].filter((id) => id >= FIRST_ID && id <= LAST_ID));
    const id = max + 1;
    if (id > LAST_ID) throw new Error("no free id left");
    return id;
}

function hasEntry(text: string, name: string): boolean {
    return lines(text).some((l) => fields(l)[0] === name);
}

/** Looks up a name in passwd/group text; returns its id (field 3) or undefined. */
export function idOf(text: string, name: string): number | undefined {
    const line = lines(text).find((l) => fields(l)[0] === name);
    return line === undefined ? undefined : Number(fields(line)[2]);
}

/** Adds `member` to group `name` in group (4th field) or gshadow (4th field) text. */
function addMember(text: string, name: string, member: string): string {
    return withNl(
        lines(text)
            .map((l) => {
                const f = fields(l);
                if (f[0] !== name) return l;
                const members = f[3] ? f[3].split(",").filter((m) => m.length > 0) : [];
                if (!members.includes(member)) members.push(member);
                f[3] = members.join(",");
                return f.join(":");
            })
            .join("\n"),
    );
}

function daysSinceEpoch(now: Date): number {
    return Math.floor(now.getTime() / 86_400_000);
}

function parseMode(permissions: string | undefined): number {
    if (permissions === undefined) return 0o644;
    const text = String(permissions);
    if (!/^0?[0-7]{3,4}$/.test(text)) throw new Error(`invalid write_files permissions '${text}'`);
    return parseInt(text, 8);
}

function splitOwner(owner: string | undefined): { owner: string; group: string } {
    const [o, g] = (owner ?? "root:root").split(":");
    return { owner: o || "root", group: g || o || "root" };
}

function groupList(groups: CloudConfigUser["groups"] | string[] | undefined): string[] {
    if (groups === undefined) return [];
    const list = Array.isArray(groups) ? groups : String(groups).split(",");
    return list.map((g) => g.trim()).filter((g) => g.length > 0);
}

/**
 * Plans a host's /etc from its cloud-config: new account files (the machine's plus what cloud-init
 * would create), the files to write, and which /etc entries the host needs its own copy of.
 * `etcEntries` are the names in the machine's /etc (an entry that does not exist there cannot be
 * bind-mounted, so files below it are reported in `notes` instead).
 */
export function planHostEtc(
    cfg: CloudConfig,
    base: AccountFiles,
    etcEntries: ReadonlySet<string>,
    now: Date = new Date(),
    etcHosts?: { hostname: string; machineHosts: string },
): HostEtcPlan {
    const notes: string[] = [];
    let { passwd, group, shadow } = {
        passwd: withNl(base.passwd),
        group: withNl(base.group),
        shadow: withNl(base.shadow),
    };
    let gshadow = base.gshadow === undefined ? undefined : withNl(base.gshadow);
    const today = daysSinceEpoch(now);

    const addGroup = (name: string, wish?: number): number => {
        const existing = idOf(group, name);
        if (existing !== undefined) return existing;
        const gid = nextId(group, wish);
        group += `${name}:x:${gid}:\n`;
        if (gshadow !== undefined) gshadow += `${name}:!::\n`;
        return gid;
    };

    for (const g of cfg.groups ?? []) {
        if (typeof g === "string") addGroup(g);
        else
            for (const [name, members] of Object.entries(g)) {
                addGroup(name);
                for (const m of members ?? []) {
                    group = addMember(group, name, m);
                    if (gshadow !== undefined) gshadow = addMember(gshadow, name, m);
                }
            }
    }

    const users: CreatedUser[] = [];
    const sudoRules: string[] = [];
    for (const u of cfg.users) {
        if (u === "default") {
            notes.push("users: 'default' (the image's default user) is not created in the lab");
            continue;
        }
        if (!/^[a-z_][a-z0-9_-]*$/.test(u.name)) throw new Error(`invalid user name '${u.name}'`);
        if (hasEntry(passwd, u.name)) {
            notes.push(`users: '${u.name}' already exists on this machine; left as it is`);
            continue;
        }
        const uid = nextId(passwd);
        const gid = addGroup(u.name, uid);
        const shell = u.shell ?? DEFAULT_SHELL;
        const home = `/home/${u.name}`;
        const gecos = (u.gecos ?? "").replace(/[:\n]/g, " ");
        passwd += `${u.name}:x:${uid}:${gid}:${gecos}:${home}:${shell}\n`;
        // cloud-init's lock_passwd defaults to true: `!` (locked); otherwise no usable password either.
        const locked = u.lock_passwd !== false;
        shadow += `${u.name}:${locked ? "!" : "*"}:${today}:0:99999:7:::\n`;
        const supplementary = groupList(u.groups);
        for (const g of supplementary) {
            addGroup(g);
            group = addMember(group, g, u.name);
            if (gshadow !== undefined) gshadow = addMember(gshadow, g, u.name);
        }
        if (u.sudo !== undefined && u.sudo !== false) {
            const rules = Array.isArray(u.sudo) ? u.sudo : [u.sudo];
            sudoRules.push(`\n# User rules for ${u.name}`, ...rules.map((r) => `${u.name} ${r}`));
        }
        users.push({
            name: u.name,
            uid,
            gid,
            home,
            shell,
            groups: supplementary,
            authorizedKeys: (u.ssh_authorized_keys ?? []).map((k) => k.trim()),
            locked,
        });
    }

    const writes: EtcWrite[] = [];
    if (cfg.ssh_keys?.ed25519_private) {
        writes.push({
            path: HOST_KEY,
            content: withNl(cfg.ssh_keys.ed25519_private),
            mode: 0o600,
            owner: "root",
            group: "root",
        });
        if (cfg.ssh_keys.ed25519_public)
            writes.push({
                path: `${HOST_KEY}.pub`,
                content: withNl(cfg.ssh_keys.ed25519_public.trim()),
                mode: 0o644,
                owner: "root",
                group: "root",
            });
    } else {
        notes.push("ssh_keys: no ed25519 host key in the document; sshd would have none");
    }
    for (const [k, v] of Object.entries(cfg.ssh_keys ?? {})) {
        if (!k.startsWith("ed25519_") && v !== undefined) notes.push(`ssh_keys.${k}: only ed25519 keys are applied`);
    }
    if (sudoRules.length > 0) {
        writes.push({
            path: SUDOERS_PATH,
            content: `# Created by cloud-init (jumpgate lab)\n${sudoRules.join("\n")}\n`,
            mode: 0o440,
            owner: "root",
            group: "root",
        });
    }
    for (const f of cfg.write_files) {
        const path = posix.normalize(f.path);
        if (!path.startsWith("/etc/") || path.split("/").length < 3) {
            notes.push(`write_files: ${f.path} is outside /etc; not applied in the lab`);
            continue;
        }
        writes.push({ path, content: String(f.content ?? ""), mode: parseMode(f.permissions), ...splitOwner(f.owner) });
    }

    // Like cloud-init's update_etc_hosts (Debian's cloud.cfg manages /etc/hosts): the host's own name
    // resolves (sudo needs it), unless the document writes /etc/hosts itself.
    if (etcHosts && !writes.some((w) => w.path === "/etc/hosts")) {
        writes.push({
            path: "/etc/hosts",
            content: `${withNl(etcHosts.machineHosts)}127.0.1.1 ${etcHosts.hostname}\n`,
            mode: 0o644,
            owner: "root",
            group: "root",
        });
    }

    const fail2ban =
        (cfg.packages ?? []).some((p) => p === "fail2ban") || writes.some((w) => w.path.startsWith("/etc/fail2ban/"));
    const wantedTops = new Set<string>([...ACCOUNT_FILES, "ssh", ...(fail2ban ? ["fail2ban"] : [])]);
    for (const w of writes) wantedTops.add(w.path.split("/")[2]);
    const tops: string[] = [];
    for (const t of wantedTops) {
        if (etcEntries.has(t)) tops.push(t);
        else if (t === "gshadow") continue;
        else {
            notes.push(
                `/etc/${t} does not exist on this machine, so the host cannot get its own copy; its files are not applied`,
            );
        }
    }
    const kept = writes.filter((w) => tops.includes(w.path.split("/")[2]));

    for (const key of Object.keys(cfg.extra)) {
        if (HANDLED_KEYS.has(key)) continue;
        notes.push(
            IMPLICIT_KEYS[key]
                ? `${key}: ${IMPLICIT_KEYS[key]}`
                : `${key}: not applied in the lab (sshd's drop-in decides)`,
        );
    }
    if ((cfg.runcmd ?? []).length > 0) notes.push("runcmd: not run; the lab starts sshd and fail2ban itself");
    if ((cfg.packages ?? []).length > 0) notes.push("packages: not installed by the lab; .ci/run installs them");

    return {
        hostname: cfg.hostname,
        accounts: { passwd, group, shadow, ...(gshadow === undefined ? {} : { gshadow }) },
        users,
        tops,
        writes: kept,
        fail2ban,
        notes,
    };
}

// ---------------------------------------------------------------- fail2ban adaptation (pure)

interface IniSection {
    name: string;
    values: Map<string, string>;
}

/** Minimal INI reader for fail2ban files: sections, `key = value`, continuation lines, comments. */
export function parseIni(text: string): IniSection[] {
    const sections: IniSection[] = [];
    let current: IniSection | undefined;
    let lastKey: string | undefined;
    for (const raw of text.split("\n")) {
        if (/^\s*[#;]/.test(raw) || raw.trim() === "") {
            lastKey = raw.trim() === "" ? undefined : lastKey;
            continue;
        }
        const sec = /^\[([^\]]+)\]\s*$/.exec(raw);
        if (sec) {
            current = { name: sec[1].trim(), values: new Map() };
            sections.push(current);
            lastKey = undefined;
            continue;
        }
        if (!current) continue;
        if (/^\s/.test(raw) && lastKey !== undefined) {
            current.values.set(lastKey, `${current.values.get(lastKey) ?? ""}\n${raw.trim()}`);
            continue;
        }
        const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
        if (kv) {
            lastKey = kv[1].trim();
            current.values.set(lastKey, kv[2].trim());
        }
    }
    return sections;
}

export interface JailAdaptation {
    /** Text of jail.d/zz-jumpgate-lab.local. */
    text: string;
    /** Jails that run in the lab, with the log each reads. */
    jails: { name: string; logpath: string }[];
    /** Jails switched off because the lab has no log for them. */
    disabled: string[];
}

function truthy(v: string | undefined): boolean {
    return v !== undefined && /^(true|yes|1|on)$/i.test(v.trim());
}

/**
 * The lab's jail override. `files` are the jail configuration files as fail2ban reads them, in its
 * order (jail.d/*.conf, jail.local, jail.d/*.local). Only the backend (the journal does not exist
 * here: `auto`, i.e. pyinotify or polling) and logpath (the syslog-format sshd log, or fail2ban's own
 * log for recidive) are overridden; every other setting stays as rendered.
 */
export function adaptJails(files: readonly string[], logs: { sshd: string; fail2ban: string }): JailAdaptation {
    const enabled = new Map<string, boolean>();
    const filters = new Map<string, string>();
    for (const text of files) {
        for (const s of parseIni(text)) {
            if (s.name === "DEFAULT" || s.name === "INCLUDES" || s.name === "Definition") continue;
            if (!enabled.has(s.name)) enabled.set(s.name, false);
            const e = s.values.get("enabled");
            if (e !== undefined) enabled.set(s.name, truthy(e));
            const f = s.values.get("filter");
            if (f !== undefined) filters.set(s.name, f);
        }
    }
    const esc = (p: string) => p.replace(/%/g, "%%");
    const out: string[] = [
        "# Written by the jumpgate lab, not by cloud-init. There is no journald in the lab: sshd's lines",
        "# reach a syslog-format log file instead, so jails read files (backend auto) at the lab's paths.",
        "[DEFAULT]",
        "backend = auto",
        "",
    ];
    const jails: JailAdaptation["jails"] = [];
    const disabled: string[] = [];
    for (const [name, on] of enabled) {
        if (!on) continue;
        const filter = (filters.get(name) ?? name).replace(/\[.*$/, "").trim();
        const logpath =
            filter === "sshd" || filter.startsWith("%(")
                ? logs.sshd
                : filter === "recidive"
                  ? logs.fail2ban
                  : undefined;
        out.push(`[${name}]`);
        if (logpath === undefined) {
            out.push("# The lab has no log this jail could read.", "enabled = false", "");
            disabled.push(name);
            continue;
        }
        out.push("backend = auto", `logpath = ${esc(logpath)}`, "");
        jails.push({ name, logpath });
    }
    return { text: out.join("\n"), jails, disabled };
}

/** fail2ban.d/zz-jumpgate-lab.local: per-host socket, pid, database and log (/run and /var are shared). */
export function fail2banPathsOverride(p: {
    socket: string;
    pidfile: string;
    dbfile: string;
    logtarget: string;
}): string {
    return [
        "# Written by the jumpgate lab: /run and /var are shared between lab hosts, so each has its own paths.",
        "[Definition]",
        `logtarget = ${p.logtarget}`,
        `socket = ${p.socket}`,
        `pidfile = ${p.pidfile}`,
        `dbfile = ${p.dbfile}`,
        "",
    ].join("\n");
}

// ---------------------------------------------------------------- IO

export interface HostPaths {
    /** `/etc/netns/<ns>`. */
    etcRoot: string;
    /** Directory bind-mounted over /home for this host's sshd. */
    homeRoot: string;
    /** The machine's /etc (copied from). */
    sourceEtc?: string;
}

/** Names in the machine's /etc. */
export function etcEntries(sourceEtc = "/etc"): Set<string> {
    return new Set(readdirSync(sourceEtc));
}

/** The machine's /etc/hosts (empty when it has none). */
export function machineEtcHosts(sourceEtc = "/etc"): string {
    const file = join(sourceEtc, "hosts");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** Reads the machine's account files. */
export function machineAccounts(sourceEtc = "/etc"): AccountFiles {
    const read = (n: string) => readFileSync(join(sourceEtc, n), "utf8");
    return {
        passwd: read("passwd"),
        group: read("group"),
        shadow: read("shadow"),
        ...(existsSync(join(sourceEtc, "gshadow")) ? { gshadow: read("gshadow") } : {}),
    };
}

function isRoot(): boolean {
    return typeof process.getuid === "function" && process.getuid() === 0;
}

function chownIfRoot(path: string, uid: number, gid: number): void {
    if (isRoot()) chownSync(path, uid, gid);
}

/** Resolves `owner`/`group` names against the host's own account files. */
function ids(plan: HostEtcPlan, owner: string, group: string): { uid: number; gid: number } {
    const uid = /^\d+$/.test(owner) ? Number(owner) : idOf(plan.accounts.passwd, owner);
    const gid = /^\d+$/.test(group) ? Number(group) : idOf(plan.accounts.group, group);
    if (uid === undefined) throw new Error(`write_files owner '${owner}' does not exist on the host`);
    if (gid === undefined) throw new Error(`write_files group '${group}' does not exist on the host`);
    return { uid, gid };
}

/**
 * Makes the host's /etc tree and home directories on disk. `extra` are the lab's own files (fail2ban
 * overrides), written after the document's. Replaces whatever was at `paths.etcRoot` before.
 */
export function materializeHostEtc(plan: HostEtcPlan, paths: HostPaths, extra: readonly EtcWrite[] = []): void {
    const src = paths.sourceEtc ?? "/etc";
    rmSync(paths.etcRoot, { recursive: true, force: true });
    mkdirSync(paths.etcRoot, { recursive: true, mode: 0o755 });
    for (const top of plan.tops) {
        const from = join(src, top);
        const to = join(paths.etcRoot, top);
        const accounts = plan.accounts as unknown as Record<string, string | undefined>;
        if ((ACCOUNT_FILES as readonly string[]).includes(top)) {
            const st = statSync(from);
            writeFileSync(to, accounts[top] ?? "", { mode: st.mode & 0o7777 });
            chmodSync(to, st.mode & 0o7777);
            chownIfRoot(to, st.uid, st.gid);
            continue;
        }
        // Whole directory (or file) copied with modes, owners and symlinks as they are.
        cpSync(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
        copyOwnership(from, to);
    }
    const ssh = join(paths.etcRoot, "ssh");
    if (existsSync(ssh)) {
        // cloud-init's ssh_deletekeys: the image's host keys go; only the document's key remains.
        for (const f of readdirSync(ssh)) if (/^ssh_host_.*key/.test(f)) rmSync(join(ssh, f), { force: true });
        // sshd_config.d holds exactly the drop-ins the document writes.
        const d = join(ssh, "sshd_config.d");
        rmSync(d, { recursive: true, force: true });
        mkdirSync(d, { mode: 0o755 });
    }
    for (const w of [...plan.writes, ...extra]) {
        const rel = w.path.slice("/etc/".length);
        const to = join(paths.etcRoot, rel);
        mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
        writeFileSync(to, w.content, { mode: w.mode });
        chmodSync(to, w.mode);
        const { uid, gid } = ids(plan, w.owner, w.group);
        chownIfRoot(to, uid, gid);
    }

    rmSync(paths.homeRoot, { recursive: true, force: true });
    mkdirSync(paths.homeRoot, { recursive: true, mode: 0o755 });
    chmodSync(paths.homeRoot, 0o755);
    for (const u of plan.users) {
        const home = join(paths.homeRoot, u.name);
        // useradd -m: a copy of /etc/skel, mode 0755 (umask 022), owned by the user.
        if (existsSync(join(src, "skel"))) cpSync(join(src, "skel"), home, { recursive: true });
        else mkdirSync(home);
        chmodSync(home, 0o755);
        const sshDir = join(home, ".ssh");
        if (u.authorizedKeys.length > 0) {
            mkdirSync(sshDir, { mode: 0o700 });
            writeFileSync(join(sshDir, "authorized_keys"), `${u.authorizedKeys.join("\n")}\n`, { mode: 0o600 });
        }
        chownTree(home, u.uid, u.gid);
    }
}

function copyOwnership(from: string, to: string): void {
    if (!isRoot()) return;
    const st = lstatSync(from);
    lchownSync(to, st.uid, st.gid);
    if (st.isDirectory()) for (const e of readdirSync(from)) copyOwnership(join(from, e), join(to, e));
}

function chownTree(path: string, uid: number, gid: number): void {
    chownIfRoot(path, uid, gid);
    if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}
