// The local lab: stands a LabPlan up on this machine for real. Each host is a Debian 13 system booted
// with systemd as PID 1 (lab/boot.ts) in its own network namespace, from the cached root
// (lab/rootfs.ts), with exactly its rendered user data as a NoCloud seed: cloud-init, sshd and
// fail2ban run as on the instance. The security groups are nftables in each namespace
// (lab/firewall.ts); the hosts' first boot reaches the lab's Debian mirror (lab/mirror.ts) on the lab's
// "internet", the bastion through its public leg and targets through the VPC router's NAT.
// The API the CLI calls:
//   labUp(plan, dir)     idempotent: whatever the dir or the stack had running is torn down first
//   labDown(stack, dir)  removes every host, namespace, process, mount, cgroup and file the lab made
//   labStatus(stack, dir)
// Layout of `dir` (0700): ssh_config, known_hosts, the private key (0600), state.json, mirror.log,
// cm-* control sockets, hosts/<host>/{upper/, work/, merged/, console.log}. See lab/README.md.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCloudConfig } from "../components/render/cloudConfig";
import {
    bootHost,
    cgroupPids,
    execIn,
    hostPssKiB,
    missingBootTools,
    rebootHost,
    stopHost,
    waitReady,
    type BootedHost,
} from "./boot";
import { cmdline, nftHasTable, stopPids } from "./daemons";
import { pidAlive, type RunOptions, type RunResult } from "./exec";
import { NFT_TABLE, renderNftRuleset } from "./firewall";
import { startMirror } from "./mirror";
import type { LabPlan } from "./model";
import {
    attachedNamespaces,
    createNetwork,
    deleteNamespaces,
    listNamespaces,
    loadNftRuleset,
    namespacePids,
} from "./netns";
import { ensureLabRoot, labEtcHosts } from "./rootfs";
import { identityFileName, rewriteSshConfig, sshAliases } from "./sshconfig";
import { INFRA_ROLES, labTopology, nsName, type LabTopology } from "./topology";

/** Where the lab kept per-namespace /etc trees before hosts booted their own root; `down` still clears them. */
const NETNS_ETC = "/etc/netns";
const STATE_FILE = "state.json";
const STATE_VERSION = 2;
/** cloud-init on a busy machine: ten hosts booting at once take ~16 s; leave room. */
const READY_TIMEOUT_MS = 300_000;

export interface LabHostState {
    name: string;
    role: "bastion" | "target";
    /** `program`: an instance the program built itself, which jumpgate only reaches. */
    origin?: "program";
    ns: string;
    /** The host's name (meta-data local-hostname; what `ssh <alias> hostname` prints). */
    hostname: string;
    /** `<stack>-<name>` when the plan's sshConfig defines it. */
    alias?: string;
    privateIp: string;
    publicIp?: string;
    hostDir: string;
    /** The booted system: nspawn, its PID 1, overlay and cgroups. */
    boot?: BootedHost;
    /** How the first boot ended: `cloud-init status --long`, its exit code, systemd's state. */
    ready?: {
        cloudInitCode: number | null;
        cloudInit: string;
        system: string;
        ms: number;
        /** cloud-init failed only at installing packages, on a host the plan gives no route out (a note). */
        packagesUnreachable?: boolean;
    };
    notes: string[];
}

