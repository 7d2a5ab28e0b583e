// `npx jumpgate-ssh install|uninstall|doctor|login`: the operator's ~/.ssh in one command. Thin: parses
// the arguments and calls cli/install.ts (plan, then apply), cli/doctor.ts or cli/login.ts.
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatCheck, installedStacks, runDoctor } from "./doctor";
import { apply, describe } from "./fsplan";
import { HomeInfo, planInstall, planUninstall, Plan } from "./install";
import { runAudit } from "./audit";
import { runLogin } from "./login";
import { runPin } from "./pin";
import { parseSshVersion, sshDashG, sshKeygenList, sshVersionText, SshVersion, versionString } from "./openssh";
import { CliError, OutputsSource, parseOutputs, readOutputsText, runPulumiCli } from "./outputs";

export const USAGE = `Usage: npx jumpgate-ssh <command> [options]

Commands:
  install     write ~/.ssh/config.d/jumpgate-<stack>.conf, ~/.ssh/jumpgate-<stack>_known_hosts and (when
              jumpgate generated the key) ~/.ssh/jumpgate-<stack>_ed25519, and put "Include config.d/*" at
              the top of ~/.ssh/config (with a backup). Safe to re-run.
  uninstall   remove exactly what install wrote for the stack
  doctor      check the OpenSSH version, permissions, the Include, the pinned keys, your certificate
              (team stacks) and ssh -G per host
  login       get a short-lived SSH certificate for your key: writes <key>-cert.pub next to it (the private
              key is not read), for your role, valid for 8 hours unless --valid says otherwise
  audit       who reached which target, when and for how long: the bastion's audit records as a table
  pin ALIAS --fingerprint SHA256:...
              pin an existing host whose key the stack does not know (its entry says UNPINNED): fetches
              the key through the installed bastion and writes it to ~/.ssh/jumpgate-<stack>_pinned_hosts
              only if its fingerprint is the one you got out of band (the host's team, or for an EC2
              instance: aws ec2 get-console-output --instance-id ID --latest); otherwise writes nothing

Options:
  --stack S      the Pulumi stack (default: the selected one; with --from, the stack in the outputs)
  --from FILE    read the outputs from FILE, or '-' for stdin, instead of running
                 pulumi stack output --json --show-secrets
  --home DIR     install into DIR/.ssh instead of $HOME/.ssh
  --force        replace files jumpgate-ssh did not write (a backup of each is kept), remove changed files
  --dry-run      print what install/uninstall would do, change nothing
  -h, --help     this text

Options of install and login on a stack with operators (team access):
  --operator NAME     who you are (one of the stack's operators): install writes your role's config and
                      remembers you; login certifies your role (key ID jumpgate-<stack>:NAME)
  --identity FILE     your key (FILE.pub is read by login); default: the stack's IdentityFile

Options of login (the stack's outputs say the rest):
  --principal P       only these of your roles (repeat for several); default: all of them
  --valid D           how long the certificate is valid (8h, 90m, 1h30m; default 8h, at most the stack's
                      maximum, or 24h)
  --verify-required   the certificate demands a PIN-verified signature from your FIDO key (ssh-keygen
                      -t ed25519-sk -O verify-required); default: set when one of your roles has mfa fido2
  --ca stack|kms      the CA to sign with; default: the stack's (output userCa)
  --ca-key-file FILE  the stack CA's OpenSSH ED25519 private key; default: output userCaPrivateKeyOpenssh
  --kms-key-id ARN --region R [--endpoint URL]
                      the AWS KMS key (default: your role's in output userCaKmsKeyArns, its region from the
                      ARN), signed with your AWS credentials

Options of audit:
  --since D           records of the last D (30m, 1h, 2d) or since an ISO time; default 1h
  --operator NAME     only this operator (the certificate's key ID, or the name in it)
  --target NAME       only this target (its name or ip:port)
  --source lab        read the lab's bastion journal (the lab in --lab-dir, default .lab; as root); the default
  --source cloudwatch query the stack's CloudWatch log group with your AWS credentials (Logs Insights)
  --log-group NAME    the group to query; default /jumpgate/<stack>/audit (output auditLogGroupName)
  --region R          the stack's region; default AWS_REGION
`;

