// `npm run bench [-- plan]`: how long the offline plan takes as targets grow, measured side by side in
// one process (median of several runs after a warm-up), with the ratio to the 1-target plan.
import { performance } from "node:perf_hooks";
import { runOffline } from "../offline/run";
import { benchLab } from "./benchLab";

/** Up to 400: one bastion's user data lists every target (gzipped past 16 KiB, about 1,045 fit). */
const SIZES = [1, 10, 100, 400];

async function planOnce(targets: number): Promise<{ ms: number; resources: number }> {
    const config = {
        "aws:region": "eu-central-1",
        "jumpgate:allowedCidrs": ["203.0.113.0/24"],
        "jumpgate:targets": Array.from({ length: targets }, (_, i) => ({ name: `app-${i + 1}` })),
    };
    const start = performance.now();
    const run = await runOffline({ stack: "bench", config });
    return { ms: performance.now() - start, resources: run.resources.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchPlan(): Promise<void> {
    await planOnce(1); // warm-up: module loading and JIT
    const rows: { targets: number; resources: number; ms: number }[] = [];
    for (const targets of SIZES) {
        const repeats = targets >= 400 ? 3 : targets >= 100 ? 5 : 9;
        const samples: number[] = [];
        let resources = 0;
        for (let i = 0; i < repeats; i++) {
            const r = await planOnce(targets);
            samples.push(r.ms);
            resources = r.resources;
        }
        rows.push({ targets, resources, ms: median(samples) });
    }
    const base = rows[0]!;
    console.log("offline plan time (median), one process, node " + process.version);
    console.log("targets  resources  ms        ms/target  x vs 1 target");
    for (const r of rows) {
        console.log(
            `${String(r.targets).padStart(7)}  ${String(r.resources).padStart(9)}  ${r.ms.toFixed(1).padStart(8)}  ${(r.ms / r.targets).toFixed(2).padStart(9)}  ${(r.ms / base.ms).toFixed(1).padStart(13)}`,
        );
    }
    const [, ten, hundred, largest] = rows;
    console.log(
        `growth 10->100 targets: x${(hundred!.ms / ten!.ms).toFixed(1)}, 100->${largest!.targets}: x${(largest!.ms / hundred!.ms).toFixed(1)} (linear would be x10 and x${largest!.targets / 100})`,
    );
}

// The Pulumi runtime records a stack trace for every internal promise; mapping each through source
// maps made large plans superlinear (500 targets: 23 s with, 12 s without, measured by npm run bench).
process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
    const what = process.argv[2] ?? "plan";
    if (what === "plan") return benchPlan();
    if (what === "lab") return benchLab();
    throw new Error(`unknown benchmark ${what}; available: plan, lab`);
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
});
