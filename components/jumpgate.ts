// The whole environment: network, keys, security groups, targets and the bastion chain, composed from
// validated settings, plus everything the operator needs to connect (ssh config, pinned known_hosts,
// commands).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AuditSettings, FIRST_HOST_OFFSET, JumpgateSettings, targetCapacity, targetPlacement } from "./config";
import { HostImages } from "./ami";
import { Bastion } from "./bastion";
import { JumpgateArgs, UserCa } from "./jumpgateArgs";
import { settingsFromArgs } from "./jumpgateSettings";
import { AuditTrail } from "./auditTrail";
import { Keys } from "./keys";
import { AccessSettings, operatorPrincipals, roleReach, roleSigners, targetAccount } from "./accessConfig";
import { UserCaKms } from "./userCaKms";
import { existingNetwork, Network, NetworkLayout, SubnetRef } from "./network";
import { hostAt, parseCidr } from "./net/cidr";
import { SshAccess, TARGET_SSH_PORT } from "./securityGroups";
import { allowedFlows, Flow, FlowAddresses, hostFlows, TARGETS_GROUP, vpcResolverAddress } from "./net/flows";
import { Targets } from "./targets";
import { renderKrl, renderKrlInstallCommands } from "./render/krl";
import { HostFirewallSpec, TargetEndpoint, UserCaAccess } from "./render/model";
import { REVOKED_KEYS_PATH } from "./render/sshd";
import {
    defaultKnownHostsFile,
    renderKnownHosts,
    renderSshCommands,
    renderSshConfig,
    SshCertificateView,
    SshClientInventory,
    SshCommands,
} from "./render/sshConfig";

/** The `index`-th fixed address of a subnet list, round-robin, checked to fit. */
function fixedAddress(
    subnets: SubnetRef[],
    index: number,
    what: string,
): { subnetId: pulumi.Output<string>; privateIp: pulumi.Output<string> } {
    const { subnetIndex, offset } = targetPlacement(index, subnets.length);
    const subnet = subnets[subnetIndex]!;
    const privateIp = subnet.cidrBlock.apply((cidrText) => {
        const cidr = parseCidr(cidrText);
        if (offset - FIRST_HOST_OFFSET >= targetCapacity(cidr)) {
            throw new Error(`${what} does not fit in subnet ${cidrText}; use fewer hosts or larger subnets`);
        }
        return hostAt(cidr, offset);
    });
    return { subnetId: subnet.id, privateIp };
}

/** One role's client config, in both jump styles (what `jumpgate-ssh install --operator` installs). */
export interface RoleSshConfig {
    /** The role's OpenSSH client config, hops joined with ProxyJump. Always set. */
    sshConfig: string;
    /** The same config with ProxyCommand `ssh -W` for clients without ProxyJump. Always set. */
    sshConfigProxyCommand: string;
}

/** An existing host as the stack's outputs show it. */
/** An existing host as the stack outputs it. */
export interface ExistingHostOutput {
    /** The host's private address, where the last hop forwards to. Always set. */
    privateIp: string;
    /** Whether its hostPublicKey was given (else operators pin it with `jumpgate-ssh pin`). Always set. */
    pinned: boolean;
}

/** A host's fixed place: its subnet and its private address there. */
type FixedAddress = ReturnType<typeof fixedAddress>;

/** Team access: which CA key each role's hosts trust, and what each role reaches. */
interface TeamCa {
    access: AccessSettings;
    /** Only with `userCa: kms`: one KMS key per role. */
    kmsCa?: UserCaKms;
    roleCaKeys: pulumi.Output<Record<string, string>>;
    roles: ReturnType<typeof roleReach>;
}

/** Where every host sits, known before any instance exists. */
interface HostPlacement {
    targets: FixedAddress[];
    /** Inner bastion hops (every hop after the outer one). */
    innerHops: FixedAddress[];
    /** Where hop `k`'s connections to the next host come from. */
    hopSource: (k: number) => pulumi.Output<string>;
    targetIp: (name: string) => pulumi.Output<string>;
}

/** What the last hop may forward to: every target's SSH port, each declared tunnel, each existing host's SSH port. */
interface ForwardEndpoints {
    targets: pulumi.Output<TargetEndpoint>[];
    tunnels: pulumi.Output<TargetEndpoint>[];
    existingHosts: pulumi.Output<TargetEndpoint>[];
}

