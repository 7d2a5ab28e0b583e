// The `#cloud-config` user data of the bastion and the targets. Only standard cloud-config keys
// (those typed in cloudConfig.ts plus cc_ssh / package keys), so the lab can apply the same document.
// Boot order on Debian 12 and Ubuntu 24.04: init stage writes the non-deferred files, creates
// users and the host key (so sshd's first start already has the drop-in); final stage installs
// packages, writes deferred files, then runs runcmd.
import { stringify } from "yaml";
import type { CloudConfigFile, CloudConfigUser } from "./cloudConfig";
import { AUDIT_START_COMMAND, auditFiles } from "./auditHost";
import { assertAcceptedUserKeys } from "./crypto";
import { AUDITD_PACKAGES, AUDITD_RELOAD_COMMAND, auditdFiles } from "./auditd";
import {
    FAIL2BAN_JAIL_PATH,
    FAIL2BAN_SANDBOX_DROPIN_PATH,
    fail2banSetupCommands,
    renderFail2banJail,
    renderFail2banSandbox,
} from "./fail2ban";
import type {
    AuditShipping,
    BastionHostSpec,
    OsName,
    RoleAccess,
    SshKeyPair,
    TargetHostSpec,
    UpgradeSettings,
    UserCaAccess,
} from "./model";
import {
    BANNER_PATH,
    BANNER_TEXT,
    JUMP_GROUP,
    LOGIN_GROUP,
    NOLOGIN,
    AUTHORIZED_CAS_DIR,
    SSHD_DROPIN_PATH,
    renderBastionSshd,
    renderJumpAuthorizedCas,
    renderRoleAuthorizedCa,
    REVOKED_KEYS_PATH,
    roleAccountName,
    renderTargetSshd,
} from "./sshd";
import {
    SSM_AGENT_INSTALLER_PATH,
    SSM_AGENT_UNIT,
    SSM_AGENT_UNIT_PATH,
    renderSsmAgentInstaller,
    renderSsmAgentUnit,
    ssmAgentBaseUrl,
} from "./ssmAgent";
import {
    CLOUDWATCH_AGENT_CONFIG_PATH,
    CLOUDWATCH_AGENT_INSTALLER_PATH,
    CLOUDWATCH_AGENT_UNIT,
    CLOUDWATCH_AGENT_UNIT_PATH,
    cloudWatchAgentBaseUrl,
    renderCloudWatchAgentConfig,
    renderCloudWatchAgentInstaller,
    renderCloudWatchAgentUnit,
} from "./cloudwatchAgent";

/** apt configuration for unattended upgrades; `52` sorts after the packages' `20auto-upgrades` and `50unattended-upgrades`. */
export const UNATTENDED_UPGRADES_PATH = "/etc/apt/apt.conf.d/52jumpgate-unattended";
/** Packages every host installs (python3-systemd: fail2ban's journal backend on Debian 12; auditd.ts). */
export const PACKAGES: readonly string[] = [
    "fail2ban",
    "python3-systemd",
    "nftables",
    "unattended-upgrades",
    ...AUDITD_PACKAGES,
];
/** Targets: ssh.service waits for the network, since sshd listens on the private address only. */
export const SSH_ONLINE_DROPIN_PATH = "/etc/systemd/system/ssh.service.d/10-jumpgate-online.conf";
/** Without it sshd can start before the address exists after a reboot, fail to bind and stay down. */
export const SSH_ONLINE_DROPIN = "[Unit]\nWants=network-online.target\nAfter=network-online.target\n";
/** Shell of the targets' login user. */
export const LOGIN_SHELL = "/bin/bash";
/**
 * The targets' login user administers the target: passwordless sudo, as the distribution's default
 * cloud user has. Its password is locked, so only the operator keys (through the bastion) lead there.
 */
export const LOGIN_SUDO = "ALL=(ALL) NOPASSWD:ALL";