/** The options each command takes (besides --home and --help). */
const OPTIONS_OF: Record<string, string[]> = {
    install: ["stack", "from", "force", "dry-run", "ssh-version", "operator", "identity"],
    uninstall: ["stack", "force", "dry-run", "ssh-version"],
    doctor: ["stack", "ssh-version"],
    pin: ["fingerprint"],
    audit: ["stack", "operator", "since", "target", "source", "lab-dir", "log-group", "region", "endpoint"],
    login: [
        "stack",
        "from",
        "principal",
        "operator",
        "identity",
        "valid",
        "ca",
        "ca-key-file",
        "kms-key-id",
        "region",
        "endpoint",
        "verify-required",
    ],
};

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
    env: NodeJS.ProcessEnv;
    readStdin: () => string;
    runPulumi: OutputsSource["runPulumi"];
    sshVersionText: () => string | undefined;
    passwdHome: () => string;
    uid: () => number;
    now: () => Date;
}

export function processIo(): Io {
    return {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
        env: process.env,
        readStdin: () => readFileSync(0, "utf8"),
        runPulumi: runPulumiCli,
        sshVersionText,
        passwdHome: () => os.userInfo().homedir,
        uid: () => (typeof process.getuid === "function" ? process.getuid() : 0),
        now: () => new Date(),
    };
}

function report(io: Io, title: string, plan: Plan, lines: string[], dryRun: boolean): void {
    io.out(`${title}\n`);
    for (const l of lines) io.out(`  ${l}\n`);
    for (const u of plan.unchanged) io.out(`  unchanged ${u}\n`);
    for (const n of plan.notes) io.out(`  note: ${n}\n`);
    if (dryRun) io.out("  (dry run: nothing was changed)\n");
}

function install(
    values: {
        stack?: string;
        from?: string;
        force?: boolean;
        "dry-run"?: boolean;
        operator?: string;
        identity?: string;
    },
    info: HomeInfo,
    sshVersion: SshVersion | undefined,
    io: Io,
): number {
    const { text, source } = readOutputsText({
        from: values.from,
        stack: values.stack,
        readStdin: io.readStdin,
        runPulumi: io.runPulumi,
    });
    const outputs = parseOutputs(text, source, values.stack);
    const plan = planInstall(outputs, {
        ...info,
        force: values.force ?? false,
        sshVersion,
        now: io.now(),
        operator: values.operator,
        identity: values.identity === undefined ? undefined : resolve(values.identity.replace(/\.pub$/, "")),
    });
    const dryRun = values["dry-run"] ?? false;
    const lines = dryRun ? plan.actions.map((a) => `[dry run] ${describe(a)}`) : apply(plan.actions);
    const how = `${plan.style === "proxyjump" ? "ProxyJump" : "ProxyCommand"}${sshVersion ? `, ${versionString(sshVersion)}` : ""}`;
    const state = plan.actions.length === 0 ? " (up to date, nothing changed)" : "";
    report(io, `jumpgate-ssh: stack ${plan.stack} in ${plan.paths.sshDir} (${how})${state}`, plan, lines, dryRun);
    if (!dryRun) {
        io.out(`Try: ssh ${plan.example}    Check: npx jumpgate-ssh doctor --stack ${plan.stack}\n`);
    }
    return 0;
}

function uninstall(values: { stack?: string; force?: boolean; "dry-run"?: boolean }, info: HomeInfo, io: Io): number {
    let stack = values.stack;
    if (stack === undefined) {
        const installed = installedStacks(info.home);
        if (installed.length !== 1) {
            throw new CliError(
                installed.length === 0
                    ? `no jumpgate stack is installed in ${info.home}/.ssh`
                    : `several stacks are installed (${installed.join(", ")}): pass --stack`,
                installed.length === 0 ? 0 : 2,
            );
        }
        stack = installed[0]!;
    }
    const plan = planUninstall({ ...info, stack, force: values.force ?? false, now: io.now() });
    const dryRun = values["dry-run"] ?? false;
    const lines = dryRun ? plan.actions.map((a) => `[dry run] ${describe(a)}`) : apply(plan.actions);
    report(io, `jumpgate-ssh: uninstall stack ${plan.stack} from ${plan.paths.sshDir}`, plan, lines, dryRun);
    return 0;
}

