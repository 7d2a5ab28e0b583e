// The whole environment: network, keys, security groups, targets and the bastion chain, composed from
// validated settings, plus everything the operator needs to connect (ssh config, pinned known_hosts,
// commands).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FIRST_HOST_OFFSET, JumpgateSettings, targetCapacity, targetPlacement } from "./config";
import { HostImages } from "./ami";
import { Bastion } from "./bastion";
import { AuditTrail } from "./auditTrail";
import { Keys } from "./keys";
import {
    AccessSettings,
    operatorPrincipals,
    roleReach,
    roleSigners,
    targetAccount,
    UserCaBackend,
} from "./accessConfig";
import { UserCaKms } from "./userCaKms";
import { existingNetwork, Network, NetworkLayout, SubnetRef } from "./network";
import { hostAt, parseCidr } from "./net/cidr";
import { SshAccess, TARGET_SSH_PORT } from "./securityGroups";
import { Targets } from "./targets";
import { renderKrl, renderKrlInstallCommands } from "./render/krl";
import { TargetEndpoint, UserCaAccess } from "./render/model";
import { REVOKED_KEYS_PATH } from "./render/sshd";
import {
    defaultKnownHostsFile,
    renderKnownHosts,
    renderSshCommands,
    renderSshConfig,
    SshCertificateView,
    SshClientInventory,
} from "./render/sshConfig";

export interface JumpgateArgs {
    /** Validated settings (see `readSettings`). Required. */
    settings: JumpgateSettings;
}

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
    sshConfig: string;
    sshConfigProxyCommand: string;
}

export class Jumpgate extends pulumi.ComponentResource {
    readonly bastionPublicIp: pulumi.Output<string>;
    /** Target name to private IP. */
    readonly targets: pulumi.Output<Record<string, string>>;
    readonly sshConfig: pulumi.Output<string>;
    readonly sshConfigProxyCommand: pulumi.Output<string>;
    readonly knownHosts: pulumi.Output<string>;
    /** Secret; only when the operator key was generated. */
    readonly privateKeyOpenssh?: pulumi.Output<string>;
    readonly sshCommands: pulumi.Output<ReturnType<typeof renderSshCommands>>;
    /** Team access: which CA signs certificates, `kms` or `stack`. */
    readonly userCa?: UserCaBackend;
    /** Team access: each role's CA public key, the only one hosts accept for its principal (public data). */
    readonly userCaPublicKeys?: pulumi.Output<Record<string, string>>;
    /** Team access, kms: each role's KMS key ARN, which `jumpgate-ssh login` signs with. */
    readonly userCaKmsKeyArns?: pulumi.Output<Record<string, string>>;
    /** Team access, stack: the user CA's public key hosts trust for every role (public data). */
    readonly userCaPublicKey?: pulumi.Output<string>;
    /** Team access: the user CA's private key, a secret, for `jumpgate-ssh login --ca stack --ca-key-file`. */
    readonly userCaPrivateKeyOpenssh?: pulumi.Output<string>;
    /** Team access: each operator's certificate principals (role names; public data). */
    readonly operatorPrincipals?: Record<string, string[]>;
    /** Team access: the account each role logs in as on the targets. */
    readonly roleAccounts?: Record<string, string>;
    /** Team access: role → `fido2` for the roles whose logins need a PIN-verified FIDO key (login reads it). */
    readonly roleMfa?: Record<string, "fido2">;
    /** Team access: each role's own client config (its account, its certificate, only what it reaches). */
    readonly roleSshConfigs?: pulumi.Output<Record<string, RoleSshConfig>>;
    /** Audit trail: the CloudWatch Logs group every host ships to (`jumpgate-ssh audit` queries it). */
    readonly auditLogGroupName?: pulumi.Output<string>;
    /** Audit trail: the SNS topic the alarms notify. */
    readonly auditAlarmTopicArn?: pulumi.Output<string>;

