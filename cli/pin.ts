// `npx jumpgate-ssh pin <alias> --fingerprint SHA256:...`: pins an existing host's key that the stack
// does not know. The key is fetched through the (pinned) bastion chain of the installed config, and
// written only when its fingerprint is the one the operator got out of band (the host's team, or
// cloud-init's console lines); anything else writes nothing. The line goes to the stack's pinned-hosts
// file, which the host's entry lists and `install` never overwrites.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, chmodSync } from "node:fs";
import { connect, createServer } from "node:net";
import { resolve } from "node:path";
import { installedStacks } from "./doctor";
import { lstatOrUndefined, readIfExists } from "./fsplan";
import { installPaths, Manifest } from "./install";
import { DashGResult } from "./openssh";
import { CliError } from "./outputs";

/** An OpenSSH SHA256 fingerprint, as `ssh-keygen -l` and cloud-init print it. */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export interface PinOptions {
    alias: string;
    fingerprint: string;
    home: string;
    passwdHome: string;
    /** `ssh -G` of an alias against the installed config (cli/openssh.ts sshDashG). */
    dashG: (alias: string, config?: string) => DashGResult;
    out: (s: string) => void;
}

/** One key the host presented: its known_hosts fields and its fingerprint. */
interface PresentedKey {
    type: string;
    blob: string;
    fingerprint: string;
    /** `ssh-keygen -l`'s key kind, e.g. ED25519. */
    kind: string;
}

export async function runPin(opts: PinOptions): Promise<number> {
    if (!FINGERPRINT.test(opts.fingerprint)) {
        throw new CliError(
            `--fingerprint ${JSON.stringify(opts.fingerprint)} is not a SHA256 fingerprint (SHA256: and 43 base64 characters, as ssh-keygen -l prints it)`,
            2,
        );
    }
    const home = resolve(opts.home);
    const stack = stackOf(home, opts.alias);
    const paths = installPaths(home, stack);
    const config = home !== resolve(opts.passwdHome) ? paths.userConfig : undefined;
    const g = opts.dashG(opts.alias, config);
    if (!g.ok) throw new CliError(`ssh -G ${opts.alias} failed: ${g.stderr}`);
    const one = (k: string) => g.values.get(k)?.[0] ?? "";
    if (!one("userknownhostsfile").split(" ").includes(paths.pinnedHosts)) {
        throw new CliError(`${opts.alias} is not an unpinned existing host: the stack pins its key already`);
    }
    const alias = one("hostkeyalias") || opts.alias;
    const target = { host: one("hostname"), port: Number(one("port")) };
    const pinned = pinnedLine(paths.pinnedHosts, alias);
    const keys = await keysThroughBastion(lastHop(g, opts.alias), target, config);
    const match = keys.find((k) => k.fingerprint === opts.fingerprint);
    const where = `${target.host}:${target.port}`;
    if (!match) {
        const seen = keys.map((k) => `${k.fingerprint} (${k.kind})`).join(", ") || "no key";
        throw new CliError(
            `refusing to pin ${opts.alias}: the host at ${where} presents ${seen}, not ${opts.fingerprint}. Nothing was written. ` +
                "Check the fingerprint you were given; if it is right, something other than the host answers at that address.",
        );
    }
    const line = `${alias} ${match.type} ${match.blob}`;
    if (pinned !== undefined) {
        if (pinned === line) {
            opts.out(
                `${opts.alias} is already pinned to ${match.fingerprint} in ${paths.pinnedHosts}; nothing changed\n`,
            );
            return 0;
        }
        throw new CliError(
            `${paths.pinnedHosts} already pins another key for ${alias}; remove that line first if the host's key really changed`,
        );
    }
    const existed = lstatOrUndefined(paths.pinnedHosts) !== undefined;
    appendFileSync(paths.pinnedHosts, `${line}\n`, { mode: 0o600 });
    if (!existed) chmodSync(paths.pinnedHosts, 0o600);
    opts.out(
        `pinned ${opts.alias}: ${match.fingerprint} (${match.kind}) in ${paths.pinnedHosts}\nTry: ssh ${opts.alias}\n`,
    );
    return 0;
}