/** Everything the hosts of a stack are built from. */
interface HostContext {
    name: string;
    s: JumpgateSettings;
    tags: Record<string, string>;
    parent: { parent: pulumi.Resource };
    network: NetworkLayout;
    keys: Keys;
    ca?: TeamCa;
    placement: HostPlacement;
    sshAccess: SshAccess;
    /** Who may talk to whom: the security groups' rules and each host's own firewall. */
    flows: Flow[];
    images: HostImages;
    auditGroup?: { logGroupName: pulumi.Output<string>; logGroupArn: pulumi.Output<string> };
}

/**
 * A hardened SSH bastion (or a chain of hops) on AWS with private hosts behind it, and the OpenSSH client
 * config with pinned host keys that reaches them.
 */
export class Jumpgate extends pulumi.ComponentResource {
    /** The outer hop's Elastic IP, where operators connect. Always set. */
    readonly bastionPublicIp: pulumi.Output<string>;
    /** Built host name to its private IP. Default: `{}` with no built hosts. */
    readonly targets: pulumi.Output<Record<string, string>>;
    /** Existing host name to its address and whether its key is pinned. Default: unset without existing hosts. */
    readonly existingHosts?: pulumi.Output<Record<string, ExistingHostOutput>>;
    /** OpenSSH client config (ProxyJump) with an alias per hop, host and tunnel. Always set. */
    readonly sshConfig: pulumi.Output<string>;
    /** The same client config with ProxyCommand `ssh -W`, for clients without ProxyJump. Always set. */
    readonly sshConfigProxyCommand: pulumi.Output<string>;
    /** known_hosts lines pinning every hop's and host's key. Always set. */
    readonly knownHosts: pulumi.Output<string>;
    /** The generated operator key, a secret. Default: unset when operatorPublicKeys or operators are given. */
    readonly privateKeyOpenssh?: pulumi.Output<string>;
    /** Ready-to-paste ssh, scp, rsync, Ansible and tunnel commands. Always set. */
    readonly sshCommands: pulumi.Output<SshCommands>;
    /** Team access: which CA signs certificates, `kms` or `stack`. Default: unset without operators. */
    readonly userCa?: UserCa;
    /** Team access: each role's CA public key, the only one hosts accept for it (public). Default: unset without operators. */
    readonly userCaPublicKeys?: pulumi.Output<Record<string, string>>;
    /** Team access, kms: each role's KMS key ARN, which `jumpgate-ssh login` signs with. Default: unset unless userCa kms. */
    readonly userCaKmsKeyArns?: pulumi.Output<Record<string, string>>;
    /** Team access, stack: the user CA's public key hosts trust for every role (public). Default: unset unless userCa stack. */
    readonly userCaPublicKey?: pulumi.Output<string>;
    /** Team access, stack: the user CA's private key, a secret (`login --ca stack`). Default: unset unless userCa stack. */
    readonly userCaPrivateKeyOpenssh?: pulumi.Output<string>;
    /** Team access: each operator's certificate principals (role names; public). Default: unset without operators. */
    readonly operatorPrincipals?: Record<string, string[]>;
    /** Team access: the account each role logs in as on the hosts. Default: unset without operators. */
    readonly roleAccounts?: Record<string, string>;
    /** Team access: role to `fido2` for roles whose logins need a PIN-verified FIDO key. Default: unset without operators. */
    readonly roleMfa?: Record<string, string>;
    /** Team access: each role's own client config (its account, certificate, reach). Default: unset without operators. */
    readonly roleSshConfigs?: pulumi.Output<Record<string, RoleSshConfig>>;
    /** Audit trail: the CloudWatch Logs group every host ships to. Default: unset with audit false. */
    readonly auditLogGroupName?: pulumi.Output<string>;
    /** Audit trail: the SNS topic the alarms notify. Default: unset with audit false. */
    readonly auditAlarmTopicArn?: pulumi.Output<string>;

