// Small process helpers for the lab: every command has a timeout, every wait is bounded.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface RunResult {
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Text written to the command's stdin. */
    input?: string;
    /** Kill the command after this long (default 20 s). */
    timeoutMs?: number;
    /** Throw when the command fails (default true). */
    check?: boolean;
    env?: NodeJS.ProcessEnv;
}

/** Runs `cmd args` synchronously and returns its output; throws on failure unless `check: false`. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
    const res = spawnSync(cmd, [...args], {
        input: opts.input,
        timeout: opts.timeoutMs ?? 20_000,
        encoding: "utf8",
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        env: opts.env ?? process.env,
        killSignal: "SIGKILL",
        maxBuffer: 16 * 1024 * 1024,
    });
    const out: RunResult = {
        status: res.status,
        signal: res.signal,
        stdout: res.stdout ?? "",
        stderr: res.stderr ?? "",
    };
    if (res.error && (opts.check ?? true)) {
        throw new Error(`${cmd} ${args.join(" ")}: ${res.error.message}`);
    }
    if ((opts.check ?? true) && out.status !== 0) {
        const why = out.signal ? `killed by ${out.signal}` : `exit ${out.status}`;
        throw new Error(`${cmd} ${args.join(" ")} failed (${why}): ${out.stderr.trim() || out.stdout.trim()}`);
    }
    return out;
}

/** Runs a command inside network namespace `ns` (with that namespace's /etc/netns/<ns> overlay). */
export function runIn(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
    return run("ip", ["netns", "exec", ns, cmd, ...args], opts);
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by a `waitFor` probe to stop waiting at once (e.g. the daemon being waited for exited). */
export class WaitAborted extends Error {}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`, for at most `timeoutMs`.
 * Throws with `what` (and the last probe error, if any) on timeout; a `WaitAborted` from the probe ends it at once.
 */
export async function waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => T | undefined | false,
    intervalMs = 100,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    const maxRounds = Math.ceil(timeoutMs / intervalMs) + 1;
    for (let round = 0; round < maxRounds; round++) {
        try {
            const value = probe();
            if (value !== undefined && value !== false) return value;
        } catch (err) {
            if (err instanceof WaitAborted) throw err;
            lastError = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() >= deadline) break;
        await sleep(intervalMs);
    }
    throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`,
    );
}

/** True when a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z";
    } catch {
        return false;
    }
}
