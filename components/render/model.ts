// Plain data shared by the pure renderers. No Pulumi imports: everything here is already resolved,
// so the renderers can be tested with the real OpenSSH, fail2ban and cloud-init tools.

import type { CryptoProfile } from "./crypto";

/** Operating systems the program can boot. */
export type OsName = "debian-13" | "debian-12" | "ubuntu-24.04";

/** An ED25519 key pair in OpenSSH format. */
export interface SshKeyPair {
    /** `ssh-ed25519 AAAA...` (a trailing comment is allowed). */
    publicKeyOpenssh: string;
    /** `-----BEGIN OPENSSH PRIVATE KEY-----...`. */
    privateKeyOpenssh: string;
}

/** A private host behind the bastion, as the SSH client and the bastion's PermitOpen see it. */
export interface TargetEndpoint {
    /** Target name from config, e.g. `app-1`. */
    name: string;
    /** Its fixed private IPv4 address: the literal host the client sends through the bastion. */
    privateIp: string;
    /** Port its sshd listens on (always 22 for now). */
    port: number;
}

/** fail2ban settings from config. */
export interface Fail2banSettings {
    /** Failures within `findTimeSeconds` before a ban. */
    maxRetry: number;
    /** Window in which failures are counted, seconds. */
    findTimeSeconds: number;
    /** First ban length, seconds. */
    banTimeSeconds: number;
    /** Ceiling for `bantime.increment`, seconds. */
    banTimeMaxSeconds: number;
    /** Addresses or CIDRs never banned (loopback is always added). */
    ignoreIps: string[];
}

/** Unattended security upgrades. */
export interface UpgradeSettings {
    /** Time of day (`HH:MM`) at which an automatic reboot may happen; undefined means never reboot. */
    rebootTime?: string;
}

/** A role as hosts see it: certificates name it as their principal, so hosts never list people. */
export interface RoleAccess {
    name: string;
    /** Passwordless sudo on the targets it reaches. */
    sudo: boolean;
    /** Endpoint names (targets, `tunnel-<name>`, the next hop) it may reach through a hop, or log in to. */
    reach: string[];
    /**
     * `ssh-ed25519 AAAA...`: the only CA key whose certificates log in for this role's principal (the
     * role's own KMS key, or the stack CA, which then vouches for every role).
     */
    caPublicKey: string;
    /** `fido2`: its logins must come from a FIDO key that verified the user (PIN) and was touched. */
    mfa?: "fido2";
}

/** Team access: hosts trust a CA key per role; each role is a principal. */
export interface UserCaAccess {
    roles: RoleAccess[];
}

/** A host's own firewall (hostFirewall.ts): its group's flows (net/flows.ts) with addresses resolved. */
export interface HostFirewallSpec {
    /** Ports accepted in, each from its peers (`port` undefined: every TCP port). */
    tcpIn: { port?: number; from: string[] }[];
    /** Ports the host may connect to, each at its peers. */
    tcpOut: { port: number; to: string[] }[];
    /** Ports open to any address for root and apt's download user only (updates, AWS endpoints). */
    updatePorts: number[];
    /** The VPC's DNS server (its primary CIDR's base + 2); Amazon's link-local one is always allowed too. */
    vpcResolver: string;
}

/** Everything the bastion's cloud-init document needs. */
export interface BastionHostSpec {
    os: OsName;
    /** Which algorithm lists sshd offers (see crypto.ts). */
    cryptoProfile: CryptoProfile;
    /** Port sshd listens on. */
    sshPort: number;
    /** The jump-only user (shell nologin, forwarding to targets only). */
    jumpUser: string;
    /** Public keys (OpenSSH format) allowed to log in as the jump user. */
    operatorPublicKeys: string[];
    /** The pinned ED25519 host key. */
    hostKey: SshKeyPair;
    /** Targets the jump user may forward to (one `PermitOpen ip:port` each). */
    targets: TargetEndpoint[];
    /**
     * Inner hops of a chain: the address (or subnet CIDR) of the hop in front, from which every SSH
     * connection arrives. Empty or absent for the outer hop, which faces the internet.
     */
    hopAddresses?: string[];
    fail2ban: Fail2banSettings;
    upgrades: UpgradeSettings;
    /** When set, certificates from this CA log in (one principal per role) and operatorPublicKeys is empty. */
    userCa?: UserCaAccess;
    /** Who writes this hop's audit records; undefined: no audit record builder on the host. */
    audit?: { stack: string; host: string };
    /** AWS region: on Debian the SSM agent is installed, signature-checked, from AWS's bucket there. Undefined: not installed. */
    ssmAgentRegion?: string;
    /** Ship the journal's audit trail to CloudWatch Logs (Debian: the signed agent is installed). Undefined: not shipped. */
    auditShipping?: AuditShipping;
    /** The host's own nftables firewall. Undefined: none (the security group only). */
    firewall?: HostFirewallSpec;
}

/** Everything a target's cloud-init document needs. */
export interface TargetHostSpec {
    os: OsName;
    /** Which algorithm lists sshd offers (see crypto.ts). */
    cryptoProfile: CryptoProfile;
    /** The target's name (used as hostname). */
    name: string;
    /** Its private address; sshd listens only there. */
    privateIp: string;
    /** The login user on targets (a normal shell user). */
    loginUser: string;
    /** Public keys (OpenSSH format) allowed to log in as the login user. */
    operatorPublicKeys: string[];
    /** The pinned ED25519 host key. */
    hostKey: SshKeyPair;
    /**
     * The address (or subnet CIDR) of the last bastion hop, from which every SSH connection arrives,
     * carrying every operator: never banned or penalised for one operator's failures.
     */
    hopAddresses: string[];
    fail2ban: Fail2banSettings;
    upgrades: UpgradeSettings;
    /** When set, each role that reaches this target logs in as `<loginUser>-<role>` with a certificate. */
    userCa?: UserCaAccess;
    /** Ship the journal's audit trail to CloudWatch Logs. Undefined: not shipped. */
    auditShipping?: AuditShipping;
    /** The host's own nftables firewall. Undefined: none (the security group only). */
    firewall?: HostFirewallSpec;
}

/** Where a host ships its sshd, fail2ban and audit records: the stack's log group, one stream per host. */
export interface AuditShipping {
    region: string;
    logGroupName: string;
    /** The host's own stream (its name in the stack); its instance role may write only there. */
    logStreamName: string;
}
