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
import type { BastionHostSpec, OsName, RoleAccess, TargetEndpoint, TargetHostSpec, UserCaAccess } from "./model";
import { OS_RELEASES, type OpenSshVersion } from "./os";

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
/**
 * Outer bastion, facing every address in allowedCidrs. Measured in the lab (booted Debian 13, OpenSSH 10.0,
 * test/lab/flood.e2e.test.ts): 12 allowed sources each holding pre-auth connections without a banner filled
 * the old `MaxStartups 10:30:60` (12 x 5 = 60) and refused the operator for the whole LoginGraceTime (20 s,
 * 54% of connects in a 60 s flood succeeded). Penalties only bite once a held connection runs out its grace
 * time, so two things bound the damage: (1) headroom, so that sources x per-source cap stays below the point
 * where random refusals start, and (2) a short grace time and a grace penalty big enough that ONE expired
 * connection blocks its source.
 */
/** Unauthenticated connections per source: one operator's parallel cold `ssh -J` (a control master needs 1). */
export const PER_SOURCE_MAX_STARTUPS = 3;
/**
 * Unauthenticated connections in total (start:rate:full). 64 / 3 = 21 sources can hold every slot they may
 * before any random refusal; a pre-auth connection costs ~1.5 MiB (measured), so 128 cost ~200 MiB, within a
 * t4g.nano's 512 MiB.
 */
export const MAX_STARTUPS = "64:30:128";
/** Seconds to authenticate: the operator needs well under 1 s through the bastion (measured), a FIDO touch a few. */
export const BASTION_LOGIN_GRACE_TIME = 15;
/** Seconds to authenticate on hosts behind a hop (a slow second leg through the bastion, operators only). */
export const LOGIN_GRACE_TIME = 20;
/**
 * OpenSSH 9.8+ refuses a source for a while after it misbehaves, once the penalties reach `min`. Defaults
 * except grace-exceeded: by default (10 s, below min 15 s) a source that holds ONE connection at a time past
 * LoginGraceTime is never refused; at 30 s its first expired connection blocks it. noauth stays 1 s so that
 * ssh-keyscan and ssh-audit (many short connections) are refused only after ~15 of them in a row.
 */
export const BASTION_PER_SOURCE_PENALTIES = "crash:90s authfail:5s noauth:1s grace-exceeded:30s max:600s min:15s";

/**
 * Hosts behind a hop (targets, inner hops): every connection arrives from the one hop address, carrying
 * every operator, so a per-source cap would be a cap on the whole team; it equals the total. Only holders of
 * an operator key get here (the outer bastion checks the key and caps each real source at 5 unauthenticated
 * connections), but one authenticated session may open any number of channels: what is left to bound is one
 * operator (a runaway script or a stolen key) holding handshakes open. 100 in flight (OpenSSH's own default
 * ceiling) bounds sshd's processes and memory; random refusals start only at 30, so six operators each at the
 * bastion's own per-source limit of 5 can connect at once without one refusal.
 */
export const BEHIND_HOP_MAX_STARTUPS = "30:30:100";
export const BEHIND_HOP_PER_SOURCE_MAX_STARTUPS = 100;

/** OpenSSH 9.8 added PerSourcePenalties (on by default) and PerSourcePenaltyExemptList; older sshd rejects them. */
export function hasPerSourcePenalties(v: OpenSshVersion): boolean {
    return v.major > 9 || (v.major === 9 && v.minor >= 8);
}

/** Text of the banner shown before authentication. */
export const BANNER_TEXT = "Authorised access only. This system is monitored; connections and failures are logged.\n";

/**
 * Pre-authentication limits. The outer bastion (no hop in front) keeps strict per-source limits for the
 * internet; a host behind a hop sizes them for one source that carries every operator, and on OpenSSH 9.8+
 * exempts the hop from sshd's own penalties (which would refuse the hop, and so everyone, after failures).
 */
