// fail2ban's jail.local, as plain text. jail.local is read after jail.conf and jail.d/*.conf, so
// its values win over the distribution defaults (Ubuntu's defaults-debian.conf sets [DEFAULT] too).
import type { Fail2banSettings, OsName } from "./model";

/** Where cloud-init writes the jail configuration. */
export const FAIL2BAN_JAIL_PATH = "/etc/fail2ban/jail.local";
/** fail2ban's own log (Debian and Ubuntu default `logtarget`), which the recidive jail reads. */
export const FAIL2BAN_LOG_PATH = "/var/log/fail2ban.log";
/** Always ignored: loopback, so local health checks and the host itself are never banned. */
export const LOOPBACK_IGNORE = ["127.0.0.1/8", "::1"] as const;
/**
 * The journal entries the sshd jail reads: ssh.service's, and sshd's and sshd-session's by process name
 * (`+` is OR). Debian's defaults-debian.conf catches sshd-session only through the unit; saying it
 * here keeps the jail right on every OS, whatever the distribution's defaults.
 */
export const SSHD_JOURNAL_MATCH = "_SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session";
/** sshd filter mode: aggressive = normal + ddos + extra (preauth disconnects, banner and kex errors). */
export const SSHD_FILTER_MODE = "aggressive";

/**
 * Ubuntu 24.04's release-pocket fail2ban (1.0.2-3) dies on Python 3.12 (`No module named
 * 'asynchat'`, LP#2055114); the noble-updates build 1.0.2-3ubuntu0.1 runs. An older build is upgraded at first boot.
 */
export const UBUNTU_FAIL2BAN_MIN_VERSION = "1.0.2-3ubuntu0.1";

/** First-boot commands fail2ban needs on `os`, run after packages are installed and before it is restarted. */
export function fail2banSetupCommands(os: OsName): (string | string[])[] {
    // The recidive jail refuses to start while its log file does not exist yet.
    const common: string[][] = [["touch", FAIL2BAN_LOG_PATH]];
    if (os !== "ubuntu-24.04") return common;
    // Upgrade from noble-updates when the release build is installed, then say so loudly if that failed.
    const installed = `"$(dpkg-query -W -f='\${Version}' fail2ban)"`;
    const tooOld = `dpkg --compare-versions ${installed} lt ${UBUNTU_FAIL2BAN_MIN_VERSION}`;
    return [
        `${tooOld} && apt-get install -y -t noble-updates fail2ban || true`,
        `${tooOld} && echo 'jumpgate: fail2ban older than ${UBUNTU_FAIL2BAN_MIN_VERSION} cannot run on Python 3.12' >&2 || true`,
        ...common,
    ];
}

/**
 * jail.local: aggressive sshd jail on the systemd journal, nftables bans with growing ban times, recidive.
 * `hopAddresses`: the bastion hop in front of this host (targets, inner hops). Every connection arrives
 * from it, carrying every operator, so banning it for one operator's failures would lock the whole team
 * out; it is ignored by every jail (recidive too), while anything else that reaches sshd is still banned.
 */
export function renderFail2banJail(
    settings: Fail2banSettings,
    sshPort: number,
    os: OsName,
    hopAddresses: readonly string[] = [],
): string {
    assertSettings(settings);
    assertAddresses("hopAddresses", hopAddresses);
    const ignore = [...new Set([...LOOPBACK_IGNORE, ...hopAddresses, ...settings.ignoreIps])];
    return [
        `# Managed by jumpgate (${os}).`,
        "[DEFAULT]",
        ...(hopAddresses.length === 0
            ? []
            : [`# ${hopAddresses.join(" ")}: the bastion hop every operator arrives from, never banned.`]),
        `ignoreip = ${ignore.join(" ")}`,
        "banaction = nftables-multiport",
        "banaction_allports = nftables-allports",
        `maxretry = ${settings.maxRetry}`,
        `findtime = ${settings.findTimeSeconds}`,
        `bantime = ${settings.banTimeSeconds}`,
        "# Repeat offenders get longer bans, up to the ceiling.",
        "bantime.increment = true",
        `bantime.maxtime = ${settings.banTimeMaxSeconds}`,
        "",
        "[sshd]",
        "enabled = true",
        `mode = ${SSHD_FILTER_MODE}`,
        `port = ${sshPort}`,
        "# No auth.log on these images: sshd logs to the journal only (needs python3-systemd).",
        "backend = systemd",
        "# From OpenSSH 9.8 on, sshd-session (not sshd) logs each connection; match both, and the unit.",
        `journalmatch = ${SSHD_JOURNAL_MATCH}`,
        "",
        "# Addresses banned again and again are banned on every port for the ceiling.",
        "[recidive]",
        "enabled = true",
        "backend = auto",
        `logpath = ${FAIL2BAN_LOG_PATH}`,
        "banaction = %(banaction_allports)s",
        "findtime = 86400",
        `bantime = ${settings.banTimeMaxSeconds}`,
        "maxretry = 5",
        "",
    ].join("\n");
}

function assertSettings(s: Fail2banSettings): void {
    const positive = {
        maxRetry: s.maxRetry,
        findTimeSeconds: s.findTimeSeconds,
        banTimeSeconds: s.banTimeSeconds,
        banTimeMaxSeconds: s.banTimeMaxSeconds,
    };
    for (const [name, value] of Object.entries(positive)) {
        if (!Number.isInteger(value) || value <= 0)
            throw new Error(`fail2ban ${name} must be a positive integer, got ${value}`);
    }
    if (s.banTimeMaxSeconds < s.banTimeSeconds) throw new Error("fail2ban banTimeMaxSeconds must be >= banTimeSeconds");
    assertAddresses("ignoreIps", s.ignoreIps);
}

function assertAddresses(what: string, list: readonly string[]): void {
    for (const ip of list) {
        if (!/^[0-9A-Fa-f:./]+$/.test(ip)) throw new Error(`fail2ban ${what} entry '${ip}' is not an address or CIDR`);
    }
}

/** fail2ban.service drop-in that narrows what the server may do (Debian's unit runs it as unconfined root). */
export const FAIL2BAN_SANDBOX_DROPIN_PATH = "/etc/systemd/system/fail2ban.service.d/10-jumpgate-sandbox.conf";

/**
 * fail2ban-server stays root (it reads the journal files and runs `nft`), but keeps only CAP_NET_ADMIN (nft),
 * sees the system read-only except its database, its log (and logrotate's new one) and its runtime
 * directory, and reaches only netlink (nft), its own socket and DNS (`usedns`).
 */
export function renderFail2banSandbox(): string {
    return [
        "[Service]",
        "CapabilityBoundingSet=CAP_NET_ADMIN",
        "AmbientCapabilities=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        `ReadWritePaths=/var/lib/fail2ban ${FAIL2BAN_LOG_PATH.slice(0, FAIL2BAN_LOG_PATH.lastIndexOf("/"))}`,
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateIPC=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "PrivateMounts=yes",
        "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallErrorNumber=EPERM",
        "UMask=0027",
        "",
    ].join("\n");
}
