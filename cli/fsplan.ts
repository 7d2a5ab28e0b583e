// File-system plans: a list of actions decided up front (so they can be shown and tested without
// touching anything), checked for writability, then applied atomically one by one with a journal that
// puts everything back if any step fails.
import { createHash, randomBytes } from "node:crypto";
import {
    accessSync,
    chmodSync,
    closeSync,
    constants,
    existsSync,
    fchmodSync,
    fsyncSync,
    lstatSync,
    mkdirSync,
    openSync,
    readFileSync,
    renameSync,
    rmdirSync,
    rmSync,
    statSync,
    writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { CliError } from "./outputs";

export type Action =
    | { kind: "mkdir"; path: string; mode: number }
    | { kind: "chmod"; path: string; mode: number; from: number }
    | {
          kind: "write";
          path: string;
          content: string;
          mode: number;
          /** create: new file; update: a file of ours; replace: someone else's file (--force). */
          change: "create" | "update" | "replace";
          /** The old content is copied here first. */
          backup?: string;
          /** What the file is, for the report. */
          label: string;
      }
    | { kind: "remove"; path: string; label: string }
    | { kind: "rmdir"; path: string };

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
export const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`;

/** File state without following a final symlink; undefined when absent. */
export function lstatOrUndefined(path: string) {
    try {
        return lstatSync(path);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw e;
    }
}

export function readIfExists(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
    }
}

/** `<path>.jumpgate-bak-<UTC time>`, never an existing name. */
export function backupPath(path: string, now: Date): string {
    const stamp = now
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
    let candidate = `${path}.jumpgate-bak-${stamp}`;
    for (let i = 1; existsSync(candidate); i++) candidate = `${path}.jumpgate-bak-${stamp}-${i}`;
    return candidate;
}

/** The directory every action writes into (creating, replacing or removing an entry). */
function dirsWritten(a: Action): string[] {
    return a.kind === "chmod" ? [] : [dirname(a.path)];
}

/**
 * Checks, before anything is written, that every directory an action writes into is (or can be
 * created as) a writable directory. Throws a CliError naming the first one that is not.
 */
export function preflight(actions: Action[]): void {
    const planned = new Set(actions.filter((a) => a.kind === "mkdir").map((a) => a.path));
    const checked = new Set<string>();
    for (const dir of actions.flatMap(dirsWritten)) {
        let d = dir;
        // A directory the plan creates: its nearest existing ancestor must be writable.
        while (planned.has(d) && !existsSync(d)) d = dirname(d);
        if (checked.has(d)) continue;
        checked.add(d);
        let st;
        try {
            st = statSync(d);
        } catch (e) {
            throw new CliError(`${d} does not exist (${(e as NodeJS.ErrnoException).code})`);
        }
        if (!st.isDirectory()) throw new CliError(`${d} is not a directory`);
        try {
            accessSync(d, constants.W_OK | constants.X_OK);
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            const why = code === "EROFS" ? "read-only file system" : code === "EACCES" ? "permission denied" : code;
            throw new CliError(`${d} is not writable (${why})`);
        }
    }
}

/** Writes `content` to a temporary file in the same directory with the final mode, then renames it. */
export function atomicWrite(path: string, content: string | Buffer, mode: number): void {
    const tmp = join(dirname(path), `.${basename(path)}.jumpgate-tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    const fd = openSync(tmp, "wx", mode);
    try {
        try {
            writeSync(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
            fchmodSync(fd, mode);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
        renameSync(tmp, path);
    } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
    }
}

type Undo = () => void;

function snapshot(path: string): Undo {
    const st = lstatOrUndefined(path);
    if (!st) return () => rmSync(path, { force: true });
    const content = readFileSync(path);
    return () => atomicWrite(path, content, st.mode & 0o7777);
}

/** One line per action, for the report (also used for --dry-run). */
export function describe(a: Action): string {
    switch (a.kind) {
        case "mkdir":
            return `created   ${a.path}/ (${octal(a.mode)})`;
        case "chmod":
            return `chmod     ${a.path} ${octal(a.from)} -> ${octal(a.mode)}`;
        case "write": {
            const verb = { create: "created  ", update: "updated  ", replace: "replaced " }[a.change];
            return `${verb} ${a.path} (${a.label}, ${octal(a.mode)})${a.backup ? `, backup ${a.backup}` : ""}`;
        }
        case "remove":
            return `removed   ${a.path} (${a.label})`;
        case "rmdir":
            return `removed   ${a.path}/ (empty)`;
    }
}

/**
 * Applies the actions in order. On the first failure every action already done is undone in reverse,
 * and a CliError says what failed and whether the rollback was complete.
 */
export function apply(actions: Action[]): string[] {
    const undo: Undo[] = [];
    const done: string[] = [];
    for (const a of actions) {
        try {
            switch (a.kind) {
                case "mkdir":
                    mkdirSync(a.path, { mode: a.mode });
                    undo.push(() => rmdirSync(a.path));
                    chmodSync(a.path, a.mode); // mkdir's mode is masked by the umask
                    break;
                case "chmod":
                    chmodSync(a.path, a.mode);
                    undo.push(() => chmodSync(a.path, a.from));
                    break;
                case "write":
                    if (a.backup) {
                        const old = lstatSync(a.path);
                        const backup = a.backup;
                        atomicWrite(backup, readFileSync(a.path), old.mode & 0o777);
                        undo.push(() => rmSync(backup, { force: true }));
                    }
                    undo.push(snapshot(a.path));
                    atomicWrite(a.path, a.content, a.mode);
                    break;
                case "remove":
                    undo.push(snapshot(a.path));
                    rmSync(a.path);
                    break;
                case "rmdir":
                    rmdirSync(a.path);
                    undo.push(() => mkdirSync(a.path, { mode: 0o700 }));
                    break;
            }
            done.push(describe(a));
        } catch (e) {
            const failures: string[] = [];
            for (const u of undo.reverse()) {
                try {
                    u();
                } catch (ue) {
                    failures.push((ue as Error).message);
                }
            }
            const what = `${describe(a).replace(/^\S+\s+/, "")}: ${(e as Error).message}`;
            throw new CliError(
                failures.length === 0
                    ? `failed at ${what}; everything done before it was undone`
                    : `failed at ${what}; undoing the earlier steps failed too, check by hand: ${failures.join("; ")}`,
                1,
                failures.length > 0,
            );
        }
    }
    return done;
}
