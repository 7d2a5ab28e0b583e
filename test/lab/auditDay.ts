// A scripted day on a lab stack with team access: ten operators, each with their own key and a
// certificate from the stack's CA (key ID `jumpgate-<stack>:opNN`), reach the targets with `ssh`,
// `scp -J`, a `-L` tunnel and two refused `-W` forwards, and a hostile peer brute-forces the bastion.
// The day returns what it did, so a test can say exactly which audit records it must find.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runIn, sleep, type RunResult } from "../../lab/exec";
import { labExec, type LabHostState, type LabState } from "../../lab/lab";
import { labPlanFromRun } from "../../lab/fromPlan";
import type { LabPlan } from "../../lab/model";
import { runOffline } from "../../offline/run";
import { stackCaSigner } from "../../components/render/caKeys";
import { CLOUDWATCH_AGENT_CONFIG_PATH } from "../../components/render/cloudwatchAgent";
import { certificateLine, issueCertificate } from "../../components/render/certificate";
import { sshKeygen, type KeyPair } from "../helpers/labFixture";
import { BASE_CONFIG } from "../helpers/program";

export const OPERATORS = 10;
/** fail2ban's maxretry on the day's stack: the brute force is banned after this many failures (or fewer). */
export const MAX_RETRY = 3;

export interface AuditLabPlan {
    plan: LabPlan;
    /** The stack CA's private key (the Pulumi secret output login's stack CA signs with). */
    caPrivateKey: string;
    /** Role → the role's account on the targets. */
    roleAccounts: Record<string, string>;
    operators: { name: string; role: string; key: KeyPair }[];
}

/** The program's team-access plan: ten operators (admins and developers), two targets, a declared tunnel. */
export async function auditLabPlan(stack: string): Promise<AuditLabPlan> {
    const operators = Array.from({ length: OPERATORS }, (_, i) => ({
        name: `op${String(i + 1).padStart(2, "0")}`,
        role: i % 2 === 0 ? "admin" : "developer",
        key: sshKeygen(`op${i + 1}`),
    }));
    const config = {
        ...BASE_CONFIG,
        "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
        "jumpgate:fail2banMaxRetry": MAX_RETRY,
        // The day signs with the stack CA's key (a kms CA, the team default, would sign through AWS).
        "jumpgate:userCa": "stack",
        "jumpgate:operators": operators.map((o) => ({ name: o.name, role: o.role, publicKeys: [o.key.publicKey] })),
    };
    const run = await runOffline({ stack, config, keys: "random" });
    // A team stack publishes no operator key: the lab's own identity file is a key no host trusts.
    run.outputs.privateKeyOpenssh = sshKeygen("lab-unused").privateKey;
    return {
        plan: labPlanFromRun(run, config),
        caPrivateKey: String(run.outputs.userCaPrivateKeyOpenssh),
        roleAccounts: run.outputs.roleAccounts as Record<string, string>,
        operators,
    };
}

export interface LabOperator {
    name: string;
    keyId: string;
    serial: bigint;
    fingerprint: string;
    /** Their ssh_config: the lab's, with their key, their certificate and their own control sockets. */
    config: string;
}

/** Writes each operator's key, a certificate signed by the stack CA, and their ssh_config (naming both) into `dir`. */
export async function setUpOperators(a: AuditLabPlan, state: LabState, dir: string): Promise<LabOperator[]> {
    const signer = stackCaSigner(a.caPrivateKey);
    const base = readFileSync(state.sshConfig, "utf8");
    const now = Date.now();
    return Promise.all(
        a.operators.map(async (o, i) => {
            const home = join(dir, o.name);
            mkdirSync(home, { recursive: true, mode: 0o700 });
            const key = join(home, "id_ed25519");
            writeFileSync(key, o.key.privateKey, { mode: 0o600 });
            writeFileSync(`${key}.pub`, `${o.key.publicKey}\n`);
            const keyId = `jumpgate-${a.plan.stack}:${o.name}`;
            const serial = BigInt(1001 + i);
            const spec = {
                publicKey: o.key.publicKey,
                serial,
                keyId,
                principals: [o.role],
                validAfter: new Date(now - 300_000),
                validBefore: new Date(now + 3_600_000),
            };
            const cert = await issueCertificate(spec, signer);
            writeFileSync(`${key}-cert.pub`, certificateLine(cert.certificate, o.name));
            const config = join(home, "ssh_config");
            // The stack-wide team config names no account on targets: the operator's role account, first
            // (ssh takes the first value it reads), as the operator's own config would.
            const targets = a.plan.hosts.filter((h) => h.role === "target").map((h) => `${a.plan.stack}-${h.name}`);
            const text =
                `Host ${targets.join(" ")}\n  User ${a.roleAccounts[o.role]}\n\n` +
                base
                    .replace(/^(\s*IdentityFile\s+).*$/gm, `$1${key}`)
                    .replace(/^(\s*CertificateFile\s+).*$/gm, `$1${key}-cert.pub`)
                    .replace(/^(\s*ControlPath\s+).*$/gm, `$1${home}/cm-%C`);
            writeFileSync(config, text, { mode: 0o600 });
            const fp = runIn(state.clientNs, "ssh-keygen", ["-l", "-f", `${key}.pub`]).stdout.split(/\s+/)[1]!;
            return { name: o.name, keyId, serial, fingerprint: fp, config };
        }),
    );
}