/** apt.conf snippet: daily list update and security upgrades (the distribution's default origins); reboot only if a time is set. */
export function renderUnattendedUpgrades(settings: UpgradeSettings): string {
    const reboot = settings.rebootTime;
    if (reboot !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(reboot)) {
        throw new Error(`upgrades.rebootTime must be HH:MM, got '${reboot}'`);
    }
    return [
        "// Managed by jumpgate. Origins are the distribution's security defaults (50unattended-upgrades).",
        'APT::Periodic::Update-Package-Lists "1";',
        'APT::Periodic::Unattended-Upgrade "1";',
        ...(reboot === undefined
            ? ['Unattended-Upgrade::Automatic-Reboot "false";']
            : [
                  'Unattended-Upgrade::Automatic-Reboot "true";',
                  `Unattended-Upgrade::Automatic-Reboot-Time "${reboot}";`,
              ]),
        "",
    ].join("\n");
}

/**
 * The command that makes sshd pick up the drop-in, only once `sshd -t` accepts the configuration (so a
 * broken drop-in never takes a running sshd down). Ubuntu 24.04 starts sshd from ssh.socket, which
 * ignores Port and ListenAddress in sshd_config: socket activation is turned off there, so sshd binds
 * what the drop-in says, as on Debian. daemon-reload picks up the targets' unit drop-in. /run/sshd is
 * created by ssh.service, which may not have run yet.
 */
export function sshServiceCommands(os: OsName): string[][] {
    const restart =
        os === "ubuntu-24.04"
            ? [
                  "systemctl disable --now ssh.socket",
                  "rm -f /etc/systemd/system/ssh.service.d/00-socket.conf /etc/systemd/system/ssh.socket.d/addresses.conf",
                  "systemctl daemon-reload",
                  "systemctl enable ssh.service",
                  "systemctl restart ssh.service",
              ]
            : ["systemctl daemon-reload", "systemctl restart ssh.service"];
    return [["sh", "-c", ["install -d -m 0755 /run/sshd", "sshd -t", ...restart].join(" && ")]];
}

/** Bastion user data: pinned host key, the jump user, sshd drop-in, fail2ban, unattended upgrades. */
export function renderBastionCloudInit(spec: BastionHostSpec): string {
    assertUserName(spec.jumpUser);
    const jumpUser: CloudConfigUser = {
        name: spec.jumpUser,
        gecos: "jumpgate jump user (ProxyJump only)",
        groups: JUMP_GROUP,
        shell: NOLOGIN,
        lock_passwd: true,
        ...authorizedKeys(spec.operatorPublicKeys, spec.userCa),
    };
    const accessFiles =
        spec.userCa === undefined
            ? []
            : [
                  ...authorizedCaFiles([[spec.jumpUser, renderJumpAuthorizedCas(spec.userCa, spec.targets)]]),
                  // Empty: nothing revoked yet. The SSM association replaces it (user data never changes).
                  { path: REVOKED_KEYS_PATH, content: "", owner: "root:root", permissions: "0644" },
              ];
    return document({
        os: spec.os,
        hostKey: spec.hostKey,
        group: JUMP_GROUP,
        users: [jumpUser],
        accessFiles,
        auditFiles: spec.audit === undefined ? [] : auditFiles(spec.audit, spec.targets),
        sshd: renderBastionSshd(spec),
        jail: renderFail2banJail(spec.fail2ban, spec.sshPort, spec.os, spec.hopAddresses),
        upgrades: spec.upgrades,
        ssmAgentBaseUrl:
            spec.os.startsWith("debian-") && spec.ssmAgentRegion !== undefined
                ? ssmAgentBaseUrl(spec.ssmAgentRegion)
                : undefined,
        auditShipping: spec.auditShipping,
    });
}

/** Target user data: pinned host key, the login user (sudo), sshd on the private address, fail2ban, upgrades. */
export function renderTargetCloudInit(spec: TargetHostSpec): string {
    assertUserName(spec.loginUser);
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(spec.name))
        throw new Error(`target name '${spec.name}' is not a valid hostname`);
    const loginUser: CloudConfigUser = {
        name: spec.loginUser,
        gecos: "jumpgate login user",
        groups: LOGIN_GROUP,
        shell: LOGIN_SHELL,
        lock_passwd: true,
        sudo: LOGIN_SUDO,
        ...authorizedKeys(spec.operatorPublicKeys, spec.userCa),
    };
    const roles = spec.userCa?.roles.filter((r) => r.reach.includes(spec.name)) ?? [];
    const roleUsers = roles.map((r) => roleAccount(spec.loginUser, r));
    return document({
        os: spec.os,
        hostname: spec.name,
        hostKey: spec.hostKey,
        group: LOGIN_GROUP,
        users: spec.userCa === undefined ? [loginUser] : roleUsers,
        accessFiles:
            spec.userCa === undefined
                ? []
                : authorizedCaFiles(
                      roles.map((r) => [roleAccountName(spec.loginUser, r.name), renderRoleAuthorizedCa(r)]),
                  ),
        sshd: renderTargetSshd(spec),
        unitDropIn: SSH_ONLINE_DROPIN,
        jail: renderFail2banJail(spec.fail2ban, 22, spec.os, spec.hopAddresses),
        upgrades: spec.upgrades,
        auditShipping: spec.auditShipping,
    });
}

