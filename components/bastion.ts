// The bastion: one hardened instance in a public subnet behind a stable Elastic IP. Admins get in
// through Session Manager (the instance profile), so the SSH jump user never needs a shell.
import type { AuditHostIdentity } from "./render/auditHost";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { CryptoProfile } from "./render/crypto";
import { DEFAULT_OS } from "./render/os";
import { architectureOf } from "./config";
import { HostImages, IMAGE_TAG } from "./ami";
import { hardenedInstanceArgs } from "./instance";
import { HostKeyOutputs } from "./keys";
import { renderBastionCloudInit } from "./render/cloudInit";
import { Fail2banSettings, OsName, TargetEndpoint, UpgradeSettings, UserCaAccess } from "./render/model";
import { HostAuditShipping, shipOwnAuditStream } from "./auditShipping";

export interface BastionArgs {
    /** Public subnet the bastion is placed in. Required. */
    subnetId: pulumi.Input<string>;
    /** The bastion's security group. Required. */
    securityGroupId: pulumi.Input<string>;
    /** The pinned host key. Required. */
    hostKey: HostKeyOutputs;
    /** Public keys allowed to log in as the jump user. Required. */
    operatorPublicKeys: pulumi.Input<string[]>;
    /** Team access: the stack's user CA and each role's reach (then operatorPublicKeys is empty). Defaults to none. */
    userCa?: pulumi.Input<UserCaAccess | undefined>;
    /** Endpoints the jump user may forward to: the next hop, or the targets (and tunnels) behind the last. Defaults to none. */
    targets?: pulumi.Input<TargetEndpoint[]>;
    /** Inner hops: address or subnet CIDR of the hop in front, from which every SSH connection arrives. Defaults to none (the outer hop faces the internet). */
    hopAddresses?: pulumi.Input<string[]>;
    /** Operating system. Defaults to `debian-13`. */
    os?: OsName;
    /** The image each architecture boots (pinned or recorded), shared with the other hosts of `os`. Required. */
    images: HostImages;
    /** Which algorithm lists sshd offers: `compatible` or `pq-only` (post-quantum key exchange only). Defaults to `compatible`. */
    cryptoProfile?: CryptoProfile;
    /** EC2 instance type; its architecture picks the AMI. Defaults to `t4g.nano`. */
    instanceType?: string;
    /** Root volume size in GiB. Defaults to 8. */
    rootVolumeSizeGb?: number;
    /** Port sshd listens on. Defaults to 22. */
    sshPort?: number;
    /** The forward-only jump user. Defaults to `jump`. */
    jumpUser?: string;
    /** fail2ban settings. Required. */
    fail2ban: Fail2banSettings;
    /** Unattended-upgrade settings. Defaults to no automatic reboot. */
    upgrades?: UpgradeSettings;
    /** Position in the bastion chain: 0 is the public hop with an Elastic IP, inner hops have none. Defaults to 0. */
    hop?: number;
    /** Fixed private address (inner hops). Defaults to one AWS assigns. */
    privateIp?: pulumi.Input<string>;
    /** Resources the instances wait for, so their first boot finds the internet (the network's routing). Defaults to none. */
    bootAfter?: pulumi.Resource[];
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
    /** Ship the audit trail to this log group, in the stream `audit.host`. Defaults to not shipping. */
    audit?: HostAuditShipping;
    /** Who the hop's audit records name (stack and host). Defaults to this stack and the component's name. */
    auditRecords?: AuditHostIdentity;
}

export class Bastion extends pulumi.ComponentResource {
    readonly instanceId: pulumi.Output<string>;
    /** The Elastic IP; only the outer hop (hop 0) has one. */
    readonly publicIp?: pulumi.Output<string>;
    readonly privateIp: pulumi.Output<string>;

    constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
        // Typed `jumpgate:bastion:Bastion` before every component took the package's `index` module; the alias keeps
        // existing stacks' resources (and, through the parent, their children's URNs).
        super(
            "jumpgate:index:Bastion",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "jumpgate:bastion:Bastion" }],
            },
        );
        const os = args.os ?? DEFAULT_OS;
        const instanceType = args.instanceType ?? "t4g.nano";
        const tags = args.tags ?? {};
        const parent = { parent: this };
        const arch = architectureOf(instanceType);
        if (!arch) throw new Error(`bastion instance type ${instanceType} has no Debian or Ubuntu AMI`);
        // Debian gets the SSM agent from AWS's bucket in this region (Session Manager is the break-glass path).
        const region = aws.config.region;
        if (!region) throw new Error("aws:region is not set; fix: pulumi config set aws:region eu-central-1");

        const { role, profile } = ssmInstanceProfile(name, tags, parent);
        if (args.audit) shipOwnAuditStream(name, role, args.audit, this);
        const userData = bastionUserData(name, args, os, region);

        const image = args.images.for(arch);
        const roleTags = {
            ...tags,
            [IMAGE_TAG]: `${image.key} ${image.source}`,
            Name: `${name}`,
            "jumpgate:role": "bastion",
            "jumpgate:hop": String(args.hop ?? 0),
        };
        const instance = new aws.ec2.Instance(
            `${name}-instance`,
            hardenedInstanceArgs({
                ami: image.amiId,
                instanceType,
                subnetId: args.subnetId,
                privateIp: args.privateIp,
                securityGroupId: args.securityGroupId,
                userData,
                rootVolumeSizeGb: args.rootVolumeSizeGb ?? 8,
                iamInstanceProfile: profile.name,
                elasticIp: (args.hop ?? 0) === 0,
                tags: roleTags,
            }),
            // A fixed address is still held by the old instance until it is gone.
            {
                ...parent,
                deleteBeforeReplace: args.privateIp !== undefined,
                dependsOn: args.bootAfter,
            },
        );

        // The address outlives the instance: a rebuilt bastion keeps its IP (and, via Keys, its host key).
        if ((args.hop ?? 0) === 0) this.publicIp = elasticIp(name, instance, roleTags, parent);

        this.instanceId = instance.id;
        this.privateIp = instance.privateIp;
        this.registerOutputs({ instanceId: this.instanceId, publicIp: this.publicIp, privateIp: this.privateIp });
    }
}

/** The instance role: Session Manager (the break-glass path) and nothing else unless audit adds to it. */
function ssmInstanceProfile(
    name: string,
    tags: Record<string, string>,
    parent: pulumi.CustomResourceOptions,
): { role: aws.iam.Role; profile: aws.iam.InstanceProfile } {
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags,
        },
        parent,
    );
    new aws.iam.RolePolicyAttachment(
        `${name}-ssm`,
        {
            role: role.name,
            policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        },
        parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);
    return { role, profile };
}

/** The hop's cloud-init, a secret: it carries the host's private key. */
function bastionUserData(name: string, args: BastionArgs, os: OsName, region: string): pulumi.Output<string> {
    return pulumi.secret(
        pulumi
            .all([
                args.operatorPublicKeys,
                args.targets ?? [],
                args.hostKey.publicKeyOpenssh,
                args.hostKey.privateKeyOpenssh,
                args.hopAddresses ?? [],
                args.userCa,
                args.audit?.logGroupName,
            ])
            .apply(([operatorPublicKeys, targets, publicKeyOpenssh, privateKeyOpenssh, hopAddresses, userCa, group]) =>
                renderBastionCloudInit({
                    os,
                    cryptoProfile: args.cryptoProfile ?? "compatible",
                    sshPort: args.sshPort ?? 22,
                    jumpUser: args.jumpUser ?? "jump",
                    operatorPublicKeys,
                    hostKey: { publicKeyOpenssh, privateKeyOpenssh },
                    targets,
                    hopAddresses,
                    fail2ban: args.fail2ban,
                    upgrades: args.upgrades ?? {},
                    ssmAgentRegion: region,
                    audit: args.auditRecords ?? { stack: pulumi.getStack(), host: name },
                    ...(userCa === undefined ? {} : { userCa }),
                    ...(group === undefined
                        ? {}
                        : { auditShipping: { region, logGroupName: group, logStreamName: args.audit!.host } }),
                }),
            ),
    );
}

/** The outer hop's Elastic IP, associated with its instance; returns the public address. */
function elasticIp(
    name: string,
    instance: aws.ec2.Instance,
    tags: Record<string, string>,
    parent: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
    const eip = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", tags }, parent);
    new aws.ec2.EipAssociation(`${name}-eip`, { allocationId: eip.allocationId, instanceId: instance.id }, parent);
    return eip.publicIp;
}