/** What `up` made, kept in `<dir>/state.json` so `down` and `status` find everything. */
export interface LabState {
    version: typeof STATE_VERSION;
    stack: string;
    dir: string;
    createdAt: string;
    topology: LabTopology;
    hosts: LabHostState[];
    /** The root filesystem the hosts booted (overlay lower layer). */
    rootDir: string;
    /** The Debian mirror process in the inet namespace. */
    mirror?: { pid: number; log: string };
    /** Files in `dir` the lab wrote (besides hosts/ and state.json). */
    files: string[];
    sshConfig: string;
    knownHosts: string;
    privateKey: string;
    /** Team access: the stack CA's private key (0600), for `jumpgate-ssh login --ca stack --ca-key-file`. */
    userCaKey?: string;
    /** The stack's outputs with secrets (0600), for `jumpgate-ssh install/login --from`. */
    outputsFile?: string;
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

export interface LabHostStatus {
    name: string;
    ns: string;
    /** The host's systemd is up (nspawn runs). */
    running: boolean;
    /** `cloud-init status` (done, error, running, ...). */
    cloudInit: string;
    /** `systemctl is-system-running`. */
    system: string;
    units: { unit: string; state: string }[];
    sshd: { pid?: number; alive: boolean };
    fail2ban?: { pid?: number; alive: boolean; jails: { name: string; banned: string[]; failed: number }[] };
    nftTables: string[];
    /** Proportional set size of all the host's processes. */
    pssKiB: number;
}

export interface LabStatusReport {
    stack: string;
    up: boolean;
    namespaces: { ns: string; exists: boolean; processes: { pid: number; cmd: string }[] }[];
    hosts: LabHostStatus[];
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
    return state.version === STATE_VERSION ? state : undefined;
}

function writeState(state: LabState): void {
    writeFileSync(join(state.dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function hostDirOf(dir: string, name: string): string {
    return join(dir, "hosts", name);
}

/** Runs a command inside a booted lab host (its files, its systemd, its network), e.g. fail2ban-client. */
export function labExec(host: LabHostState, cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
    if (!host.boot) throw new Error(`lab host ${host.name} has not booted`);
    return execIn(host.boot, cmd, args, opts);
}

/**
 * Reboots one host of a running lab (an orderly poweroff, then a boot of the same disk, as EC2's reboot)
 * and waits until its systemd has finished booting; the lab's state records the new boot.
 */
export async function labReboot(state: LabState, name: string): Promise<LabHostState> {
    const host = state.hosts.find((h) => h.name === name);
    if (!host?.boot) throw new Error(`lab host ${name} has not booted`);
    host.boot = await rebootHost(host.boot);
    writeState(state);
    const ready = waitReady(host.boot);
    if (!/^(running|degraded)$/.test(ready.system)) throw new Error(`${name} after reboot: system ${ready.system}`);
    return host;
}

/** Why a booted host is not usable, from inside it: cloud-init's errors, sshd's own complaint. */
function bootProblems(hs: LabHostState): string[] {
    const problems: string[] = [];
    if (!hs.ready || !hs.boot) return [`${hs.name}: did not boot`];
    // Exit 2 is cloud-init's "recoverable" errors (degraded): the document did not apply cleanly either.
    if (hs.ready.cloudInitCode !== 0 && !hs.ready.packagesUnreachable) {
        problems.push(`${hs.name}: cloud-init exit ${hs.ready.cloudInitCode}:\n${hs.ready.cloudInit}`);
    }
    const ssh = execIn(hs.boot, "systemctl", ["is-active", "ssh.service"], { check: false }).stdout.trim();
    if (ssh !== "active") {
        const test = execIn(hs.boot, "sshd", ["-t"], { check: false });
        const journal = execIn(hs.boot, "journalctl", ["-u", "ssh.service", "-n", "15", "--no-pager", "-o", "cat"], {
            check: false,
        });
        problems.push(
            `${hs.name}: ssh.service is ${ssh}; sshd -t says: ${test.stderr.trim() || "ok"}\n${journal.stdout.trim()}`,
        );
    }
    return problems;
}

/**
 * Boots every host of `plan` on this machine and writes the operator's files into `dir`. Idempotent:
 * a lab already recorded in `dir`, or namespaces of this stack, are torn down first. Progress and,
 * at the end, the connection instructions (also returned as `howToConnect`) go to `opts.log`.
 */
export async function labUp(plan: LabPlan, dir: string, opts: LabOptions = {}): Promise<LabUpResult> {
    const t0 = Date.now();
    const log = opts.log ?? (() => undefined);
    const abs = resolve(dir);
    // Everything that can be checked without touching the machine is checked first.
    // The overlay's mount options are comma- and colon-separated paths.
    if (/[\s,:]/.test(abs)) throw new Error(`lab dir ${abs} must not contain whitespace, ',' or ':'`);
    const missing = missingBootTools();
    if (missing.length > 0) {
        throw new Error(`the lab needs ${missing.join(", ")}: install them with bash scripts/install-tools.sh`);
    }
    const topo = labTopology(plan);
    const hostnames = new Map(
        // A program's own instance may have no user data, or a script: it keeps the name the lab gives it.
        plan.hosts.map((h) => [
            h.name,
            (
                (h.cloudInit.startsWith("#cloud-config") ? parseCloudConfig(h.cloudInit).hostname : undefined) ?? h.name
            ).split(".")[0],
        ]),
    );
    const rulesets = new Map(plan.hosts.map((h) => [h.name, renderNftRuleset(h)]));
    const aliases = new Set(sshAliases(plan.sshConfig));
    const files = {
        sshConfig: join(abs, "ssh_config"),
        knownHosts: join(abs, "known_hosts"),
        privateKey: join(abs, identityFileName(plan.sshConfig)),
    };
    const sshConfigText = rewriteSshConfig(plan.sshConfig, {
        identityFile: files.privateKey,
        knownHostsFile: files.knownHosts,
        controlDir: abs,
    });
    const root = ensureLabRoot(log);

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
        version: STATE_VERSION,
        stack: plan.stack,
        dir: abs,
        createdAt: new Date().toISOString(),
        topology: topo,
        hosts: [],
        rootDir: root.rootDir,
        files: [
            ...new Set([files.sshConfig, files.knownHosts, ...knownHostsFiles(sshConfigText), files.privateKey]),
            join(abs, "mirror.log"),
        ],
        ...files,
        ...(plan.userCaPrivateKeyOpenssh === undefined ? {} : { userCaKey: join(abs, "user_ca") }),
        ...(plan.outputs === undefined ? {} : { outputsFile: join(abs, "outputs.json") }),
        clientNs: client ? client.ns : nsName(plan.stack, "client"),
    };
    writeState(state); // before anything exists, so a failed `up` can always be taken down

    try {
        log(`lab: creating ${topo.namespaces.length} namespaces`);
        createNetwork(topo);
        for (const node of topo.hosts) loadNftRuleset(node.ns, rulesets.get(node.name) as string);
        state.mirror = await startLabMirror(topo, root.mirrorTree, abs);
        writeState(state);
        await bootAll(plan, topo, state, { root, hostnames, aliases, log });
        const problems = state.hosts.flatMap(bootProblems);
        if (problems.length > 0) throw new Error(`lab hosts did not come up:\n${problems.join("\n")}`);

        writeOperatorFiles(state, plan, sshConfigText);
        writeState(state);
        // State Manager runs an association on its targets when it is created.
        for (const r of labRunCommands(state, plan)) {
            if (r.status !== 0) throw new Error(`${r.host}: ${r.association} failed: ${r.stderr.trim()}`);
        }
    } catch (err) {
        log(`lab: up failed, tearing down: ${err instanceof Error ? err.message : String(err)}`);
        await labDown(plan.stack, abs);
        throw err;
    }
    const text = howToConnect(state);
    log(text);
    return { state, howToConnect: text, durationMs: Date.now() - t0 };
}

/** Every UserKnownHostsFile the lab's ssh_config names (an unpinned host's pinned-hosts file among them). */
function knownHostsFiles(sshConfigText: string): string[] {
    return [...sshConfigText.matchAll(/^\s*UserKnownHostsFile(?:\s*=\s*|\s+)(.+)$/gim)].flatMap((m) =>
        m[1]!
            .trim()
            .split(/\s+/)
            .map((f) => f.replace(/^"|"$/g, "")),
    );
}

/** The lab's Debian mirror on its documentation address on the public segment (the inet namespace). */
async function startLabMirror(topo: LabTopology, tree: string, dir: string): Promise<LabState["mirror"]> {
    const log = join(dir, "mirror.log");
    return { pid: await startMirror({ ns: topo.inetNs, tree, addresses: [topo.mirrorIp], logFile: log }), log };
}

/** ssh_config, known_hosts and the private key, 0600 in the 0700 dir. */
function writeOperatorFiles(state: LabState, plan: LabPlan, sshConfigText: string): void {
    const text = (t: string) => (t.endsWith("\n") ? t : `${t}\n`);
    writeFileSync(state.sshConfig, text(sshConfigText), { mode: 0o600 });
    writeFileSync(state.knownHosts, text(plan.knownHosts), { mode: 0o600 });
    if (plan.privateKeyOpenssh !== undefined) {
        writeFileSync(state.privateKey, text(plan.privateKeyOpenssh), { mode: 0o600 });
    }
    if (state.userCaKey !== undefined && plan.userCaPrivateKeyOpenssh !== undefined) {
        writeFileSync(state.userCaKey, text(plan.userCaPrivateKeyOpenssh), { mode: 0o600 });
        state.files.push(state.userCaKey);
    }
    if (state.outputsFile !== undefined && plan.outputs !== undefined) {
        writeFileSync(state.outputsFile, `${JSON.stringify(plan.outputs, null, 2)}\n`, { mode: 0o600 });
        state.files.push(state.outputsFile);
    }
    for (const f of state.files) if (existsSync(f)) chmodSync(f, 0o600);
}

/** What one association's commands did on one host. */
export interface LabRunCommandResult {
    association: string;
    host: string;
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs the plan's `AWS-RunShellScript` associations on their hosts, as root inside each booted host, as the
 * SSM agent does on an instance: the same commands, byte for byte. Called by `up` (State Manager runs an
 * association when it is created) and by tests with a later plan (an updated association runs again).
 */
export function labRunCommands(state: LabState, plan: LabPlan): LabRunCommandResult[] {
    return (plan.runCommands ?? []).flatMap((a) =>
        a.hosts.map((name) => {
            const host = state.hosts.find((h) => h.name === name);
            if (!host) throw new Error(`${a.association} targets ${name}, which is not a lab host`);
            const r = labExec(host, "sh", ["-c", a.commands], { check: false });
            return { association: a.association, host: name, status: r.status, stdout: r.stdout, stderr: r.stderr };
        }),
    );
}

/**
 * A host without a route to the internet: the rendered apt settings retry the unreachable mirror with
 * backoff for many minutes (measured: still retrying after 300 s), so its package stage would fail only
 * long after any lab timeout. Without retries it fails at once, with the same outcome cloud-init reports
 * on such an instance. The failure itself is the VPC router's: it has no route for the host's subnet.
 */
const NO_INTERNET_APT = { "etc/apt/apt.conf.d/99jumpgate-lab-no-internet": 'Acquire::Retries "0";\n' };

/**
 * An instance the program launched boots the image as it is; Debian's AMIs name their default user
 * `admin` (the package's own default is `debian`), and it is this user that gets the key pair.
 */
const AMI_DEFAULT_USER = {
    "etc/cloud/cloud.cfg.d/01_debian_cloud.cfg":
        "# The default user of Debian's EC2 images.\nsystem_info:\n  default_user:\n    name: admin\n",
};

/**
 * What cloud-init printed to the host's console at first boot between `-----BEGIN SSH HOST KEY ...-----`
 * and `-----END ...-----` (the host keys it generated and their fingerprints), as EC2's console output
 * (`aws ec2 get-console-output`) shows them: the out-of-band way to check an unpinned host's key.
 */
export function labConsoleHostKeys(host: LabHostState): string {
    const consoleLog = join(host.hostDir, "console.log");
    if (!existsSync(consoleLog)) throw new Error(`${host.name}: no console output (${consoleLog})`);
    const text = readFileSync(consoleLog, "utf8").replace(/\r/g, "");
    const sections = [
        ...text.matchAll(/^.*-----BEGIN SSH HOST KEY [A-Z]+-----[\s\S]*?-----END SSH HOST KEY [A-Z]+-----.*$/gm),
    ];
    if (sections.length === 0) throw new Error(`${host.name}: cloud-init printed no host keys to the console`);
    return sections.map((m) => m[0]).join("\n");
}

/**
 * apt's fetch failures in the host's cloud-init output. `apt-get update` only warns when the mirror is
 * unreachable (no NAT), and packages the image already holds still "install", so cloud-init can finish
 * without an error: the lab says so rather than leaving the host looking healthy.
 */
function aptFetchFailures(h: BootedHost): string[] {
    const out = execIn(h, "cat", ["/var/log/cloud-init-output.log"], { check: false }).stdout;
    return out.split("\n").filter((l) => /^(W|E): (Failed to fetch|Some index files failed|Unable to locate)/.test(l));
}

/** Boots every host at once (boot CPU is the limit, not memory), then waits for each to be ready. */
async function bootAll(
    plan: LabPlan,
    topo: LabTopology,
    state: LabState,
    ctx: {
        root: { rootDir: string; mirrorHost: string };
        hostnames: Map<string, string>;
        aliases: Set<string>;
        log: (line: string) => void;
    },
): Promise<void> {
    for (const node of topo.hosts) {
        const alias = `${plan.stack}-${node.name}`;
        state.hosts.push({
            name: node.name,
            role: node.role,
            ...(plan.hosts.find((h) => h.name === node.name)?.origin === "program" ? { origin: "program" } : {}),
            ns: node.ns,
            hostname: ctx.hostnames.get(node.name) ?? node.name,
            ...(ctx.aliases.has(alias) ? { alias } : {}),
            privateIp: node.privateIp,
            ...(node.publicIp ? { publicIp: node.publicIp } : {}),
            hostDir: hostDirOf(state.dir, node.name),
            notes: [],
        });
    }
    writeState(state);
    const t0 = Date.now();
    await Promise.all(
        state.hosts.map(async (hs) => {
            const host = plan.hosts.find((h) => h.name === hs.name);
            if (!host) throw new Error(`internal: host ${hs.name} missing from the plan`);
            hs.boot = await bootHost({
                machine: hs.ns,
                ns: hs.ns,
                hostDir: hs.hostDir,
                rootDir: ctx.root.rootDir,
                userData: host.cloudInit,
                instanceId: `i-lab-${plan.stack}-${hs.name}`,
                hostname: hs.hostname,
                ...(host.publicKeys === undefined ? {} : { publicKeys: host.publicKeys }),
                extraFiles: {
                    ...(host.origin === "program" ? AMI_DEFAULT_USER : {}),
                    ...(host.internetRoute === false ? NO_INTERNET_APT : {}),
                },
                etcHosts: labEtcHosts(ctx.root.rootDir, hs.hostname, { host: ctx.root.mirrorHost, ip: topo.mirrorIp }),
            });
            writeState(state);
            ctx.log(`lab: ${hs.name}: booting (nspawn pid ${hs.boot.nspawnPid}, systemd pid ${hs.boot.leaderPid})`);
        }),
    );
    for (const hs of state.hosts) {
        const r = waitReady(hs.boot as BootedHost, READY_TIMEOUT_MS);
        const routed = plan.hosts.find((h) => h.name === hs.name)?.internetRoute !== false;
        const packagesUnreachable = !routed && onlyPackageStageFailed(r.cloudInit.text);
        hs.ready = {
            cloudInitCode: r.cloudInit.code,
            cloudInit: r.cloudInit.text,
            system: r.system,
            ms: r.ms,
            ...(packagesUnreachable ? { packagesUnreachable } : {}),
        };
        if (r.system !== "running") hs.notes.push(`systemd: ${r.system}`);
        // As on an instance without NAT: the packages not in the image stay uninstalled, the rest applies.
        if (packagesUnreachable) hs.notes.push("package stage: cloud-init could not install the packages (no route)");
        for (const line of aptFetchFailures(hs.boot as BootedHost)) {
            hs.notes.push(`package stage: ${line}`);
            ctx.log(`lab: ${hs.name}: package stage: ${line}`);
        }
        for (const i of r.interrupted) ctx.log(`lab: ${hs.name}: cloud-init status --wait was interrupted: ${i}`);
        ctx.log(
            `lab: ${hs.name}: ready after ${Date.now() - t0} ms (cloud-init exit ${r.cloudInit.code}, ${r.system})`,
        );
        writeState(state);
    }
}

/** Whether cloud-init's only errors are the package module's (its `errors:` list names nothing else). */
export function onlyPackageStageFailed(cloudInitStatus: string): boolean {
    const errors = /^errors:\n((?:\t.*\n?)*)/m.exec(cloudInitStatus)?.[1] ?? "";
    const modules = [...errors.matchAll(/^\t- \('([a-z_-]+)'/gm)].map((m) => m[1]);
    return modules.length > 0 && modules.every((m) => m === "package-update-upgrade-install");
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
        state.userCaKey === undefined
            ? `  private key: ${state.privateKey}`
            : `  stack CA key: ${state.userCaKey} (team access: bring your own key, then ` +
              `npx jumpgate-ssh login --stack ${state.stack} --from ${state.outputsFile ?? "<outputs.json>"} ` +
              `--identity <key> --operator <you>)`,
        "Connect (as root, from the client namespace):",
        ...targets
            .filter((t) => t.alias)
            .map((t) => `  ip netns exec ${state.clientNs} ssh -F ${state.sshConfig} ${t.alias}`),
        // A host the program built itself may be unpinned: its key's fingerprint is on its console.
        ...targets
            .filter((t) => t.origin === "program")
            .map(
                (t) =>
                    `  ${t.name}'s host keys, as its console shows them: npm run lab -- console ${t.name} --stack ${state.stack}`,
            ),
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
 * Removes the lab of `stack`: powers its hosts off and removes their overlays and cgroups, stops the
 * mirror and any other process in its namespaces, deletes the namespaces and the files in `dir` it
 * wrote. Hosts and namespaces are found from the state file, the stack's fixed names, whatever hangs
 * off its two routers, and the host directories in `dir`, so a half-made lab goes too.
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

    // Hosts first (an orderly poweroff each, all at once), then whatever else runs in the namespaces.
    const hosts = new Map<string, BootedHost>();
    for (const h of state?.hosts ?? []) if (h.boot) hosts.set(h.boot.machine, h.boot);
    for (const ns of names) if (!hosts.has(ns)) hosts.set(ns, strayHost(ns, abs, state));
    const pids = new Set<number>();
    for (const h of hosts.values())
        for (const p of [h.nspawnPid, ...cgroupPids(h.cgroups)]) if (pidAlive(p)) pids.add(p);
    await Promise.all([...hosts.values()].map((h) => stopHost(h)));
    const present = [...names].filter((n) => existing.has(n));
    for (const ns of present) for (const p of namespacePids(ns)) pids.add(p);
    if (state?.mirror && pidAlive(state.mirror.pid)) pids.add(state.mirror.pid);
    await stopPids([...pids].filter(pidAlive));
    const deleted = deleteNamespaces(present);

    const removed: string[] = [];
    for (const n of names) rmIfExists(join(NETNS_ETC, n), removed);
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
    opts.log?.(`lab: down: ${deleted.length} namespaces, ${pids.size} processes, ${removed.length} paths`);
    return { namespaces: deleted, pids: [...pids], removed, durationMs: Date.now() - t0 };
}

/** A host `up` may have booted without recording it (killed mid-way): found by its machine name. */
function strayHost(ns: string, abs: string, state: LabState | undefined): BootedHost {
    const recorded = state?.hosts.find((h) => h.ns === ns);
    const hostDir = recorded?.hostDir ?? hostDirOf(abs, ns);
    return {
        machine: ns,
        ns,
        hostDir,
        merged: join(hostDir, "merged"),
        nspawnPid: 0,
        leaderPid: 0,
        cgroups: ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].map((h) => join(h, ns)),
        console: join(hostDir, "console.log"),
    };
}

function parseJailStatus(out: string): { banned: string[]; failed: number } {
    const banned = (/Banned IP list:\s*(.*)/.exec(out)?.[1] ?? "").split(/\s+/).filter((s) => s.length > 0);
    const failed = Number(/Currently failed:\s*(\d+)/.exec(out)?.[1] ?? "0");
    return { banned, failed };
}

/** A booted host's own view: cloud-init, systemd, its units, fail2ban's jails, memory. */
function hostStatus(h: LabHostState, nsExists: boolean): LabHostStatus {
    const running = h.boot !== undefined && pidAlive(h.boot.nspawnPid) && pidAlive(h.boot.leaderPid);
    const inside = (cmd: string, args: string[]) =>
        running ? labExec(h, cmd, args, { check: false, timeoutMs: 15_000 }).stdout.trim() : "";
    const unitNames = ["ssh.service", "fail2ban.service"];
    const states = inside("systemctl", ["is-active", ...unitNames]).split("\n");
    const units = unitNames.map((unit, i) => ({ unit, state: states[i] || "unknown" }));
    const mainPid = (unit: string) =>
        Number(inside("systemctl", ["show", "-p", "MainPID", "--value", unit])) || undefined;
    const entry: LabHostStatus = {
        name: h.name,
        ns: h.ns,
        running,
        cloudInit: /status: (\S+)/.exec(inside("cloud-init", ["status"]))?.[1] ?? (running ? "unknown" : "not running"),
        system: inside("systemctl", ["is-system-running"]) || "not running",
        units,
        sshd: { pid: mainPid("ssh.service"), alive: units[0].state === "active" },
        nftTables: nsExists
            ? [NFT_TABLE, "f2b-table"].filter((t) => nftHasTable(h.ns, "inet", t)).map((t) => `inet ${t}`)
            : [],
        pssKiB: running && h.boot ? hostPssKiB(h.boot) : 0,
    };
    if (units[1].state === "active") {
        const list = /Jail list:\s*(.*)/.exec(inside("fail2ban-client", ["status"]))?.[1] ?? "";
        const jails = list.split(/[,\s]+/).filter((j) => j.length > 0);
        entry.fail2ban = {
            pid: mainPid("fail2ban.service"),
            alive: true,
            jails: jails.map((j) => ({ name: j, ...parseJailStatus(inside("fail2ban-client", ["status", j])) })),
        };
    }
    return entry;
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
    const hosts = (state?.hosts ?? []).map((h) => hostStatus(h, existing.has(h.ns)));
    const up =
        state !== undefined &&
        namespaces.every((n) => n.exists) &&
        hosts.every((h) => h.running && h.cloudInit === "done" && h.sshd.alive);
    const text = [
        state
            ? `Lab '${stack}' in ${abs}: ${up ? "up" : "DEGRADED"} (since ${state.createdAt})`
            : `Lab '${stack}': no state in ${abs}${namespaces.some((n) => n.exists) ? " (but namespaces exist; run down)" : ""}`,
        ...namespaces.map(
            (n) => `  ns ${n.ns.padEnd(16)} ${n.exists ? `up, ${n.processes.length} process(es)` : "missing"}`,
        ),
        ...hosts.flatMap((h) => {
            const s = state?.hosts.find((x) => x.name === h.name);
            const lines = [
                `  ${h.name} (${s?.role}${s?.origin === "program" ? ", the program's own" : ""}, ${s?.privateIp}${s?.publicIp ? `, public ${s.publicIp}` : ""}${s?.alias ? `, ssh ${s.alias}` : ""}): ` +
                    (h.running
                        ? `Debian booted, system ${h.system}, cloud-init ${h.cloudInit}, ${Math.round(h.pssKiB / 1024)} MiB PSS`
                        : "NOT running"),
                `    units: ${h.units.map((u) => `${u.unit} ${u.state}`).join(", ")}; nft ${h.nftTables.join(", ") || "none"}`,
            ];
            for (const j of h.fail2ban?.jails ?? []) {
                lines.push(
                    `    fail2ban pid ${h.fail2ban?.pid ?? "?"} jail ${j.name}: ${j.failed} failing, banned: ${j.banned.join(" ") || "none"}`,
                );
            }
            for (const n of s?.notes ?? []) lines.push(`    note: ${n}`);
            return lines;
        }),
        ...(state
            ? [
                  `  ssh: ip netns exec ${state.clientNs} ssh -F ${state.sshConfig} <alias>`,
                  `  a shell on a host: nsenter -t <systemd pid> -a bash   (${state.hosts.map((h) => `${h.name} ${h.boot?.leaderPid ?? "?"}`).join(", ")})`,
              ]
            : []),
    ].join("\n");
    return { stack, up, namespaces, hosts, text };
}
