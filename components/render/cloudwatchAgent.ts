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
import { AUDIT_SYSLOG_IDENTIFIER } from "./auditRecord";

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
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.region)) throw new Error(`'${s.region}' is not an AWS region name`);
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
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`'${region}' is not an AWS region name`);
    return `https://s3.${region}.amazonaws.com/amazoncloudwatch-agent-${region}`;
}

/** The unit that installs and starts the agent, retried every minute until it is installed. */
export function renderCloudWatchAgentUnit(baseUrl: string): string {
    return [
        "[Unit]",
        "Description=Install AWS's CloudWatch agent if its signature verifies (jumpgate audit trail)",
        "Wants=network-online.target",
        "After=network-online.target",
        `ConditionPathExists=!${CLOUDWATCH_AGENT_CTL}`,
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        `ExecStart=${CLOUDWATCH_AGENT_INSTALLER_PATH} ${baseUrl}`,
        "Restart=on-failure",
        "RestartSec=60",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/**
 * `installer <base-url>`: downloads the package, its signature and AWS's key, installs only when gpgv
 * reports a valid signature whose primary key fingerprint is `fingerprint`, then starts the agent on the
 * rendered configuration. Any failure refuses the install and says why.
 */
export function renderCloudWatchAgentInstaller(fingerprint = AWS_CLOUDWATCH_AGENT_KEY_FINGERPRINT): string {
    if (!/^[0-9A-F]{40}$/.test(fingerprint)) throw new Error("fingerprint must be 40 upper-case hex digits");
    return String.raw`#!/bin/sh
# Installs AWS's CloudWatch agent only if its signature verifies by the pinned key fingerprint (jumpgate).
set -u
FPR=${fingerprint}
say() { echo "jumpgate-cloudwatch-agent: $*" >&2; logger -t jumpgate-cloudwatch-agent -- "$*" 2>/dev/null || :; }
refuse() { say "refused, agent not installed: $*"; exit 1; }
[ $# -eq 1 ] || refuse "usage: $0 <base-url>"
arch=$(dpkg --print-architecture) || refuse "dpkg cannot tell the architecture"
url="$1/debian/$arch/latest/amazon-cloudwatch-agent.deb"
dir=$(mktemp -d) || refuse "no temporary directory"
trap 'rm -rf "$dir"' EXIT
get() { curl -fsS --retry 2 --retry-connrefused --retry-delay 5 -o "$dir/$1" "$2" || refuse "cannot download $2"; }
get agent.deb "$url"
get agent.sig "$url.sig"
get key.gpg "$1/assets/amazon-cloudwatch-agent.gpg"
gpgv --status-fd 3 --keyring "$dir/key.gpg" "$dir/agent.sig" "$dir/agent.deb" 3>"$dir/status" 2>"$dir/gpgv.log"
grep -q "^\[GNUPG:\] VALIDSIG .* $FPR$" "$dir/status" ||
  refuse "no valid signature by $FPR on $url: $(tr '\n' ' ' <"$dir/gpgv.log")"
dpkg -i -E "$dir/agent.deb" >&2 || refuse "dpkg -i failed"
# DPKG_ROOT is unset on a host; set (as dpkg reads it), the agent is looked for where dpkg installed it.
"${"$"}{DPKG_ROOT:-}${CLOUDWATCH_AGENT_CTL}" -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_PATH} >&2 ||
  refuse "installed, but the agent did not start on ${CLOUDWATCH_AGENT_CONFIG_PATH}"
say "installed and started the agent from $url (signed by $FPR)"
`;
}
