// The whole environment: network, keys, security groups, targets and bastion, composed from validated
// settings, plus everything the operator needs to connect (ssh config, pinned known_hosts, commands).
import * as pulumi from "@pulumi/pulumi";
import { JumpgateSettings, targetPlacement, targetCapacity } from "./config";
import { Bastion } from "./bastion";
import { Keys } from "./keys";
import { existingNetwork, Network, NetworkLayout } from "./network";
import { hostAt, parseCidr } from "./net/cidr";
import { SshAccess, TARGET_SSH_PORT } from "./securityGroups";
import { Targets } from "./targets";
import { TargetEndpoint } from "./render/model";
import {
    defaultKnownHostsFile,
    renderKnownHosts,
    renderSshCommands,
    renderSshConfig,
    SshClientInventory,
} from "./render/sshConfig";

export interface JumpgateArgs {
    /** Validated settings (see `readSettings`). Required. */
    settings: JumpgateSettings;
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

    constructor(name: string, args: JumpgateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:index:Jumpgate", name, {}, opts);
        const s = args.settings;
        const tags = { ...s.tags, "jumpgate:stack": s.stack, ManagedBy: "pulumi", Project: "jumpgate" };
        const parent = { parent: this };

        const network: NetworkLayout =
            s.network.kind === "new"
                ? new Network(
                      name,
                      {
                          vpcCidr: s.network.vpcCidr,
                          azCount: s.network.azCount,
                          natGateways: s.network.natGateways,
                          flowLogRetentionDays: s.network.flowLogRetentionDays,
                          tags,
                      },
                      parent,
                  )
                : existingNetwork(s.network.vpcId, s.network.publicSubnetIds, s.network.privateSubnetIds, parent);

        const keys = new Keys(
            name,
            {
                hostNames: ["bastion", ...s.targets.map((t) => t.name)],
                operatorPublicKeys: s.operatorPublicKeys,
            },
            parent,
        );

        const access = new SshAccess(
            name,
            { vpcId: network.vpcId, allowedCidrs: s.allowedCidrs, sshPort: s.sshPort, tags },
            parent,
        );

        // Fixed target addresses, round-robin over the private subnets: known before any instance exists.
        const placements = s.targets.map((t, i) => {
            const { subnetIndex, offset } = targetPlacement(i, network.privateSubnets.length);
            const subnet = network.privateSubnets[subnetIndex]!;
            const privateIp = subnet.cidrBlock.apply((cidrText) => {
                const cidr = parseCidr(cidrText);
                if (offset - 10 >= targetCapacity(cidr)) {
                    throw new Error(
                        `target ${t.name} does not fit in private subnet ${cidrText}; use fewer targets or larger subnets`,
                    );
                }
                return hostAt(cidr, offset);
            });
            return { subnetId: subnet.id, privateIp };
        });
        const endpoints: pulumi.Output<TargetEndpoint[]> = pulumi
            .all(placements.map((p) => p.privateIp))
            .apply((ips) => s.targets.map((t, i) => ({ name: t.name, privateIp: ips[i]!, port: TARGET_SSH_PORT })));

        const targets = new Targets(
            name,
            {
                targets: s.targets,
                placements,
                securityGroupId: access.targetSecurityGroupId,
                hostKeys: keys.hostKeys,
                operatorPublicKeys: keys.operatorPublicKeys,
                os: s.os,
                loginUser: s.loginUser,
                rootVolumeSizeGb: s.rootVolumeSizeGb,
                fail2ban: s.fail2ban,
                upgrades: s.upgrades,
                tags,
            },
            parent,
        );

        const bastion = new Bastion(
            `${name}-bastion`,
            {
                subnetId: network.publicSubnets[0]!.id,
                securityGroupId: access.bastionSecurityGroupId,
                hostKey: keys.hostKeys["bastion"]!,
                operatorPublicKeys: keys.operatorPublicKeys,
                targets: endpoints,
                os: s.os,
                instanceType: s.bastionInstanceType,
                rootVolumeSizeGb: s.rootVolumeSizeGb,
                sshPort: s.sshPort,
                jumpUser: s.jumpUser,
                fail2ban: s.fail2ban,
                upgrades: s.upgrades,
                tags,
            },
            parent,
        );

        const targetKeys = s.targets.map((t) => keys.hostKeys[t.name]!.publicKeyOpenssh);
        const inventory: pulumi.Output<SshClientInventory> = pulumi
            .all([bastion.publicIp, keys.hostKeys["bastion"]!.publicKeyOpenssh, endpoints, pulumi.all(targetKeys)])
            .apply(([publicIp, bastionKey, eps, keysOfTargets]) => ({
                stack: s.stack,
                bastion: {
                    name: "bastion",
                    hostName: publicIp,
                    port: s.sshPort,
                    user: s.jumpUser,
                    hostPublicKey: bastionKey,
                },
                targets: eps.map((e, i) => ({
                    name: e.name,
                    hostName: e.privateIp,
                    port: e.port,
                    user: s.loginUser,
                    hostPublicKey: keysOfTargets[i]!,
                })),
                identityFile: s.identityFile,
                knownHostsFile: defaultKnownHostsFile(s.stack),
                controlMaster: s.controlMaster,
            }));

        this.bastionPublicIp = bastion.publicIp;
        // Instance addresses as AWS reports them (equal to the planned ones).
        this.targets = pulumi.all(targets.privateIps);
        this.sshConfig = inventory.apply((inv) => renderSshConfig(inv, "proxyjump"));
        this.sshConfigProxyCommand = inventory.apply((inv) => renderSshConfig(inv, "proxycommand"));
        this.knownHosts = inventory.apply(renderKnownHosts);
        this.sshCommands = inventory.apply(renderSshCommands);
        this.privateKeyOpenssh = keys.operatorPrivateKeyOpenssh;
        this.registerOutputs({
            bastionPublicIp: this.bastionPublicIp,
            targets: this.targets,
            sshConfig: this.sshConfig,
            knownHosts: this.knownHosts,
        });
    }
}
