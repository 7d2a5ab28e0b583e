// The host around sshd: kernel settings for a machine that forwards nothing, unused protocol and storage
// modules refused, no core dumps, umask 027 and password aging for local accounts, and (bastion) only the
// services a jump host needs. Plain files cloud-init writes plus a few boot commands, the same on Debian
// 12/13 and Ubuntu 24.04. Each setting carries its reason; README "Host hardening" lists them.
import type { CloudConfigFile } from "./cloudConfig";
import type { OsName } from "./model";

/** `60-` sorts after the distribution's `50-default.conf` / `50-coredump.conf` (systemd-sysctl: last file wins per key). */
export const SYSCTL_PATH = "/etc/sysctl.d/60-jumpgate-hardening.conf";
export const MODPROBE_PATH = "/etc/modprobe.d/jumpgate-blacklist.conf";
export const CORE_LIMITS_PATH = "/etc/security/limits.d/60-jumpgate-core.conf";
/** Only read when systemd-coredump is installed (it is not by default): then it keeps nothing either. */
export const COREDUMP_CONF_PATH = "/etc/systemd/coredump.conf.d/60-jumpgate.conf";
/** Services' own core limit (pam_limits covers login sessions only). */
export const SYSTEM_CORE_PATH = "/etc/systemd/system.conf.d/60-jumpgate-core.conf";
export const LOGIN_DEFS_PATH = "/etc/login.defs";

export interface Setting {
    key: string;
    value: string;
    reason: string;
}

/**
 * Kernel settings. `net.*.conf.*.x` is a glob over all, default and every interface: systemd-sysctl applies
 * it (also to interfaces added later, through udev), and for most of these keys the kernel ORs or maxes the
 * `all` value with the interface's own, so `all` alone would not win over an interface left at 2 (loose
 * rp_filter is Debian's and Ubuntu's default).
 */
export const SYSCTL_SETTINGS: readonly Setting[] = [
    { key: "net.ipv4.ip_forward", value: "0", reason: "sshd relays channels in user space; the host routes nothing" },
    { key: "net.ipv6.conf.*.forwarding", value: "0", reason: "the same for IPv6" },
    { key: "net.ipv4.conf.*.rp_filter", value: "1", reason: "strict: one interface, so a spoofed source is dropped" },
    { key: "net.ipv4.conf.*.accept_redirects", value: "0", reason: "a redirect could reroute the traffic to targets" },
    { key: "net.ipv6.conf.*.accept_redirects", value: "0", reason: "the same for IPv6" },
    { key: "net.ipv4.conf.*.secure_redirects", value: "0", reason: "not even from the listed gateways" },
    { key: "net.ipv4.conf.*.send_redirects", value: "0", reason: "not a router" },
    { key: "net.ipv4.conf.*.accept_source_route", value: "0", reason: "senders do not choose the route" },
    { key: "net.ipv6.conf.*.accept_source_route", value: "0", reason: "the same for IPv6" },
    { key: "net.ipv4.conf.*.log_martians", value: "1", reason: "impossible source addresses are logged" },
    {
        key: "net.ipv4.tcp_syncookies",
        value: "1",
        reason: "a SYN flood on the public SSH port cannot fill the backlog",
    },
    { key: "net.ipv4.tcp_rfc1337", value: "1", reason: "no TIME-WAIT assassination by stray RSTs" },
    { key: "net.ipv4.icmp_echo_ignore_broadcasts", value: "1", reason: "no smurf amplifier" },
    { key: "net.ipv4.icmp_ignore_bogus_error_responses", value: "1", reason: "no log noise from bogus ICMP errors" },
    { key: "kernel.kptr_restrict", value: "2", reason: "kernel addresses hidden even from root (exploit aid)" },
    { key: "kernel.dmesg_restrict", value: "1", reason: "the kernel log is for root only" },
    {
        key: "kernel.unprivileged_bpf_disabled",
        value: "1",
        reason: "no eBPF for unprivileged users (1 cannot be undone without a reboot)",
    },
    { key: "net.core.bpf_jit_harden", value: "2", reason: "constant blinding in the BPF JIT for every user" },
    { key: "kernel.yama.ptrace_scope", value: "2", reason: "only CAP_SYS_PTRACE may attach: no reading sshd's memory" },
    { key: "kernel.kexec_load_disabled", value: "1", reason: "the running kernel cannot be replaced without a reboot" },
    { key: "kernel.perf_event_paranoid", value: "3", reason: "no perf events for unprivileged users" },
    { key: "kernel.randomize_va_space", value: "2", reason: "full address space layout randomisation" },
    { key: "dev.tty.ldisc_autoload", value: "0", reason: "no line discipline modules loaded on a user's request" },
    { key: "fs.protected_hardlinks", value: "1", reason: "no hard links to files the user does not own" },
    { key: "fs.protected_symlinks", value: "1", reason: "no following others' symlinks in sticky directories" },
    { key: "fs.protected_fifos", value: "2", reason: "no writing to others' FIFOs in sticky directories" },
    { key: "fs.protected_regular", value: "2", reason: "no writing to others' files in sticky directories" },
    { key: "fs.suid_dumpable", value: "0", reason: "setuid programs never dump core" },
    { key: "kernel.core_pattern", value: "|/bin/false", reason: "no core file anywhere, even if a limit is raised" },
];

