// Reads and checks the stack outputs the installer works from, before anything is written.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { defaultPinnedHostsFile } from "../components/render/sshConfig";
import { firstValue, HostBlock, parseConf, ParsedConf } from "./sshconf";

/** An error meant for the operator: printed as is, exit status 1 (2 for usage). */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode = 1,
        /** True when files may have been changed before the error (a failed rollback). */
        readonly touched = false,
    ) {
        super(message);
        this.name = "CliError";
    }
}

/** The outputs the installer uses, checked. */
export interface JumpgateOutputs {
    /** Where they came from, for messages: a file, stdin, or the pulumi command. */
    source: string;
    stack: string;
    sshConfig: string;
    sshConfigProxyCommand?: string;
    knownHosts: string;
    /** Present when jumpgate generated the operator key. */
    privateKeyOpenssh?: string;
    /** Team access: present when the stack has `operators` (hosts trust its user CA). */
    access?: AccessOutputs;
}

/** The user CA backends `jumpgate-ssh login` signs with. */
export type CaBackend = "stack" | "kms";

/** One role's client config (output `roleSshConfigs`). */
export interface RoleSshConfig {
    sshConfig: string;
    sshConfigProxyCommand?: string;
}

/** The team access outputs, checked. */
export interface AccessOutputs {
    /** Operator name → certificate principals (role names). */
    operatorPrincipals: Record<string, string[]>;
    /** Role → its account on the targets. */
    roleAccounts: Record<string, string>;
    /** Role → its client config; absent from stacks deployed before it was published. */
    roleSshConfigs?: Record<string, RoleSshConfig>;
    /** Output `userCa`; stacks that do not publish it have the stack CA unless they publish KMS keys. */
    userCa: CaBackend;
    userCaPublicKey?: string;
    /** The stack CA's private key; undefined when absent or redacted (read without --show-secrets). */
    userCaPrivateKeyOpenssh?: string;
    /** Role → the KMS key ARN that signs its certificates. */
    userCaKmsKeyArns?: Record<string, string>;
    /** The longest certificate validity the stack allows, when it publishes one. */
    certificateMaxValiditySeconds?: number;
    /** Role → its second factor (`fido2`), for the roles that require one; absent from older stacks. */
    roleMfa?: Record<string, "fido2">;
}

/** File-name-safe stack names: what Pulumi allows in a stack's short name. */
const STACK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The short name of `org/project/stack` or `stack`, checked. */
export function shortStackName(stack: string): string {
    const short = stack.split("/").pop() ?? "";
    if (!STACK_NAME.test(short)) {
        throw new CliError(`--stack ${JSON.stringify(stack)}: not a stack name (letters, digits, '_', '.', '-')`, 2);
    }
    return short;
}

// Keywords that run commands or pull in other files: an outputs file must not smuggle them into ~/.ssh.
const REFUSED_KEYWORDS = new Set([
    "include",
    "match",
    "localcommand",
    "permitlocalcommand",
    "remotecommand",
    "knownhostscommand",
    "pkcs11provider",
    "securitykeyprovider",
    "setenv",
    "sendenv",
    "remoteforward",
    "dynamicforward",
    "forwardx11",
    "forwardx11trusted",
]);

const KNOWN_HOSTS_LINE =
    /^(\S+)\s+(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521))\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/;

