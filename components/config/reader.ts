// Typed access to raw config values. Each section reader takes one `ConfigReader`, so every problem of
// every section lands in the same list and the user sees them all at once.
import { ConfigProblem, ConfigSource } from "./types";

/** Records one problem with one key. */
export type ReportProblem = (key: string, value: string | undefined, message: string, fix: string) => void;

/** `pulumi config set` of one plain key. */
export const set = (key: string, value: string) => `pulumi config set ${key} ${value}`;
/** `pulumi config set --path` of one list or object member. */
export const setPath = (path: string, value: string) => `pulumi config set --path '${path}' ${value}`;

export class ConfigReader {
    readonly problems: ConfigProblem[] = [];
    /** A key read here is known even before it is listed in CONFIG_KEYS (a test keeps the list complete). */
    readonly read = new Set<string>();

    constructor(private readonly source: ConfigSource) {}

    readonly get: ConfigSource = (key) => {
        this.read.add(key);
        return this.source(key);
    };

    readonly problem: ReportProblem = (key, value, message, fix) => {
        this.problems.push({ key, value, message, fix });
    };

    /** Whether a problem with `key` was already recorded (later checks that build on it are skipped). */
    hasProblem(key: string): boolean {
        return this.problems.some((p) => p.key === key);
    }

    json<T>(key: string, fallback: T, example: string): T {
        const raw = this.get(key);
        if (raw === undefined || raw === "") return fallback;
        try {
            return JSON.parse(raw) as T;
        } catch {
            this.problem(key, raw, "is not valid JSON (lists and objects are set with --path)", example);
            return fallback;
        }
    }

    str(key: string, fallback: string): string {
        return this.get(key) ?? fallback;
    }

    bool(key: string, fallback: boolean): boolean {
        const raw = this.get(key);
        if (raw === undefined || raw === "") return fallback;
        if (raw === "true" || raw === "false") return raw === "true";
        this.problem(key, raw, "must be true or false", set(key, String(fallback)));
        return fallback;
    }

    int(key: string, fallback: number, min: number, max: number): number {
        const raw = this.get(key);
        if (raw === undefined || raw === "") return fallback;
        const n = Number(raw);
        if (!Number.isInteger(n) || n < min || n > max) {
            this.problem(key, raw, `must be a whole number from ${min} to ${max}`, set(key, String(fallback)));
            return fallback;
        }
        return n;
    }

    stringList(key: string, fallback: string[], example: string): string[] {
        const value = this.json<unknown>(key, fallback, setPath(`${key}[0]`, example));
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
        this.problem(key, JSON.stringify(value), "must be a list of strings", setPath(`${key}[0]`, example));
        return fallback;
    }
}
