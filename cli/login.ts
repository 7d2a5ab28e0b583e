// `npx jumpgate-ssh login`: a short-lived SSH user certificate for the operator's own key, written
// where ssh looks for it (`<key>-cert.pub` next to the key). Only the public key is read; the private
// key is never opened. The stack's outputs say who the operator may be (their roles), which CA signs
// and with which key: the stack CA (its secret output, or a file holding it) or the role's AWS KMS key,
// which the operator's own AWS identity signs with.
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
import { installPaths, Manifest, operatorRoles } from "./install";
import { kmsCaSigner } from "./kmsSigner";
import { CliError, JumpgateOutputs, OutputsSource, parseOutputs, readOutputsText, shortStackName } from "./outputs";
import { firstArg, parseConf } from "./sshconf";

/** Validity when `--valid` is not given: a working day. */
export const DEFAULT_VALIDITY_SECONDS = 8 * 3600;
/** The longest validity login grants when the stack publishes no maximum (certificateMaxValiditySeconds). */
export const LOGIN_MAX_VALIDITY_SECONDS = 24 * 3600;
/** Certificates start this long before now, so a bastion whose clock is behind still accepts them. */
export const CLOCK_SKEW_SECONDS = 5 * 60;

/** The command-line values login reads. */
export interface LoginValues {
    stack?: string;
    from?: string;
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

/** Which CA signs: a stack CA key from a file or from the outputs, or a KMS key. */
export type CaChoice =
    | { kind: "stack"; keyFile: string }
    | { kind: "stack"; keyText: string; from: string }
    | { kind: "kms"; keyId: string; region: string; endpoint?: string };

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
    /** The stack's CA public key (output userCaPublicKey), when known: the stack CA must be it. */
    caPublicKey?: string;
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

/** Runs each check, collecting the operator's errors so they are reported together. */
function collector() {
    const problems: string[] = [];
    const attempt = <T>(f: () => T): T | undefined => {
        try {
            return f();
        } catch (e) {
            if (!(e instanceof CliError)) throw e;
            problems.push(e.message);
            return undefined;
        }
    };
    const done = () => {
        if (problems.length > 0) throw new CliError(problems.join("\n"), 2);
    };
    return { problems, attempt, done };
}

/** Checks what the flags say on their own, before the outputs are read (every problem at once). */
export function checkLoginFlags(values: LoginValues): void {
    const c = collector();
    if (values.stack !== undefined) c.attempt(() => shortStackName(values.stack!));
    for (const p of values.principal ?? []) {
        if (!/^[^\s,]+$/.test(p)) c.problems.push(`--principal ${JSON.stringify(p)}: no spaces or commas`);
    }
    if (values.operator !== undefined && !/^[A-Za-z0-9._@+-]+$/.test(values.operator)) {
        c.problems.push(`--operator ${JSON.stringify(values.operator)}: use letters, digits and . _ @ + - only`);
    }
    if (values.valid !== undefined) c.attempt(() => parseValidity(values.valid!));
    if (values.ca !== undefined && values.ca !== "stack" && values.ca !== "kms") {
        c.problems.push(`--ca ${JSON.stringify(values.ca)}: use --ca stack or --ca kms`);
    }
    const kmsFlags = ["kms-key-id", "region", "endpoint"] as const;
    if ((values.ca === "kms" || kmsFlags.some((f) => values[f])) && values["ca-key-file"]) {
        c.problems.push("--ca-key-file is the stack CA's key: it does not go with --ca kms, --kms-key-id or --region");
    }
    if (values.ca === "stack" && kmsFlags.some((f) => values[f])) {
        c.problems.push("--kms-key-id, --region and --endpoint go with --ca kms, not --ca stack");
    }
    c.done();
}

/** Checks the flags against the stack's outputs (every problem at once) and resolves the key files. */
export function loginRequest(
    values: LoginValues,
    outputs: JumpgateOutputs,
    home: string,
    passwdHome: string,
): LoginRequest {
    const stack = outputs.stack;
    const installed = installedOperator(home, stack);
    const operator = values.operator ?? installed;
    const access = outputs.access;
    const principals = operatorPrincipalsFor(values, outputs, operator);
    const c = collector();
    const max = access?.certificateMaxValiditySeconds ?? LOGIN_MAX_VALIDITY_SECONDS;
    const validitySeconds = c.attempt(() =>
        checkedValidity(values.valid, max, access?.certificateMaxValiditySeconds !== undefined),
    );
    const ca = c.attempt(() => caChoice(values, outputs, principals));
    const files = c.attempt(() => keyFiles(values.identity, stack, home, passwdHome));
    c.done();
    return {
        stack,
        operator: operator!,
        principals,
        ...files!,
        validitySeconds: validitySeconds!,
        ca: ca!,
        caPublicKey: access?.userCaPublicKey,
        verifyRequired: values["verify-required"] === true || principals.some((p) => access?.roleMfa?.[p] === "fido2"),
    };
}

/** The operator's principals from the outputs; `--principal` may narrow them, never add to them. */
function operatorPrincipalsFor(values: LoginValues, outputs: JumpgateOutputs, operator?: string): string[] {
    const theirs = operatorRoles(outputs, operator, "login");
    const asked = values.principal ?? [];
    const foreign = asked.filter((p) => !theirs.includes(p));
    if (foreign.length > 0) {
        throw new CliError(
            `--principal ${foreign.join(", ")}: operator ${operator} of stack ${outputs.stack} has only ${theirs.join(", ")}; drop --principal, or ask an admin to change your role`,
            2,
        );
    }
    return asked.length > 0 ? [...new Set(asked)] : theirs;
}

/** The operator an earlier `install --operator` remembered for the stack in this home. */
function installedOperator(home: string, stack: string): string | undefined {
    try {
        const manifest = JSON.parse(readFileSync(installPaths(home, stack).manifest, "utf8")) as Partial<Manifest>;
        return typeof manifest.operator === "string" ? manifest.operator : undefined;
    } catch {
        return undefined;
    }
}

function checkedValidity(valid: string | undefined, maxSeconds: number, stackMax: boolean): number {
    const seconds = valid === undefined ? Math.min(DEFAULT_VALIDITY_SECONDS, maxSeconds) : parseValidity(valid);
    if (seconds > maxSeconds) {
        const whose = stackMax ? "the stack's maximum" : "the maximum";
        throw new CliError(`--valid ${valid}: longer than ${whose} of ${formatSeconds(maxSeconds)}`, 2);
    }
    return seconds;
}

/** The CA: `--ca` or the stack's `userCa`; its key from the flags or the outputs. */
function caChoice(v: LoginValues, outputs: JumpgateOutputs, principals: string[]): CaChoice {
    // A CA key flag picks its backend; otherwise the stack's own.
    const implied = v["ca-key-file"] ? "stack" : v["kms-key-id"] ? "kms" : undefined;
    const backend = v.ca ?? implied ?? outputs.access?.userCa ?? "stack";
    if (backend === "stack") {
        if (v["ca-key-file"]) return { kind: "stack", keyFile: v["ca-key-file"] };
        const keyText = outputs.access?.userCaPrivateKeyOpenssh;
        if (keyText !== undefined) {
            return { kind: "stack", keyText, from: `output userCaPrivateKeyOpenssh (${outputs.source})` };
        }
        throw new CliError(
            `stack ${outputs.stack} signs with its stack CA, whose private key is not in ${outputs.source}: read the outputs with pulumi stack output --json --show-secrets (you need access to the stack's secrets), or pass --ca-key-file <file with the CA private key>`,
            2,
        );
    }
    const keyId = v["kms-key-id"] ?? kmsKeyFor(outputs, principals);
    const region = v.region ?? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
    if (region === undefined) throw new CliError(`--kms-key-id ${keyId} is no key ARN: pass --region <region>`, 2);
    return { kind: "kms", keyId, region, endpoint: v.endpoint };
}

/** The KMS key that signs for the principals' role (output userCaKmsKeyArns: one key per role). */
function kmsKeyFor(outputs: JumpgateOutputs, principals: string[]): string {
    const arns = outputs.access?.userCaKmsKeyArns ?? {};
    const keys = [...new Set(principals.map((p) => arns[p]))];
    if (keys.length === 1 && keys[0] !== undefined) return keys[0];
    const why =
        keys.length > 1
            ? `principals ${principals.join(", ")} are signed by different keys: pass one --principal`
            : `${outputs.source} has no KMS key for ${principals.join(", ")} in "userCaKmsKeyArns": pass --kms-key-id <key ARN>, or run pulumi up to publish it`;
    throw new CliError(`stack ${outputs.stack} signs with AWS KMS, but ${why}`, 2);
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
            `stack ${stack} is not installed in ${home}/.ssh (no ${conf}): run npx jumpgate-ssh install --stack ${stack} --operator <you>, or pass --identity <key file>`,
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
    if ("keyText" in ca) {
        try {
            return stackCaSigner(ca.keyText, ca.from);
        } catch (e) {
            throw operatorError(e);
        }
    }
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
    if (req.ca.kind === "stack" && req.caPublicKey !== undefined) await checkStackCa(req, signer);
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

/** A stack CA key that is not the one the stack's hosts trust would sign certificates no host accepts. */
async function checkStackCa(req: LoginRequest, signer: CertificateSigner): Promise<void> {
    const blob = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");
    const ours = blob(await signer.caPublicKey().catch((e: unknown) => Promise.reject(operatorError(e))));
    if (ours !== blob(req.caPublicKey!)) {
        const from = "keyFile" in req.ca ? `--ca-key-file ${req.ca.keyFile}` : "the CA key";
        throw new CliError(
            `${from} is not stack ${req.stack}'s user CA (its public key is ${ours}; the stack's hosts trust ${blob(req.caPublicKey!)}): use the stack's userCaPrivateKeyOpenssh`,
        );
    }
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

/** Where login reads the outputs and reports. */
export interface LoginEnv {
    home: string;
    passwdHome: string;
    now: Date;
    out: (s: string) => void;
    err: (s: string) => void;
    readStdin: OutputsSource["readStdin"];
    runPulumi: OutputsSource["runPulumi"];
}

/** The whole command: check the flags, read the outputs, sign, write, report. Returns the exit status. */
export async function runLogin(values: LoginValues, env: LoginEnv): Promise<number> {
    try {
        checkLoginFlags(values);
        const { text, source } = readOutputsText({ ...values, command: "login", ...env });
        const outputs = parseOutputs(text, source, values.stack);
        const req = loginRequest(values, outputs, env.home, env.passwdHome);
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
    const by =
        ca.kind === "kms" ? `KMS key ${ca.keyId} (${ca.region})` : `stack CA ${"keyFile" in ca ? ca.keyFile : ca.from}`;
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
