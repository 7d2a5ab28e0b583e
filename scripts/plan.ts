// `npm run plan [-- --stack dev] [--program examples/awsx-vpc] [--show-secrets] [--json] [--save plan.json]
// [--compare plan.json]`: runs the program (the standalone one, or the Pulumi program in a directory, with
// that project's Pulumi.<stack>.yaml) offline against a simulated AWS and prints what it would build and
// cost, or how it differs from a plan saved earlier. Not `pulumi preview`: no AWS account, no Pulumi CLI.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { comparePlans } from "../offline/compare";
import { renderComparison } from "../offline/compareReport";
import { estimateCost } from "../offline/cost";
import { renderCost } from "../offline/costReport";
import { readSavedPlan, toSavedPlan } from "../offline/planFile";
import { resolveProgramDir, runEntry } from "../offline/programDir";
import { OfflineRun, PROJECT, readStackConfig, runOffline } from "../offline/run";
import { renderImages, renderOutputs, renderTree } from "../offline/tree";

// The Pulumi runtime records a stack trace for every internal promise; mapping each through source
// maps made large plans superlinear (500 targets: 23 s with, 12 s without, measured by npm run bench).
process.setSourceMapsEnabled(false);

function renderPlan(run: OfflineRun, showSecrets: boolean, project: string): string {
    const custom = run.resources.filter((r) => r.custom && r.type !== "pulumi:pulumi:Stack").length;
    return [
        `jumpgate offline plan: ${project === PROJECT ? "" : `project ${project}, `}stack ${run.stack}, region ${run.region}`,
        "Simulated AWS under Pulumi's mock runtime; this is not `pulumi preview` (no account, no CLI).",
        "",
        `Resources: ${custom} to create, in ${run.resources.length - custom - 1} components`,
        renderTree(run),
        "",
        "Images (what each host boots, and why):",
        renderImages(run),
        "",
        "Outputs:",
        renderOutputs(run, showSecrets),
        "",
        renderCost(estimateCost(run)),
        "",
    ].join("\n");
}

function renderJson(run: OfflineRun, showSecrets: boolean): string {
    const outputs = Object.fromEntries(
        Object.entries(run.outputs).map(([k, v]) => [
            k,
            run.secretOutputs.includes(k) && !showSecrets ? "[secret]" : v,
        ]),
    );
    return `${JSON.stringify(outputs, null, 2)}\n`;
}

/** The comparison, then the monthly cost before and after (the saved inputs carry what the cost needs). */
function renderCompare(run: OfflineRun, file: string): string {
    const saved = readSavedPlan(file);
    const before = estimateCost(saved);
    const after = estimateCost(run);
    const bound = (e: typeof after) => `${e.unpriced > 0 ? "at least " : ""}$${e.totalUsd.toFixed(2)}`;
    return [
        renderComparison(comparePlans(saved, run), file),
        `Estimated monthly cost: ${bound(before)} -> ${bound(after)}`,
        "",
        renderCost(after),
        "",
    ].join("\n");
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "dev" },
            "show-secrets": { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            save: { type: "string" },
            compare: { type: "string" },
            program: { type: "string" },
        },
    });
    const stack = values.stack!;
    const showSecrets = values["show-secrets"]!;
    // Read the saved plan before running, so a wrong path fails fast.
    if (values.compare) readSavedPlan(values.compare);
    const program = values.program === undefined ? undefined : resolveProgramDir(values.program);
    const run = program
        ? await runOffline({
              stack,
              config: readStackConfig(stack, program.projectDir),
              project: program.project,
              program: () => runEntry(program.entry),
          })
        : await runOffline({ stack, config: readStackConfig(stack) });
    if (values.save) {
        const plan = toSavedPlan(run);
        writeFileSync(values.save, `${JSON.stringify(plan, null, 2)}\n`);
        process.stderr.write(
            `Saved the plan of ${plan.resources.length} resources to ${values.save} (secret inputs as salted digests).\n`,
        );
    }
    if (values.compare) process.stdout.write(renderCompare(run, values.compare));
    else
        process.stdout.write(
            values.json ? renderJson(run, showSecrets) : renderPlan(run, showSecrets, program?.project ?? PROJECT),
        );
}

main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