/**
 * The reasons stay in this file and the README, not in the host's copy: each comment line costs the
 * bastion's 16 KiB of user data (gzipped) room for about 8 targets.
 */
export function renderSysctl(): string {
    return [
        "# Managed by jumpgate: a jump host that forwards nothing (reasons: README, Host hardening).",
        ...SYSCTL_SETTINGS.map((s) => `${s.key} = ${s.value}`),
        "",
    ].join("\n");
}

/** Modules no jump host loads; `install ... /bin/false` also stops an explicit modprobe and a dependency pull. */
export const BLACKLISTED_MODULES: readonly { name: string; reason: string }[] = [
    { name: "dccp", reason: "datagram congestion protocol: unused, a history of local root bugs" },
    { name: "sctp", reason: "SCTP: unused, loaded on demand by any user's socket() call" },
    { name: "rds", reason: "reliable datagram sockets: unused, a history of local root bugs" },
    { name: "tipc", reason: "cluster IPC protocol: unused, remote and local bugs" },
    { name: "cramfs", reason: "old read-only file system: no image to mount" },
    { name: "freevxfs", reason: "Veritas file system: no such volume on EC2" },
    { name: "hfs", reason: "Mac file system: no such volume" },
    { name: "hfsplus", reason: "Mac file system: no such volume" },
    { name: "jffs2", reason: "flash file system: no such device" },
    { name: "udf", reason: "optical media file system: no such device" },
    { name: "usb-storage", reason: "USB mass storage: no USB on EC2, no data leaves on a stick" },
];

export function renderModprobeBlacklist(): string {
    return [
        "# Managed by jumpgate: modules a jump host never loads (reasons: README, Host hardening).",
        ...BLACKLISTED_MODULES.flatMap((m) => [`install ${m.name} /bin/false`, `blacklist ${m.name}`]),
        "",
    ].join("\n");
}

/** pam_limits' `*` does not cover root: root is named. */
export const CORE_LIMITS =
    "# Managed by jumpgate: no core dumps for login sessions.\n* hard core 0\nroot hard core 0\n";
export const COREDUMP_CONF = "# Managed by jumpgate: keep no core dumps.\n[Coredump]\nStorage=none\nProcessSizeMax=0\n";
export const SYSTEM_CORE = "# Managed by jumpgate: no core dumps from services.\n[Manager]\nDefaultLimitCORE=0\n";

