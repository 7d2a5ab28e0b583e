// A Pulumi program directory as the Pulumi CLI sees it: the project (Pulumi.yaml's `name`), the entry
// module (`main`, default the directory itself) and where the `Pulumi.<stack>.yaml` files live. A directory
// without a Pulumi.yaml belongs to the project above it whose `main` points at it (the standalone
// program: the root Pulumi.yaml has `main: examples/standalone/index.ts`).
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";

export interface ProgramDir {
    /** The project name: URNs, `pulumi.getProject()` and the namespace of bare config keys. */
    project: string;
    /** The module the Pulumi CLI runs. */
    entry: string;
    /** The project directory, which holds Pulumi.yaml and the stack config files. */
    projectDir: string;
}

/** `main` as the Node.js runtime takes it: a file, or a directory whose index.ts (or index.js) runs. */
function entryOf(projectDir: string, main: string | undefined): string {
    const target = path.resolve(projectDir, main ?? ".");
    if (existsSync(target) && statSync(target).isDirectory()) {
        const index = ["index.ts", "index.js"].map((f) => path.join(target, f)).find((f) => existsSync(f));
        if (!index) throw new Error(`${target} has no index.ts or index.js to run`);
        return index;
    }
    if (!existsSync(target)) throw new Error(`main ${main} of ${projectDir}/Pulumi.yaml does not exist`);
    return target;
}

function readProject(projectDir: string): ProgramDir {
    const doc = (parse(readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {}) as {
        name?: string;
        main?: string;
        runtime?: string | { name?: string };
    };
    if (!doc.name) throw new Error(`${projectDir}/Pulumi.yaml has no project name`);
    const runtime = typeof doc.runtime === "string" ? doc.runtime : doc.runtime?.name;
    if (runtime !== "nodejs")
        throw new Error(
            `${projectDir} is a ${runtime ?? "?"} program; the offline plan runs Node.js programs only ` +
                `(a ${runtime ?? "?"} program needs the Pulumi CLI: pulumi preview)`,
        );
    return { project: doc.name, entry: entryOf(projectDir, doc.main), projectDir };
}

/** The project of the program in `dir` (see the file comment); throws naming what is missing. */
export function resolveProgramDir(dir: string): ProgramDir {
    const target = path.resolve(dir);
    if (!existsSync(target) || !statSync(target).isDirectory()) throw new Error(`no program directory ${target}`);
    if (existsSync(path.join(target, "Pulumi.yaml"))) return readProject(target);
    for (let up = path.dirname(target); ; up = path.dirname(up)) {
        if (existsSync(path.join(up, "Pulumi.yaml"))) {
            const project = readProject(up);
            if (path.dirname(project.entry) === target) return project;
        }
        if (path.dirname(up) === up) break;
    }
    throw new Error(
        `${target} has no Pulumi.yaml, and no Pulumi.yaml above it has its main there; ` +
            `give the directory of a Pulumi project (e.g. examples/awsx-vpc)`,
    );
}

/**
 * Runs the entry module as the Node.js runtime does (inside the stack, under whatever mocks are set):
 * its exports are the stack outputs, and a default-exported function's result replaces them.
 */
export async function runEntry(entry: string): Promise<Record<string, unknown>> {
    const ns = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    // CommonJS under tsx arrives as `default` = module.exports; an ES module as its namespace.
    const exported = typeof ns.default === "object" && ns.default !== null ? ns.default : ns;
    if (typeof exported === "function" || typeof ns.default === "function") {
        const fn = (typeof exported === "function" ? exported : ns.default) as () => unknown;
        return ((await fn()) ?? {}) as Record<string, unknown>;
    }
    return Object.fromEntries(Object.entries(exported).filter(([k]) => k !== "default" && k !== "__esModule"));
}
