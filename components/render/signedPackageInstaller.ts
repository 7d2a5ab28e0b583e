// The shape shared by the agents jumpgate hosts install from AWS's regional buckets (SSM, CloudWatch): a
// POSIX sh installer that refuses any package whose detached signature gpgv does not report as VALIDSIG
// by the pinned primary key fingerprint, and a unit that retries it every minute until it has installed.

/** AWS region names as the agents' bucket URLs need them (`us-east-1`, `ap-southeast-2`). */
export function assertAwsRegionName(region: string): void {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`'${region}' is not an AWS region name`);
}

/** A pinned key is named by its primary key fingerprint as gpgv's VALIDSIG prints it. */
export function assertKeyFingerprint(fingerprint: string): void {
    if (!/^[0-9A-F]{40}$/.test(fingerprint)) throw new Error("fingerprint must be 40 upper-case hex digits");
}

export interface SignedPackageInstaller {
    /** First comment line of the script: what it installs and how it trusts it. */
    purpose: string;
    /** Tag of its messages on stderr and in syslog. */
    tag: string;
    /** The pinned primary key fingerprint, 40 upper-case hex digits. */
    fingerprint: string;
    /** Shell word for the package URL, given `$1` (the base URL) and `$arch` (dpkg's architecture). */
    packageUrl: string;
    /** Lines that put the key, package and signature at `$dir/key.gpg`, `agent.deb`, `agent.sig`. */
    fetch: readonly string[];
    /** Lines run once the signature verifies: install `$dir/agent.deb` and start the agent. */
    install: readonly string[];
}

/**
 * `installer <base-url>`: fetches into a temporary directory and installs only if gpgv reports a valid
 * signature by the pinned fingerprint. Any failure refuses the install and says why (stderr and syslog).
 */
export function renderSignedPackageInstaller(p: SignedPackageInstaller): string {
    assertKeyFingerprint(p.fingerprint);
    return [
        "#!/bin/sh",
        `# ${p.purpose}`,
        "set -u",
        `FPR=${p.fingerprint}`,
        `say() { echo "${p.tag}: $*" >&2; logger -t ${p.tag} -- "$*" 2>/dev/null || :; }`,
        `refuse() { say "refused, agent not installed: $*"; exit 1; }`,
        `[ $# -eq 1 ] || refuse "usage: $0 <base-url>"`,
        `arch=$(dpkg --print-architecture) || refuse "dpkg cannot tell the architecture"`,
        `url="${p.packageUrl}"`,
        `dir=$(mktemp -d) || refuse "no temporary directory"`,
        `trap 'rm -rf "$dir"' EXIT`,
        ...p.fetch,
        `gpgv --status-fd 3 --keyring "$dir/key.gpg" "$dir/agent.sig" "$dir/agent.deb" 3>"$dir/status" 2>"$dir/gpgv.log"`,
        String.raw`grep -q "^\[GNUPG:\] VALIDSIG .* $FPR$" "$dir/status" ||`,
        String.raw`  refuse "no valid signature by $FPR on $url: $(tr '\n' ' ' <"$dir/gpgv.log")"`,
        ...p.install,
        `say "installed and started the agent from $url (signed by $FPR)"`,
        "",
    ].join("\n");
}

export interface InstallerUnit {
    description: string;
    /** Path whose presence means the agent is installed: the unit then no longer runs. */
    installedPath: string;
    installerPath: string;
    baseUrl: string;
}

/**
 * The installer as a unit rather than a first-boot command: S3 or the route out can be briefly
 * unreachable, so it retries every minute until the agent is installed (then the condition skips it),
 * and a refusal shows as a failed unit (`systemctl --failed`, the journal) without marking the host's
 * first boot failed.
 */
export function renderInstallerUnit(u: InstallerUnit): string {
    return [
        "[Unit]",
        `Description=${u.description}`,
        "Wants=network-online.target",
        "After=network-online.target",
        `ConditionPathExists=!${u.installedPath}`,
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        // simple, not oneshot: the boot does not wait for it (systemctl is-system-running reports running).
        "Type=simple",
        `ExecStart=${u.installerPath} ${u.baseUrl}`,
        "Restart=on-failure",
        "RestartSec=60",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
