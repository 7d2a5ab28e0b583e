// The lab's Debian mirror: the packages the root was built from and the signed indices they came
// with (scripts/build-lab-root.sh lays them out as debian/dists/..., debian/pool/...), served over
// HTTP on port 80 from the lab's "internet" namespace, at a documentation address. The hosts' first
// boot (`package_update`, `packages`) reaches it as deb.debian.org, as an instance reaches Debian's
// mirror: the bastion through its Elastic IP, targets through the VPC router's NAT. apt checks
// Debian's own signature on InRelease. Each request is logged with its client's address.
//
// Run as a program: `mirror.ts <tree> <address>...` serves until killed and prints "listening" once
// every address is bound.
import { spawn } from "node:child_process";
import { closeSync, createReadStream, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { join, normalize, sep } from "node:path";
import { WaitAborted, pidAlive, waitFor } from "./exec";

const PORT = 80;

/** The file under `tree` a request path names, or undefined (outside the tree, or not a file). */
export function mirrorFile(tree: string, urlPath: string): string | undefined {
    let decoded: string;
    try {
        decoded = decodeURIComponent(urlPath.split("?")[0]);
    } catch {
        return undefined;
    }
    const rel = normalize(decoded).replace(/^\/+/, "");
    if (rel.startsWith("..") || rel.split(sep).includes("..")) return undefined;
    const file = join(tree, rel);
    try {
        return statSync(file).isFile() ? file : undefined;
    } catch {
        return undefined;
    }
}

function handle(tree: string, req: IncomingMessage, res: ServerResponse): void {
    const file = req.method === "GET" || req.method === "HEAD" ? mirrorFile(tree, req.url ?? "/") : undefined;
    console.log(`${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} ${req.url} ${file ? 200 : 404}`);
    if (!file) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not in the lab mirror\n");
        return;
    }
    const st = statSync(file);
    res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": st.size,
        "last-modified": st.mtime.toUTCString(),
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
}

/** Serves `tree` on port 80 of every address; resolves once all are bound. */
export async function serveMirror(tree: string, addresses: readonly string[]): Promise<void> {
    await Promise.all(
        addresses.map(
            (addr) =>
                new Promise<void>((resolve, reject) => {
                    const server = createServer((req, res) => handle(tree, req, res));
                    server.once("error", reject);
                    server.listen(PORT, addr, () => resolve());
                }),
        ),
    );
    console.log(`listening on ${addresses.map((a) => `${a}:${PORT}`).join(" ")}`);
}

export interface MirrorOptions {
    /** Namespace to serve in (the lab's inet namespace). */
    ns: string;
    tree: string;
    addresses: string[];
    /** The server's request log. */
    logFile: string;
}

/** Starts the mirror in `ns` as its own process; resolves with its pid once it listens. */
export async function startMirror(o: MirrorOptions): Promise<number> {
    if (!existsSync(join(o.tree, "debian", "dists"))) throw new Error(`${o.tree} holds no Debian mirror`);
    const ts = join(__dirname, "mirror.ts");
    const node = existsSync(ts)
        ? [process.execPath, "-r", createRequire(__filename).resolve("tsx/cjs"), ts]
        : [process.execPath, join(__dirname, "mirror.js")];
    const out = openSync(o.logFile, "a", 0o600);
    const child = spawn("ip", ["netns", "exec", o.ns, ...node, o.tree, ...o.addresses], {
        detached: true,
        stdio: ["ignore", out, out],
    });
    closeSync(out);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start the lab mirror in ${o.ns}`);
    await waitFor(`the lab mirror in ${o.ns}`, 15_000, () => {
        const log = existsSync(o.logFile) ? readFileSync(o.logFile, "utf8") : "";
        if (!pidAlive(pid)) throw new WaitAborted(`the lab mirror exited:\n${log}`);
        return /^listening on /m.test(log);
    });
    return pid;
}

if (require.main === module) {
    const [tree, ...addresses] = process.argv.slice(2);
    if (!tree || addresses.length === 0) {
        console.error("usage: mirror.ts <tree> <address>...");
        process.exit(2);
    }
    serveMirror(tree, addresses).catch((err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    });
}
