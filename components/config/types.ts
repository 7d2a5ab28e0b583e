// Types, defaults and the error every config reader reports into.
import type { Input } from "@pulumi/pulumi";
import { Fail2banSettings, OsName, UpgradeSettings } from "../render/model";
import { CryptoProfile } from "../render/crypto";
import { AccessSettings } from "../accessConfig";

/** Where raw values come from: `pulumi.Config#get` in the program, a plain map in tests. */
export type ConfigSource = (key: string) => string | undefined;

export type NatGatewayMode = "none" | "single" | "perAz";
export type Architecture = "arm64" | "x86_64";

export interface TargetSettings {
    name: string;
    instanceType: string;
}

/** One hop of the bastion chain; the first is the public one, the others sit in management subnets. */
export interface BastionHopSettings {
    name: string;
    instanceType: string;
}

/** A declared port forward through the last bastion hop to one target's port. */
export interface TunnelSettings {
    name: string;
    /** Target name. */
    target: string;
    remotePort: number;
    localPort: number;
}

export interface NewNetworkSettings {
    kind: "new";
    vpcCidr: string;
    azCount: number;
    natGateways: NatGatewayMode;
    flowLogRetentionDays: number;
}

/** Values that may be outputs of the user's own resources (a library user's VPC); config gives strings. */
export interface ExistingNetworkSettings {
    kind: "existing";
    vpcId: Input<string>;
    publicSubnetIds: Input<string>[];
    privateSubnetIds: Input<string>[];
}

/** A host jumpgate reaches through the last hop but does not build (it adds one ingress rule to its group). */
export interface ExistingHostSettings {
    name: string;
    privateIp: Input<string>;
    /** The host's security group; jumpgate adds an ingress rule from the last hop's group, nothing else. */
    securityGroupId: Input<string>;
    /** The account operators log in as (the host's own; jumpgate does not manage it). */
    loginUser: string;
    sshPort: number;
    /** Pinned in known_hosts when known; without it the client entry is labelled unpinned. */
    hostPublicKey?: Input<string>;
}

/** The validated configuration of one stack. */
export interface JumpgateSettings {
    stack: string;
    allowedCidrs: string[];
    allowSshFromAnywhere: boolean;
    sshPort: number;
    network: NewNetworkSettings | ExistingNetworkSettings;
    os: OsName;
    cryptoProfile: CryptoProfile;
    bastionInstanceType: string;
    /** The bastion chain, outermost first; one hop named `bastion` by default. */
    bastions: BastionHopSettings[];
    targets: TargetSettings[];
    /** Hosts of an existing VPC that jumpgate reaches but does not build. */
    existingHosts: ExistingHostSettings[];
    tunnels: TunnelSettings[];
    operatorPublicKeys: string[];
    /** Named operators and roles; when set, hosts trust the stack's user CA instead of operatorPublicKeys. */
    access?: AccessSettings;
    jumpUser: string;
    loginUser: string;
    controlMaster: boolean;
    identityFile: string;
    rootVolumeSizeGb: number;
    fail2ban: Fail2banSettings;
    upgrades: UpgradeSettings;
    tags: Record<string, string>;
    /** Pinned images by `<os>/<arch>` (only keys of `os`); unpinned architectures use the recorded lookup. */
    amiIds: Record<string, string>;
    /** Elastic IPs the account may hold in the region (the bastion's and every NAT gateway's count). */
    elasticIpQuota: number;
    /** The audit trail in CloudWatch Logs; undefined when `audit` is false. */
    audit?: AuditSettings;
}

/** The stack's audit trail: log group, retention, alarms and who they mail. */
export interface AuditSettings {
    /** Days CloudWatch Logs keeps the records (0 = never expire). */
    logRetentionDays: number;
    /** Address the alarm topic mails (a subscription AWS asks to confirm); none when undefined. */
    alertEmail?: string;
    /** Failed authentications in one minute, over all hosts, that raise the alarm. */
    authFailuresPerMinute: number;
    /** Minutes without a heartbeat from the bastion before its alarm fires (hosts write one every 5). */
    heartbeatMinutes: number;
}

