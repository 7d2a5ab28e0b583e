// The arguments of the `Jumpgate` component, as any Pulumi program (in any language) passes them. Names
// follow the stack config keys of the standalone program, so one validation serves both: a program's
// arguments are turned into the config the reader checks, and its problems are reported under the
// argument names. Values that may come from the user's own resources (VPC and subnet IDs, an existing
// host's address, group and key) are Inputs, checked when they resolve with the same messages.
import * as pulumi from "@pulumi/pulumi";

/** NAT for the private subnets of a new VPC. */
export const NatGateways = { None: "none", Single: "single", PerAz: "perAz" } as const;
export type NatGateways = (typeof NatGateways)[keyof typeof NatGateways];

/** The operating system every host jumpgate builds boots. */
export const HostOs = { Debian13: "debian-13", Debian12: "debian-12", Ubuntu2404: "ubuntu-24.04" } as const;
export type HostOs = (typeof HostOs)[keyof typeof HostOs];

/** The key exchanges and ciphers sshd offers. */
export const CryptoProfile = { Compatible: "compatible", PqOnly: "pq-only" } as const;
export type CryptoProfile = (typeof CryptoProfile)[keyof typeof CryptoProfile];

/** Who holds the key that signs team members' certificates. */
export const UserCa = { Kms: "kms", Stack: "stack" } as const;
export type UserCa = (typeof UserCa)[keyof typeof UserCa];

/** The VPC: a new one (the layout fields) or an existing one (`vpcId` and both subnet lists). */
export interface NetworkArgs {
    /** IPv4 CIDR of a new VPC. Default: `10.42.0.0/16`. */
    vpcCidr?: string;
    /** Availability zones a new VPC spreads its subnets over (1-6). Default: 2. */
    azCount?: number;
    /** NAT for a new VPC's private subnets; each gateway takes an Elastic IP. Default: `single`. */
    natGateways?: NatGateways;
    /** Days a new VPC's flow logs are kept (0 = forever). Default: 90. */
    flowLogRetentionDays?: number;
    /** An existing VPC to use instead of a new one; needs both subnet lists. Default: none (a new VPC). */
    vpcId?: pulumi.Input<string>;
    /** The existing VPC's public subnets; the bastion goes into the first. Default: none. */
    publicSubnetIds?: pulumi.Input<string>[];
    /** The existing VPC's private subnets, where built targets get fixed addresses round-robin. Default: none. */
    privateSubnetIds?: pulumi.Input<string>[];
}

/**
 * A private host behind the bastion. Without `privateIp` jumpgate builds it (`instanceType`); with it the
 * host exists already: jumpgate adds one ingress rule (from the last hop's group) to `securityGroupId` and
 * a client entry, and changes nothing else on it.
 */
export interface HostArgs {
    /** The SSH alias is `<environment>-<name>`: 2-32 lowercase letters, digits and inner hyphens. Required. */
    name: string;
    /** A built host's EC2 instance type. Default: `t4g.micro`. */
    instanceType?: string;
    /** An existing host's private IPv4 address in the existing VPC. Default: none (jumpgate builds the host). */
    privateIp?: pulumi.Input<string>;
    /** An existing host's security group, opened to the last hop on `sshPort`. Required with `privateIp`. */
    securityGroupId?: pulumi.Input<string>;
    /** The account operators log in as on an existing host. Default: `loginUser`. */
    loginUser?: string;
    /** The port an existing host's sshd listens on. Default: 22. */
    sshPort?: number;
    /** An existing host's public host key (`ssh-ed25519 AAAA...`), pinned in known_hosts. Default: none (unpinned entry). */
    hostPublicKey?: pulumi.Input<string>;
}

/** One hop of the bastion chain, outermost first. */
export interface BastionHopArgs {
    /** The hop's SSH alias suffix. Required. */
    name: string;
    /** EC2 instance type. Default: `bastionInstanceType`. */
    instanceType?: string;
}

/** A port forwarded through the last hop to a built host's port. */
export interface TunnelArgs {
    /** Alias `<environment>-tunnel-<name>`. Required. */
    name: string;
    /** Name of a built host. Required. */
    target: string;
    /** Port on the target. Required. */
    remotePort: number;
    /** Port on the operator's machine. Required. */
    localPort: number;
}

/** A named person with one role. */
export interface OperatorArgs {
    /** The operator's name, as `jumpgate-ssh login --operator` takes it. Required. */
    name: string;
    /** A role name (built in: `admin`, `developer`). Required. */
    role: string;
    /** OpenSSH public keys a certificate may be issued for. Default: none. */
    publicKeys?: string[];
    /** IAM principal ARNs allowed to sign this operator's certificates (kms). Default: none. */
    awsPrincipals?: string[];
}

/** What a role reaches. */
export interface RoleArgs {
    /** The role's name; a role named `admin` or `developer` replaces the built-in one. Required. */
    name: string;
    /** Whether the role gets sudo on its targets. Default: false. */
    sudo?: boolean;
    /** Host names or `*`-globs the role reaches. Default: none. */
    targets?: string[];
    /** IAM principals that may sign for the whole role (kms). Default: none. */
    awsPrincipals?: string[];
    /** `fido2`: only a FIDO key that verified its user logs in. Default: none. */
    mfa?: string;
}