/**
 * login.defs for local accounts. jumpgate's own accounts are created by cloud-init before these lines are
 * written (init stage vs runcmd): they are key-only with locked passwords, and aging on them would, once
 * PASS_MAX_DAYS passed, make PAM demand a password change that sshd answers by refusing every forward.
 */
export const LOGIN_DEFS_SETTINGS: readonly Setting[] = [
    { key: "UMASK", value: "027", reason: "new files are not readable by other users (pam_umask reads it)" },
    { key: "PASS_MAX_DAYS", value: "365", reason: "a local password expires within a year" },
    { key: "PASS_MIN_DAYS", value: "1", reason: "no cycling back to the old password at once" },
    { key: "PASS_WARN_AGE", value: "14", reason: "two weeks' warning" },
];

/** The PAM session files that call pam_umask (Debian's common-session and its non-interactive twin). */
export const PAM_UMASK_FILES = ["/etc/pam.d/common-session", "/etc/pam.d/common-session-noninteractive"];

/**
 * Debian 13's pam_umask (PAM 1.5.3+) applies "usergroups" by default: a user whose group has its own name
 * gets the owner's bits as group bits, 027 becoming 007 (measured on the booted lab host). Debian's NEWS for
 * PAM says to add `nousergroups` to the pam_umask line; Debian 12's and Ubuntu 24.04's PAM do not know the
 * option (and do not apply usergroups), so only Debian 13 gets it.
 */
export function pamUmaskCommand(os: OsName): string[][] {
    if (os !== "debian-13") return [];
    const line = "s/^(session[[:space:]]+optional[[:space:]]+pam_umask\\.so)[[:space:]]*$/\\1 nousergroups/";
    return [["sed", "-i", "-E", line, ...PAM_UMASK_FILES]];
}

/** Replaces each key's line (pam_umask reads the first, shadow's tools the last) with jumpgate's value. */
export function loginDefsCommand(): string[] {
    const keys = LOGIN_DEFS_SETTINGS.map((s) => s.key).join("|");
    const lines = LOGIN_DEFS_SETTINGS.map((s) => `${s.key}\t${s.value}`).join("\\n");
    return [
        "sh",
        "-c",
        `sed -i -E '/^(${keys})[[:space:]]/d' ${LOGIN_DEFS_PATH} && printf '# jumpgate (README: Host hardening)\\n${lines}\\n' >> ${LOGIN_DEFS_PATH}`,
    ];
}

/**
 * Units a jump host does not need, masked so that neither the image nor a later package starts them (masking
 * a unit the image lacks is harmless and keeps it from ever starting). What stays: sshd, fail2ban, journald,
 * cloud-init, unattended-upgrades and apt's timers, jumpgate's own units (SSM and CloudWatch agents, audit),
 * time sync (chrony or systemd-timesyncd), networking, udev, logind, dbus, and snapd on Ubuntu (its SSM agent
 * is a snap).
 */
export const BASTION_MASKED_UNITS: readonly { unit: string; reason: string }[] = [
    { unit: "sshd-unix-local.socket", reason: "a second, local door into sshd (systemd's ssh generator)" },
    { unit: "sshd-vsock.socket", reason: "sshd on AF_VSOCK, reachable from the hypervisor side" },
    { unit: "cron.service", reason: "nothing of jumpgate's is scheduled by cron (apt and logrotate use timers)" },
    { unit: "rpcbind.service", reason: "RPC portmapper (NFS): listens on port 111" },
    { unit: "rpcbind.socket", reason: "the same, socket-activated" },
    { unit: "avahi-daemon.service", reason: "mDNS announcements" },
    { unit: "exim4.service", reason: "no mail transfer agent" },
    { unit: "postfix.service", reason: "no mail transfer agent" },
    { unit: "rsync.service", reason: "no rsync daemon" },
    { unit: "multipathd.service", reason: "no multipath storage on EC2 (Ubuntu enables it)" },
    { unit: "iscsid.socket", reason: "no iSCSI (Ubuntu)" },
    { unit: "ModemManager.service", reason: "no modems" },
    { unit: "udisks2.service", reason: "no removable disks" },
    { unit: "motd-news.timer", reason: "Ubuntu's message of the day fetched over the internet" },
    { unit: "apport.service", reason: "crash reports: core dumps are off" },
];