/** Defaults, mirrored by the `config:` section of Pulumi.yaml (a test keeps the two equal). */
export const DEFAULTS = {
    allowSshFromAnywhere: false,
    sshPort: 22,
    vpcCidr: "10.42.0.0/16",
    azCount: 2,
    natGateways: "single" as NatGatewayMode,
    flowLogRetentionDays: 90,
    os: "debian-13" as OsName,
    cryptoProfile: "compatible" as CryptoProfile,
    bastionInstanceType: "t4g.nano",
    targets: [{ name: "app-1", instanceType: "t4g.micro" }] as TargetSettings[],
    tunnels: [] as TunnelSettings[],
    targetInstanceType: "t4g.micro",
    operatorPublicKeys: [] as string[],
    jumpUser: "jump",
    loginUser: "ops",
    controlMaster: true,
    rootVolumeSizeGb: 8,
    fail2banMaxRetry: 5,
    fail2banFindTimeSeconds: 600,
    fail2banBanTimeSeconds: 3600,
    fail2banBanTimeMaxSeconds: 604800,
    fail2banIgnoreIps: [] as string[],
    upgradesRebootTime: "",
    elasticIpQuota: 5,
    allowPrivateHostsWithoutPackages: false,
    audit: true,
    auditLogRetentionDays: 365,
    auditAuthFailuresPerMinute: 10,
    auditHeartbeatMinutes: 15,
};

/** Every key of the `jumpgate:` namespace; anything else set there is a typo and refused. */
export const CONFIG_KEYS: readonly string[] = [
    "allowedCidrs",
    "allowSshFromAnywhere",
    "sshPort",
    "vpcCidr",
    "azCount",
    "natGateways",
    "flowLogRetentionDays",
    "existingVpc",
    "os",
    "amiIds",
    "cryptoProfile",
    "bastionInstanceType",
    "targets",
    "existingHosts",
    "bastions",
    "tunnels",
    "operatorPublicKeys",
    "operators",
    "roles",
    "userCa",
    "kmsRequireMfa",
    "revokedCertificates",
    "identityFile",
    "jumpUser",
    "loginUser",
    "controlMaster",
    "rootVolumeSizeGb",
    "fail2banMaxRetry",
    "fail2banFindTimeSeconds",
    "fail2banBanTimeSeconds",
    "fail2banBanTimeMaxSeconds",
    "fail2banIgnoreIps",
    "upgradesRebootTime",
    "tags",
    "elasticIpQuota",
    "allowPrivateHostsWithoutPackages",
    "audit",
    "auditLogRetentionDays",
    "alertEmail",
    "auditAuthFailuresPerMinute",
    "auditHeartbeatMinutes",
];

export const OS_NAMES: readonly OsName[] = ["debian-13", "debian-12", "ubuntu-24.04"];
export const NAT_MODES: readonly NatGatewayMode[] = ["none", "single", "perAz"];
/** CloudWatch Logs accepts only these retention periods (0 = never expire). */
export const LOG_RETENTION_DAYS = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** First host offset used for fixed addresses; AWS reserves the first four of each subnet. */
export const FIRST_HOST_OFFSET = 10;

/** Names of hops, targets and tunnels: they become SSH aliases and resource names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const NAME_RULE =
    "must be 2-32 characters of lowercase letters, digits and inner hyphens, starting with a letter";
/** Longest bastion chain (outer plus inner hops). */
export const MAX_BASTION_HOPS = 4;

/** One problem with one key. */
export interface ConfigProblem {
    key: string;
    value: string | undefined;
    message: string;
    fix: string;
}

/** Thrown with every problem found; its message is what the user sees. */
export class ConfigError extends Error {
    constructor(readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

function formatProblems(problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
        return `  - ${p.key} = ${shown}: ${p.message}\n      fix: ${p.fix}`;
    });
    const n = problems.length;
    return `jumpgate: ${n} configuration problem${n === 1 ? "" : "s"}, nothing was created:\n${lines.join("\n")}`;
}
