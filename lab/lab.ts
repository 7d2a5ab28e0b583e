// The local lab: stands a LabPlan up on this machine for real (network namespaces, the real sshd and
// fail2ban, nftables security groups) and writes the operator's ssh files. The API the CLI calls:
//   labUp(plan, dir)     idempotent: whatever the dir or the stack had running is torn down first
//   labDown(stack, dir)  removes every namespace, process, /etc/netns tree and file the lab made
//   labStatus(stack, dir)
// Layout of `dir` (0700): ssh_config, known_hosts, the private key (0600), state.json, cm-* control
// sockets, hosts/<host>/{home/, auth.log, sshd.pid, fail2ban.*}. See lab/README.md.
import {
    chmodSync,
    existsSync,
    lstatSync,
    mkdirSync,
    readFileSync,
    readdirSync,
    rmSync,
    rmdirSync,
    writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseCloudConfig } from "../components/render/cloudConfig";
import { cmdline, fail2banClient, nftHasTable, startFail2ban, startSshd, stopPids } from "./daemons";
import { pidAlive } from "./exec";
import { NFT_TABLE, renderNftRuleset } from "./firewall";
import {
    adaptJails,
    etcEntries,
    fail2banPathsOverride,
    machineAccounts,
    machineEtcHosts,
    materializeHostEtc,
    planHostEtc,
    type EtcWrite,
} from "./hostfs";
import type { LabPlan } from "./model";
import {
    attachedNamespaces,
    createNetwork,
    deleteNamespaces,
    listNamespaces,
    loadNftRuleset,
    namespacePids,
} from "./netns";
import { identityFileName, rewriteSshConfig, sshAliases } from "./sshconfig";
import { INFRA_ROLES, labTopology, nsName, type LabTopology } from "./topology";

/** Root of the per-namespace /etc overlays that `ip netns exec` bind-mounts. */
export const NETNS_ETC = "/etc/netns";
const STATE_FILE = "state.json";
/** Longest unix socket path fail2ban can bind. */
const MAX_SOCKET_PATH = 100;

export interface LabHostState {
    name: string;
    role: "bastion" | "target";
    ns: string;
    /** The hostname sshd's UTS namespace carries (what `ssh <alias> hostname` prints). */
    hostname: string;
    /** `<stack>-<name>` when the plan's sshConfig defines it. */
    alias?: string;
    privateIp: string;
    publicIp?: string;
    etcRoot: string;
    hostDir: string;
    authLog: string;
    sshd?: { pid: number; supervisorPid?: number };
    fail2ban?: { pid: number; jails: string[]; disabled: string[]; logFile: string };
    users: string[];
    notes: string[];
}

/** What `up` made, kept in `<dir>/state.json` so `down` and `status` find everything. */
export interface LabState {
    version: 1;
    stack: string;
    dir: string;
    createdAt: string;
    topology: LabTopology;
    hosts: LabHostState[];
    /** Files in `dir` the lab wrote (besides hosts/ and state.json). */
    files: string[];
    sshConfig: string;
    knownHosts: string;
    privateKey: string;
    /** The client namespace the operator runs ssh in. */
    clientNs: string;
}

export interface LabUpResult {
    state: LabState;
    /** Instructions for the operator. */
    howToConnect: string;
    durationMs: number;
}

export interface LabDownResult {
    namespaces: string[];
    pids: number[];
    removed: string[];
    durationMs: number;
}

export interface LabStatusReport {
    stack: string;
    up: boolean;
    namespaces: { ns: string; exists: boolean; processes: { pid: number; cmd: string }[] }[];
    hosts: {
        name: string;
        ns: string;
        sshd: { pid?: number; alive: boolean };
        fail2ban?: { pid: number; alive: boolean; jails: { name: string; banned: string[]; failed: number }[] };
        nftTables: string[];
    }[];
    text: string;
}

export interface LabOptions {
    /** Progress lines (the CLI passes console.log). */
    log?: (line: string) => void;
}

/** Reads `<dir>/state.json`, or undefined. */
export function readLabState(dir: string): LabState | undefined {
    const file = join(resolve(dir), STATE_FILE);
    if (!existsSync(file)) return undefined;
    const state = JSON.parse(readFileSync(file, "utf8")) as LabState;
    return state.version === 1 ? state : undefined;
}

