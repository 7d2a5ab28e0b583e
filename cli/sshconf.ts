// Just enough of ssh_config(5) for the installer: keyword lines, Host blocks, quoting, and the glob(3)
// patterns of `Include`. Pure: no file system access.

/** One `Keyword value...` line. `keyword` is lowercase, as ssh compares it; args are unquoted. */
export interface ConfSetting {
    /** 0-based line number in the text. */
    line: number;
    keyword: string;
    args: string[];
    indent: string;
}

/** A `Host` block: its patterns and settings in order (ssh uses the first value of each keyword). */
export interface HostBlock {
    line: number;
    patterns: string[];
    settings: ConfSetting[];
}

export interface ParsedConf {
    lines: string[];
    /** Settings before the first Host or Match line: they apply to every host. */
    top: ConfSetting[];
    blocks: HostBlock[];
    /** Line numbers of `Match` lines (not interpreted). */
    matches: number[];
}

/** Splits an ssh_config argument list on whitespace; double quotes group (as ssh's argv_split). */
export function splitArgs(text: string): string[] {
    const args: string[] = [];
    const re = /"([^"]*)"|(\S+)/g;
    for (let m = re.exec(text); m; m = re.exec(text)) args.push(m[1] ?? m[2] ?? "");
    return args;
}

/** A keyword line, or undefined for blank lines and comments. `Keyword=value` is accepted as ssh does. */
export function parseSetting(raw: string, line: number): ConfSetting | undefined {
    const m = /^(\s*)([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|$)(.*)$/.exec(raw);
    if (!m || raw.trim() === "" || raw.trim().startsWith("#")) return undefined;
    return { line, indent: m[1] ?? "", keyword: (m[2] ?? "").toLowerCase(), args: splitArgs(m[3] ?? "") };
}

export function parseConf(text: string): ParsedConf {
    const lines = text.split("\n");
    const conf: ParsedConf = { lines, top: [], blocks: [], matches: [] };
    let current: HostBlock | undefined;
    let inMatch = false;
    lines.forEach((raw, i) => {
        const s = parseSetting(raw.replace(/\r$/, ""), i);
        if (!s) return;
        if (s.keyword === "host") {
            current = { line: i, patterns: s.args, settings: [] };
            conf.blocks.push(current);
            inMatch = false;
        } else if (s.keyword === "match") {
            current = undefined;
            inMatch = true;
            conf.matches.push(i);
        } else if (current) current.settings.push(s);
        else if (!inMatch) conf.top.push(s);
    });
    return conf;
}

/** First value of `keyword` in a block, as ssh resolves it. */
export function firstValue(block: HostBlock, keyword: string): string | undefined {
    return block.settings.find((s) => s.keyword === keyword)?.args.join(" ");
}

/** First argument of the first `keyword` in a block (a path that may contain spaces, unquoted). */
export function firstArg(block: HostBlock, keyword: string): string | undefined {
    return block.settings.find((s) => s.keyword === keyword)?.args[0];
}

/** Quotes a single argument for ssh_config when it contains whitespace. */
export function quoteArg(value: string): string {
    return /\s/.test(value) ? `"${value}"` : value;
}

/** Quotes a word for the POSIX shell that runs a ProxyCommand. */
export function shellQuote(value: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * glob(3) match of one path against a pattern: `*` and `?` never cross `/` nor match a leading `.`
 * of a file name; `[...]` classes (with `!` or `^` negation).
 */
export function globMatch(pattern: string, path: string): boolean {
    let re = "";
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        const atNameStart = i === 0 || pattern[i - 1] === "/";
        if (c === "*") re += atNameStart ? "(?!\\.)[^/]*" : "[^/]*";
        else if (c === "?") re += atNameStart ? "[^/.]" : "[^/]";
        else if (c === "[") {
            const end = pattern.indexOf("]", i + 2);
            if (end < 0) {
                re += "\\[";
                continue;
            }
            let body = pattern.slice(i + 1, end);
            const negate = body.startsWith("!") || body.startsWith("^");
            if (negate) body = body.slice(1);
            re += `[${negate ? "^/" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
            i = end;
        } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`).test(path);
}

/**
 * The file pattern an `Include` argument stands for in a user config. Relative paths are under
 * `~/.ssh`; ssh hands `~` to glob(3) with GLOB_TILDE, which takes `$HOME` (not the passwd entry).
 * `tildeHome` undefined: `~` and relative arguments cannot be resolved (returns undefined).
 */
export function includePattern(arg: string, tildeHome: string | undefined): string | undefined {
    if (arg.startsWith("/")) return arg;
    if (tildeHome === undefined) return undefined;
    if (arg === "~") return tildeHome;
    if (arg.startsWith("~/")) return `${tildeHome}/${arg.slice(2)}`;
    if (arg.startsWith("~")) return undefined; // ~user: another account's home
    return `${tildeHome}/.ssh/${arg}`;
}

/** True when a top-level `Include` of the config pulls in `file` (an absolute path). */
export function includeCovers(conf: ParsedConf, file: string, tildeHome: string | undefined): boolean {
    return conf.top
        .filter((s) => s.keyword === "include")
        .some((s) =>
            s.args.some((arg) => {
                const pattern = includePattern(arg, tildeHome);
                return pattern !== undefined && globMatch(pattern, file);
            }),
        );
}