/** What the day did, one entry per connection to the bastion, in order. */
export interface DayConnection {
    operator?: LabOperator;
    /** `forward` connections carried these destinations (ip:port); `refused` asked for `refused`. */
    forwards: string[];
    refused?: string;
    /** A failed authentication from the hostile peer. */
    failed?: boolean;
}

export interface Day {
    connections: DayConnection[];
    /** The hostile peer's address (banned at the end). */
    hostileIp: string;
    /** Wall-clock bounds of the day. */
    start: Date;
    end: Date;
}

const ENV = { PATH: process.env.PATH };

/** The whole day. Every operator closes its control master, so its session (and records) end. */
export async function runDay(a: AuditLabPlan, state: LabState, ops: LabOperator[], scratch: string): Promise<Day> {
    const stack = a.plan.stack;
    const ipOf = (name: string) => a.plan.hosts.find((h) => h.name === name)!.privateIp;
    const ssh = (op: LabOperator, args: string[], timeoutMs = 30_000): RunResult =>
        runIn(state.clientNs, "ssh", ["-F", op.config, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...args], {
            check: false,
            timeoutMs,
            env: ENV,
        });
    const closeMaster = (op: LabOperator) => ssh(op, ["-O", "exit", `${stack}-bastion`]);
    const must = (r: RunResult, what: string) => {
        if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
        return r;
    };
    const connections: DayConnection[] = [];
    const start = new Date();

    // Each operator: `ssh <target>` (op05 runs two commands through one multiplexed bastion session).
    for (const [i, op] of ops.entries()) {
        const target = i % 2 === 0 ? "app-1" : "db-1";
        must(ssh(op, [`${stack}-${target}`, "hostname"]), `${op.name} ssh ${target}`);
        const forwards = [`${ipOf(target)}:22`];
        if (op.name === "op05") {
            must(ssh(op, [`${stack}-${target}`, "id -un"]), `${op.name} second ssh`);
            forwards.push(`${ipOf(target)}:22`);
        }
        closeMaster(op);
        connections.push({ operator: op, forwards });
    }

    // scp -J: 256 KiB to app-1 and back in one session.
    const [op1, op2, op3, op4] = ops as [LabOperator, LabOperator, LabOperator, LabOperator];
    const file = join(scratch, "payload.bin");
    writeFileSync(file, Buffer.alloc(256 * 1024, 7));
    const scp = runIn(
        state.clientNs,
        "scp",
        ["-F", op1.config, "-o", "BatchMode=yes", "-J", `${stack}-bastion`, file, `${stack}-app-1:/tmp/payload.bin`],
        { check: false, timeoutMs: 30_000, env: ENV },
    );
    must(scp, "scp -J");
    closeMaster(op1);
    connections.push({ operator: op1, forwards: [`${ipOf("app-1")}:22`] });

    // A -L tunnel to db-1's SSH port, used once (the banner comes back through it), then closed.
    await tunnelOnce(state, op2, `${stack}-bastion`, `${ipOf("db-1")}:22`);
    connections.push({ operator: op2, forwards: [`${ipOf("db-1")}:22`] });

    // Two refused -W forwards: a port the bastion does not permit, and an address that is no target.
    for (const [op, dest] of [
        [op3, `${ipOf("app-1")}:8081`],
        [op4, "10.42.0.99:5432"],
    ] as const) {
        const r = ssh(op, ["-o", "ControlPath=none", "-W", dest, `${stack}-bastion`]);
        if (!/administratively prohibited/.test(r.stderr)) throw new Error(`-W ${dest} was not refused: ${r.stderr}`);
        connections.push({ operator: op, forwards: [], refused: dest });
    }

    // The hostile peer: logins with a key the bastion does not trust until it is banned. Only attempts that
    // reached sshd ("Permission denied") are failures it can record; once banned, nft drops the next one.
    const hostile = state.topology.peers.find((p) => p.role === "hostile")!;
    const wrong = join(scratch, "wrong_ed25519");
    writeFileSync(wrong, sshKeygen("brute").privateKey, { mode: 0o600 });
    const bastion = a.plan.hosts.find((h) => h.role === "bastion")!;
    for (let i = 0; i < MAX_RETRY + 3; i++) {
        const r = runIn(
            hostile.ns,
            "ssh",
            [
                ...["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
                ...["-o", "ConnectTimeout=5", "-i", wrong, "-o", "IdentitiesOnly=yes", "-p", String(a.plan.sshPort)],
                `${a.plan.jumpUser}@${bastion.publicIp}`,
                "true",
            ],
            { check: false, timeoutMs: 15_000, env: ENV },
        );
        if (!r.stderr.includes("Permission denied")) break;
        connections.push({ forwards: [], failed: true });
        await sleep(1_000);
    }
    return { connections, hostileIp: hostile.ip, start, end: new Date() };
}

/** Opens `ssh -N -L` to `dest` through `hop`, reads the banner through it once, and closes the tunnel. */
async function tunnelOnce(state: LabState, op: LabOperator, hop: string, dest: string): Promise<void> {
    const port = 18022;
    const child = spawn(
        "ip",
        ["netns", "exec", state.clientNs, "ssh", "-F", op.config, "-o", "BatchMode=yes"].concat([
            "-o",
            "ControlPath=none",
            "-N",
            "-L",
            `127.0.0.1:${port}:${dest}`,
            hop,
        ]),
        { stdio: "ignore", env: ENV },
    );
    try {
        const probe = `import socket,time
for _ in range(100):
    try:
        s=socket.create_connection(("127.0.0.1",${port}),timeout=5); break
    except OSError: time.sleep(0.1)
print(s.recv(64).decode().strip()); s.close()`;
        const r = runIn(state.clientNs, "python3", ["-c", probe], { check: false, timeoutMs: 20_000 });
        if (!r.stdout.startsWith("SSH-2.0")) throw new Error(`no banner through the tunnel: ${r.stdout}${r.stderr}`);
        await sleep(500);
    } finally {
        child.kill("SIGTERM");
        await new Promise((res) => child.once("exit", res));
    }
}

/** The collect_list keys the mapping below translates, and those that only name the destination. */
const MAPPED_JOURNALD_KEYS = new Set(["units", "priority", "matches", "log_group_name", "log_stream_name"]);

/**
 * The journalctl arguments AWS's CloudWatch agent runs for one journald collect_list entry, so that the
 * booted host's own journalctl selects what the agent would ship. aws/amazon-cloudwatch-agent,
 * translator/translate/otel/receiver/journald/translator.go, hands `units`, `matches` and `priority`
 * (default "info") to OpenTelemetry's journald input; its journalctl backend (the agent's fork
 * amazon-contributing/opentelemetry-collector-contrib, pkg/stanza/operator/input/journald/config_linux.go,
 * buildArgs and buildMatchesConfig) runs `journalctl --utc --output=json --follow --lines=0 [--unit U]...
 * --priority P` then each match object's `KEY=value` terms (keys sorted), the objects separated by `+`.
 * `--follow --lines=0` are left out: the lab reads a past window. Keys not mapped here (e.g. `filters`, a
 * processor after journalctl) are refused rather than ignored.
 */
export function agentJournalctlArgs(entry: Record<string, unknown>): string[] {
    const unmapped = Object.keys(entry).filter((k) => !MAPPED_JOURNALD_KEYS.has(k));
    if (unmapped.length > 0) throw new Error(`journald keys not mapped to journalctl: ${unmapped.join(", ")}`);
    const units = (entry.units ?? []) as string[];
    const matches = (entry.matches ?? []) as Record<string, string>[];
    const terms = matches.map((m) =>
        Object.keys(m)
            .sort()
            .map((k) => `${k}=${m[k]}`),
    );
    return [
        ...["--utc", "--output=json"],
        ...units.flatMap((u) => ["--unit", u]),
        ...["--priority", (entry.priority as string | undefined) ?? "info"],
        ...terms.flatMap((t, i) => (i > 0 ? ["+", ...t] : t)),
    ];
}

/** One journal entry as `journalctl -o json` prints it, and that line's size in bytes. */
export interface JournalEntry {
    fields: Record<string, unknown>;
    bytes: number;
}

function journalJson(host: LabHostState, args: readonly string[], since: Date, until: Date): JournalEntry[] {
    const window = [`--since=@${Math.floor(since.getTime() / 1000)}`, "--no-pager", "--output=json"];
    const out = labExec(host, "journalctl", [...window, ...args], { timeoutMs: 60_000 }).stdout;
    const untilUs = until.getTime() * 1000;
    return out
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => ({ fields: JSON.parse(l) as Record<string, unknown>, bytes: Buffer.byteLength(l) + 1 }))
        .filter((e) => Number(e.fields.__REALTIME_TIMESTAMP) <= untilUs);
}

/** A host's whole journal in a window, and the part its rendered agent configuration (on its disk) ships. */
export function journalAndShipped(
    host: LabHostState,
    since: Date,
    until: Date,
): { all: JournalEntry[]; shipped: JournalEntry[]; args: string[] } {
    const config = JSON.parse(labExec(host, "cat", [CLOUDWATCH_AGENT_CONFIG_PATH]).stdout) as {
        logs: { logs_collected: { journald: { collect_list: Record<string, unknown>[] } } };
    };
    const list = config.logs.logs_collected.journald.collect_list;
    if (list.length !== 1) throw new Error(`expected one journald collect_list entry, got ${list.length}`);
    const args = agentJournalctlArgs(list[0]!);
    return { all: journalJson(host, [], since, until), shipped: journalJson(host, args, since, until), args };
}
