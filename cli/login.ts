// `npx jumpgate-ssh login`: a short-lived SSH user certificate for the operator's own key, written
// where ssh looks for it (`<key>-cert.pub` next to the key). Only the public key is read; the private
// key is never opened. The CA is a stack key (a file holding the Pulumi secret) or an AWS KMS key the
// operator's AWS identity may sign with.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { KeyFormatError, parsePublicKeyLine, stackCaSigner } from "../components/render/caKeys";
import {
    CertificateError,
    certificateLine,
    CertificateSigner,
    issueCertificate,
} from "../components/render/certificate";
import { atomicWrite, lstatOrUndefined, octal } from "./fsplan";
import { installPaths } from "./install";
import { kmsCaSigner } from "./kmsSigner";
import { CliError, shortStackName } from "./outputs";
import { firstArg, parseConf } from "./sshconf";

/** Validity when `--valid` is not given: a working day. */
export const DEFAULT_VALIDITY_SECONDS = 8 * 3600;
/** The longest validity login grants until the stack publishes its own maximum. */
export const LOGIN_MAX_VALIDITY_SECONDS = 24 * 3600;
/** Certificates start this long before now, so a bastion whose clock is behind still accepts them. */
export const CLOCK_SKEW_SECONDS = 5 * 60;

/** The command-line values login reads. */
export interface LoginValues {
    stack?: string;
    identity?: string;
    principal?: string[];
    operator?: string;
    valid?: string;
    ca?: string;
    "ca-key-file"?: string;
    "kms-key-id"?: string;
    region?: string;
    endpoint?: string;
    "verify-required"?: boolean;
}

/** Which CA signs. */
export type CaChoice =
    { kind: "stack"; keyFile: string } | { kind: "kms"; keyId: string; region: string; endpoint?: string };

/** A checked login request. */
export interface LoginRequest {
    stack: string;
    operator: string;
    principals: string[];
    /** The public key file read (`<identity>.pub`). */
    publicKeyFile: string;
    /** Where the certificate goes (`<identity>-cert.pub`). */
    certificateFile: string;
    validitySeconds: number;
    ca: CaChoice;
    /** The certificate's verify-required option: every signature must show a verified user (FIDO PIN). */
    verifyRequired: boolean;
}

/** What login wrote. */
export interface LoginResult {
    certificateFile: string;
    keyId: string;
    serial: bigint;
    principals: string[];
    validAfter: Date;
    validBefore: Date;
    caPublicKey: string;
    bodyBytes: number;
}

/** Parses `8h`, `90m`, `1h30m`, `2d`, `45s` into seconds. */
export function parseValidity(text: string): number {
    const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
    const seconds = m ? [86400, 3600, 60, 1].reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0) : 0;
    if (!m || text.trim() === "" || seconds <= 0) {
        throw new CliError(`--valid ${JSON.stringify(text)}: not a duration such as 8h, 90m or 1h30m`, 2);
    }
    return seconds;
}

/** Checks the flags (every problem at once) and resolves the key files. */
export function loginRequest(
    values: LoginValues,
    home: string,
    passwdHome: string,
    maxValiditySeconds: number,
): LoginRequest {
    const problems: string[] = []; // reported together, one per line
    const attempt = <T>(f: () => T): T | undefined => {
        try {
            return f();
        } catch (e) {
            if (!(e instanceof CliError)) throw e;
            problems.push(e.message);
            return undefined;
        }
    };
    const stack = attempt(() => {
        if (values.stack === undefined) throw new CliError("--stack is required");
        return shortStackName(values.stack);
    });
    problems.push(...whoProblems(values));
    const validitySeconds = attempt(() => checkedValidity(values.valid, maxValiditySeconds));
    const ca = attempt(() => caChoice(values));
    const files = stack === undefined ? undefined : attempt(() => keyFiles(values.identity, stack, home, passwdHome));
    if (problems.length > 0) throw new CliError(problems.join("\n"), 2);
    const who = { operator: values.operator!, principals: values.principal! };
    const verifyRequired = values["verify-required"] === true;
    return { stack: stack!, ...who, ...files!, validitySeconds: validitySeconds!, ca: ca!, verifyRequired };
}

