// `npm run lab -- up|down|status [--stack dev] [--program <dir>]`, `npm run lab -- console <host>`: boots the stack's hosts on this machine (Debian 13
// under systemd-nspawn, one network namespace each, configured by cloud-init from their rendered user
// data; nftables security groups) from the program's offline plan, with the operator's files in `.lab/`.
// With --program, any Pulumi program that uses the Jumpgate component (its own instances boot too);
// `console` prints the host keys a host's cloud-init wrote to its console, as `aws ec2 get-console-output`.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { labPlanForProgram, labPlanForStack } from "../lab/fromPlan";
import { labConsoleHostKeys, labDown, labStatus, labUp, readLabState } from "../lab/lab";

// See scripts/plan.ts: the runtime's per-promise stack traces are slow to map through source maps.
process.setSourceMapsEnabled(false);

const LAB_DIR = path.resolve(process.cwd(), ".lab");
const USAGE = [
    "usage: npm run lab -- up|down|status [--stack <name>] [--program <dir> [--identity <operator key>]]   (as root)",
    "       npm run lab -- console <host> [--stack <name>]   (the host keys its first boot printed to the console)",
].join("\n");

async function main(): Promise<void> {
    const { positionals, values } = parseArgs({
        allowPositionals: true,
        options: {
            stack: { type: "string" },
            program: { type: "string" },
            identity: { type: "string" },
            help: { type: "boolean", short: "h" },
        },
    });
    const command = positionals[0];
    if (values.help || !command || !["up", "down", "status", "console"].includes(command)) {
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
        const plan =
            values.program === undefined
                ? await labPlanForStack(stack)
                : await labPlanForProgram(values.program, stack, {
                      ...(values.identity === undefined
                          ? {}
                          : { operatorPrivateKey: readFileSync(values.identity, "utf8") }),
                  });
        await labUp(plan, LAB_DIR, { log: (line) => console.log(line) });
    } else if (command === "console") {
        const state = readLabState(LAB_DIR);
        const host = state?.stack === stack ? state.hosts.find((h) => h.name === positionals[1]) : undefined;
        if (!host)
            throw new Error(
                `no host '${positionals[1] ?? ""}' in lab '${stack}' (npm run lab -- status --stack ${stack})`,
            );
        console.log(labConsoleHostKeys(host));
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
