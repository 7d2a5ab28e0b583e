// sshd drop-ins for the bastion and the targets, as plain text. Debian's and Ubuntu's sshd_config
// start with `Include /etc/ssh/sshd_config.d/*.conf`, and sshd keeps the FIRST value it reads for a
// keyword, so this file (10-…) wins over cloud-init's 50-cloud-init.conf and the distribution's own
// lines. A `Match` block lasts to the end of its file, so it comes last.
import {
    HOST_KEY_ALGORITHMS,
    PUBKEY_ACCEPTED_ALGORITHMS,
    REQUIRED_RSA_SIZE,
    ciphers,
    kexAlgorithms,
    macs,
    type CryptoProfile,
} from "./crypto";
import type { BastionHostSpec, OsName, TargetEndpoint, TargetHostSpec } from "./model";

/** Where cloud-init writes the drop-in; `10-` sorts before cloud-init's `50-cloud-init.conf`. */
export const SSHD_DROPIN_PATH = "/etc/ssh/sshd_config.d/10-jumpgate.conf";
/** The pre-authentication banner file. */
export const BANNER_PATH = "/etc/ssh/jumpgate-banner";
/** The only host key sshd loads (cloud-init writes the pinned key there). */
export const HOST_KEY_PATH = "/etc/ssh/ssh_host_ed25519_key";
/** Bastion group whose members may log in and forward to the targets only. */
export const JUMP_GROUP = "jumpgate-jump";
/** Target group whose members may log in (the login user). */
export const LOGIN_GROUP = "jumpgate-login";
/** Shell and forced command of the jump user: it never gets a shell. */
export const NOLOGIN = "/usr/sbin/nologin";
/** Unauthenticated connections per source address (ssh -J to many targets in parallel needs a few). */
export const PER_SOURCE_MAX_STARTUPS = 5;

/** Text of the banner shown before authentication. */
export const BANNER_TEXT = "Authorised access only. This system is monitored; connections and failures are logged.\n";

/** Lines shared by bastion and targets: host key, crypto, authentication, limits, logging, no forwarding. */
function commonLines(os: OsName, profile: CryptoProfile): string[] {
    return [
        `HostKey ${HOST_KEY_PATH}`,
        `HostKeyAlgorithms ${HOST_KEY_ALGORITHMS.join(",")}`,
        `KexAlgorithms ${kexAlgorithms(os, profile).join(",")}`,
        `Ciphers ${ciphers(profile).join(",")}`,
        `MACs ${macs(profile).join(",")}`,
        `PubkeyAcceptedAlgorithms ${PUBKEY_ACCEPTED_ALGORITHMS.join(",")}`,
        `RequiredRSASize ${REQUIRED_RSA_SIZE}`,
        "",
        "# Public keys only.",
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitEmptyPasswords no",
        "HostbasedAuthentication no",
        "GSSAPIAuthentication no",
        "KerberosAuthentication no",
        "PermitRootLogin no",
        "PermitUserEnvironment no",
        "MaxAuthTries 3",
        "LoginGraceTime 20",
        "MaxStartups 10:30:60",
        `PerSourceMaxStartups ${PER_SOURCE_MAX_STARTUPS}`,
        "ClientAliveInterval 30",
        "ClientAliveCountMax 3",
        "LogLevel VERBOSE",
        `Banner ${BANNER_PATH}`,
        // Hides the distribution suffix in the version string.
        "DebianBanner no",
        "Compression no",
        "",
        "# No forwarding of any kind by default (X11 and agent set explicitly as well).",
        "DisableForwarding yes",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "AllowStreamLocalForwarding no",
        "X11Forwarding no",
        "PermitTunnel no",
        "GatewayPorts no",
        "PermitListen none",
        "PermitOpen none",
    ];
}

/** `ip:port` as the client sends it through the bastion: PermitOpen compares it literally. */
export function permitOpenEntry(target: TargetEndpoint): string {
    return `${target.privateIp}:${target.port}`;
}

/** The bastion's PermitOpen value: every target on ONE line (sshd ignores later PermitOpen lines), or `none`. */
export function bastionPermitOpen(targets: readonly TargetEndpoint[]): string {
    return targets.length === 0 ? "none" : targets.map(permitOpenEntry).join(" ");
}

/** sshd drop-in for the bastion: only the jump group logs in, and may only open TCP channels to the targets. */
export function renderBastionSshd(spec: BastionHostSpec): string {
    assertPort(spec.sshPort);
    for (const t of spec.targets) assertTarget(t);
    return [
        "# Managed by jumpgate (bastion). First value wins; this file is read before sshd_config's own lines.",
        `Port ${spec.sshPort}`,
        ...commonLines(spec.os, spec.cryptoProfile),
        `AllowGroups ${JUMP_GROUP}`,
        "",
        "# Jump users: ProxyJump (direct-tcpip) to the listed targets only; no shell, no TTY.",
        `Match Group ${JUMP_GROUP}`,
        "    DisableForwarding no",
        "    AllowTcpForwarding local",
        `    PermitOpen ${bastionPermitOpen(spec.targets)}`,
        "    PermitTTY no",
        `    ForceCommand ${NOLOGIN}`,
        "",
    ].join("\n");
}

/** sshd drop-in for a target: listens on its private address only, the login group logs in, no forwarding. */
export function renderTargetSshd(spec: TargetHostSpec): string {
    assertIpv4(spec.privateIp);
    return [
        `# Managed by jumpgate (target ${spec.name}). First value wins; this file is read before sshd_config's own lines.`,
        "Port 22",
        `ListenAddress ${spec.privateIp}`,
        ...commonLines(spec.os, spec.cryptoProfile),
        `AllowGroups ${LOGIN_GROUP}`,
        "",
    ].join("\n");
}

function assertPort(port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid SSH port ${port}`);
}

function assertIpv4(ip: string): void {
    const parts = ip.split(".");
    const ok = parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
    if (!ok) throw new Error(`invalid IPv4 address '${ip}'`);
}

function assertTarget(t: TargetEndpoint): void {
    assertIpv4(t.privateIp);
    assertPort(t.port);
}