const describeType = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`);

/** Parses and checks the JSON printed by `pulumi stack output --json --show-secrets`. */
export function parseOutputs(text: string, source: string, requestedStack?: string): JumpgateOutputs {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (e) {
        const hint = text.trim() === "" ? "it is empty" : (e as Error).message;
        throw new CliError(
            `${source}: not JSON (${hint}); expected the output of: pulumi stack output --json --show-secrets`,
        );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
        throw new CliError(
            `${source}: JSON is ${describeType(json)}, expected the object printed by: pulumi stack output --json --show-secrets`,
        );
    }
    const obj = json as Record<string, unknown>;
    const str = (key: string, required: boolean): string | undefined => {
        const v = obj[key];
        if (v === undefined || v === null) {
            if (!required) return undefined;
            const have = Object.keys(obj).sort().join(", ") || "none";
            throw new CliError(
                `${source}: output "${key}" is missing (outputs present: ${have}); is this a jumpgate stack, deployed with this version?`,
            );
        }
        if (typeof v !== "string")
            throw new CliError(`${source}: output "${key}" is ${describeType(v)}, expected a string`);
        if (v === "[secret]") {
            throw new CliError(
                `${source}: output "${key}" is redacted ("[secret]"); read the outputs with --show-secrets: pulumi stack output --json --show-secrets`,
            );
        }
        return v;
    };
    const sshConfig = str("sshConfig", true)!;
    const knownHosts = str("knownHosts", true)!;
    const sshConfigProxyCommand = str("sshConfigProxyCommand", false);
    const privateKeyOpenssh = str("privateKeyOpenssh", false);

    const stack = stackOf(sshConfig, source);
    if (requestedStack !== undefined && shortStackName(requestedStack) !== stack) {
        throw new CliError(`${source}: these are the outputs of stack "${stack}", not "${requestedStack}"`);
    }
    const conf = checkSshConfig(sshConfig, "sshConfig", source, stack);
    if (sshConfigProxyCommand !== undefined)
        checkSshConfig(sshConfigProxyCommand, "sshConfigProxyCommand", source, stack);
    checkKnownHosts(knownHosts, conf, source, stack);
    if (privateKeyOpenssh !== undefined) checkPrivateKey(privateKeyOpenssh, source);
    const access = accessOutputs(obj, source);
    for (const [role, c] of Object.entries(access?.roleSshConfigs ?? {})) {
        const what = `roleSshConfigs.${role}`;
        if (stackOf(c.sshConfig, source, `${what}.sshConfig`) !== stack) {
            throw new CliError(`${source}: output "${what}.sshConfig" is for another stack than "sshConfig"`);
        }
        checkKnownHosts(knownHosts, checkSshConfig(c.sshConfig, `${what}.sshConfig`, source, stack), source, stack);
        if (c.sshConfigProxyCommand !== undefined) {
            checkSshConfig(c.sshConfigProxyCommand, `${what}.sshConfigProxyCommand`, source, stack);
        }
    }
    return { source, stack, sshConfig, sshConfigProxyCommand, knownHosts, privateKeyOpenssh, access };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A map output of `check`ed values, or undefined when absent. */
function mapOutput<T>(
    obj: Record<string, unknown>,
    key: string,
    source: string,
    expected: string,
    check: (v: unknown) => v is T,
): Record<string, T> | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const bad = isRecord(v) ? Object.entries(v).find(([, x]) => !check(x)) : undefined;
    if (!isRecord(v) || bad) {
        const what = bad ? `"${key}.${bad[0]}" is ${describeType(bad[1])}` : `"${key}" is ${describeType(v)}`;
        throw new CliError(`${source}: output ${what}, expected ${expected}`);
    }
    return v as Record<string, T>;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isFido2 = (v: unknown): v is "fido2" => v === "fido2";
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isRoleConfig = (v: unknown): v is RoleSshConfig =>
    isRecord(v) &&
    isString(v.sshConfig) &&
    (v.sshConfigProxyCommand === undefined || isString(v.sshConfigProxyCommand));

/** The team access outputs, or undefined for a stack without operators. */
function accessOutputs(obj: Record<string, unknown>, source: string): AccessOutputs | undefined {
    const operatorPrincipals = mapOutput(obj, "operatorPrincipals", source, "lists of principals", isStringList);
    if (operatorPrincipals === undefined) return undefined;
    const roleAccounts = mapOutput(obj, "roleAccounts", source, "account names", isString) ?? {};
    const roleSshConfigs = mapOutput(obj, "roleSshConfigs", source, "{sshConfig, sshConfigProxyCommand}", isRoleConfig);
    const userCaKmsKeyArns = mapOutput(obj, "userCaKmsKeyArns", source, "KMS key ARNs", isString);
    const roleMfa = mapOutput(obj, "roleMfa", source, '"fido2"', isFido2);
    const ca = obj.userCa;
    if (ca !== undefined && ca !== "stack" && ca !== "kms") {
        throw new CliError(`${source}: output "userCa" is ${JSON.stringify(ca)}, expected "kms" or "stack"`);
    }
    const maxValidity = obj.certificateMaxValiditySeconds;
    if (maxValidity !== undefined && !(Number.isInteger(maxValidity) && (maxValidity as number) > 0)) {
        throw new CliError(
            `${source}: output "certificateMaxValiditySeconds" is ${JSON.stringify(maxValidity)}, expected a positive whole number`,
        );
    }
    const text = (key: string) => (isString(obj[key]) && obj[key] !== "[secret]" ? (obj[key] as string) : undefined);
    return {
        operatorPrincipals,
        roleAccounts,
        roleSshConfigs,
        userCa: ca ?? (userCaKmsKeyArns ? "kms" : "stack"),
        userCaPublicKey: text("userCaPublicKey"),
        userCaPrivateKeyOpenssh: text("userCaPrivateKeyOpenssh"),
        userCaKmsKeyArns,
        certificateMaxValiditySeconds: maxValidity as number | undefined,
        roleMfa,
    };
}

/** The stack the config was rendered for, from its first line (`# jumpgate stack <stack>: ...`). */
function stackOf(sshConfig: string, source: string, key = "sshConfig"): string {
    const stack = /^# jumpgate stack (\S+): /.exec(sshConfig)?.[1];
    if (stack === undefined || !STACK_NAME.test(stack)) {
        throw new CliError(
            `${source}: output "${key}" does not start with "# jumpgate stack <stack>: "; it is not a jumpgate config`,
        );
    }
    return stack;
}

