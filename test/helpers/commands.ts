// The external commands the project spawns, found in its own source, and the maintained inventory
// (scripts/commands.txt) that says which Debian package brings each one. test/scripts/commands.test.ts
// holds the two against each other and against the packages install-tools.sh installs, so a command a
// fresh machine lacks fails CI by name instead of failing a lab test half-way.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const ROOT = join(__dirname, "..", "..");

/** Where the code runs commands: every TypeScript and shell file outside dependencies. */
const SCANNED_DIRS = ["lab", "scripts", "cli", "offline", "test", "policies/testing", "policies/scripts", ".ci"];

/** This scanner and its test name commands only as examples. */
const SELF = ["test/helpers/commands.ts", "test/scripts/commands.test.ts"];

/** Not commands: shell keywords and builtins, and words the patterns below can pick up in prose. */
const NOT_COMMANDS = new Set(
    (
        "if then else elif fi for do done while case esac in function return exit set export cd echo printf read " +
        "local true false test [ [[ ] ]] . source shift trap wait exec eval unset mapfile command type"
    ).split(" "),
);

export interface InventoryEntry {
    command: string;
    /** The Debian package that provides it; `-` for the machine's Node.js, `none` for not installed here. */
    pkg: string;
    why: string;
}

/** Reads a one-name-per-line list, dropping comments and blank lines. */
export function readList(file: string): string[] {
    return readFileSync(join(ROOT, file), "utf8")
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim())
        .filter(Boolean);
}

/** scripts/commands.txt: `command package why...` per line. */
export function readInventory(): InventoryEntry[] {
    return readList("scripts/commands.txt").map((line) => {
        const [command = "", pkg = "", ...why] = line.split(/\s+/);
        return { command, pkg, why: why.join(" ") };
    });
}

function filesUnder(dir: string): string[] {
    const full = join(ROOT, dir);
    let entries: string[];
    try {
        entries = readdirSync(full);
    } catch {
        return [];
    }
    return entries.flatMap((name) => {
        if (name === "node_modules" || name.startsWith(".lab")) return [];
        const path = join(full, name);
        if (statSync(path).isDirectory()) return filesUnder(relative(ROOT, path));
        return /\.(ts|sh)$/.test(name) || dir === ".ci" ? [path] : [];
    });
}

/** The first word of each command in a shell text: `a x && b | c; d` gives a, b, c, d. */
export function shellCommandWords(text: string): string[] {
    return text
        .split(/&&|\|\||[;|\n(]|\$\(/)
        .map((part) => part.trim().replace(/^(\w+=\S*\s+)+/, ""))
        .map((part) => part.split(/\s+/)[0] ?? "")
        .filter((w) => /^[a-z][\w.+-]*$|^\/[\w/.-]+$/.test(w));
}

const STRING = /"([^"\\]*)"|'([^'\\]*)'|`([^`$\\]*)`/g;
const strings = (text: string) => [...text.matchAll(STRING)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");

/** Patterns that name the spawned command in a literal (group 1 is the command). */
const TS_PATTERNS: RegExp[] = [
    // spawn("cmd", ...), spawnSync, execFile, execFileSync, and the lab's run("cmd", ...)
    /\b(?:spawn|spawnSync|execFile|execFileSync|run)\(\s*"([^"]+)"/g,
    // runIn(ns, "cmd", ...) and the tests' namespace runners
    /\b(?:runIn|runAsync|readUntil)\(\s*(?:[^,()]|\([^()]*\))+,\s*"([^"]+)"/g,
    // ip netns exec <ns> cmd / nsenter ... cmd in argument arrays
    /"exec",\s*[\w.()?]+,\s*"([^"]+)"/g,
    // `command -v tool`
    /command -v ([\w.+-]+)/g,
];

/** Commands named in one TypeScript file. */
export function commandsInTs(text: string): string[] {
    const found = TS_PATTERNS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1] ?? ""));
    // toolsAvailable("a", "b") / hasTool("a"): the tools a suite declares it needs.
    for (const m of text.matchAll(/\b(?:toolsAvailable|hasTool)\(([^)]*)\)/g)) found.push(...strings(m[1] ?? ""));
    // Remote commands: ssh <host> "a && b" — a string with spaces inside the argument list of ssh.
    for (const m of text.matchAll(/"ssh",\s*\[([^\]]*)\]/g))
        for (const s of strings(m[1] ?? ""))
            if (/\s/.test(s) && !s.startsWith("-")) found.push(...shellCommandWords(s));
    return found;
}

/** Commands named in one shell script: the first word of every command line. */
export function commandsInShell(text: string): string[] {
    const code = text
        .split("\n")
        .filter((l) => !/^\s*#/.test(l))
        .join("\n")
        .replace(/\\\n/g, " ")
        // Single-quoted text is data (an embedded program, a sed script), not commands of this shell.
        .replace(/'[^']*'/g, "''")
        .replace(/^\s*(?:if|then|else|elif|do|while|until|!)\s+/gm, "");
    return shellCommandWords(code);
}

/** Every command the code spawns, with the files that name it. */
export function scanSpawnedCommands(): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const file of SCANNED_DIRS.flatMap(filesUnder).filter((f) => !SELF.includes(relative(ROOT, f)))) {
        const text = readFileSync(file, "utf8");
        const words = file.endsWith(".ts") ? commandsInTs(text) : commandsInShell(text);
        for (const word of words) {
            const command = word.split("/").pop() ?? word;
            if (NOT_COMMANDS.has(command) || /[^\w.+-]/.test(command)) continue;
            const files = found.get(command) ?? [];
            const rel = relative(ROOT, file);
            if (!files.includes(rel)) files.push(rel);
            found.set(command, files);
        }
    }
    return found;
}

/** Packages of this machine (not `-`, `none` or a lab root's `root:NAME`). */
export const isDebianPackage = (pkg: string) => pkg !== "-" && pkg !== "none" && !pkg.startsWith("root:");

/** The packages scripts/build-lab-root.sh puts into the lab hosts' Debian 13 root (its PACKAGES line). */
export function readLabRootPackages(): Set<string> {
    const script = readFileSync(join(ROOT, "scripts/build-lab-root.sh"), "utf8");
    return new Set(/^PACKAGES=(\S+)$/m.exec(script)?.[1]?.split(",") ?? []);
}

/** One line per listed command whose package neither install-tools.sh installs nor the image has. */
export function packagesToAdd(
    inventory: readonly InventoryEntry[],
    installed: ReadonlySet<string>,
    baseImage: ReadonlySet<string>,
    labRoot: ReadonlySet<string> = readLabRootPackages(),
): string[] {
    const machine = inventory
        .filter((e) => isDebianPackage(e.pkg) && !installed.has(e.pkg) && !baseImage.has(e.pkg))
        .map((e) => `${e.command}: add ${e.pkg} to scripts/debian-packages.txt`);
    const root = inventory
        .filter((e) => e.pkg.startsWith("root:") && !labRoot.has(e.pkg.slice("root:".length)))
        .map((e) => `${e.command}: add ${e.pkg.slice("root:".length)} to PACKAGES in scripts/build-lab-root.sh`);
    return [...machine, ...root];
}
