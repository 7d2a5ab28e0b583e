// The npm package as a consumer gets it: `npm pack` ships the compiled library, CLI and policies and
// nothing of the repository's tests, lab, offline simulation or scripts; the tarball installs into a
// fresh project (no network: its dependencies come from this checkout's node_modules), where a program
// of that project's own (test/package/consumer) type-checks against the installed types, misuse does
// not, and `jumpgate/policies` yields the policies the jumpgate-guardrails pack serves.
import { execFileSync, spawnSync, SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies } from "../../policies/pack";

const ROOT = resolve(__dirname, "../..");
const CONSUMER_SOURCES = join(__dirname, "consumer");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
// A loopback port nothing listens on: any registry request npm makes fails at once instead of leaving.
const NO_REGISTRY = "http://127.0.0.1:9/";
// Checking a program against @pulumi/aws's declarations takes 15 s of CPU; on a loaded machine, minutes.
const TSC_TIMEOUT = 300_000;

interface PackResult {
    filename: string;
    files: { path: string }[];
}

interface Manifest {
    version?: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readManifest(dir: string): Manifest {
    return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** The directory `name` resolves to from `fromDir`, as Node looks it up (node_modules up the tree). */
function packageDir(fromDir: string, name: string): string | undefined {
    for (let dir = fromDir; ; dir = dirname(dir)) {
        const candidate = join(dir, "node_modules", name);
        if (existsSync(join(candidate, "package.json"))) return candidate;
        if (dirname(dir) === dir) return undefined;
    }
}

/**
 * Copies into `project/node_modules` the packages `names` need at run time, from this checkout's
 * node_modules (each top-level package whole, with what it nests): npm then finds every dependency
 * of the tarball already satisfied and fetches nothing.
 */
function seedDependencies(project: string, names: string[]): void {
    const seen = new Set<string>();
    const copied = new Set<string>();
    const visit = (fromDir: string, name: string, optional: boolean): void => {
        const dir = packageDir(fromDir, name);
        if (!dir) {
            if (optional) return;
            throw new Error(`${name} (needed from ${fromDir}) is not installed in ${ROOT}`);
        }
        if (seen.has(dir)) return;
        seen.add(dir);
        const topLevel = dir.slice(0, dir.indexOf("node_modules/") + "node_modules/".length) + topName(dir);
        if (!copied.has(topLevel)) {
            copied.add(topLevel);
            cpSync(topLevel, join(project, "node_modules", topLevel.slice(join(ROOT, "node_modules").length + 1)), {
                recursive: true,
            });
        }
        const m = readManifest(dir);
        for (const dep of Object.keys(m.dependencies ?? {})) visit(dir, dep, false);
        for (const dep of Object.keys(m.optionalDependencies ?? {})) visit(dir, dep, true);
        for (const dep of Object.keys(m.peerDependencies ?? {})) {
            visit(dir, dep, m.peerDependenciesMeta?.[dep]?.optional === true);
        }
    };
    for (const name of names) visit(ROOT, name, false);
}

/** `@scope/name` or `name` of a package directory directly under a top-level node_modules. */
function topName(dir: string): string {
    const rest = dir.slice(dir.indexOf("node_modules/") + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, {
        cwd,
        encoding: "utf8",
        env: { ...process.env, ...env },
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
    });
}

function tsc(project: string, config: string): SpawnSyncReturns<string> {
    return run(process.execPath, [TSC, "--noEmit", "--pretty", "false", "-p", config], project);
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
    if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

describe("the npm package", () => {
    let work: string;
    let project: string;
    let packed: PackResult;
    const seconds: Record<string, number> = {};
    const timed = <T>(what: string, f: () => T): T => {
        const start = Date.now();
        try {
            return f();
        } finally {
            seconds[what] = (Date.now() - start) / 1000;
        }
    };

    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "jg-pack-"));
        const npmEnv = { npm_config_cache: join(work, "npm-cache"), npm_config_registry: NO_REGISTRY };
        // `npm pack` runs the prepare script: the tarball holds a fresh build.
        const out = timed("npm pack (with build)", () =>
            ok(run("npm", ["pack", "--json", "--pack-destination", work], ROOT, npmEnv), "npm pack"),
        );
        packed = (JSON.parse(out.slice(out.indexOf("[")).trim()) as PackResult[])[0]!;

        project = join(work, "consumer");
        mkdirSync(project);
        ok(run("npm", ["init", "-y"], project, npmEnv), "npm init");
        const tarball = join(work, packed.filename);
        const shipped = JSON.parse(
            execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }),
        ) as Manifest;
        timed("seed dependencies", () =>
            seedDependencies(project, [
                ...Object.keys(shipped.dependencies ?? {}),
                ...Object.keys(shipped.peerDependencies ?? {}),
                "@types/node",
            ]),
        );
        // The project depends on the peers itself, as a Pulumi program does; npm adds only the tarball.
        const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as Record<string, unknown>;
        manifest.dependencies = shipped.peerDependencies;
        manifest.devDependencies = {
            "@types/node": `^${readManifest(join(ROOT, "node_modules/@types/node")).version}`,
        };
        writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2));
        timed("npm install", () => {
            // The copies carry no .bin links; rebuild links them (no scripts), or npm would reinstall them.
            ok(run("npm", ["rebuild", "--offline", "--ignore-scripts"], project, npmEnv), "npm rebuild");
            // Offline, npm cannot look up the peers' registry metadata it reads when it places a new
            // package's peers, even when installed ones satisfy them: it skips that step here, and
            // `npm ls` below checks the installed peers against jumpgate's ranges instead.
            ok(
                run(
                    "npm",
                    ["install", "--offline", "--legacy-peer-deps", "--no-audit", "--no-fund", tarball],
                    project,
                    npmEnv,
                ),
                "npm install",
            );
        });
        for (const f of readdirSync(CONSUMER_SOURCES)) {
            cpSync(join(CONSUMER_SOURCES, f), join(project, f));
        }
    }, 900_000);

    afterAll(() => {
        console.info(`package test timings (s): ${JSON.stringify(seconds)}`);
        if (work) rmSync(work, { recursive: true, force: true });
    });

    it("ships the compiled library, CLI and policies with declarations, and nothing else", () => {
        const paths = packed.files.map((f) => f.path);
        for (const required of [
            "package.json",
            "README.md",
            "LICENSE",
            "CHANGELOG.md",
            "bin/jumpgate-ssh.js",
            "dist/index.js",
            "dist/index.d.ts",
            "dist/components/jumpgate.d.ts",
            "dist/components/jumpgateArgs.d.ts",
            "dist/components/render/audit/jumpgate-audit.py",
            "dist/cli/jumpgate-ssh.js",
            "dist/policies/pack.js",
            "dist/policies/pack.d.ts",
        ]) {
            expect(paths, required).toContain(required);
        }
        const top = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/jumpgate-ssh\.js|dist\/.*)$/;
        expect(paths.filter((p) => !top.test(p))).toEqual([]);
        // Compiled JavaScript and declarations only: no sources, tests, lab, offline simulation, keys.
        const inDist = paths.filter((p) => p.startsWith("dist/"));
        expect(inDist.filter((p) => !/\.(js|d\.ts)$/.test(p))).toEqual([
            "dist/components/render/audit/jumpgate-audit.py",
        ]);
        expect(
            inDist.filter((p) => /^dist\/(test|lab|offline|scripts|examples)\/|\/testing\/|_ed25519|\.pem$/.test(p)),
        ).toEqual([]);
        expect(
            inDist.filter((p) => p.startsWith("dist/policies/") && !/^dist\/policies\/(pack|lib\/|rules\/)/.test(p)),
        ).toEqual([]);
    });

    it("installs without the network and loads: the library creates nothing, the CLI runs", () => {
        const tree = run(
            "npm",
            ["ls", "--offline", "jumpgate", "@pulumi/pulumi", "@pulumi/aws", "@pulumi/policy", "@pulumi/tls", "yaml"],
            project,
            { npm_config_cache: join(work, "npm-cache") },
        );
        expect(tree.status, tree.stdout + tree.stderr).toBe(0);
        expect(tree.stdout).not.toMatch(/invalid|UNMET|missing/);
        // One SDK and one AWS provider: jumpgate uses the program's own (its peers), no copy of its own.
        expect(existsSync(join(project, "node_modules/jumpgate/node_modules/@pulumi"))).toBe(false);
        // Outside a Pulumi run, creating a resource would throw: loading the entry must not.
        const exportsOf = ok(
            run(process.execPath, ["-e", 'console.log(Object.keys(require("jumpgate")).sort().join(" "))'], project),
            "require jumpgate",
        );
        expect(exportsOf.trim().split(" ")).toEqual(
            expect.arrayContaining(["Jumpgate", "JumpgateArgsError", "HostOs", "NatGateways"]),
        );
        const help = run(join(project, "node_modules/.bin/jumpgate-ssh"), ["--help"], project);
        expect(help.status, help.stderr).toBe(0);
        expect(help.stdout).toContain("Usage: npx jumpgate-ssh <command>");
        // The package has no lab: the lab's audit source says so and names the one that works.
        const audit = run(join(project, "node_modules/.bin/jumpgate-ssh"), ["audit", "--stack", "dev"], project);
        expect(audit.status).toBe(2);
        expect(audit.stderr).toContain("--source lab reads the local lab of a jumpgate repository checkout");
    });

    it(
        "type-checks a program of the project's own against the installed types, and rejects misuse",
        () => {
            // tsconfig.json is Pulumi's aws-typescript template's (moduleResolution node, library checks on):
            // index.ts must compile and misuse.ts fail on exactly its two mistakes.
            const r = timed("tsc program", () => tsc(project, "tsconfig.json"));
            const errors = r.stdout.split("\n").filter((l) => / error TS\d+:/.test(l));
            expect(errors.filter((l) => !l.startsWith("misuse.ts"))).toEqual([]);
            expect(errors).toHaveLength(2);
            expect(errors.join("\n")).toMatch(/misuse\.ts\(4,\d+\): error TS2322: Type 'number' is not assignable/);
            expect(errors.join("\n")).toMatch(
                /misuse\.ts\(5,\d+\): error TS2339: Property 'noSuchOutput' does not exist/,
            );
        },
        TSC_TIMEOUT,
    );

    it(
        "type-checks a policy pack that includes jumpgate's policies by package name",
        () => {
            const r = timed("tsc policy pack", () => tsc(project, "tsconfig.policies.json"));
            expect(r.stdout + r.stderr).toBe("");
            expect(r.status).toBe(0);
        },
        TSC_TIMEOUT,
    );

    it(
        "type-checks both under Node16 module resolution too (package exports instead of main and typesVersions)",
        () => {
            writeFileSync(
                join(project, "tsconfig.node16.json"),
                JSON.stringify({
                    extends: "./tsconfig.json",
                    compilerOptions: { module: "node16", moduleResolution: "node16", skipLibCheck: true },
                    files: ["index.ts", "policies.ts"],
                }),
            );
            const r = timed("tsc node16", () => tsc(project, "tsconfig.node16.json"));
            expect(r.stdout + r.stderr).toBe("");
            expect(r.status).toBe(0);
        },
        TSC_TIMEOUT,
    );

    it("gives a consumer's policy pack the policies jumpgate-guardrails serves, at their levels", () => {
        const listed = ok(
            run(
                process.execPath,
                [
                    "-e",
                    'const { policies } = require("jumpgate/policies");' +
                        "console.log(JSON.stringify(policies.map((p) => [p.name, p.enforcementLevel])));",
                ],
                project,
            ),
            "require jumpgate/policies",
        );
        expect(JSON.parse(listed)).toEqual(policies.map((p) => [p.name, p.enforcementLevel]));
    });
});
