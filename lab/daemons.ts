// Process helpers for the lab's teardown and status: what a process is, stopping a set of them, and
// what nftables holds in a namespace.
import { readFileSync } from "node:fs";
import { pidAlive, runIn, sleep } from "./exec";

/** The command line of `pid` (empty when it is gone). */
export function cmdline(pid: number): string {
    try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
        return "";
    }
}

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL whatever is left. Returns the pids signalled. */
export async function stopPids(pids: readonly number[], timeoutMs = 5_000): Promise<number[]> {
    const signalled: number[] = [];
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGTERM");
            signalled.push(pid);
        } catch {
            // already gone
        }
    }
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
        if (signalled.every((p) => !pidAlive(p))) return signalled;
        await sleep(50);
    }
    for (const pid of signalled) {
        if (!pidAlive(pid)) continue;
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // gone meanwhile
        }
    }
    for (let i = 0; i < 40; i++) {
        if (signalled.every((p) => !pidAlive(p))) break;
        await sleep(50);
    }
    return signalled;
}

/** Whether `nft` in `ns` lists a table `family name`. */
export function nftHasTable(ns: string, family: string, name: string): boolean {
    const res = runIn(ns, "nft", ["list", "tables"], { check: false });
    return res.stdout.split("\n").some((l) => l.trim() === `table ${family} ${name}`);
}