    /**
     * Checks every argument first (all problems at once, nothing created); arguments that are outputs of
     * other resources are checked when they resolve.
     */
    constructor(name: string, args: JumpgateArgs, opts?: pulumi.ComponentResourceOptions) {
        const s = settingsFromArgs(name, args, args.environment ?? pulumi.getStack());
        super("jumpgate:index:Jumpgate", name, {}, opts);
        const tags = { ...s.tags, "jumpgate:stack": s.stack, ManagedBy: "pulumi", Project: "jumpgate" };
        const { hosts, audit } = this.hostFoundations(name, s, tags);
        const { keys, ca, placement } = hosts;
        const endpoints = forwardEndpoints(s, placement);
        const targets = privateTargets(hosts);
        const hops = s.bastions.map((_, k) => bastionHop(hosts, k, endpoints));
        const bastionPublicIp = hops[0]!.publicIp!;
        const inventory = clientInventory(s, keys, placement, endpoints, [
            bastionPublicIp,
            ...hops.slice(1).map((h) => h.privateIp),
        ]);

        this.bastionPublicIp = bastionPublicIp;
        // Instance addresses as AWS reports them (equal to the planned ones).
        this.targets = pulumi.all(targets.privateIps);
        // Only with existing hosts, so the outputs of every other stack stay as they were.
        if (s.existingHosts.length > 0) this.existingHosts = existingHostOutputs(inventory);
        // With team access the stack-wide config names no account on targets; each role gets its own.
        const teamView: SshCertificateView | undefined = s.access === undefined ? undefined : {};
        this.sshConfig = inventory.apply((inv) => renderSshConfig(inv, "proxyjump", teamView));
        this.sshConfigProxyCommand = inventory.apply((inv) => renderSshConfig(inv, "proxycommand", teamView));
        this.knownHosts = inventory.apply(renderKnownHosts);
        this.sshCommands = inventory.apply(renderSshCommands);
        this.privateKeyOpenssh = keys.operatorPrivateKeyOpenssh;
        if (ca !== undefined) {
            this.userCa = ca.access.userCa;
            this.userCaPublicKeys = ca.roleCaKeys;
            this.userCaKmsKeyArns = ca.kmsCa && pulumi.all(ca.kmsCa.keyArns);
            revokedKeysAssociation(name, ca.access, ca.roleCaKeys, hops, tags, hosts.parent);
            this.userCaPublicKey = keys.userCaPublicKey;
            this.userCaPrivateKeyOpenssh = keys.userCaPrivateKeyOpenssh;
            this.operatorPrincipals = operatorPrincipals(ca.access);
            this.roleAccounts = roleAccounts(s.loginUser, ca.access);
            this.roleMfa = roleMfa(ca.access);
            this.roleSshConfigs = roleSshConfigs(ca.roles, this.roleAccounts, inventory);
        }
        if (audit !== undefined) {
            this.auditLogGroupName = audit.logGroupName;
            this.auditAlarmTopicArn = audit.alarmTopicArn;
        }
        this.registerOutputs({
            auditLogGroupName: this.auditLogGroupName,
            auditAlarmTopicArn: this.auditAlarmTopicArn,
            bastionPublicIp: this.bastionPublicIp,
            targets: this.targets,
            existingHosts: this.existingHosts,
            sshConfig: this.sshConfig,
            knownHosts: this.knownHosts,
        });
    }

    /** What the hosts are built from: network, keys, team CA, addresses, security groups, audit trail, images. */
    private hostFoundations(
        name: string,
        s: JumpgateSettings,
        tags: Record<string, string>,
    ): { hosts: HostContext; audit?: AuditTrail } {
        const parent = { parent: this };
        const network = stackNetwork(name, s, tags, parent);
        const keys = hostAndOperatorKeys(name, s, parent);
        const ca = s.access && teamCa(name, s, s.access, keys, tags, parent);
        const placement = placeHosts(s, network);
        const sshAccess = securityGroups(name, s, network, placement, tags, parent);
        const flows = stackFlows(s);
        const audit = s.audit && auditTrail(name, s, s.audit, tags, parent);
        // One image per architecture for every host of the OS, pinned in config or recorded at first deploy.
        const images = new HostImages(name, s.os, s.amiIds, this);
        const auditGroup = audit && { logGroupName: audit.logGroupName, logGroupArn: audit.logGroupArn };
        return {
            hosts: { name, s, tags, parent, network, keys, ca, placement, sshAccess, flows, images, auditGroup },
            audit,
        };
    }
}

