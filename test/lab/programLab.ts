// What the lab tests of a user's own program share: the operator's machine (the stack's outputs installed
// by jumpgate-ssh into a home of its own, run from the client namespace), the fingerprint cloud-init printed
// to a host's console, and TCP probes from inside booted hosts.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runIn, type RunResult } from "../../lab/exec";
import { labExec, type LabHostState, type LabState } from "../../lab/lab";
import { BIN } from "../cli/home";

/** The ED25519 fingerprint in cloud-init's console lines (`256 SHA256:... comment (ED25519)`). */
export function consoleEd25519Fingerprint(text: string): string {
    const m = /(SHA256:[A-Za-z0-9+/]{43}) .*\(ED25519\)/.exec(text);
    if (!m) throw new Error(`no ED25519 fingerprint in the console output:\n${text}`);
    return m[1]!;
}

/** A TCP connection from inside a booted host: `open`, `refused` (RST) or `dropped` (no answer in 5 s). */
export function tcpFrom(from: LabHostState, ip: string, port: number): string {
    const r = labExec(from, "bash", ["-c", `exec 3<>/dev/tcp/${ip}/${port}`], { check: false, timeoutMs: 5_000 });
    if (r.status === 0) return "open";
    return r.signal ? "dropped" : /refused/i.test(r.stderr) ? "refused" : `other: ${r.stderr}`;
}

/** The environment without an agent: only the keys the configs name are offered. */
export function cleanSshEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    delete env.SSH_AGENT_PID;
    return env;
}

export interface OperatorMachine {
    /** `npx jumpgate-ssh ...` as the operator. */
    jumpgateSsh: (...args: string[]) => RunResult;
    /** `ssh <alias>` printing the host's name and the login user, with the installed config, answer lines. */
    whoami: (alias: string) => RunResult & { lines: string[] };
}

/**
 * The operator's machine at the client's address: a home of its own in `scratch` with the operator's key,
 * where `jumpgate-ssh install --from` the lab's outputs installs the stack's client config.
 */
export function operatorMachine(state: LabState, scratch: string, privateKey: string): OperatorMachine {
    const home = join(scratch, "home");
    mkdirSync(home, { mode: 0o700 });
    const key = join(scratch, "operator_ed25519");
    writeFileSync(key, privateKey, { mode: 0o600 });
    const env = cleanSshEnv();
    const asOperator = (cmd: string, args: string[]) =>
        runIn(state.clientNs, "env", [`HOME=${home}`, cmd, ...args], { check: false, timeoutMs: 60_000, env });
    const jumpgateSsh = (...args: string[]) => asOperator(process.execPath, [BIN, ...args]);
    const install = jumpgateSsh("install", "--from", state.outputsFile!, "--identity", key);
    if (install.status !== 0) throw new Error(`jumpgate-ssh install failed: ${install.stderr}`);
    const whoami = (alias: string) => {
        const r = asOperator("ssh", [
            "-F",
            join(home, ".ssh", "config"),
            "-o",
            "BatchMode=yes",
            alias,
            "cat /proc/sys/kernel/hostname; id -un",
        ]);
        return { ...r, lines: r.stdout.trim().split("\n") };
    };
    return { jumpgateSsh, whoami };
}