function checkSshConfig(text: string, key: string, source: string, stack: string): ParsedConf {
    const conf = parseConf(text);
    const where = (line: number) => `${source}: output "${key}" line ${line + 1}`;
    if (conf.blocks.length === 0) throw new CliError(`${source}: output "${key}" has no Host block`);
    const aliases = new Set(conf.blocks.flatMap((b) => b.patterns));
    for (const s of [...conf.top, ...conf.blocks.flatMap((b) => b.settings)]) {
        if (REFUSED_KEYWORDS.has(s.keyword)) {
            throw new CliError(
                `${where(s.line)}: "${conf.lines[s.line]!.trim()}" is not something jumpgate renders; refusing to install it`,
            );
        }
    }
    if (conf.matches.length > 0)
        throw new CliError(`${where(conf.matches[0]!)}: Match blocks are not something jumpgate renders`);
    if (conf.top.length > 0) throw new CliError(`${where(conf.top[0]!.line)}: a setting outside any Host block`);
    for (const b of conf.blocks) {
        if (b.patterns.length !== 1 || /[*?!,]/.test(b.patterns[0]!) || !b.patterns[0]!.startsWith(`${stack}-`)) {
            throw new CliError(
                `${where(b.line)}: "${conf.lines[b.line]!.trim()}" is not a jumpgate host alias (${stack}-<name>)`,
            );
        }
        if (!firstValue(b, "hostname")) throw new CliError(`${where(b.line)}: Host ${b.patterns[0]} has no HostName`);
        for (const fwd of b.settings.filter((s) => s.keyword === "localforward")) {
            if (!/^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(fwd.args[0] ?? "")) {
                throw new CliError(
                    `${where(fwd.line)}: LocalForward must listen on 127.0.0.1; refusing to install "${fwd.args.join(" ")}"`,
                );
            }
        }
        // A second known_hosts file only for an unpinned existing host: the one `jumpgate-ssh pin` appends to.
        for (const files of b.settings.filter((s) => s.keyword === "userknownhostsfile")) {
            if (files.args.length > 2 || (files.args.length === 2 && files.args[1] !== defaultPinnedHostsFile(stack))) {
                throw new CliError(
                    `${where(files.line)}: UserKnownHostsFile may add only ${defaultPinnedHostsFile(stack)}; refusing to install "${files.args.join(" ")}"`,
                );
            }
        }
        const proxyCommand = b.settings.find((s) => s.keyword === "proxycommand");
        if (proxyCommand) {
            const m = /^ssh -W %h:%p (\S+)$/.exec(proxyCommand.args.join(" "));
            if (!m || !aliases.has(m[1]!)) {
                throw new CliError(
                    `${where(proxyCommand.line)}: ProxyCommand must be "ssh -W %h:%p <bastion alias>"; refusing to install "${proxyCommand.args.join(" ")}"`,
                );
            }
        }
    }
    return conf;
}

/** True for an unpinned existing host's entry: it checks the operator's pinned file, which `pin` fills. */
export function isUnpinnedEntry(block: HostBlock, stack: string): boolean {
    const files = block.settings.find((s) => s.keyword === "userknownhostsfile")?.args ?? [];
    return files.length === 2 && files[1] === defaultPinnedHostsFile(stack);
}

/**
 * Every HostKeyAlias the config pins must have a known_hosts line, or ssh would refuse to connect;
 * unpinned existing hosts have none until the operator pins them.
 */