/** A new VPC, or the configured existing one. */
function stackNetwork(
    name: string,
    s: JumpgateSettings,
    tags: Record<string, string>,
    parent: { parent: pulumi.Resource },
): NetworkLayout {
    if (s.network.kind !== "new") return existingNetwork(s.network, parent);
    return new Network(
        name,
        {
            vpcCidr: s.network.vpcCidr,
            azCount: s.network.azCount,
            natGateways: s.network.natGateways,
            flowLogRetentionDays: s.network.flowLogRetentionDays,
            managementSubnets: s.bastions.length > 1,
            tags,
        },
        parent,
    );
}

/** Every host's SSH key, and the operator key or the stack's user CA. */
function hostAndOperatorKeys(name: string, s: JumpgateSettings, parent: { parent: pulumi.Resource }): Keys {
    return new Keys(
        name,
        {
            hostNames: [...s.bastions.map((b) => b.name), ...s.targets.map((t) => t.name)],
            operatorPublicKeys: s.operatorPublicKeys,
            userCa: s.access?.userCa,
        },
        parent,
    );
}

/** The audit trail: every host ships to one group; the outer hop's heartbeat proves the shipper runs. */
function auditTrail(
    name: string,
    s: JumpgateSettings,
    settings: AuditSettings,
    tags: Record<string, string>,
    parent: { parent: pulumi.Resource },
): AuditTrail {
    return new AuditTrail(name, { stack: s.stack, settings, heartbeatHost: s.bastions[0]!.name, tags }, parent);
}

/** Team access: hosts know each role's CA key and the roles, never the operators. */
function teamCa(
    name: string,
    s: JumpgateSettings,
    access: AccessSettings,
    keys: Keys,
    tags: Record<string, string>,
    parent: { parent: pulumi.Resource },
): TeamCa {
    const kmsCa =
        access.userCa === "kms"
            ? new UserCaKms(
                  name,
                  {
                      stack: s.stack,
                      roles: access.roles.map((r) => ({ name: r.name, signers: roleSigners(access, r.name) })),
                      requireMfa: access.kmsRequireMfa,
                      tags,
                  },
                  parent,
              )
            : undefined;
    // With the stack CA one key signs for every role.
    const roleCaKeys = kmsCa
        ? pulumi.all(kmsCa.publicKeys)
        : keys.userCaPublicKey!.apply((k) => Object.fromEntries(access.roles.map((r) => [r.name, k])));
    return { access, kmsCa, roleCaKeys, roles: roleReach(access, s.tunnels) };
}

/** The CA lines a host trusts: each role with its reach, plus `extraReach` (the next hop of a chain). */
function userCaFor(ca: TeamCa | undefined, extraReach: string[]): pulumi.Output<UserCaAccess> | undefined {
    return ca?.roleCaKeys.apply((caKeys) => ({
        roles: ca.roles.map((r) => ({ ...r, reach: [...r.reach, ...extraReach], caPublicKey: caKeys[r.name]! })),
    }));
}

/** Fixed addresses, round-robin over the subnets: known before any instance exists. */
function placeHosts(s: JumpgateSettings, network: NetworkLayout): HostPlacement {
    const targets = s.targets.map((t, i) => fixedAddress(network.privateSubnets, i, `target ${t.name}`));
    // Inner hops go into management subnets (an existing VPC's private subnets), after the targets there.
    const innerSubnets = network.managementSubnets.length > 0 ? network.managementSubnets : network.privateSubnets;
    const innerOffset = network.managementSubnets.length > 0 ? 0 : s.targets.length;
    const innerHops = s.bastions
        .slice(1)
        .map((b, k) => fixedAddress(innerSubnets, innerOffset + k, `bastion hop ${b.name}`));
    return {
        targets,
        innerHops,
        // The outer hop's address is picked by AWS at launch inside its public subnet, so the subnet stands
        // for it (the target and hop security groups still admit only the hop itself); inner hops have fixed ones.
        hopSource: (k) => (k === 0 ? network.publicSubnets[0]!.cidrBlock : innerHops[k - 1]!.privateIp),
        targetIp: (name) => targets[s.targets.findIndex((t) => t.name === name)]!.privateIp,
    };
}