/** Services a running bastion may have (`*` matches within a name); the booted lab bastion is checked against it. */
export const BASTION_KEPT_SERVICES: readonly { unit: string; reason: string }[] = [
    { unit: "ssh.service", reason: "the jump host itself" },
    { unit: "fail2ban.service", reason: "bans sources that keep failing" },
    {
        unit: "jumpgate-*.service",
        reason: "jumpgate's audit records and its signed SSM and CloudWatch agent installers",
    },
    { unit: "amazon-ssm-agent.service", reason: "break-glass access without SSH (Debian: installed by jumpgate)" },
    { unit: "snap.amazon-ssm-agent.amazon-ssm-agent.service", reason: "the same on Ubuntu" },
    { unit: "snapd.service", reason: "Ubuntu's SSM agent is a snap" },
    { unit: "amazon-cloudwatch-agent.service", reason: "ships the audit trail" },
    { unit: "unattended-upgrades.service", reason: "security updates (and their shutdown hook)" },
    { unit: "systemd-journald.service", reason: "the log the audit trail and fail2ban read" },
    { unit: "systemd-logind.service", reason: "sessions (PAM)" },
    { unit: "systemd-udevd.service", reason: "devices, and sysctl for interfaces that appear later" },
    { unit: "systemd-networkd.service", reason: "the network (Debian's cloud images)" },
    { unit: "systemd-resolved.service", reason: "DNS through the VPC resolver" },
    { unit: "systemd-timesyncd.service", reason: "time (certificates and logs need it)" },
    { unit: "chrony.service", reason: "time, where the image uses chrony" },
    { unit: "dbus.service", reason: "systemd's own bus" },
    { unit: "cloud-*.service", reason: "cloud-init while it applies the user data" },
    { unit: "serial-getty@*.service", reason: "EC2 serial console (accounts are locked: no password login)" },
    { unit: "getty@*.service", reason: "the same on the virtual console" },
    { unit: "console-getty.service", reason: "the same in a container (the lab)" },
    { unit: "polkit.service", reason: "Ubuntu's snapd asks it" },
];

/** Files both kinds of host get (before sshd's first start: the modprobe rules and limits apply at once). */
export function hostHardeningFiles(): CloudConfigFile[] {
    const file = (path: string, content: string): CloudConfigFile => ({
        path,
        content,
        owner: "root:root",
        permissions: "0644",
    });
    return [
        file(SYSCTL_PATH, renderSysctl()),
        file(MODPROBE_PATH, renderModprobeBlacklist()),
        file(CORE_LIMITS_PATH, CORE_LIMITS),
        file(COREDUMP_CONF_PATH, COREDUMP_CONF),
        file(SYSTEM_CORE_PATH, SYSTEM_CORE),
    ];
}

/**
 * Boot commands (runcmd, before sshd's restart). systemd-sysctl ran before cloud-init wrote the file, so it
 * runs again (it skips itself where /proc/sys is read-only, as in a container); daemon-reexec makes the
 * service manager read DefaultLimitCORE; the bastion masks what it does not need.
 */
export function hostHardeningCommands(role: "bastion" | "target", os: OsName): string[][] {
    return [
        ["systemctl", "restart", "systemd-sysctl.service"],
        loginDefsCommand(),
        ...pamUmaskCommand(os),
        ["systemctl", "daemon-reexec"],
        ...(role === "bastion" ? [["systemctl", "mask", "--now", ...BASTION_MASKED_UNITS.map((u) => u.unit)]] : []),
    ];
}