/** Problems with --principal and --operator. */
function whoProblems(values: LoginValues): string[] {
    const problems: string[] = [];
    const principals = values.principal ?? [];
    if (principals.length === 0) problems.push("--principal is required (the user name(s) the certificate logs in as)");
    for (const p of principals) {
        if (!/^[^\s,]+$/.test(p)) problems.push(`--principal ${JSON.stringify(p)}: no spaces or commas`);
    }
    if (values.operator === undefined) {
        problems.push("--operator is required: your name, which sshd logs with every login");
    } else if (!/^[A-Za-z0-9._@+-]+$/.test(values.operator)) {
        problems.push(`--operator ${JSON.stringify(values.operator)}: use letters, digits and . _ @ + - only`);
    }
    return problems;
}

function checkedValidity(valid: string | undefined, maxSeconds: number): number {
    const seconds = valid === undefined ? Math.min(DEFAULT_VALIDITY_SECONDS, maxSeconds) : parseValidity(valid);
    if (seconds > maxSeconds) {
        throw new CliError(`--valid ${valid}: longer than the maximum of ${formatSeconds(maxSeconds)}`, 2);
    }
    return seconds;
}

function caChoice(v: LoginValues): CaChoice {
    if (v.ca === "stack") {
        if (!v["ca-key-file"]) throw new CliError("--ca stack needs --ca-key-file <file with the CA private key>", 2);
        return { kind: "stack", keyFile: v["ca-key-file"] };
    }
    if (v.ca === "kms") {
        const missing = [v["kms-key-id"] ? "" : "--kms-key-id <key ARN or alias>", v.region ? "" : "--region <region>"];
        if (missing.some(Boolean)) throw new CliError(`--ca kms needs ${missing.filter(Boolean).join(" and ")}`, 2);
        return { kind: "kms", keyId: v["kms-key-id"]!, region: v.region!, endpoint: v.endpoint };
    }
    throw new CliError(
        `--ca ${v.ca === undefined ? "is required" : JSON.stringify(v.ca)}: use --ca stack or --ca kms`,
        2,
    );
}

/** `<identity>.pub` and `<identity>-cert.pub`; the identity defaults to the installed config's IdentityFile. */
function keyFiles(identity: string | undefined, stack: string, home: string, passwdHome: string) {
    const key = (identity ?? installedIdentity(stack, home, passwdHome)).replace(/\.pub$/, "");
    return { publicKeyFile: `${key}.pub`, certificateFile: `${key}-cert.pub` };
}

function installedIdentity(stack: string, home: string, passwdHome: string): string {
    const conf = installPaths(home, stack).conf;
    let text: string;
    try {
        text = readFileSync(conf, "utf8");
    } catch {
        throw new CliError(
            `stack ${stack} is not installed in ${home}/.ssh (no ${conf}): run npx jumpgate-ssh install --stack ${stack}, or pass --identity <key file>`,
            2,
        );
    }
    const identity = parseConf(text)
        .blocks.map((b) => firstArg(b, "identityfile"))
        .find((x): x is string => !!x);
    if (!identity) throw new CliError(`${conf} names no IdentityFile: pass --identity <key file>`, 2);
    return identity.startsWith("~/") ? join(passwdHome, identity.slice(2)) : identity;
}

