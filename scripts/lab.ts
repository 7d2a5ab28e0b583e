// `npm run lab -- up|down|status [--stack dev]`: boots the stack's hosts on this machine (Debian 13
// under systemd-nspawn, one network namespace each, configured by cloud-init from their rendered user
// data; nftables security groups) from the program's offline plan, with the operator's files in `.lab/`.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { labPlanForStack } from "../lab/fromPlan";
import { labDown, labStatus, labUp, readLabState } from "../lab/lab";

// See scripts/plan.ts: the runtime's per-promise stack traces are slow to map through source maps.
process.setSourceMapsEnabled(false);

const LAB_DIR = path.resolve(process.cwd(), ".lab");
const USAGE = "usage: npm run lab -- up|down|status [--stack <name>]   (as root: namespaces need it)";

async function main(): Promise<void> {
    const { positionals, values } = parseArgs({
        allowPositionals: true,
        options: { stack: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    const command = positionals[0];
    if (values.help || !command || !["up", "down", "status"].includes(command)) {
        console.log(USAGE);
        process.exitCode = values.help ? 0 : 2;
        return;
    }
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
        throw new Error(
            `the lab creates network namespaces and boots systems: run it as root (sudo npm run lab -- ${command}); without root, npm run plan shows the same plan`,
        );
    }
    // down and status default to the stack that is up.
    const stack = values.stack ?? (command === "up" ? "dev" : (readLabState(LAB_DIR)?.stack ?? "dev"));
    if (command === "up") {
        const plan = await labPlanForStack(stack);
        await labUp(plan, LAB_DIR, { log: (line) => console.log(line) });
    } else if (command === "down") {
        const down = await labDown(stack, LAB_DIR);
        console.log(
            `lab '${stack}' is down: removed ${down.namespaces.length} namespaces, stopped ${down.pids.length} processes, ${down.removed.length} files and folders (${down.durationMs} ms)`,
        );
    } else {
        const status = await labStatus(stack, LAB_DIR);
        console.log(status.text);
        process.exitCode = status.up ? 0 : 3;
    }
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
});