function startupLimits(hopAddresses: readonly string[], openssh: OpenSshVersion): string[] {
    if (hopAddresses.length === 0)
        return [
            "# Pre-auth limits for many sources inside allowedCidrs (figures in components/render/sshd.ts).",
            `LoginGraceTime ${BASTION_LOGIN_GRACE_TIME}`,
            `MaxStartups ${MAX_STARTUPS}`,
            `PerSourceMaxStartups ${PER_SOURCE_MAX_STARTUPS}`,
            ...(hasPerSourcePenalties(openssh) ? [`PerSourcePenalties ${BASTION_PER_SOURCE_PENALTIES}`] : []),
        ];
    for (const a of hopAddresses) assertIpv4Cidr(a);
    return [
        `LoginGraceTime ${LOGIN_GRACE_TIME}`,
        `# Every connection comes from the hop in front (${hopAddresses.join(", ")}), carrying every operator:`,
        "# a per-source cap would cap the whole team, so it equals the total. 100 handshakes in flight bound",
        "# sshd's processes; random refusals start at 30 (six operators at the bastion's per-source limit of 5).",
        `MaxStartups ${BEHIND_HOP_MAX_STARTUPS}`,
        `PerSourceMaxStartups ${BEHIND_HOP_PER_SOURCE_MAX_STARTUPS}`,
        ...(hasPerSourcePenalties(openssh) ? [`PerSourcePenaltyExemptList ${hopAddresses.join(",")}`] : []),
    ];
}

