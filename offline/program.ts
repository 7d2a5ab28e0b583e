// A Pulumi program directory (its `Pulumi.yaml`, main module and `Pulumi.<stack>.yaml`), run offline like
// the standalone program: `npm run lab -- up --program <dir>`.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { OfflineRun, OfflineRunOptions, readStackConfig, runOffline } from "./run";

export interface ProgramDir {
    dir: string;
    /** `name` in its Pulumi.yaml: the project of its URNs and of its unprefixed config keys. */
    project: string;
    /** The module Pulumi runs (`main`, else `index.ts`). */
    main: string;
}

/** Reads `<dir>/Pulumi.yaml`; throws with what is missing. */
export function readProgramDir(dir: string): ProgramDir {
    const abs = path.resolve(dir);
    const file = path.join(abs, "Pulumi.yaml");
    if (!existsSync(file)) throw new Error(`no Pulumi.yaml in ${abs}; --program names a Pulumi program's directory`);
    const doc = (parse(readFileSync(file, "utf8")) ?? {}) as { name?: unknown; main?: unknown };
    if (typeof doc.name !== "string" || doc.name === "") throw new Error(`${file} has no project name`);
    const main = path.resolve(abs, typeof doc.main === "string" ? doc.main : "index.ts");
    const mainFile = existsSync(main) && !main.endsWith(".ts") ? path.join(main, "index.ts") : main;
    if (!existsSync(mainFile)) throw new Error(`${file}: its main module ${mainFile} does not exist`);
    return { dir: abs, project: doc.name, main: mainFile };
}

/**
 * Config keys as the program reads them: a plain key belongs to its project (`<project>:key`), others keep
 * their namespace (`aws:region`). The program's `Pulumi.<stack>.yaml` is optional.
 */
export function programStackConfig(program: ProgramDir, stack: string): Record<string, unknown> {
    const exists = existsSync(path.join(program.dir, `Pulumi.${stack}.yaml`));
    const raw = exists ? readStackConfig(stack, program.dir) : {};
    return Object.fromEntries(
        Object.entries({ "aws:region": "eu-central-1", ...raw }).map(([k, v]) => [
            k.includes(":") ? k : `${program.project}:${k}`,
            v,
        ]),
    );
}

/**
 * Runs the program's main module under the mocks: its exports are the stack outputs. It is loaded afresh
 * each run (as each `pulumi up` runs it), so one process can plan it more than once.
 */
export function runProgramOffline(
    program: ProgramDir,
    options: Omit<OfflineRunOptions, "program" | "project" | "config"> & { config?: Record<string, unknown> },
): Promise<OfflineRun> {
    return runOffline({
        ...options,
        config: { ...programStackConfig(program, options.stack), ...options.config },
        project: program.project,
        program: () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            delete require.cache[require.resolve(program.main)];
            return require(program.main) as Record<string, unknown>;
        },
    });
}