function securityGroups(
    name: string,
    s: JumpgateSettings,
    network: NetworkLayout,
    placement: HostPlacement,
    tags: Record<string, string>,
    parent: { parent: pulumi.Resource },
): SshAccess {
    return new SshAccess(
        name,
        {
            vpcId: network.vpcId,
            allowedCidrs: s.allowedCidrs,
            sshPort: s.sshPort,
            hops: s.bastions.map((b) => b.name),
            tunnels: s.tunnels.map((t) => ({
                name: t.name,
                targetIp: placement.targetIp(t.target),
                port: t.remotePort,
            })),
            existingHosts: s.existingHosts.map((h) => ({
                name: h.name,
                privateIp: h.privateIp,
                securityGroupId: h.securityGroupId,
                port: h.sshPort,
            })),
            tags,
        },
        parent,
    );
}

/** The stack's flows, from the same settings as the security groups' (SshAccess builds its rules from them). */
function stackFlows(s: JumpgateSettings): Flow[] {
    return allowedFlows({
        allowedCidrs: s.allowedCidrs,
        sshPort: s.sshPort,
        hops: s.bastions.map((b) => b.name),
        tunnels: s.tunnels.map((t) => ({ name: t.name, port: t.remotePort })),
        existingHosts: s.existingHosts.map((e) => ({ name: e.name, port: e.sshPort })),
    });
}

/** Every group member's address as the hosts see it, known before any instance exists. */
function flowAddresses(h: HostContext): pulumi.Output<FlowAddresses> {
    const { s, placement } = h;
    return pulumi
        .all([
            pulumi.all(s.bastions.map((_, k) => placement.hopSource(k))),
            pulumi.all(placement.targets.map((t) => t.privateIp)),
            pulumi.all(s.tunnels.map((t) => placement.targetIp(t.target))),
            pulumi.all(s.existingHosts.map((e) => e.privateIp)),
        ])
        .apply(([hops, targets, tunnels, existing]) => ({
            hops: Object.fromEntries(s.bastions.map((b, k) => [b.name, hops[k]!])),
            targets: Object.fromEntries(s.targets.map((t, i) => [t.name, targets[i]!])),
            tunnels: Object.fromEntries(s.tunnels.map((t, i) => [t.name, tunnels[i]!])),
            existing: Object.fromEntries(s.existingHosts.map((e, i) => [e.name, existing[i]!])),
        }));
}

/** Host `host`'s own firewall: its group's flows with addresses, and the VPC's resolver. */
function hostFirewall(h: HostContext, group: string, host: string): pulumi.Output<HostFirewallSpec> {
    const outer = group === h.s.bastions[0]!.name;
    return pulumi.all([flowAddresses(h), h.network.vpcCidr]).apply(([addresses, vpcCidr]) => {
        const flows = hostFlows(h.flows, group, host, addresses);
        return {
            ...flows,
            ...(outer ? { tcpIn: sshFromAnywhere(flows.tcpIn) } : {}),
            vpcResolver: vpcResolverAddress(vpcCidr),
        };
    });
}

/**
 * The outer hop's own firewall takes its SSH port from any address; its security group alone holds
 * `allowedCidrs`. Listing them in the host's ruleset would put them in its user data, so changing who may
 * connect (a routine access change) would replace the bastion; fail2ban and sshd's penalties still apply.
 */
function sshFromAnywhere(tcpIn: HostFirewallSpec["tcpIn"]): HostFirewallSpec["tcpIn"] {
    const ports = [...new Set(tcpIn.map((r) => r.port))];
    return ports.map((port) => ({ ...(port === undefined ? {} : { port }), from: ["0.0.0.0/0"] }));
}

function endpoint(name: string, ip: pulumi.Input<string>, port: number): pulumi.Output<TargetEndpoint> {
    return pulumi.output(ip).apply((privateIp): TargetEndpoint => ({ name, privateIp, port }));
}

function forwardEndpoints(s: JumpgateSettings, placement: HostPlacement): ForwardEndpoints {
    return {
        targets: s.targets.map((t, i) => endpoint(t.name, placement.targets[i]!.privateIp, TARGET_SSH_PORT)),
        tunnels: s.tunnels.map((t) => endpoint(`tunnel-${t.name}`, placement.targetIp(t.target), t.remotePort)),
        existingHosts: s.existingHosts.map((h) => endpoint(h.name, h.privateIp, h.sshPort)),
    };
}