function writeState(state: LabState): void {
    writeFileSync(join(state.dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function hostDirOf(dir: string, name: string): string {
    return join(dir, "hosts", name);
}

function fail2banPaths(hostDir: string) {
    return {
        socket: join(hostDir, "fail2ban.sock"),
        pidfile: join(hostDir, "fail2ban.pid"),
        dbfile: join(hostDir, "fail2ban.sqlite3"),
        logtarget: join(hostDir, "fail2ban.log"),
    };
}

/** Jail files fail2ban reads, in its order, as the host's /etc/fail2ban will hold them. */
function jailFiles(sourceEtc: string, writes: readonly EtcWrite[]): string[] {
    const content = new Map<string, string>();
    const jd = join(sourceEtc, "fail2ban", "jail.d");
    if (existsSync(jd)) for (const f of readdirSync(jd)) content.set(`jail.d/${f}`, readFileSync(join(jd, f), "utf8"));
    const local = join(sourceEtc, "fail2ban", "jail.local");
    if (existsSync(local)) content.set("jail.local", readFileSync(local, "utf8"));
    for (const w of writes)
        if (w.path.startsWith("/etc/fail2ban/")) content.set(w.path.slice("/etc/fail2ban/".length), w.content);
    const names = [...content.keys()];
    const order = [
        ...names.filter((n) => n.startsWith("jail.d/") && n.endsWith(".conf")).sort(),
        ...names.filter((n) => n === "jail.local"),
        ...names.filter((n) => n.startsWith("jail.d/") && n.endsWith(".local")).sort(),
    ];
    return order.map((n) => content.get(n) as string);
}

/**
 * Stands `plan` up on this machine and writes the operator's files into `dir`. Idempotent: a lab
 * already recorded in `dir`, or namespaces of this stack, are torn down first. Progress and, at the
 * end, the connection instructions (also returned as `howToConnect`) go to `opts.log`.
 */
export async function labUp(plan: LabPlan, dir: string, opts: LabOptions = {}): Promise<LabUpResult> {
    const t0 = Date.now();
    const log = opts.log ?? (() => undefined);
    const abs = resolve(dir);
    // Everything that can be checked without touching the machine is checked first.
    if (/\s|%/.test(abs)) throw new Error(`lab dir ${abs} must not contain whitespace or '%' (fail2ban's logpath)`);
    const topo = labTopology(plan);
    const configs = new Map(plan.hosts.map((h) => [h.name, parseCloudConfig(h.cloudInit)]));
    const rulesets = new Map(plan.hosts.map((h) => [h.name, renderNftRuleset(h)]));
    const aliases = new Set(sshAliases(plan.sshConfig));
    for (const h of plan.hosts) {
        const sock = fail2banPaths(hostDirOf(abs, h.name)).socket;
        if (sock.length > MAX_SOCKET_PATH) throw new Error(`lab dir ${abs} is too long for unix sockets (${sock})`);
    }
    const keyName = identityFileName(plan.sshConfig);
    const files = {
        sshConfig: join(abs, "ssh_config"),
        knownHosts: join(abs, "known_hosts"),
        privateKey: join(abs, keyName),
    };
    const sshConfigText = rewriteSshConfig(plan.sshConfig, {
        identityFile: files.privateKey,
        knownHostsFile: files.knownHosts,
        controlDir: abs,
    });

    const previous = readLabState(abs);
    if (previous) {
        log(`lab: tearing down the lab recorded in ${abs} (stack ${previous.stack}) first`);
        await labDown(previous.stack, abs);
    }
    await labDown(plan.stack, abs, { keepDir: true });

    mkdirSync(abs, { recursive: true, mode: 0o700 });
    chmodSync(abs, 0o700);
    const client = topo.peers.find((p) => p.role === "client");
    const state: LabState = {
        version: 1,
        stack: plan.stack,
        dir: abs,
        createdAt: new Date().toISOString(),
        topology: topo,
        hosts: [],
        files: [files.sshConfig, files.knownHosts, files.privateKey],
        ...files,
        clientNs: client ? client.ns : nsName(plan.stack, "client"),
    };
    writeState(state); // before anything exists, so a failed `up` can always be taken down

    try {
        log(`lab: creating ${topo.namespaces.length} namespaces`);
        createNetwork(topo);
        const entries = etcEntries();
        const accounts = machineAccounts();
        const machineHosts = machineEtcHosts();
        const pending: {
            hs: LabHostState;
            jails: string[];
            disabled: string[];
            f2b: ReturnType<typeof fail2banPaths>;
        }[] = [];
        for (const node of topo.hosts) {
            const host = plan.hosts.find((h) => h.name === node.name);
            const cfg = configs.get(node.name);
            const rules = rulesets.get(node.name);
            if (!host || !cfg || rules === undefined) throw new Error(`internal: host ${node.name} missing`);
            loadNftRuleset(node.ns, rules);

            const hostDir = hostDirOf(abs, node.name);
            mkdirSync(hostDir, { recursive: true, mode: 0o700 });
            const hostname = (cfg.hostname ?? node.name).split(".")[0];
            const etcPlan = planHostEtc(cfg, accounts, entries, new Date(), { hostname, machineHosts });
            const hs: LabHostState = {
                name: node.name,
                role: node.role,
                ns: node.ns,
                hostname,
                ...(aliases.has(`${plan.stack}-${node.name}`) ? { alias: `${plan.stack}-${node.name}` } : {}),
                privateIp: node.privateIp,
                ...(node.publicIp ? { publicIp: node.publicIp } : {}),
                etcRoot: join(NETNS_ETC, node.ns),
                hostDir,
                authLog: join(hostDir, "auth.log"),
                users: etcPlan.users.map((u) => u.name),
                notes: [...etcPlan.notes],
            };
            state.hosts.push(hs);
            writeState(state);

            const extra: EtcWrite[] = [];
            let jails: ReturnType<typeof adaptJails> | undefined;
            const f2b = fail2banPaths(hostDir);
            if (etcPlan.fail2ban && etcPlan.tops.includes("fail2ban")) {
                jails = adaptJails(jailFiles("/etc", etcPlan.writes), { sshd: hs.authLog, fail2ban: f2b.logtarget });
                const root = { mode: 0o644, owner: "root", group: "root" };
                extra.push(
                    { path: "/etc/fail2ban/jail.d/zz-jumpgate-lab.local", content: jails.text, ...root },
                    {
                        path: "/etc/fail2ban/fail2ban.d/zz-jumpgate-lab.local",
                        content: fail2banPathsOverride(f2b),
                        ...root,
                    },
                );
                for (const d of jails.disabled)
                    hs.notes.push(`fail2ban: jail ${d} disabled (the lab has no log for it)`);
            }
            log(`lab: ${node.name}: /etc in ${hs.etcRoot}, users ${hs.users.join(", ") || "(none)"}`);
            materializeHostEtc(etcPlan, { etcRoot: hs.etcRoot, homeRoot: join(hostDir, "home") }, extra);

            writeFileSync(hs.authLog, "", { mode: 0o600 });
            if (jails) {
                writeFileSync(f2b.logtarget, "", { mode: 0o600 });
                pending.push({ hs, jails: jails.jails.map((j) => j.name), disabled: jails.disabled, f2b });
            }
        }

        // The daemons of all hosts start in parallel: first every sshd (so each log has lines), then fail2ban.
        await Promise.all(
            state.hosts.map(async (hs) => {
                hs.sshd = await startSshd({
                    ns: hs.ns,
                    hostname: hs.hostname,
                    homeRoot: join(hs.hostDir, "home"),
                    pidFile: join(hs.hostDir, "sshd.pid"),
                    authLog: hs.authLog,
                    pipeErr: join(hs.hostDir, "logpipe.err"),
                });
                log(`lab: ${hs.name}: sshd pid ${hs.sshd.pid}`);
            }),
        );
        writeState(state);
        await Promise.all(
            pending.map(async ({ hs, jails, disabled, f2b }) => {
                const started = await startFail2ban({
                    ns: hs.ns,
                    pidFile: f2b.pidfile,
                    outFile: join(hs.hostDir, "fail2ban.out"),
                    logFile: f2b.logtarget,
                    jails,
                });
                hs.fail2ban = { pid: started.pid, jails, disabled, logFile: f2b.logtarget };
                log(`lab: ${hs.name}: fail2ban pid ${started.pid}, jails ${jails.join(", ")}`);
            }),
        );
        writeState(state);

        writeFileSync(files.sshConfig, sshConfigText.endsWith("\n") ? sshConfigText : `${sshConfigText}\n`, {
            mode: 0o600,
        });
        writeFileSync(files.knownHosts, plan.knownHosts.endsWith("\n") ? plan.knownHosts : `${plan.knownHosts}\n`, {
            mode: 0o600,
        });
        const key = plan.privateKeyOpenssh.endsWith("\n") ? plan.privateKeyOpenssh : `${plan.privateKeyOpenssh}\n`;
        writeFileSync(files.privateKey, key, { mode: 0o600 });
        for (const f of state.files) chmodSync(f, 0o600);
        writeState(state);
    } catch (err) {
        log(`lab: up failed, tearing down: ${err instanceof Error ? err.message : String(err)}`);
        await labDown(plan.stack, abs);
        throw err;
    }
    const text = howToConnect(state);
    log(text);
    return { state, howToConnect: text, durationMs: Date.now() - t0 };
}

/** Operator instructions for a lab that is up. */
export function howToConnect(state: LabState): string {
    const bastion = state.hosts.find((h) => h.role === "bastion");
    const targets = state.hosts.filter((h) => h.role === "target");
    const lines = [
        `Lab '${state.stack}' is up: bastion ${bastion?.publicIp ?? "?"} (${bastion?.alias ?? "bastion"}), ` +
            `${targets.length} target(s). The operator is ${state.topology.peers[0]?.ip} in namespace ${state.clientNs}.`,
        `  ssh config:  ${state.sshConfig}`,
        `  known_hosts: ${state.knownHosts}`,
        `  private key: ${state.privateKey}`,
        "Connect (as root, from the client namespace):",
        ...targets
            .filter((t) => t.alias)
            .map((t) => `  ip netns exec ${state.clientNs} ssh -F ${state.sshConfig} ${t.alias}`),
        `Status: npm run lab -- status --stack ${state.stack}    Tear down: npm run lab -- down --stack ${state.stack}`,
    ];
    return lines.join("\n");
}

function rmIfExists(path: string, removed: string[]): void {
    if (!existsSync(path) && !isLink(path)) return;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
}

function isLink(path: string): boolean {
    try {
        lstatSync(path);
        return true;
    } catch {
        return false;
    }
}

/**
 * Removes the lab of `stack`: every process in its namespaces and its log pipes, the namespaces, the
 * /etc/netns trees (users and configuration with them) and the files in `dir` it wrote. Namespaces
 * are found from the state file, the stack's fixed names, and whatever hangs off its two routers.
 */
export async function labDown(
    stack: string,
    dir: string,
    opts: LabOptions & { keepDir?: boolean } = {},
): Promise<LabDownResult> {
    const t0 = Date.now();
    const abs = resolve(dir);
    const stateAny = readLabState(abs);
    const state = stateAny && stateAny.stack === stack ? stateAny : undefined;
    const names = new Set<string>(state?.topology.namespaces ?? []);
    for (const role of [...INFRA_ROLES, "bastion"]) names.add(nsName(stack, role));
    const existing = new Set(listNamespaces());
    for (const router of [nsName(stack, "inet"), nsName(stack, "vpc")]) {
        if (existing.has(router)) for (const n of attachedNamespaces(router)) names.add(n);
    }
    const present = [...names].filter((n) => existing.has(n));

    const pids = new Set<number>();
    for (const h of state?.hosts ?? []) {
        const sup = h.sshd?.supervisorPid;
        if (sup !== undefined && pidAlive(sup) && cmdline(sup).includes("logpipe")) pids.add(sup);
    }
    for (const ns of present) for (const p of namespacePids(ns)) pids.add(p);
    const stopped = await stopPids([...pids]);
    const deleted = deleteNamespaces(present);

    const removed: string[] = [];
    for (const n of names) rmIfExists(join(NETNS_ETC, n), removed);
    try {
        if (existsSync(NETNS_ETC) && readdirSync(NETNS_ETC).length === 0) rmdirSync(NETNS_ETC);
    } catch {
        // another lab's tree appeared meanwhile
    }
    if (state) {
        for (const f of state.files) rmIfExists(f, removed);
        for (const h of state.hosts) rmIfExists(h.hostDir, removed);
        if (existsSync(abs)) {
            for (const f of readdirSync(abs)) {
                // ssh's control sockets (ControlPath <dir>/cm-%C); masters died with the client namespace.
                if (f.startsWith("cm-") && lstatSync(join(abs, f)).isSocket()) rmIfExists(join(abs, f), removed);
            }
        }
        const hostsDir = join(abs, "hosts");
        if (existsSync(hostsDir) && readdirSync(hostsDir).length === 0) rmIfExists(hostsDir, removed);
        rmIfExists(join(abs, STATE_FILE), removed);
        if (!opts.keepDir && existsSync(abs) && readdirSync(abs).length === 0) rmIfExists(abs, removed);
    }
    opts.log?.(`lab: down: ${deleted.length} namespaces, ${stopped.length} processes, ${removed.length} paths`);
    return { namespaces: deleted, pids: stopped, removed, durationMs: Date.now() - t0 };
}

function parseJailStatus(out: string): { banned: string[]; failed: number } {
    const banned = (/Banned IP list:\s*(.*)/.exec(out)?.[1] ?? "").split(/\s+/).filter((s) => s.length > 0);
    const failed = Number(/Currently failed:\s*(\d+)/.exec(out)?.[1] ?? "0");
    return { banned, failed };
}

/** What runs for `stack`, as data and as text. */
export async function labStatus(stack: string, dir: string): Promise<LabStatusReport> {
    const abs = resolve(dir);
    const stateAny = readLabState(abs);
    const state = stateAny && stateAny.stack === stack ? stateAny : undefined;
    const existing = new Set(listNamespaces());
    const nsList = state?.topology.namespaces ?? [...INFRA_ROLES, "bastion"].map((r) => nsName(stack, r));
    const namespaces = nsList.map((ns) => ({
        ns,
        exists: existing.has(ns),
        processes: (existing.has(ns) ? namespacePids(ns) : []).map((pid) => ({ pid, cmd: cmdline(pid) })),
    }));
    const hosts: LabStatusReport["hosts"] = [];
    for (const h of state?.hosts ?? []) {
        const inNs = existing.has(h.ns);
        const entry: LabStatusReport["hosts"][number] = {
            name: h.name,
            ns: h.ns,
            sshd: { pid: h.sshd?.pid, alive: h.sshd !== undefined && pidAlive(h.sshd.pid) },
            nftTables: inNs
                ? [NFT_TABLE, "f2b-table"].filter((t) => nftHasTable(h.ns, "inet", t)).map((t) => `inet ${t}`)
                : [],
        };
        if (h.fail2ban) {
            const alive = pidAlive(h.fail2ban.pid);
            entry.fail2ban = {
                pid: h.fail2ban.pid,
                alive,
                jails: h.fail2ban.jails.map((j) => ({
                    name: j,
                    ...(alive && inNs
                        ? parseJailStatus(fail2banClient(h.ns, ["status", j], false))
                        : { banned: [], failed: 0 }),
                })),
            };
        }
        hosts.push(entry);
    }
    const up = state !== undefined && namespaces.every((n) => n.exists) && hosts.every((h) => h.sshd.alive);
    const text = [
        state
            ? `Lab '${stack}' in ${abs}: ${up ? "up" : "DEGRADED"} (since ${state.createdAt})`
            : `Lab '${stack}': no state in ${abs}${namespaces.some((n) => n.exists) ? " (but namespaces exist; run down)" : ""}`,
        ...namespaces.flatMap((n) => [
            `  ns ${n.ns.padEnd(16)} ${n.exists ? `up, ${n.processes.length} process(es)` : "missing"}`,
            ...n.processes.map((p) => `      ${p.pid} ${p.cmd.length > 110 ? `${p.cmd.slice(0, 107)}...` : p.cmd}`),
        ]),
        ...hosts.flatMap((h) => {
            const s = state?.hosts.find((x) => x.name === h.name);
            const lines = [
                `  ${h.name} (${s?.role}, ${s?.privateIp}${s?.publicIp ? `, public ${s.publicIp}` : ""}${s?.alias ? `, ssh ${s.alias}` : ""}): ` +
                    `sshd ${h.sshd.alive ? `pid ${h.sshd.pid}` : "NOT running"}; nft ${h.nftTables.join(", ") || "none"}`,
            ];
            for (const j of h.fail2ban?.jails ?? []) {
                lines.push(
                    `    fail2ban ${h.fail2ban?.alive ? `pid ${h.fail2ban.pid}` : "NOT running"} jail ${j.name}: ` +
                        `${j.failed} failing, banned: ${j.banned.join(" ") || "none"}`,
                );
            }
            for (const n of s?.notes ?? []) lines.push(`    note: ${n}`);
            return lines;
        }),
        ...(state ? [`  ssh: ip netns exec ${state.clientNs} ssh -F ${state.sshConfig} <alias>`] : []),
    ].join("\n");
    return { stack, up, namespaces, hosts, text };
}