/** Certificates the bastion hops refuse before they expire. */
export interface RevokedCertificatesArgs {
    /** Certificate serial numbers, as decimal strings. Default: none. */
    serials?: string[];
    /** Certificate key IDs. Default: none. */
    keyIds?: string[];
    /** Public keys whose certificates are all refused. Default: none. */
    publicKeys?: string[];
}

/** Every argument is optional except `allowedCidrs` (or `allowSshFromAnywhere`); defaults are in each doc. */
export interface JumpgateArgs {
    /** Names the environment in SSH aliases, the known_hosts file, KMS aliases and log groups. Default: the stack name. */
    environment?: string;
    /** IPv4 CIDRs that may reach the bastion's SSH port. Required (0.0.0.0/0 only with allowSshFromAnywhere). */
    allowedCidrs?: string[];
    /** Explicit opt-in to let allowedCidrs contain 0.0.0.0/0. Default: false. */
    allowSshFromAnywhere?: boolean;
    /** Port the bastion's sshd listens on. Default: 22. */
    sshPort?: number;
    /** A new VPC's layout or an existing VPC's IDs. Default: a new VPC with the defaults of NetworkArgs. */
    network?: NetworkArgs;
    /** Operating system of every built host. Default: `debian-13`. */
    os?: HostOs;
    /** Pinned images by `<os>/<arch>`. Default: none (the newest official image at the first deploy, recorded). */
    amiIds?: Record<string, string>;
    /** sshd's algorithms. Default: `compatible`. */
    cryptoProfile?: CryptoProfile;
    /** Instance type of every bastion hop without its own. Default: `t4g.nano`. */
    bastionInstanceType?: string;
    /** The bastion chain, outermost first. Default: one hop named `bastion`. */
    bastions?: BastionHopArgs[];
    /** Private hosts, built or existing. Default: one built host `app-1` (`t4g.micro`). */
    hosts?: HostArgs[];
    /** Ports forwarded through the last hop. Default: none. */
    tunnels?: TunnelArgs[];
    /** Public keys of a shared operator login (without team access). Default: none (jumpgate generates one). */
    operatorPublicKeys?: string[];
    /** Named operators; with them hosts trust a user CA per role instead of operatorPublicKeys. Default: none. */
    operators?: OperatorArgs[];
    /** Roles beyond (or replacing) the built-in `admin` and `developer`. Default: none. */
    roles?: RoleArgs[];
    /** Team access CA backend. Default: `kms` (one AWS KMS key per role). */
    userCa?: UserCa;
    /** With the kms CA, signing needs an MFA-authenticated IAM session. Default: false. */
    kmsRequireMfa?: boolean;
    /** Certificates refused before they expire. Default: none. */
    revokedCertificates?: RevokedCertificatesArgs;
    /** The private key path the client config names. Default: `~/.ssh/jumpgate-<environment>_ed25519`. */
    identityFile?: string;
    /** The account operators jump through on the bastion hops. Default: `jump`. */
    jumpUser?: string;
    /** The account operators log in as on built hosts. Default: `ops`. */
    loginUser?: string;
    /** Share one connection per host in the client config (ControlMaster). Default: true. */
    controlMaster?: boolean;
    /** Root volume size of every built host, in GiB. Default: 8. */
    rootVolumeSizeGb?: number;
    /** Failed logins within fail2banFindTimeSeconds before a ban. Default: 5. */
    fail2banMaxRetry?: number;
    /** The window fail2ban counts failures in, in seconds. Default: 600. */
    fail2banFindTimeSeconds?: number;
    /** First ban length, in seconds. Default: 3600. */
    fail2banBanTimeSeconds?: number;
    /** Longest ban for repeat offenders, in seconds. Default: 604800. */
    fail2banBanTimeMaxSeconds?: number;
    /** Addresses fail2ban never bans. Default: none. */
    fail2banIgnoreIps?: string[];
    /** Time (HH:MM, UTC) unattended upgrades may reboot a host. Default: none (no automatic reboot). */
    upgradesRebootTime?: string;
    /** Tags added to every resource. Default: none. */
    tags?: Record<string, string>;
    /** Elastic IPs the account may hold in the region. Default: 5. */
    elasticIpQuota?: number;
    /** Allow private hosts without a way to install packages (no NAT). Default: false. */
    allowPrivateHostsWithoutPackages?: boolean;
    /** The audit trail in CloudWatch Logs. Default: true. */
    audit?: boolean;
    /** Days the audit log group keeps records (0 = forever). Default: 365. */
    auditLogRetentionDays?: number;
    /** Address the audit alarms mail. Default: none. */
    alertEmail?: string;
    /** Failed authentications per minute, over all hosts, that raise the alarm. Default: 10. */
    auditAuthFailuresPerMinute?: number;
    /** Minutes without a bastion heartbeat before its alarm fires. Default: 15. */
    auditHeartbeatMinutes?: number;
}