/** The signer for the chosen CA. A stack CA key file must be private to its owner, as ssh demands of keys. */
export function caSigner(ca: CaChoice): CertificateSigner {
    if (ca.kind === "kms") return kmsCaSigner(ca);
    const what = `--ca-key-file ${ca.keyFile}`;
    let text: string;
    try {
        const mode = statSync(ca.keyFile).mode;
        if ((mode & 0o077) !== 0) {
            throw new CliError(`${what}: mode ${octal(mode)} lets others read the CA key; chmod 600 ${ca.keyFile}`);
        }
        text = readFileSync(ca.keyFile, "utf8");
    } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError(`${what}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    try {
        return stackCaSigner(text, what);
    } catch (e) {
        throw operatorError(e);
    }
}

/** Issues the certificate and writes it next to the key (mode 0644, as ssh-keygen writes certificates). */
export async function issueLogin(req: LoginRequest, signer: CertificateSigner, now: Date): Promise<LoginResult> {
    const publicKey = readPublicKey(req.publicKeyFile);
    const keyId = `jumpgate-${req.stack}:${req.operator}`;
    const serial = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) || 1n;
    const second = Math.floor(now.getTime() / 1000) * 1000; // certificates count whole seconds
    const validAfter = new Date(second - CLOCK_SKEW_SECONDS * 1000);
    const validBefore = new Date(second + req.validitySeconds * 1000);
    const criticalOptions = req.verifyRequired ? { criticalOptions: { verifyRequired: true } } : {};
    const spec = { publicKey, serial, keyId, principals: req.principals, validAfter, validBefore, ...criticalOptions };
    const issued = await issueCertificate(spec, signer).catch((e: unknown) => {
        throw operatorError(e);
    });
    const comment = parsePublicKeyLine(publicKey, req.publicKeyFile).comment;
    atomicWrite(req.certificateFile, certificateLine(issued.certificate, comment), 0o644);
    return { ...spec, certificateFile: req.certificateFile, principals: [...req.principals], ...issued };
}

function readPublicKey(file: string): string {
    if (!lstatOrUndefined(file)) {
        const key = file.replace(/\.pub$/, "");
        throw new CliError(`no public key at ${file}; make it from the key with: ssh-keygen -y -f ${key} > ${file}`);
    }
    try {
        const line = readFileSync(file, "utf8").split("\n")[0] ?? "";
        parsePublicKeyLine(line, file);
        return line;
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw code ? new CliError(`${file}: cannot read it (${code})`) : operatorError(e);
    }
}

/** Key and certificate format errors are the operator's to fix: they become CliErrors. */
function operatorError(e: unknown): unknown {
    return e instanceof KeyFormatError || e instanceof CertificateError ? new CliError(e.message) : e;
}

/** The whole command: check the flags, sign, write, report. Returns the exit status. */
export async function runLogin(
    values: LoginValues,
    env: { home: string; passwdHome: string; now: Date; out: (s: string) => void; err: (s: string) => void },
    maxValiditySeconds = LOGIN_MAX_VALIDITY_SECONDS,
): Promise<number> {
    try {
        const req = loginRequest(values, env.home, env.passwdHome, maxValiditySeconds);
        const result = await issueLogin(req, caSigner(req.ca), env.now);
        env.out(formatLogin(result, req.ca, env.now));
        return 0;
    } catch (e) {
        if (!(e instanceof CliError)) throw e;
        env.err(`jumpgate-ssh login: ${e.message.replace(/\n/g, "\n  ")}\n`);
        return e.exitCode;
    }
}

/** What login prints. */
export function formatLogin(r: LoginResult, ca: CaChoice, now: Date): string {
    const caBlob = Buffer.from(r.caPublicKey.split(/\s+/)[1] ?? "", "base64");
    const fingerprint = createHash("sha256").update(caBlob).digest("base64").replace(/=+$/, "");
    const by = ca.kind === "kms" ? `KMS key ${ca.keyId} (${ca.region})` : `stack CA ${ca.keyFile}`;
    const left = Math.ceil((r.validBefore.getTime() - now.getTime()) / 1000); // now has milliseconds
    return [
        `jumpgate-ssh: wrote ${r.certificateFile}`,
        `  key ID ${r.keyId}, serial ${r.serial}, principals ${r.principals.join(",")}`,
        `  expires ${r.validBefore.toISOString().replace(/\.000Z$/, "Z")} (in ${formatSeconds(left)})`,
        `  signed by ${by}: ${r.caPublicKey.split(/\s+/)[0]} SHA256:${fingerprint}`,
        "",
    ].join("\n");
}

function formatSeconds(s: number): string {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return [h ? `${h}h` : "", m ? `${m}m` : "", !h && !m ? `${s}s` : ""].join("");
}