/** The private targets, reachable only from the last hop. */
function privateTargets(h: HostContext): Targets {
    const { s } = h;
    return new Targets(
        h.name,
        {
            targets: s.targets,
            placements: h.placement.targets,
            securityGroupId: h.sshAccess.targetSecurityGroupId,
            hostKeys: h.keys.hostKeys,
            operatorPublicKeys: h.keys.operatorPublicKeys,
            userCa: userCaFor(h.ca, []),
            hopAddresses: pulumi.all([h.placement.hopSource(s.bastions.length - 1)]),
            firewalls: Object.fromEntries(s.targets.map((t) => [t.name, hostFirewall(h, TARGETS_GROUP, t.name)])),
            os: s.os,
            images: h.images,
            cryptoProfile: s.cryptoProfile,
            loginUser: s.loginUser,
            rootVolumeSizeGb: s.rootVolumeSizeGb,
            fail2ban: s.fail2ban,
            upgrades: s.upgrades,
            bootAfter: h.network.routing,
            tags: h.tags,
            ...(h.auditGroup === undefined ? {} : { audit: h.auditGroup }),
        },
        h.parent,
    );
}

/** Hop `k` of the bastion chain: the outer one in the public subnet, inner ones at fixed addresses. */
function bastionHop(h: HostContext, k: number, endpoints: ForwardEndpoints): Bastion {
    const { s, placement } = h;
    const hop = s.bastions[k]!;
    const isLast = k === s.bastions.length - 1;
    const next = s.bastions[k + 1];
    const inner = k === 0 ? undefined : placement.innerHops[k - 1]!;
    const forwardTo = isLast
        ? pulumi.all([...endpoints.targets, ...endpoints.tunnels, ...endpoints.existingHosts])
        : pulumi.all([endpoint(next!.name, placement.innerHops[k]!.privateIp, TARGET_SSH_PORT)]);
    return new Bastion(
        `${h.name}-${hop.name}`,
        {
            hop: k,
            subnetId: inner === undefined ? h.network.publicSubnets[0]!.id : inner.subnetId,
            privateIp: inner?.privateIp,
            securityGroupId: h.sshAccess.hopSecurityGroupIds[hop.name]!,
            hostKey: h.keys.hostKeys[hop.name]!,
            operatorPublicKeys: h.keys.operatorPublicKeys,
            // Inner hops of a chain let every role on to the next hop; the last narrows per role.
            userCa: userCaFor(h.ca, isLast ? [] : [next!.name]),
            targets: forwardTo,
            hopAddresses: k === 0 ? [] : pulumi.all([placement.hopSource(k - 1)]),
            firewall: hostFirewall(h, hop.name, hop.name),
            os: s.os,
            images: h.images,
            cryptoProfile: s.cryptoProfile,
            instanceType: hop.instanceType,
            rootVolumeSizeGb: s.rootVolumeSizeGb,
            sshPort: k === 0 ? s.sshPort : TARGET_SSH_PORT,
            jumpUser: s.jumpUser,
            fail2ban: s.fail2ban,
            upgrades: s.upgrades,
            auditRecords: { stack: pulumi.getStack(), host: hop.name },
            bootAfter: h.network.routing,
            tags: { ...h.tags, "jumpgate:bastion": hop.name },
            ...(h.auditGroup === undefined ? {} : { audit: { ...h.auditGroup, host: hop.name } }),
        },
        h.parent,
    );
}

/** What the client config is rendered from: each hop's address and pinned key, targets and tunnels. */
function clientInventory(
    s: JumpgateSettings,
    keys: Keys,
    placement: HostPlacement,
    endpoints: ForwardEndpoints,
    hopAddresses: pulumi.Output<string>[],
): pulumi.Output<SshClientInventory> {
    return pulumi
        .all([
            pulumi.all(hopAddresses),
            pulumi.all(s.bastions.map((b) => keys.hostKeys[b.name]!.publicKeyOpenssh)),
            pulumi.all(endpoints.targets),
            pulumi.all(s.targets.map((t) => keys.hostKeys[t.name]!.publicKeyOpenssh)),
            pulumi.all(s.tunnels.map((t) => placement.targetIp(t.target))),
            pulumi.all(endpoints.existingHosts),
            pulumi.all(s.existingHosts.map((h) => h.hostPublicKey)),
        ])
        .apply(([hopIps, hopKeys, eps, targetKeys, tunnelIps, existing, existingKeys]) => ({
            stack: s.stack,
            bastions: s.bastions.map((b, k) => ({
                name: b.name,
                hostName: hopIps[k]!,
                port: k === 0 ? s.sshPort : TARGET_SSH_PORT,
                user: s.jumpUser,
                hostPublicKey: hopKeys[k]!,
            })),
            targets: eps.map((e, i) => ({
                name: e.name,
                hostName: e.privateIp,
                port: e.port,
                user: s.loginUser,
                hostPublicKey: targetKeys[i]!,
            })),
            existingHosts: s.existingHosts.map((h, i) => ({
                name: h.name,
                hostName: existing[i]!.privateIp,
                port: h.sshPort,
                user: h.loginUser,
                ...(existingKeys[i] === undefined ? {} : { hostPublicKey: existingKeys[i] }),
            })),
            tunnels: s.tunnels.map((t, i) => ({
                name: t.name,
                targetHost: tunnelIps[i]!,
                remotePort: t.remotePort,
                localPort: t.localPort,
            })),
            identityFile: s.identityFile,
            knownHostsFile: defaultKnownHostsFile(s.stack),
            controlMaster: s.controlMaster,
        }));
}

