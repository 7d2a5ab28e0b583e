// Shipping the audit trail off the host: every jumpgate host runs AWS's CloudWatch agent with its
// journald input (amazon-cloudwatch-agent PR #2121, config keys from translator/config/schema.json,
// `logsJournaldDefinition`), sending sshd's, fail2ban's and the jumpgate-audit records to the stack's log
// group, in one stream named after the host. The agent is installed from AWS's regional bucket only when
// its detached signature verifies with AWS's agent signing key.
// Source: CloudWatch user guide, "Download and configure the CloudWatch agent using the command line" and
// "Verifying the signature of the CloudWatch agent package":
//   package   https://s3.<region>.amazonaws.com/amazoncloudwatch-agent-<region>/debian/<arch>/latest/amazon-cloudwatch-agent.deb
//   signature the same URL + .sig
//   key       https://s3.amazonaws.com/amazoncloudwatch-agent/assets/amazon-cloudwatch-agent.gpg (the regional
//             bucket carries the same file under assets/), "Amazon CloudWatch Agent", RSA 2048, 2017-11-14,
//             fingerprint 9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72.
// The key block itself is not pinned here (no copy of it could be checked); the installer fetches the
// published key and accepts only a signature whose primary key fingerprint (gpgv's VALIDSIG) is the one
// above: a key with another fingerprint cannot produce that status line.
import { AUDIT_JOURNAL_IDENTIFIER } from "./auditd";
import { AUDIT_SYSLOG_IDENTIFIER } from "./auditRecord";
import { assertAwsRegionName, renderInstallerUnit, renderSignedPackageInstaller } from "./signedPackageInstaller";

/** Primary key fingerprint of AWS's CloudWatch agent signing key (the user guide's value). */
export const AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT = "937616F3450B7D806CBD9725D58167303B789C72";

export const CLOUDWATCH_AGENT_INSTALLER_PATH = "/usr/local/sbin/jumpgate-install-cloudwatch-agent";
export const CLOUDWATCH_AGENT_UNIT = "jumpgate-cloudwatch-agent.service";
export const CLOUDWATCH_AGENT_UNIT_PATH = `/etc/systemd/system/${CLOUDWATCH_AGENT_UNIT}`;
/** Where the rendered agent configuration is written (the agent reads it with fetch-config). */
export const CLOUDWATCH_AGENT_CONFIG_PATH = "/etc/jumpgate/amazon-cloudwatch-agent.json";
/** The agent's control script, installed by the package. */
export const CLOUDWATCH_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

/**
 * Journal entries shipped: sshd and its per-connection processes (the same terms fail2ban's sshd jail
 * reads, see fail2ban.ts), fail2ban's own entries, and the audit records. The agent's journald receiver
 * (OpenTelemetry stanza) joins the objects with journalctl's `+`, so they are ORed, and without a
 * `priority` reads only entries of priority info or higher: audit records must not be logged at debug.
 */
export const SHIPPED_JOURNAL_MATCHES: readonly Record<string, string>[] = [
    { _SYSTEMD_UNIT: "ssh.service" },
    { _COMM: "sshd" },
    { _COMM: "sshd-session" },
    { _SYSTEMD_UNIT: "fail2ban.service" },
    { SYSLOG_IDENTIFIER: AUDIT_SYSLOG_IDENTIFIER },
    { SYSLOG_IDENTIFIER: AUDIT_JOURNAL_IDENTIFIER },
];

export interface CloudWatchAgentSettings {
    /** AWS region of the log group (the agent also reads it from instance metadata). */
    region: string;
    logGroupName: string;
    /** This host's stream: its name in the stack (`bastion`, a hop or a target). */
    logStreamName: string;
}

/** Log stream names: 1-512 characters, no `:` or `*` (CloudWatch Logs API, CreateLogStream). */
export function logStreamNameProblem(name: string): string | undefined {
    if (name.length < 1 || name.length > 512) return "must be 1 to 512 characters";
    if (/[:*]/.test(name)) return "must not contain ':' or '*'";
    return undefined;
}

/**
 * The agent configuration: one journald collect_list entry into the stack's group and this host's
 * stream. No `retention_in_days`: the stack creates the group with its retention, and the agent would
 * otherwise try to set it (a permission the hosts do not get).
 */
export function renderCloudWatchAgentConfig(s: CloudWatchAgentSettings): string {
    const why = logStreamNameProblem(s.logStreamName);
    if (why) throw new Error(`log stream name '${s.logStreamName}' ${why}`);
    assertAwsRegionName(s.region);
    const config = {
        agent: { region: s.region },
        logs: {
            logs_collected: {
                journald: {
                    collect_list: [
                        {
                            log_group_name: s.logGroupName,
                            log_stream_name: s.logStreamName,
                            matches: SHIPPED_JOURNAL_MATCHES.map((m) => ({ ...m })),
                        },
                    ],
                },
            },
        },
    };
    // Compact: every byte of user data counts against EC2's 16 KiB (see userDataSize.ts).
    return `${JSON.stringify(config)}\n`;
}

/** AWS's regional bucket for the agent; the installer appends `/debian/<dpkg arch>/latest/amazon-cloudwatch-agent.deb`. */
export function cloudWatchAgentBaseUrl(region: string): string {
    assertAwsRegionName(region);
    return `https://s3.${region}.amazonaws.com/amazoncloudwatch-agent-${region}`;
}

/** The unit that installs and starts the agent, retried every minute until it is installed. */
export function renderCloudWatchAgentUnit(baseUrl: string): string {
    return renderInstallerUnit({
        description: "Install AWS's CloudWatch agent if its signature verifies (jumpgate audit trail)",
        installedPath: CLOUDWATCH_AGENT_CTL,
        installerPath: CLOUDWATCH_AGENT_INSTALLER_PATH,
        baseUrl,
    });
}

/**
 * `installer <base-url>`: downloads the package, its signature and AWS's key, installs only when gpgv
 * reports a valid signature whose primary key fingerprint is `fingerprint`, then starts the agent on the
 * rendered configuration. Any failure refuses the install and says why.
 */
export function renderCloudWatchAgentInstaller(fingerprint = AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT): string {
    const get = `get() { curl -fsS --retry 2 --retry-connrefused --retry-delay 5 -o "$dir/$1" "$2" || refuse "cannot download $2"; }`;
    return renderSignedPackageInstaller({
        purpose:
            "Installs AWS's CloudWatch agent only if its signature verifies by the pinned key fingerprint (jumpgate).",
        tag: "jumpgate-cloudwatch-agent",
        fingerprint,
        packageUrl: "$1/debian/$arch/latest/amazon-cloudwatch-agent.deb",
        fetch: [
            get,
            `get agent.deb "$url"`,
            `get agent.sig "$url.sig"`,
            `get key.gpg "$1/assets/amazon-cloudwatch-agent.gpg"`,
        ],
        install: [
            `dpkg -i -E "$dir/agent.deb" >&2 || refuse "dpkg -i failed"`,
            "# DPKG_ROOT is unset on a host; set (as dpkg reads it), the agent is looked for where dpkg installed it.",
            `"\${DPKG_ROOT:-}${CLOUDWATCH_AGENT_CTL}" -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_PATH} >&2 ||`,
            `  refuse "installed, but the agent did not start on ${CLOUDWATCH_AGENT_CONFIG_PATH}"`,
        ],
    });
}
