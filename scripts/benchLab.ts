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

/**
 * The lab root's own OpenSSH client (Debian 13's 10.0), run on this machine's paths: a wrapper that starts
 * the root's /usr/bin/ssh through the root's own loader and libraries (no chroot, so the lab's config, keys
 * and control sockets stay where they are).
 */
function openssh10Client(rootDir: string, work: string): string {
    const loader = path.join(rootDir, "usr/lib64/ld-linux-x86-64.so.2");
    const libs = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"].map((d) => path.join(rootDir, d)).join(":");
    const wrapper = path.join(work, "ssh-openssh10");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${loader} --library-path ${libs} ${rootDir}/usr/bin/ssh "$@"\n`, {
        mode: 0o755,
    });
    const v = spawnSync(wrapper, ["-V"], { encoding: "utf8" });
    if (!/OpenSSH_10/.test(v.stderr)) throw new Error(`the lab root's ssh did not start: ${v.stderr.trim()}`);
    return wrapper;
}

interface BenchClient {
    label: string;
    ssh: string;
    /** Options that make the client use itself for the bastion leg too (ProxyJump would exec plain `ssh`). */
    viaBastion: string[];
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
        const up = await labUp(plan, dir);
        state = up.state;
        const s = state;
        console.log(`lab up (bastion + 1 target, booted Debian 13): ${(up.durationMs / 1000).toFixed(1)} s`);
        const { cfg, alias, target } = names(s);
        const fromBastion = fromBastionOf(s);
        const ssh10 = openssh10Client(s.rootDir, work);
        const clients: BenchClient[] = [
            { label: `this machine's ${sshVersion("ssh")}`, ssh: "ssh", viaBastion: [] },
            {
                label: `lab root's ${sshVersion(ssh10)}`,
                ssh: ssh10,
                viaBastion: ["-o", `ProxyCommand=${ssh10} -F ${s.sshConfig} -W [%h]:%p ${STACK}-bastion`],
            },
        ];
        for (const c of clients) benchConnect(s, c);

        // 256 MiB of random data (incompressible), sent to /dev/null on the target.
        const file = path.join(work, "payload.bin");
        const fd = openSync(file, "w", 0o600);
        for (let i = 0; i < FILE_MIB; i++) writeSync(fd, randomBytes(1 << 20));
        closeSync(fd);
        console.log(
            `scp ${FILE_MIB} MiB, MiB/s (median of 3)          through bastion (9.2 / 10.0 client)   one hop   ratio (9.2)`,
        );
        const throughputs: { cipher: string; through: number; through10: number; one: number }[] = [];
        for (const cipher of CIPHERS) {
            // Both hops of the ProxyJump use the cipher: a Host * block after the generated ones.
            const cipherCfg = path.join(work, `ssh_config.${cipher}`);
            writeFileSync(cipherCfg, `Include ${cfg}\nHost *\n  Ciphers ${cipher}\n`, { mode: 0o600 });
            const through = median(
                [0, 1, 2].map(() => timed(s.clientNs, "scp", ["-q", "-F", cipherCfg, file, `${alias}:/dev/null`])),
            );
            const ssh10Args = ["-S", ssh10, "-o", `ProxyCommand=${ssh10} -F ${cipherCfg} -W [%h]:%p ${STACK}-bastion`];
            const through10 = median(
                [0, 1, 2].map(() =>
                    timed(s.clientNs, "scp", ["-q", "-F", cipherCfg, ...ssh10Args, file, `${alias}:/dev/null`]),
                ),
            );
            const one = median(
                [0, 1, 2].map(() =>
                    fromBastion("scp", ["-q", "-c", cipher, file, `ops@${target.privateIp}:/dev/null`]),
                ),
            );
            const t = {
                cipher,
                through: FILE_MIB / (through / 1000),
                through10: FILE_MIB / (through10 / 1000),
                one: FILE_MIB / (one / 1000),
            };
            throughputs.push(t);
            console.log(
                `  ${cipher.padEnd(40)} ${t.through.toFixed(0).padStart(12)} ${t.through10.toFixed(0).padStart(13)} ${t.one.toFixed(0).padStart(9)} ${(t.through / t.one).toFixed(2).padStart(7)}`,
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

function sshVersion(ssh: string): string {
    const v = spawnSync(ssh, ["-V"], { encoding: "utf8" });
    return /OpenSSH_[^ ,]+/.exec(v.stderr)?.[0] ?? "ssh (unknown version)";
}

/** The lab's files and aliases the benchmark uses. */
function names(s: LabState) {
    return {
        cfg: s.sshConfig,
        alias: `${STACK}-app-1`,
        bastionAlias: `${STACK}-bastion`,
        bastion: s.hosts.find((h) => h.role === "bastion")!,
        target: s.hosts.find((h) => h.role === "target")!,
    };
}

/** One hop from the bastion's own namespace, as a shell on the bastion would run it (the jump user has none). */
function fromBastionOf(s: LabState): (cmd: string, args: string[]) => number {
    const { alias, bastion } = names(s);
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
    return (cmd, args) => timed(bastion.ns, cmd, [...oneHopArgs, ...args]);
}

/** Connect-and-run times through the bastion for one client, printed as a table. */
function benchConnect(s: LabState, c: BenchClient): void {
    const client = (args: string[], ok?: number[]) =>
        timed(s.clientNs, c.ssh, ["-F", cfg, ...(args.includes(alias) ? c.viaBastion : []), ...args], ok);
    const closeMaster = () =>
        spawnSync("ip", ["netns", "exec", s.clientNs, c.ssh, "-F", cfg, "-O", "exit", bastionAlias], {
            stdio: "ignore",
        });
    const { cfg, alias, bastionAlias, target } = names(s);
    const fromBastion = fromBastionOf(s);

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
    sample("one hop: bastion namespace -> target", () => fromBastion(c.ssh, [`ops@${target.privateIp}`, "true"]));
    const direct = rows[2]![1];
    const oneHop = rows[3]![1];
    rows.push(["nested ssh -t bastion ssh target (sum of the two above)", direct + oneHop]);

    console.log(`lab benchmark, client ${c.label}: ${REPEATS} runs each, median, node ${process.version}`);
    console.log("connect and run `true`                                     ms     x vs warm");
    const warm = rows[1]![1];
    for (const [label, ms] of rows)
        console.log(`  ${label.padEnd(56)} ${ms.toFixed(1).padStart(7)}  ${(ms / warm).toFixed(2).padStart(6)}`);
}