/** Existing host name to its address and whether its key is pinned (unpinned ones need `jumpgate-ssh pin`). */
function existingHostOutputs(
    inventory: pulumi.Output<SshClientInventory>,
): pulumi.Output<Record<string, ExistingHostOutput>> {
    return inventory.apply((inv) =>
        Object.fromEntries(
            (inv.existingHosts ?? []).map((e) => [
                e.name,
                { privateIp: e.hostName, pinned: e.hostPublicKey !== undefined },
            ]),
        ),
    );
}

/** The account each role logs in as on the targets. */
function roleAccounts(loginUser: string, access: AccessSettings): Record<string, string> {
    return Object.fromEntries(access.roles.map((r) => [r.name, targetAccount(loginUser, r.name)]));
}

/** Role → `fido2` for the roles whose logins need a PIN-verified FIDO key. */
function roleMfa(access: AccessSettings): Record<string, "fido2"> {
    return Object.fromEntries(access.roles.flatMap((r) => (r.mfa === undefined ? [] : [[r.name, r.mfa] as const])));
}

/** Each role's own client config: its account, its certificate, only what it reaches. */
function roleSshConfigs(
    roles: TeamCa["roles"],
    accounts: Record<string, string>,
    inventory: pulumi.Output<SshClientInventory>,
): pulumi.Output<Record<string, RoleSshConfig>> {
    return inventory.apply((inv) =>
        Object.fromEntries(
            roles.map((r): [string, RoleSshConfig] => {
                const view = { role: { name: r.name, account: accounts[r.name]!, reach: r.reach } };
                return [
                    r.name,
                    {
                        sshConfig: renderSshConfig(inv, "proxyjump", view),
                        sshConfigProxyCommand: renderSshConfig(inv, "proxycommand", view),
                    },
                ];
            }),
        ),
    );
}

/**
 * The KRL reaches every bastion hop through SSM (State Manager runs the commands when the association is
 * created or changed, and on a replaced hop): revoking a certificate changes no user data, so no
 * instance. Every session passes the outer hop with the same certificate, so the hops are where the KRL
 * is checked; targets have no SSM agent.
 */
function revokedKeysAssociation(
    name: string,
    access: AccessSettings,
    roleCaKeys: pulumi.Output<Record<string, string>>,
    hops: readonly Bastion[],
    tags: Record<string, string>,
    parent: pulumi.ResourceOptions,
): aws.ssm.Association {
    // Serials and key IDs are revoked under every role's CA (one key for all with the stack CA).
    const commands = roleCaKeys.apply((caKeys) =>
        renderKrlInstallCommands(
            renderKrl({
                caPublicKeys: Object.values(caKeys),
                serials: access.revoked.serials.map((serial) => BigInt(serial)),
                keyIds: access.revoked.keyIds,
                publicKeys: access.revoked.publicKeys,
                comment: `jumpgate ${name}`,
            }),
            REVOKED_KEYS_PATH,
        ),
    );
    return new aws.ssm.Association(
        `${name}-revoked-keys`,
        {
            name: "AWS-RunShellScript",
            associationName: `${name}-revoked-keys`,
            targets: [{ key: "InstanceIds", values: hops.map((h) => h.instanceId) }],
            parameters: { commands },
            tags,
        },
        parent,
    );
}
