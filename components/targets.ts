// Private targets: hardened instances with fixed private addresses and no public IP, reachable only
// through the bastion. Fixed addresses let the bastion's PermitOpen and the client config be rendered
// before any instance exists, and survive instance replacement.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CryptoProfile } from "./render/crypto";
import { DEFAULT_OS } from "./render/os";
import { architectureOf, TargetSettings } from "./config";
import { HostImages, IMAGE_TAG } from "./ami";
import { hardenedInstanceArgs } from "./instance";
import { HostKeyOutputs } from "./keys";
import { renderTargetCloudInit } from "./render/cloudInit";
import { Fail2banSettings, OsName, UpgradeSettings, UserCaAccess } from "./render/model";
import { EC2_ASSUME_ROLE, HostAuditShipping, shipOwnAuditStream } from "./auditShipping";

/** Where one target goes. */
export interface TargetPlacement {
    subnetId: pulumi.Input<string>;
    privateIp: pulumi.Input<string>;
}

export interface TargetsArgs {
    /** The targets from config (name, instance type). Required. */
    targets: TargetSettings[];
    /** Subnet and fixed private address per target, in the same order. Required. */
    placements: TargetPlacement[];
    /** The targets' security group. Required. */
    securityGroupId: pulumi.Input<string>;
    /** Pinned host keys by target name. Required. */
    hostKeys: Record<string, HostKeyOutputs>;
    /** Public keys allowed to log in as the login user. Required. */
    operatorPublicKeys: pulumi.Input<string[]>;
    /** Team access: the stack's user CA and each role's reach (then operatorPublicKeys is empty). Defaults to none. */
    userCa?: pulumi.Input<UserCaAccess | undefined>;
    /** Address or subnet CIDR of the last bastion hop, from which every SSH connection arrives. Required. */
    hopAddresses: pulumi.Input<string[]>;
    /** Operating system. Defaults to `debian-13`. */
    os?: OsName;
    /** The image each architecture boots (pinned or recorded), shared with the other hosts of `os`. Required. */
    images: HostImages;
    /** Which algorithm lists sshd offers: `compatible` or `pq-only` (post-quantum key exchange only). Defaults to `compatible`. */
    cryptoProfile?: CryptoProfile;
    /** The login user on targets. Defaults to `ops`. */
    loginUser?: string;
    /** Root volume size in GiB. Defaults to 8. */
    rootVolumeSizeGb?: number;
    /** fail2ban settings. Required. */
    fail2ban: Fail2banSettings;
    /** Unattended-upgrade settings. Defaults to no automatic reboot. */
    upgrades?: UpgradeSettings;
    /** Resources the instances wait for, so their first boot finds the internet (the network's routing). Defaults to none. */
    bootAfter?: pulumi.Resource[];
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
    /** Ship each target's audit trail to this log group, in a stream named after the target. Defaults to not shipping. */
    audit?: Omit<HostAuditShipping, "host">;
}

export class Targets extends pulumi.ComponentResource {
    /** Private address by target name. */
    readonly privateIps: Record<string, pulumi.Output<string>>;
    /** Instance ID by target name. */
    readonly instanceIds: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: TargetsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Typed `jumpgate:targets:Targets` before every component took the package's `index` module; the alias keeps
        // existing stacks' resources (and, through the parent, their children's URNs).
        super(
            "jumpgate:index:Targets",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "jumpgate:targets:Targets" }],
            },
        );
        const privateIps: Record<string, pulumi.Output<string>> = {};
        const instanceIds: Record<string, pulumi.Output<string>> = {};

        args.targets.forEach((target, i) => {
            const instance = this.target(name, target, args.placements[i]!, args);
            privateIps[target.name] = instance.privateIp;
            instanceIds[target.name] = instance.id;
        });

        this.privateIps = privateIps;
        this.instanceIds = instanceIds;
        this.registerOutputs({ privateIps: this.privateIps, instanceIds: this.instanceIds });
    }

    /** One target: its hardened instance at its fixed address, booted from its own user data. */
    private target(
        name: string,
        target: TargetSettings,
        placement: TargetPlacement,
        args: TargetsArgs,
    ): aws.ec2.Instance {
        const arch = architectureOf(target.instanceType);
        if (!arch)
            throw new Error(`target ${target.name}: instance type ${target.instanceType} has no Debian or Ubuntu AMI`);
        const image = args.images.for(arch);
        const tags = args.tags ?? {};
        // With the audit trail on, each target gets a role of its own: it may write only its own stream.
        const profile = args.audit && this.auditProfile(`${name}-${target.name}`, target.name, args.audit, tags);
        return new aws.ec2.Instance(
            `${name}-${target.name}`,
            hardenedInstanceArgs({
                ami: image.amiId,
                instanceType: target.instanceType,
                subnetId: placement.subnetId,
                privateIp: placement.privateIp,
                securityGroupId: args.securityGroupId,
                userData: targetUserData(target, placement, args),
                rootVolumeSizeGb: args.rootVolumeSizeGb ?? 8,
                iamInstanceProfile: profile?.name,
                tags: {
                    ...tags,
                    Name: `${name}-${target.name}`,
                    "jumpgate:role": "target",
                    "jumpgate:target": target.name,
                    [IMAGE_TAG]: `${image.key} ${image.source}`,
                },
            }),
            {
                parent: this,
                dependsOn: args.bootAfter,
                // The fixed address is still held by the old instance until it is gone.
                deleteBeforeReplace: true,
            },
        );
    }

    /** A role and instance profile whose only permission is writing the target's own audit stream. */
    private auditProfile(
        name: string,
        host: string,
        audit: Omit<HostAuditShipping, "host">,
        tags: Record<string, string>,
    ): aws.iam.InstanceProfile {
        const parent = { parent: this };
        const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: EC2_ASSUME_ROLE, tags }, parent);
        shipOwnAuditStream(name, role, { ...audit, host }, this);
        return new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);
    }
}

/** A target's cloud-init, a secret: it carries the host's private key. */
function targetUserData(target: TargetSettings, placement: TargetPlacement, args: TargetsArgs): pulumi.Output<string> {
    const hostKey = args.hostKeys[target.name]!;
    const region = aws.config.region ?? "";
    return pulumi.secret(
        pulumi
            .all([
                args.operatorPublicKeys,
                placement.privateIp,
                hostKey.publicKeyOpenssh,
                hostKey.privateKeyOpenssh,
                args.hopAddresses,
                args.userCa,
                args.audit?.logGroupName,
            ])
            .apply(
                ([operatorPublicKeys, privateIp, publicKeyOpenssh, privateKeyOpenssh, hopAddresses, userCa, group]) =>
                    renderTargetCloudInit({
                        os: args.os ?? DEFAULT_OS,
                        cryptoProfile: args.cryptoProfile ?? "compatible",
                        name: target.name,
                        privateIp,
                        loginUser: args.loginUser ?? "ops",
                        operatorPublicKeys,
                        hostKey: { publicKeyOpenssh, privateKeyOpenssh },
                        hopAddresses,
                        fail2ban: args.fail2ban,
                        upgrades: args.upgrades ?? {},
                        ...(userCa === undefined ? {} : { userCa }),
                        ...(group === undefined
                            ? {}
                            : { auditShipping: { region, logGroupName: group, logStreamName: target.name } }),
                    }),
            ),
    );
}