/** The installed stack whose config has `alias` (from the manifests install writes). */
function stackOf(home: string, alias: string): string {
    const stacks = installedStacks(home).filter((stack) => {
        const text = readIfExists(installPaths(home, stack).manifest);
        return text !== undefined && (JSON.parse(text) as Manifest).hosts.includes(alias);
    });
    if (stacks.length !== 1)
        throw new CliError(
            stacks.length === 0
                ? `no installed jumpgate stack has a host ${alias}; install the stack first (npx jumpgate-ssh install --stack <stack>)`
                : `several installed stacks have a host ${alias} (${stacks.join(", ")})`,
        );
    return stacks[0]!;
}

/** The line already pinned for `alias` in the operator's file, if any. */
function pinnedLine(file: string, alias: string): string | undefined {
    return (readIfExists(file) ?? "")
        .split("\n")
        .find((l) => l.split(" ")[0] === alias)
        ?.trim();
}

/** The last hop the entry jumps through: ProxyJump's last host, or the one ProxyCommand's ssh -W goes to. */
function lastHop(g: DashGResult, alias: string): string {
    const jump = g.values.get("proxyjump")?.[0];
    const command = g.values.get("proxycommand")?.[0];
    const hop = jump ? jump.split(",").pop() : /^ssh (?:-F \S+ )?-W \S+ (\S+)$/.exec(command ?? "")?.[1];
    if (!hop) throw new CliError(`${alias} jumps through no bastion in the installed config`);
    return hop;
}

/**
 * Opens a local forward through the last hop (the installed config pins it and logs in), and asks the
 * host for its keys with ssh-keyscan. No login is attempted on the host itself.
 */
async function keysThroughBastion(
    hop: string,
    target: { host: string; port: number },
    config: string | undefined,
): Promise<PresentedKey[]> {
    const port = await freeLocalPort();
    const forward = spawn(
        "ssh",
        [
            ...(config ? ["-F", config] : []),
            ...["-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes"],
            // A forward of its own, not one added to a multiplexed master that outlives this command.
            ...["-o", "ControlMaster=no", "-o", "ControlPath=none"],
            ...["-L", `127.0.0.1:${port}:${target.host}:${target.port}`, hop],
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    forward.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
        await listening(port, forward, () => stderr);
        const scan = spawnSync("ssh-keyscan", ["-T", "10", "-p", String(port), "127.0.0.1"], {
            encoding: "utf8",
            timeout: 60_000,
        });
        return (scan.stdout ?? "")
            .split("\n")
            .filter((l) => l.trim() !== "" && !l.startsWith("#"))
            .map(presentedKey);
    } finally {
        forward.kill("SIGTERM");
    }
}

/** A keyscan line (`[127.0.0.1]:port type blob`) with its fingerprint, as ssh-keygen computes it. */
function presentedKey(line: string): PresentedKey {
    const [, type = "", blob = ""] = line.trim().split(/\s+/);
    const r = spawnSync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], {
        input: `${type} ${blob}\n`,
        encoding: "utf8",
    });
    const m = /^\d+ (SHA256:\S+) .*\((\S+)\)$/.exec((r.stdout ?? "").trim());
    if (r.status !== 0 || !m) throw new CliError(`ssh-keygen could not read the key the host presented: ${r.stderr}`);
    return { type, blob, fingerprint: m[1]!, kind: m[2]! };
}

function freeLocalPort(): Promise<number> {
    return new Promise((res, rej) => {
        const s = createServer();
        s.once("error", rej);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as { port: number }).port;
            s.close(() => res(port));
        });
    });
}

/** Waits until ssh listens on the forward (after it logged in to the hop); fails when ssh gives up. */
async function listening(port: number, ssh: ChildProcess, stderr: () => string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        if (ssh.exitCode !== null)
            throw new CliError(
                `could not open a forward through the bastion: ${stderr().trim() || `ssh exited ${ssh.exitCode}`}`,
            );
        if (await canConnect(port)) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new CliError(`the forward through the bastion did not open within 30 s: ${stderr().trim()}`);
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((res) => {
        const c = connect({ host: "127.0.0.1", port, timeout: 500 });
        c.once("connect", () => (c.destroy(), res(true)));
        c.once("error", () => res(false));
        c.once("timeout", () => (c.destroy(), res(false)));
    });
}
