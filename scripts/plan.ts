// `npm run plan [-- --stack dev] [--show-secrets]`: runs the program offline against a simulated AWS
// and prints what it would build. Not `pulumi preview`: no AWS account and no Pulumi CLI involved.
import { parseArgs } from "node:util";
import { readStackConfig, runOffline } from "../offline/run";
import { renderImages, renderOutputs, renderTree } from "../offline/tree";

// The Pulumi runtime records a stack trace for every internal promise; mapping each through source
// maps made large plans superlinear (500 targets: 23 s with, 12 s without, measured by npm run bench).
process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "dev" },
            "show-secrets": { type: "boolean", default: false },
            json: { type: "boolean", default: false },
        },
    });
    const stack = values.stack!;
    const run = await runOffline({ stack, config: readStackConfig(stack) });
    if (values.json) {
        const outputs = Object.fromEntries(
            Object.entries(run.outputs).map(([k, v]) => [
                k,
                run.secretOutputs.includes(k) && !values["show-secrets"] ? "[secret]" : v,
            ]),
        );
        process.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
        return;
    }
    const custom = run.resources.filter((r) => r.custom && r.type !== "pulumi:pulumi:Stack").length;
    process.stdout.write(
        [
            `jumpgate offline plan: stack ${stack}, region ${run.region}`,
            "Simulated AWS under Pulumi's mock runtime; this is not `pulumi preview` (no account, no CLI).",
            "",
            `Resources: ${custom} to create, in ${run.resources.length - custom - 1} components`,
            renderTree(run),
            "",
            "Images (what each host boots, and why):",
            renderImages(run),
            "",
            "Outputs:",
            renderOutputs(run, values["show-secrets"]!),
            "",
        ].join("\n"),
    );
}

main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
