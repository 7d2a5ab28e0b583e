// Runs a daemon (sshd -D -e) and appends its stderr/stdout to a log file in syslog form, the way
// rsyslog writes /var/log/auth.log:
//   2026-11-20T10:00:01.123456+00:00 bastion sshd[1234]: Invalid user x from 198.51.100.7 port 51234
// fail2ban's sshd filter needs that prefix (sshd -E writes bare messages). sshd -e gives no pid, so
// every connection (remote address + port) gets its own pid-like number, as the real per-connection
// sshd processes would; lines about no connection carry the daemon's pid.
//
// Usage: node -r tsx/cjs lab/logpipe.ts <hostname> <program> <logfile> -- <command> [args...]
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

/** `2026-11-20T10:00:01.123456+00:00` (UTC, microseconds) for `date`. */
export function syslogTimestamp(date: Date): string {
    const iso = date.toISOString(); // 2026-11-20T10:00:01.123Z
    return `${iso.slice(0, 23)}000+00:00`;
}

/** One log line in syslog form. */
export function syslogLine(date: Date, hostname: string, program: string, pid: number, message: string): string {
    return `${syslogTimestamp(date)} ${hostname} ${program}[${pid}]: ${message}`;
}

/** Assigns a stable number per connection (`<ip> port <n>` in the message), else the daemon's pid. */
export class ConnectionPids {
    private readonly byConnection = new Map<string, number>();
    private next: number;

    constructor(private readonly daemonPid: number) {
        this.next = daemonPid + 1;
    }

    pidFor(message: string): number {
        // The peer's "<ip> port <n>"; "… on <ip> port <n>" is a local address (Server listening on …).
        const m = /(?<!\bon )\b(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+) port (\d+)/.exec(message);
        if (!m) return this.daemonPid;
        const key = `${m[1]} ${m[2]}`;
        let pid = this.byConnection.get(key);
        if (pid === undefined) {
            pid = this.next++;
            this.byConnection.set(key, pid);
            // Bounded memory: forget the oldest connections.
            if (this.byConnection.size > 4096) {
                const oldest = this.byConnection.keys().next().value;
                if (oldest !== undefined) this.byConnection.delete(oldest);
            }
        }
        return pid;
    }
}

function main(argv: string[]): void {
    const sep = argv.indexOf("--");
    if (sep !== 3 || argv.length < 5) {
        process.stderr.write("usage: logpipe <hostname> <program> <logfile> -- <command> [args...]\n");
        process.exit(2);
    }
    const [hostname, program, logfile] = argv;
    const [cmd, ...args] = argv.slice(sep + 1);
    const out = createWriteStream(logfile, { flags: "a" });
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const pids = new ConnectionPids(child.pid ?? process.pid);
    for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on("line", (line) => {
            out.write(`${syslogLine(new Date(), hostname, program, pids.pidFor(line), line.trimEnd())}\n`);
        });
    }
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
        process.on(sig, () => child.kill(sig));
    }
    // "close" fires after both pipes are drained, so no line is lost.
    child.on("close", (code, signal) => {
        out.write(
            `${syslogLine(new Date(), hostname, "logpipe", process.pid, `${program} exited (${signal ?? code})`)}\n`,
            () => process.exit(code ?? 1),
        );
    });
}

if (require.main === module) main(process.argv.slice(2));