/** Runs a command; `login` talks to KMS, so it resolves later. */
export function main(argv: string[], io: Io = processIo()): number | Promise<number> {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                stack: { type: "string" },
                from: { type: "string" },
                home: { type: "string" },
                force: { type: "boolean" },
                "dry-run": { type: "boolean" },
                principal: { type: "string", multiple: true },
                operator: { type: "string" },
                identity: { type: "string" },
                valid: { type: "string" },
                ca: { type: "string" },
                "ca-key-file": { type: "string" },
                "kms-key-id": { type: "string" },
                region: { type: "string" },
                endpoint: { type: "string" },
                since: { type: "string" },
                target: { type: "string" },
                source: { type: "string" },
                "lab-dir": { type: "string" },
                "log-group": { type: "string" },
                "verify-required": { type: "boolean" },
                fingerprint: { type: "string" },
                // Hidden: pretend `ssh -V` said this (tests of the old-OpenSSH path).
                "ssh-version": { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (e) {
        io.err(`jumpgate-ssh: ${(e as Error).message}\n\n${USAGE}`);
        return 2;
    }
    const { values, positionals } = parsed;
    const command = positionals[0];
    if (values.help || command === undefined || command === "help") {
        (command === undefined && !values.help ? io.err : io.out)(USAGE);
        return command === undefined && !values.help ? 2 : 0;
    }
    if (command === "pin" && positionals.length !== 2) {
        io.err(
            `jumpgate-ssh: pin takes one host alias: npx jumpgate-ssh pin <stack>-<host> --fingerprint SHA256:...\n`,
        );
        return 2;
    }
    const arity = command === "pin" ? 2 : 1;
    if (
        positionals.length !== arity ||
        !["install", "uninstall", "doctor", "login", "audit", "pin"].includes(command)
    ) {
        io.err(`jumpgate-ssh: unknown command ${JSON.stringify(positionals.join(" "))}\n\n${USAGE}`);
        return 2;
    }
    const misplaced = misplacedOptions(command, values);
    if (misplaced.length > 0) {
        io.err(`jumpgate-ssh: ${misplaced.map((o) => `--${o}`).join(", ")}: not an option of ${command}\n`);
        return 2;
    }
    const home = resolve(values.home ?? io.env.HOME ?? os.homedir());
    const info: HomeInfo = { home, envHome: io.env.HOME, passwdHome: io.passwdHome() };
    if (command === "login") return runLogin(values, { ...io, ...info, now: io.now() });
    if (command === "audit") return runAudit(values, { ...io, now: io.now(), cwd: process.cwd() });
    if (command === "pin") return pin(positionals[1]!, values.fingerprint, info, io);
    const versionText = values["ssh-version"] ?? io.sshVersionText();
    const sshVersion = versionText === undefined ? undefined : parseSshVersion(versionText);
    if (values["ssh-version"] !== undefined && !sshVersion) {
        io.err(
            `jumpgate-ssh: --ssh-version ${JSON.stringify(values["ssh-version"])} is not an \`ssh -V\` line (OpenSSH_9.2p1 ...)\n`,
        );
        return 2;
    }
    try {
        if (command === "install") return install(values, info, sshVersion, io);
        if (command === "uninstall") return uninstall(values, info, io);
        io.out(`jumpgate-ssh doctor: ${home}/.ssh\n`);
        const checks = runDoctor({
            ...info,
            stack: values.stack,
            sshVersion,
            uid: io.uid(),
            dashG: (alias, config) => sshDashG(alias, home, config),
            listCertificate: sshKeygenList,
            now: io.now(),
        });
        for (const c of checks) io.out(`${formatCheck(c)}\n`);
        const failed = checks.filter((c) => !c.ok).length;
        const warned = checks.filter((c) => c.ok && c.warn).length;
        const warnings = warned === 0 ? "" : `, ${warned} warning(s)`;
        io.out(failed === 0 ? `all checks passed${warnings}\n` : `${failed} check(s) failed${warnings}\n`);
        return failed === 0 ? 0 : 1;
    } catch (e) {
        if (!(e instanceof CliError)) throw e;
        const untouched =
            command === "doctor" || e.exitCode === 0 || e.touched ? "" : `\nnothing in ${home}/.ssh was changed`;
        (e.exitCode === 0 ? io.out : io.err)(`jumpgate-ssh: ${e.message}${untouched}\n`);
        return e.exitCode;
    }
}

/** `pin`: errors for the operator are printed with what was left untouched. */
async function pin(alias: string, fingerprint: string | undefined, info: HomeInfo, io: Io): Promise<number> {
    if (fingerprint === undefined) {
        io.err(
            `jumpgate-ssh: pin needs --fingerprint SHA256:... (get it out of band: the host's team, or aws ec2 get-console-output --instance-id ID --latest)\n`,
        );
        return 2;
    }
    try {
        return await runPin({
            alias,
            fingerprint,
            home: info.home,
            passwdHome: info.passwdHome,
            dashG: (a, config) => sshDashG(a, info.home, config),
            out: io.out,
        });
    } catch (e) {
        if (!(e instanceof CliError)) throw e;
        io.err(`jumpgate-ssh: ${e.message}\n`);
        return e.exitCode;
    }
}

/** Options given that belong to another command. */
function misplacedOptions(command: string, values: Record<string, unknown>): string[] {
    const given = Object.keys(values).filter((k) => values[k] !== undefined && !["home", "help"].includes(k));
    return given.filter((k) => !OPTIONS_OF[command]!.includes(k));
}
