// The lab's plan for its tests: the real program run offline (as `npm run lab` does), with fresh
// random ED25519 keys, so the hosts boot exactly the cloud-config documents `pulumi up` would send.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labPlanForConfig } from "../../lab/fromPlan";
import type { LabPlan } from "../../lab/model";
import { listNamespaces } from "../../lab/netns";
import { BASE_CONFIG } from "./program";

export interface KeyPair {
    publicKey: string;
    privateKey: string;
}

/** A fresh ED25519 key pair from ssh-keygen (for impostor keys). */
export function sshKeygen(comment: string): KeyPair {
    const dir = mkdtempSync(join(tmpdir(), "jg-key-"));
    try {
        const file = join(dir, "key");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
        return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export interface LabPlanOptions {
    /** Stack name (default `e2e`; short, so namespace names stay readable). */
    stack?: string;
    /** fail2banMaxRetry (default 3, so the ban test is quick). */
    maxRetry?: number;
    /** Extra stack config (`jumpgate:key` → value). */
    config?: Record<string, unknown>;
}

/** The program's plan for a bastion and two targets (app-1, db-1) in two private subnets, as a LabPlan. */
export async function programLabPlan(opts: LabPlanOptions = {}): Promise<LabPlan> {
    const config = {
        ...BASE_CONFIG,
        "jumpgate:targets": [{ name: "app-1" }, { name: "db-1" }],
        "jumpgate:fail2banMaxRetry": opts.maxRetry ?? 3,
        ...opts.config,
    };
    return labPlanForConfig(opts.stack ?? "e2e", config);
}

/**
 * What a stack's lab left on this machine: namespaces, /etc/netns entries and the lab dir. Suites call
 * it in afterAll, after their own `labDown`, and throw on anything left, so a failed test cannot leave
 * state behind that fails the next one.
 */
export function labLeftovers(stack: string, dir: string): string[] {
    const prefix = `jg-${stack}-`;
    const netnsEtc = existsSync("/etc/netns") ? readdirSync("/etc/netns") : [];
    return [
        ...listNamespaces()
            .filter((n) => n.startsWith(prefix))
            .map((n) => `namespace ${n}`),
        ...netnsEtc.filter((n) => n.startsWith(prefix)).map((n) => `/etc/netns/${n}`),
        ...(dir && existsSync(dir) ? [`lab dir ${dir}`] : []),
    ];
}
