// Real-tool tests must fail, not skip, in CI when a tool is missing; on a developer's machine
// without the tool they are reported as skipped so the rest of the suite still runs.
import { execFileSync } from "node:child_process";

export const inCi = process.env.CI === "true";

/** True when `name` is an executable on PATH (or an absolute path that exists). */
export function hasTool(name: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

/**
 * Decides whether a suite that needs `tools` runs. In CI a missing tool throws, which fails the
 * suite; elsewhere the caller skips.
 */
export function toolsAvailable(...tools: string[]): boolean {
    const missing = tools.filter((t) => !hasTool(t));
    if (missing.length === 0) return true;
    if (inCi) {
        throw new Error(`CI=true and required tool(s) missing: ${missing.join(", ")} (install them in .ci/run)`);
    }
    return false;
}

/** True when running as root (namespaces, nft, per-host sshd). In CI not being root is a failure. */
export function isRootOrFail(): boolean {
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    if (!root && inCi) throw new Error("CI=true but not running as root; the lab tests need root");
    return root;
}