/**
 * The single shared key path lists the keys (each one sshd accepts); with a user CA no key is ever in user
 * data, and one passed is an error.
 */
function authorizedKeys(keys: readonly string[], userCa: UserCaAccess | undefined): Partial<CloudConfigUser> {
    if (userCa === undefined) {
        assertAcceptedUserKeys(keys);
        return { ssh_authorized_keys: [...keys] };
    }
    if (keys.length > 0) throw new Error("with a user CA, user data must not list operator keys");
    return {};
}

export { roleAccountName };

/** A role's target account: locked password, a shell, sudo only where the role has it. */
function roleAccount(loginUser: string, role: RoleAccess): CloudConfigUser {
    const name = roleAccountName(loginUser, role.name);
    assertUserName(name);
    return {
        name,
        gecos: `jumpgate role ${role.name}`,
        groups: LOGIN_GROUP,
        shell: LOGIN_SHELL,
        lock_passwd: true,
        ...(role.sudo ? { sudo: LOGIN_SUDO } : {}),
    };
}

/** One CA file per account, root-owned (sshd's StrictModes): which CA key vouches for which role. */
function authorizedCaFiles(files: [account: string, content: string][]): CloudConfigFile[] {
    return files.map(([account, content]) => ({
        path: `${AUTHORIZED_CAS_DIR}/${account}`,
        content,
        owner: "root:root",
        permissions: "0644",
    }));
}

interface HostParts {
    os: OsName;
    hostname?: string;
    hostKey: SshKeyPair;
    group: string;
    users: CloudConfigUser[];
    /** Team access: each account's CA file (before sshd's first start). */
    accessFiles: CloudConfigFile[];
    /** Bastion hops: the audit record builder, its configuration and unit (started in runcmd). */
    auditFiles?: CloudConfigFile[];
    sshd: string;
    /** ssh.service drop-in (targets). */
    unitDropIn?: string;
    jail: string;
    upgrades: UpgradeSettings;
    /** Debian bastions: install AWS's signed SSM agent from this bucket (Ubuntu's AMIs ship it). */
    ssmAgentBaseUrl?: string;
    /** Install AWS's signed CloudWatch agent and ship the audit trail. */
    auditShipping?: AuditShipping;
}

/** The agent's configuration, installer and unit (after the packages: the installer needs curl and gpgv). */
function cloudWatchAgentFiles(a: AuditShipping | undefined): CloudConfigFile[] {
    if (a === undefined) return [];
    return [
        {
            path: CLOUDWATCH_AGENT_CONFIG_PATH,
            content: renderCloudWatchAgentConfig(a),
            owner: "root:root",
            permissions: "0644",
        },
        {
            path: CLOUDWATCH_AGENT_INSTALLER_PATH,
            content: renderCloudWatchAgentInstaller(),
            owner: "root:root",
            permissions: "0700",
        },
        {
            path: CLOUDWATCH_AGENT_UNIT_PATH,
            content: renderCloudWatchAgentUnit(cloudWatchAgentBaseUrl(a.region)),
            owner: "root:root",
            permissions: "0644",
        },
    ];
}