function checkKnownHosts(text: string, conf: ParsedConf, source: string, stack: string): void {
    const pinned = new Set<string>();
    text.split("\n").forEach((raw, i) => {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) return;
        const m = KNOWN_HOSTS_LINE.exec(line);
        if (!m)
            throw new CliError(`${source}: output "knownHosts" line ${i + 1} is not "<alias> <key type> <base64 key>"`);
        const blob = Buffer.from(m[3]!, "base64");
        const typeLen = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
        if (typeLen < 0 || blob.subarray(4, 4 + typeLen).toString("latin1") !== m[2]) {
            throw new CliError(`${source}: output "knownHosts" line ${i + 1}: the key is not a valid ${m[2]} key`);
        }
        for (const name of m[1]!.split(",")) pinned.add(name);
    });
    const missing = conf.blocks
        .filter((b) => !isUnpinnedEntry(b, stack))
        .map((b: HostBlock) => firstValue(b, "hostkeyalias") ?? b.patterns[0]!)
        .filter((alias) => !pinned.has(alias));
    if (missing.length > 0) {
        throw new CliError(
            `${source}: output "knownHosts" pins no key for ${missing.join(", ")}; sshConfig and knownHosts are from different deployments`,
        );
    }
}

const KEY_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const KEY_END = "-----END OPENSSH PRIVATE KEY-----";

function checkPrivateKey(text: string, source: string): void {
    const body = text.trim();
    const bad = (why: string) =>
        new CliError(`${source}: output "privateKeyOpenssh" is not an OpenSSH private key (${why})`);
    if (!body.startsWith(KEY_BEGIN) || !body.endsWith(KEY_END)) throw bad(`expected ${KEY_BEGIN} ... ${KEY_END}`);
    const b64 = body.slice(KEY_BEGIN.length, -KEY_END.length).replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad("the body is not base64");
    if (!Buffer.from(b64, "base64").subarray(0, 15).equals(Buffer.from("openssh-key-v1\0", "latin1"))) {
        throw bad("no openssh-key-v1 header");
    }
}

/** The text of the outputs, from a file, stdin (`-`) or the Pulumi CLI. */
export interface OutputsSource {
    from?: string;
    stack?: string;
    /** The command reading them, for the hint when Pulumi is missing. Defaults to install. */
    command?: string;
    readStdin: () => string;
    /** Runs `pulumi` with args; `error` set when it could not be started. */
    runPulumi: (args: string[]) => {
        status: number | null;
        stdout: string;
        stderr: string;
        error?: NodeJS.ErrnoException;
    };
}

export function readOutputsText(src: OutputsSource): { text: string; source: string } {
    if (src.from === "-") return { text: src.readStdin(), source: "stdin" };
    if (src.from !== undefined) {
        try {
            return { text: readFileSync(src.from, "utf8"), source: src.from };
        } catch (e) {
            const err = e as NodeJS.ErrnoException;
            const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "a directory" : err.message;
            throw new CliError(`--from ${src.from}: cannot read it (${why})`);
        }
    }
    const args = ["stack", "output", "--json", "--show-secrets", ...(src.stack ? ["--stack", src.stack] : [])];
    const cmd = `pulumi ${args.join(" ")}`;
    const res = src.runPulumi(args);
    if (res.error?.code === "ENOENT") {
        throw new CliError(
            `the Pulumi CLI (pulumi) is not on PATH, so the stack outputs cannot be read. Install it ` +
                `(https://www.pulumi.com/docs/install/) or pass the outputs in a file: ` +
                `${cmd} > outputs.json, then: npx jumpgate-ssh ${src.command ?? "install"} --from outputs.json`,
        );
    }
    if (res.error) throw new CliError(`${cmd}: could not run it (${res.error.message})`);
    if (res.status !== 0) {
        throw new CliError(`${cmd} failed (exit ${res.status}):\n${res.stderr.trim() || res.stdout.trim()}`);
    }
    return { text: res.stdout, source: `\`${cmd}\`` };
}

/** Runs the real Pulumi CLI in the working directory. */
export function runPulumiCli(args: string[]) {
    const res = spawnSync("pulumi", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return {
        status: res.status,
        stdout: res.stdout ?? "",
        stderr: res.stderr ?? "",
        error: res.error as NodeJS.ErrnoException | undefined,
    };
}
