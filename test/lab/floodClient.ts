// A pre-authentication flood, run by `node` inside the lab's hostile namespace (see flood.e2e.test.ts):
// from each source address it holds HELD_PER_SOURCE TCP connections to the bastion's sshd without ever
// sending an SSH banner (each one occupies a pre-auth slot until LoginGraceTime), reopening any that close
// after a short pause, so refused connects are repeated too. Bounded: it stops by itself after the duration.
// Usage: node floodClient.js <dest-ip> <port> <duration-ms> <held-per-source> <source-ip>...
import { Socket } from "node:net";

interface SourceStats {
    connects: number;
    banners: number;
    closedBeforeBanner: number;
}

const [dest = "", portText = "22", durationText = "60000", heldText = "8", ...sources] = process.argv.slice(2);
const port = Number(portText);
const deadline = Date.now() + Number(durationText);
const held = Number(heldText);
const open = new Set<Socket>();
const stats: Record<string, SourceStats> = {};

function hold(source: string): void {
    if (Date.now() >= deadline) return;
    const s = stats[source];
    s.connects++;
    const sock = new Socket();
    let banner = false;
    open.add(sock);
    sock.on("data", (d: Buffer) => {
        if (!banner && d.toString().includes("SSH-2.0")) {
            banner = true;
            s.banners++;
        }
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
        open.delete(sock);
        if (!banner) s.closedBeforeBanner++;
        setTimeout(() => hold(source), 250);
    });
    sock.connect({ host: dest, port, localAddress: source });
}

for (const source of sources) {
    stats[source] = { connects: 0, banners: 0, closedBeforeBanner: 0 };
    for (let i = 0; i < held; i++) hold(source);
}
setTimeout(() => {
    for (const sock of open) sock.destroy();
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    process.exit(0);
}, deadline - Date.now());
