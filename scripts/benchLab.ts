// `npm run bench -- lab`: stands a one-target lab up and measures, side by side in one run, what an
// operator feels: connect-and-run time through the bastion (cold, with the multiplexed bastion hop
// warm, nested, direct to the bastion) and scp throughput per allowed cipher, through the bastion
// versus one hop.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { CIPHERS } from "../components/render/crypto";
import { labPlanForConfig } from "../lab/fromPlan";
import { labDown, labUp, LabState } from "../lab/lab";

const STACK = "bench";
const REPEATS = 9;
const FILE_MIB = 256;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(ns: string, cmd: string, args: string[], okStatus: number[] = [0]): number {
    const start = performance.now();
    const r = spawnSync("ip", ["netns", "exec", ns, cmd, ...args], {
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: process.env.PATH },
    });
    const ms = performance.now() - start;
    if (!okStatus.includes(r.status ?? -1))
        throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
    return ms;
}

export async function benchLab(): Promise<void> {
    if (typeof process.getuid === "function" && process.getuid() !== 0)
        throw new Error("the lab benchmark needs root (network namespaces)");
    const config = {
        "aws:region": "eu-central-1",
        "jumpgate:allowedCidrs": ["203.0.113.0/24"],
        "jumpgate:targets": [{ name: "app-1" }],
    };
    const plan = await labPlanForConfig(STACK, config);
    const dir = mkdtempSync(path.join(tmpdir(), "jg-bench-"));
    const work = mkdtempSync(path.join(tmpdir(), "jg-bench-files-"));
    let state: LabState | undefined;
    try {
        state = (await labUp(plan, dir)).state;
        const s = state;
        const bastion = s.hosts.find((h) => h.role === "bastion")!;
        const target = s.hosts.find((h) => h.role === "target")!;
        const cfg = s.sshConfig;
        const alias = `${STACK}-app-1`;
        const bastionAlias = `${STACK}-bastion`;
        const client = (args: string[], ok?: number[]) => timed(s.clientNs, "ssh", ["-F", cfg, ...args], ok);
        const closeMaster = () =>
            spawnSync("ip", ["netns", "exec", s.clientNs, "ssh", "-F", cfg, "-O", "exit", bastionAlias], {
                stdio: "ignore",
            });
        // One hop from the bastion's own namespace, as a shell on the bastion would run it (the jump user has none).
        const oneHopArgs = [
            "-i",
            s.privateKey,
            "-o",
            `UserKnownHostsFile=${s.knownHosts}`,
            "-o",
            `HostKeyAlias=${alias}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ];
        const fromBastion = (cmd: string, args: string[]) => timed(bastion.ns, cmd, [...oneHopArgs, ...args]);

        const rows: [string, number][] = [];
        const sample = (label: string, run: () => number, before?: () => void) => {
            run(); // warm-up: page cache, first-use costs
            const xs: number[] = [];
            for (let i = 0; i < REPEATS; i++) {
                before?.();
                xs.push(run());
            }
            rows.push([label, median(xs)]);
        };
        sample("ProxyJump, cold (no bastion master)", () => client([alias, "true"]), closeMaster);
        client([alias, "true"]); // leaves the bastion master running (ControlPersist)
        sample("ProxyJump, bastion hop multiplexed (warm)", () => client([alias, "true"]));
        // The jump user's ForceCommand is nologin: the session opens and nologin exits 1.
        sample(
            "direct to the bastion (session, nologin)",
            () => client(["-o", "ControlPath=none", bastionAlias, "true"], [1]),
            closeMaster,
        );
        sample("one hop: bastion namespace -> target", () => fromBastion("ssh", [`ops@${target.privateIp}`, "true"]));
        const direct = rows[2]![1];
        const oneHop = rows[3]![1];
        rows.push(["nested ssh -t bastion ssh target (sum of the two above)", direct + oneHop]);

        console.log(`lab benchmark: ${REPEATS} runs each, median, node ${process.version}`);
        console.log("connect and run `true`                                     ms     x vs warm");
        const warm = rows[1]![1];
        for (const [label, ms] of rows)
            console.log(`  ${label.padEnd(56)} ${ms.toFixed(1).padStart(7)}  ${(ms / warm).toFixed(2).padStart(6)}`);

        // 256 MiB of random data (incompressible), sent to /dev/null on the target.
        const file = path.join(work, "payload.bin");
        const fd = openSync(file, "w", 0o600);
        for (let i = 0; i < FILE_MIB; i++) writeSync(fd, randomBytes(1 << 20));
        closeSync(fd);
        console.log(`scp ${FILE_MIB} MiB, MiB/s (median of 3)          through bastion   one hop   ratio`);
        const throughputs: { cipher: string; through: number; one: number }[] = [];
        for (const cipher of CIPHERS) {
            // Both hops of the ProxyJump use the cipher: a Host * block after the generated ones.
            const cipherCfg = path.join(work, `ssh_config.${cipher}`);
            writeFileSync(cipherCfg, `Include ${cfg}\nHost *\n  Ciphers ${cipher}\n`, { mode: 0o600 });
            const through = median(
                [0, 1, 2].map(() => timed(s.clientNs, "scp", ["-q", "-F", cipherCfg, file, `${alias}:/dev/null`])),
            );
            const one = median(
                [0, 1, 2].map(() =>
                    fromBastion("scp", ["-q", "-c", cipher, file, `ops@${target.privateIp}:/dev/null`]),
                ),
            );
            const t = { cipher, through: FILE_MIB / (through / 1000), one: FILE_MIB / (one / 1000) };
            throughputs.push(t);
            console.log(
                `  ${cipher.padEnd(40)} ${t.through.toFixed(0).padStart(12)} ${t.one.toFixed(0).padStart(9)} ${(t.through / t.one).toFixed(2).padStart(7)}`,
            );
        }
        const best = [...throughputs].sort((a, b) => b.through - a.through);
        console.log(`fastest through the bastion: ${best.map((t) => t.cipher).join(" > ")}`);
    } finally {
        await labDown(STACK, dir);
        rmSync(dir, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
    }
}