/** Lines shared by bastion and targets: host key, crypto, authentication, limits, logging, no forwarding. */
function commonLines(os: OsName, profile: CryptoProfile, limits: string[]): string[] {
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
        ...limits,
        "# Dead peers are found by sshd's own encrypted probes (90 s), not by spoofable TCP keepalives.",
        "TCPKeepAlive no",
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

/**
 * The sshd functions whose debug lines the bastion logs at VERBOSE (`LogVerbose`, OpenSSH 8.5+), so the
 * audit record builder sees every forwarded connection without `LogLevel DEBUG`: the direct-tcpip request
 * (its target), the channel it creates (its number), the channel's end, and a refusal ("the request was
 * denied"). Same names and texts in sshd 9.2 (Debian 12) and 10.0 (Debian 13), both checked with the real
 * sshd (test/render/sshd.test.ts, test/lab/audit.e2e.test.ts).
 */
export const FORWARD_AUDIT_FUNCTIONS: readonly string[] = [
    "serverloop.c:server_request_direct_tcpip():*",
    "channels.c:channel_new():*",
    "channels.c:channel_free():*",
    "channels.c:channel_connect_to_port():*",
];

/** LogVerbose appeared in OpenSSH 8.5; every OS jumpgate boots ships a newer sshd. */
export function forwardAuditLines(openssh: OpenSshVersion): string[] {
    if (openssh.major < 8 || (openssh.major === 8 && openssh.minor < 5)) return [];
    return [
        "# Forwarded connections for the audit records: these functions' debug lines only, not LogLevel DEBUG.",
        `LogVerbose ${FORWARD_AUDIT_FUNCTIONS.join(",")}`,
    ];
}

/**
 * Options on each operator key line (authorized_keys): `restrict` turns off every forward, the agent, X11,
 * the PTY and ~/.ssh/rc for that key, whatever sshd's configuration says; each role gets back only what it
 * needs. The jump user: forwards (PermitOpen still limits where). The targets' login user: a PTY.
 */
export const JUMP_KEY_OPTIONS = "restrict,port-forwarding";
export const LOGIN_KEY_OPTIONS = "restrict,pty";

/** `ip:port` as the client sends it through the bastion: PermitOpen compares it literally. */
export function permitOpenEntry(target: TargetEndpoint): string {
    return `${target.privateIp}:${target.port}`;
}

/** The bastion's PermitOpen value: every target on ONE line (sshd ignores later PermitOpen lines), or `none`. */
export function bastionPermitOpen(targets: readonly TargetEndpoint[]): string {
    return targets.length === 0 ? "none" : targets.map(permitOpenEntry).join(" ");
}

/**
 * sshd drop-in for a bastion hop: only the jump group logs in, and may only open TCP channels to the targets
 * (or the next hop). `openssh` defaults to the version `spec.os` ships.
 */
export function renderBastionSshd(spec: BastionHostSpec, openssh = OS_RELEASES[spec.os].openssh): string {
    assertPort(spec.sshPort);
    for (const t of spec.targets) assertTarget(t);
    return [
        "# Managed by jumpgate (bastion). First value wins; this file is read before sshd_config's own lines.",
        `Port ${spec.sshPort}`,
        ...commonLines(spec.os, spec.cryptoProfile, startupLimits(spec.hopAddresses ?? [], openssh)),
        `AllowGroups ${JUMP_GROUP}`,
        ...forwardAuditLines(openssh),
        ...(spec.userCa === undefined ? [] : [...userCaLines(), `RevokedKeys ${REVOKED_KEYS_PATH}`]),
        "",
        "# Jump users: ProxyJump (direct-tcpip) to the listed targets only; no shell, no TTY.",
        `Match Group ${JUMP_GROUP}`,
        "    DisableForwarding no",
        "    AllowTcpForwarding local",
        `    PermitOpen ${bastionPermitOpen(spec.targets)}`,
        "    PermitTTY no",
        `    ForceCommand ${NOLOGIN}`,
        ...jumpChannelLines(openssh),
        "",
    ].join("\n");
}

/**
 * Idle limits for the jump user's forwards. A ProxyJump channel carries an SSH session whose own keepalives
 * (the target's ClientAliveInterval 30 s) cross it twice a minute, so only a dead session or an idle tunnel
 * (`tunnel-*`, e.g. a database connection) goes quiet for an hour. A connection with no channel at all (an
 * unused tunnel listener, a control master whose last forward closed) is dropped after 15 minutes: longer than
 * the generated config's ControlPersist 10m, so the client normally closes its own master first.
 */
export const JUMP_CHANNEL_TIMEOUT = "direct-tcpip=1h";
export const JUMP_UNUSED_CONNECTION_TIMEOUT = "15m";

/** ProxyJump opens direct-tcpip channels, never a session: MaxSessions 0 refuses every shell, command and subsystem. */
function jumpChannelLines(openssh: OpenSshVersion): string[] {
    // ChannelTimeout and UnusedConnectionTimeout came with OpenSSH 9.2 (Debian 12's), the oldest jumpgate boots.
    const timeouts =
        openssh.major > 9 || (openssh.major === 9 && openssh.minor >= 2)
            ? [
                  `    ChannelTimeout ${JUMP_CHANNEL_TIMEOUT}`,
                  `    UnusedConnectionTimeout ${JUMP_UNUSED_CONNECTION_TIMEOUT}`,
              ]
            : [];
    return ["    MaxSessions 0", ...timeouts];
}

/**
 * Debian's and Ubuntu's sshd_config say `AcceptEnv LANG LC_*` (Debian 13 adds COLORTERM NO_COLOR). AcceptEnv
 * adds up across lines instead of keeping the first, and has no `none`, so a drop-in cannot clear it: the
 * bastion comments the line out of sshd_config (before sshd -t and the restart). A later openssh-server
 * upgrade keeps the edited file (ucf keeps local changes when it runs unattended).
 */
export function clearAcceptEnvCommand(): string[] {
    return [
        "sed",
        "-i",
        "-E",
        "s/^([[:space:]]*AcceptEnv[[:space:]])/# jumpgate: no client environment: \\1/",
        "/etc/ssh/sshd_config",
    ];
}

/**
 * sshd drop-in for a target: listens on its private address only, the login group logs in, no forwarding.
 * `openssh` defaults to the version `spec.os` ships.
 */
export function renderTargetSshd(spec: TargetHostSpec, openssh = OS_RELEASES[spec.os].openssh): string {
    assertIpv4(spec.privateIp);
    if (spec.hopAddresses.length === 0)
        throw new Error(`target ${spec.name}: hopAddresses must name the bastion hop every operator arrives from`);
    return [
        `# Managed by jumpgate (target ${spec.name}). First value wins; this file is read before sshd_config's own lines.`,
        "Port 22",
        `ListenAddress ${spec.privateIp}`,
        ...commonLines(spec.os, spec.cryptoProfile, startupLimits(spec.hopAddresses, openssh)),
        `AllowGroups ${LOGIN_GROUP}`,
        ...(spec.userCa === undefined ? [] : userCaLines()),
        "",
        ...(spec.userCa?.roles ?? [])
            .filter((r) => r.mfa === "fido2" && r.reach.includes(spec.name))
            .flatMap((r) => fido2Match(roleAccountName(spec.loginUser, r.name))),
    ].join("\n");
}

/** The account a role logs in as on a target (certificate principal: the role name). */
export function roleAccountName(loginUser: string, role: string): string {
    return `${loginUser}-${role}`;
}

/** Certificate types of FIDO keys: the only ones an MFA role's account accepts. */
const FIDO_CERTIFICATE_ALGORITHMS = ["sk-ssh-ed25519-cert-v01@openssh.com"];

/**
 * An MFA role's account on a target: sshd checks the FIDO flags (touch, PIN) only for FIDO keys, so
 * plain keys are refused by algorithm, and every signature must carry user verification.
 */
function fido2Match(account: string): string[] {
    return [
        "# MFA role: FIDO keys only, each signature with the user verified (PIN) and the key touched.",
        `Match User ${account}`,
        `    PubkeyAcceptedAlgorithms ${FIDO_CERTIFICATE_ALGORITHMS.join(",")}`,
        "    PubkeyAuthOptions verify-required",
        "",
    ];
}

/**
 * The KRL every bastion hop checks each key and certificate against. User data installs an empty one
 * (sshd refuses every key when the file is missing); an SSM association replaces it, so a revocation
 * never changes user data.
 */
export const REVOKED_KEYS_PATH = "/etc/ssh/jumpgate-revoked-keys";

/**
 * One root-owned authorized-keys file per account, holding only `cert-authority` lines: each names the
 * CA key that may vouch for one role's principal. TrustedUserCAKeys cannot do this (any trusted CA may
 * sign any principal), so with one CA key per role whoever may sign as a developer could issue an
 * `admin` certificate; a `cert-authority,principals="admin"` line accepts the admin CA's certificates only.
 */
export const AUTHORIZED_CAS_DIR = "/etc/ssh/jumpgate-user-cas";

/** Team access: only certificates log in, from the CA each account's file binds to each role. */
function userCaLines(): string[] {
    return [
        "",
        "# Team access: certificates only; each role's principal is accepted only from that role's CA key.",
        `AuthorizedKeysFile ${AUTHORIZED_CAS_DIR}/%u`,
    ];
}

/** The `cert-authority` line that lets the role's CA vouch for the role's principal, with extra options. */
function caLine(role: RoleAccess, extraOptions: string[] = []): string {
    const m = /^(ssh-ed25519 [A-Za-z0-9+/]+={0,2})(?: \S+)?$/.exec(role.caPublicKey.trim());
    if (!m) throw new Error(`role ${role.name}: the CA public key must be one ssh-ed25519 public key line`);
    const options = ["cert-authority", `principals="${assertRoleName(role)}"`, ...extraOptions].join(",");
    return `${options} ${m[1]} jumpgate-ca-${role.name}`;
}

/**
 * The jump account's CA file: one line per role, whose `permitopen` options narrow the hop's PermitOpen
 * to that role's endpoints (sshd allows a channel only if both permit it). A role that reaches none of
 * this hop's endpoints gets no line, so its certificates do not log in here; one that reaches all of
 * them gets no permitopen.
 */
export function renderJumpAuthorizedCas(access: UserCaAccess, endpoints: readonly TargetEndpoint[]): string {
    const lines = access.roles.flatMap((role) => {
        const open = endpoints.filter((e) => role.reach.includes(e.name));
        if (open.length === 0) return [];
        const mfa = role.mfa === "fido2" ? ["verify-required"] : [];
        // Reaching all of them: the hop's own PermitOpen already says so, and user data stays small.
        const permits = open.length === endpoints.length ? [] : open.map((e) => `permitopen="${permitOpenEntry(e)}"`);
        return [caLine(role, [...mfa, ...permits])];
    });
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** A role name is written bare into principals files: refuse anything but the config's name pattern. */
function assertRoleName(role: RoleAccess): string {
    if (!/^[a-z][a-z0-9-]{0,22}[a-z0-9]$/.test(role.name)) throw new Error(`invalid role name '${role.name}'`);
    return role.name;
}

/** The CA file of a role's target account: the role's CA, for the role's principal alone; verify-required for an MFA role. */
export function renderRoleAuthorizedCa(role: RoleAccess): string {
    return `${caLine(role, role.mfa === "fido2" ? ["verify-required"] : [])}\n`;
}

function assertPort(port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid SSH port ${port}`);
}

function assertIpv4(ip: string): void {
    const parts = ip.split(".");
    const ok = parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
    if (!ok) throw new Error(`invalid IPv4 address '${ip}'`);
}

/** An IPv4 address or CIDR (the hop addresses sshd's exempt list and fail2ban compare sources with). */
function assertIpv4Cidr(text: string): void {
    const [ip = "", len, ...rest] = text.split("/");
    assertIpv4(ip);
    const ok = rest.length === 0 && (len === undefined || (/^\d{1,2}$/.test(len) && Number(len) <= 32));
    if (!ok) throw new Error(`invalid IPv4 address or CIDR '${text}'`);
}

function assertTarget(t: TargetEndpoint): void {
    assertIpv4(t.privateIp);
    assertPort(t.port);
}