    constructor(name: string, args: JumpgateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:index:Jumpgate", name, {}, opts);
        const s = args.settings;
        const tags = { ...s.tags, "jumpgate:stack": s.stack, ManagedBy: "pulumi", Project: "jumpgate" };
        const parent = { parent: this };
        const chained = s.bastions.length > 1;

        const network: NetworkLayout =
            s.network.kind === "new"
                ? new Network(
                      name,
                      {
                          vpcCidr: s.network.vpcCidr,
                          azCount: s.network.azCount,
                          natGateways: s.network.natGateways,
                          flowLogRetentionDays: s.network.flowLogRetentionDays,
                          managementSubnets: chained,
                          tags,
                      },
                      parent,
                  )
                : existingNetwork(s.network.vpcId, s.network.publicSubnetIds, s.network.privateSubnetIds, parent);

        const keys = new Keys(
            name,
            {
                hostNames: [...s.bastions.map((b) => b.name), ...s.targets.map((t) => t.name)],
                operatorPublicKeys: s.operatorPublicKeys,
                userCa: s.access?.userCa,
            },
            parent,
        );
        // Team access: hosts know each role's CA key and the roles, never the operators.
        const access = s.access;
        const kmsCa =
            access?.userCa === "kms"
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
        const stackCaKey = keys.userCaPublicKey;
        const roleCaKeys: pulumi.Output<Record<string, string>> | undefined =
            access === undefined
                ? undefined
                : kmsCa
                  ? pulumi.all(kmsCa.publicKeys)
                  : stackCaKey!.apply((k) => Object.fromEntries(access.roles.map((r) => [r.name, k])));
        const roles = access === undefined ? undefined : roleReach(access, s.tunnels);
        const userCaFor = (extraReach: string[]): pulumi.Output<UserCaAccess> | undefined =>
            roleCaKeys?.apply((caKeys) => ({
                roles: roles!.map((r) => ({ ...r, reach: [...r.reach, ...extraReach], caPublicKey: caKeys[r.name]! })),
            }));

        // Fixed addresses, round-robin over the subnets: known before any instance exists.
        const targetPlacements = s.targets.map((t, i) => fixedAddress(network.privateSubnets, i, `target ${t.name}`));
        // Inner hops go into management subnets (an existing VPC's private subnets), after the targets there.
        const innerSubnets = network.managementSubnets.length > 0 ? network.managementSubnets : network.privateSubnets;
        const innerOffset = network.managementSubnets.length > 0 ? 0 : s.targets.length;
        const innerPlacements = s.bastions
            .slice(1)
            .map((b, k) => fixedAddress(innerSubnets, innerOffset + k, `bastion hop ${b.name}`));

        // Where each hop's connections to the next come from, known before any instance exists: the outer
        // hop's address is picked by AWS at launch inside its public subnet, so the subnet stands for it
        // (the target and hop security groups still admit only the hop itself); inner hops have fixed ones.
        const hopSource = (k: number): pulumi.Output<string> =>
            k === 0 ? network.publicSubnets[0]!.cidrBlock : innerPlacements[k - 1]!.privateIp;

        const targetIp = (name: string) => targetPlacements[s.targets.findIndex((t) => t.name === name)]!.privateIp;
        const sshAccess = new SshAccess(
            name,
            {
                vpcId: network.vpcId,
                allowedCidrs: s.allowedCidrs,
                sshPort: s.sshPort,
                hops: s.bastions.map((b) => b.name),
                tunnels: s.tunnels.map((t) => ({ name: t.name, targetIp: targetIp(t.target), port: t.remotePort })),
                tags,
            },
            parent,
        );

        // What the last hop may forward to: every target's SSH port and each declared tunnel.
        const endpoint = (name: string, ip: pulumi.Output<string>, port: number) =>
            ip.apply((privateIp): TargetEndpoint => ({ name, privateIp, port }));
        const targetEndpoints = s.targets.map((t, i) =>
            endpoint(t.name, targetPlacements[i]!.privateIp, TARGET_SSH_PORT),
        );
        const tunnelEndpoints = s.tunnels.map((t) => endpoint(`tunnel-${t.name}`, targetIp(t.target), t.remotePort));

        // The audit trail: every host ships to one group; the outer hop's heartbeat proves the shipper runs.
        const audit =
            s.audit === undefined
                ? undefined
                : new AuditTrail(
                      name,
                      { stack: s.stack, settings: s.audit, heartbeatHost: s.bastions[0]!.name, tags },
                      parent,
                  );
        const auditGroup = audit && { logGroupName: audit.logGroupName, logGroupArn: audit.logGroupArn };

        // One image per architecture for every host of the OS, pinned in config or recorded at first deploy.
        const images = new HostImages(name, s.os, s.amiIds, this);

        const targets = new Targets(
            name,
            {
                targets: s.targets,
                placements: targetPlacements,
                securityGroupId: sshAccess.targetSecurityGroupId,
                hostKeys: keys.hostKeys,
                operatorPublicKeys: keys.operatorPublicKeys,
                userCa: userCaFor([]),
                hopAddresses: pulumi.all([hopSource(s.bastions.length - 1)]),
                os: s.os,
                images,
                cryptoProfile: s.cryptoProfile,
                loginUser: s.loginUser,
                rootVolumeSizeGb: s.rootVolumeSizeGb,
                fail2ban: s.fail2ban,
                upgrades: s.upgrades,
                bootAfter: network.routing,
                tags,
                ...(auditGroup === undefined ? {} : { audit: auditGroup }),
            },
            parent,
        );

        const hops = s.bastions.map((hop, k) => {
            const isLast = k === s.bastions.length - 1;
            const next = s.bastions[k + 1];
            const forwardTo = isLast
                ? pulumi.all([...targetEndpoints, ...tunnelEndpoints])
                : pulumi.all([endpoint(next!.name, innerPlacements[k]!.privateIp, TARGET_SSH_PORT)]);
            return new Bastion(
                `${name}-${hop.name}`,
                {
                    hop: k,
                    subnetId: k === 0 ? network.publicSubnets[0]!.id : innerPlacements[k - 1]!.subnetId,
                    privateIp: k === 0 ? undefined : innerPlacements[k - 1]!.privateIp,
                    securityGroupId: sshAccess.hopSecurityGroupIds[hop.name]!,
                    hostKey: keys.hostKeys[hop.name]!,
                    operatorPublicKeys: keys.operatorPublicKeys,
                    // Inner hops of a chain let every role on to the next hop; the last narrows per role.
                    userCa: userCaFor(isLast ? [] : [next!.name]),
                    targets: forwardTo,
                    hopAddresses: k === 0 ? [] : pulumi.all([hopSource(k - 1)]),
                    os: s.os,
                    images,
                    cryptoProfile: s.cryptoProfile,
                    instanceType: hop.instanceType,
                    rootVolumeSizeGb: s.rootVolumeSizeGb,
                    sshPort: k === 0 ? s.sshPort : TARGET_SSH_PORT,
                    jumpUser: s.jumpUser,
                    fail2ban: s.fail2ban,
                    upgrades: s.upgrades,
                    auditRecords: { stack: pulumi.getStack(), host: hop.name },
                    bootAfter: network.routing,
                    tags: { ...tags, "jumpgate:bastion": hop.name },
                    ...(auditGroup === undefined ? {} : { audit: { ...auditGroup, host: hop.name } }),
                },
                parent,
            );
        });
        const outer = hops[0]!;
        const bastionPublicIp = outer.publicIp!;

        const hopAddresses = hops.map((h, k) => (k === 0 ? bastionPublicIp : h.privateIp));
        const inventory: pulumi.Output<SshClientInventory> = pulumi
            .all([
                pulumi.all(hopAddresses),
                pulumi.all(s.bastions.map((b) => keys.hostKeys[b.name]!.publicKeyOpenssh)),
                pulumi.all(targetEndpoints),
                pulumi.all(s.targets.map((t) => keys.hostKeys[t.name]!.publicKeyOpenssh)),
                pulumi.all(s.tunnels.map((t) => targetIp(t.target))),
            ])
            .apply(([hopIps, hopKeys, eps, targetKeys, tunnelIps]) => ({
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

        this.bastionPublicIp = bastionPublicIp;
        // Instance addresses as AWS reports them (equal to the planned ones).
        this.targets = pulumi.all(targets.privateIps);
        // With team access the stack-wide config names no account on targets; each role gets its own.
        const teamView: SshCertificateView | undefined = s.access === undefined ? undefined : {};
        this.sshConfig = inventory.apply((inv) => renderSshConfig(inv, "proxyjump", teamView));
        this.sshConfigProxyCommand = inventory.apply((inv) => renderSshConfig(inv, "proxycommand", teamView));
        this.knownHosts = inventory.apply(renderKnownHosts);
        this.sshCommands = inventory.apply(renderSshCommands);
        this.privateKeyOpenssh = keys.operatorPrivateKeyOpenssh;
        if (s.access !== undefined) {
            this.userCa = s.access.userCa;
            this.userCaPublicKeys = roleCaKeys;
            this.userCaKmsKeyArns = kmsCa && pulumi.all(kmsCa.keyArns);
            revokedKeysAssociation(name, s.access, roleCaKeys!, hops, tags, parent);
            this.userCaPublicKey = keys.userCaPublicKey;
            this.userCaPrivateKeyOpenssh = keys.userCaPrivateKeyOpenssh;
            this.operatorPrincipals = operatorPrincipals(s.access);
            this.roleAccounts = Object.fromEntries(
                s.access.roles.map((r) => [r.name, targetAccount(s.loginUser, r.name)]),
            );
            this.roleMfa = Object.fromEntries(
                s.access.roles.flatMap((r) => (r.mfa === undefined ? [] : [[r.name, r.mfa] as const])),
            );
            const accounts = this.roleAccounts;
            this.roleSshConfigs = inventory.apply((inv) =>
                Object.fromEntries(
                    roles!.map((r): [string, RoleSshConfig] => {
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
        if (audit !== undefined) {
            this.auditLogGroupName = audit.logGroupName;
            this.auditAlarmTopicArn = audit.alarmTopicArn;
        }
        this.registerOutputs({
            auditLogGroupName: this.auditLogGroupName,
            auditAlarmTopicArn: this.auditAlarmTopicArn,
            bastionPublicIp: this.bastionPublicIp,
            targets: this.targets,
            sshConfig: this.sshConfig,
            knownHosts: this.knownHosts,
        });
    }
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