/** Assembles one document; the key order is the order a reader follows the boot. */
function document(p: HostParts): string {
    const files: CloudConfigFile[] = [
        // Not deferred: in place before sshd's first start.
        { path: SSHD_DROPIN_PATH, content: p.sshd, owner: "root:root", permissions: "0600" },
        { path: BANNER_PATH, content: BANNER_TEXT, owner: "root:root", permissions: "0644" },
        ...p.accessFiles,
        ...(p.auditFiles ?? []),
        // Before the packages: their first start already runs with these (see auditd.ts).
        ...auditdFiles(),
        {
            path: FAIL2BAN_SANDBOX_DROPIN_PATH,
            content: renderFail2banSandbox(),
            owner: "root:root",
            permissions: "0644",
        },
        ...(p.unitDropIn === undefined
            ? []
            : [{ path: SSH_ONLINE_DROPIN_PATH, content: p.unitDropIn, owner: "root:root", permissions: "0644" }]),
        // Deferred: configure packages that the final stage installs.
        { path: FAIL2BAN_JAIL_PATH, content: p.jail, owner: "root:root", permissions: "0644", defer: true },
        {
            path: UNATTENDED_UPGRADES_PATH,
            content: renderUnattendedUpgrades(p.upgrades),
            owner: "root:root",
            permissions: "0644",
            defer: true,
        },
        ...(p.ssmAgentBaseUrl === undefined
            ? []
            : [
                  {
                      path: SSM_AGENT_INSTALLER_PATH,
                      content: renderSsmAgentInstaller(),
                      owner: "root:root",
                      permissions: "0700",
                  },
                  {
                      path: SSM_AGENT_UNIT_PATH,
                      content: renderSsmAgentUnit(p.ssmAgentBaseUrl),
                      owner: "root:root",
                      permissions: "0644",
                  },
              ]),
        ...cloudWatchAgentFiles(p.auditShipping),
    ];
    const needsCurl = p.ssmAgentBaseUrl !== undefined || p.auditShipping !== undefined;
    const config = {
        ...(p.hostname === undefined ? {} : { hostname: p.hostname }),
        ssh_deletekeys: true,
        ssh_genkeytypes: ["ed25519"],
        ssh_keys: {
            ed25519_private: withNewline(p.hostKey.privateKeyOpenssh),
            ed25519_public: p.hostKey.publicKeyOpenssh.trim(),
        },
        ssh_pwauth: false,
        disable_root: true,
        groups: [p.group],
        users: p.users,
        write_files: files,
        // The bastion has no public address until its Elastic IP is associated, and targets none until the
        // NAT route exists: apt waits it out (retries with backoff) instead of failing the first boot.
        apt: { conf: APT_RETRIES },
        // package_update also makes Ubuntu 24.04 pick fail2ban from noble-updates (see fail2ban.ts).
        package_update: true,
        package_upgrade: false,
        // curl fetches the SSM and CloudWatch agents (gpgv, which checks them, comes with apt).
        packages: needsCurl ? [...PACKAGES, "curl"] : [...PACKAGES],
        runcmd: [
            ...sshServiceCommands(p.os),
            AUDITD_RELOAD_COMMAND,
            ...fail2banSetupCommands(p.os),
            ["systemctl", "enable", "fail2ban.service"],
            ["systemctl", "restart", "fail2ban.service"],
            // After sshd runs with the drop-in and fail2ban has its log: the audit records start here.
            ...((p.auditFiles ?? []).length > 0 ? [AUDIT_START_COMMAND] : []),
            // Last, and not waited for: the unit retries until the agent is installed (see ssmAgent.ts).
            ...(p.ssmAgentBaseUrl === undefined
                ? []
                : [["systemctl", "enable", "--now", "--no-block", SSM_AGENT_UNIT]]),
            ...(p.auditShipping === undefined
                ? []
                : [["systemctl", "enable", "--now", "--no-block", CLOUDWATCH_AGENT_UNIT]]),
        ],
    };
    // YAML 1.1 output: cloud-init's PyYAML reads 1.1, so strings such as "no" or "0600" get quoted.
    return `#cloud-config\n${stringify(config, { version: "1.1", lineWidth: 0 })}`;
}

/** apt settings cloud-init writes before it installs packages (apt 2.3+ backs off between retries). */
export const APT_RETRIES = 'Acquire::Retries "20";\nAcquire::Retries::Delay::Maximum "30";\n';

function withNewline(text: string): string {
    return text.endsWith("\n") ? text : `${text}\n`;
}

function assertUserName(name: string): void {
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name) || name === "root") throw new Error(`invalid user name '${name}'`);
}
