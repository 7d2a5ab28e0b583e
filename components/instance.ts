// Settings every jumpgate instance shares, in one place: IMDSv2 only, encrypted gp3 root volume,
// user data replaced on change. The AMI is an input like any other: hosts boot the image they are
// given (pinned or recorded, see ami.ts), on creation and on every replacement.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { encodeUserData } from "./render/userDataSize";

export interface HardenedInstanceInputs {
    ami: pulumi.Input<string>;
    instanceType: string;
    subnetId: pulumi.Input<string>;
    securityGroupId: pulumi.Input<string>;
    userData: pulumi.Input<string>;
    rootVolumeSizeGb: number;
    tags: Record<string, string>;
    privateIp?: pulumi.Input<string>;
    iamInstanceProfile?: pulumi.Input<string>;
    /**
     * An Elastic IP is associated after launch. The provider then reads `associatePublicIpAddress` back as
     * true, so a `false` here would replace the host after every refresh (terraform-provider-aws#37318);
     * it is left unset instead (the public subnets do not map public IPs at launch).
     */
    elasticIp?: boolean;
}

/** Instance arguments with the hardening every host gets. */
export function hardenedInstanceArgs(i: HardenedInstanceInputs): aws.ec2.InstanceArgs {
    return {
        ami: i.ami,
        instanceType: i.instanceType,
        subnetId: i.subnetId,
        vpcSecurityGroupIds: [i.securityGroupId],
        privateIp: i.privateIp,
        iamInstanceProfile: i.iamInstanceProfile,
        ...(i.elasticIp ? {} : { associatePublicIpAddress: false }),
        // IMDSv2 only, one hop: containers or forwarded traffic on the host cannot reach credentials.
        metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: 1,
            instanceMetadataTags: "disabled",
        },
        rootBlockDevice: {
            volumeType: "gp3",
            volumeSize: i.rootVolumeSizeGb,
            encrypted: true,
            deleteOnTermination: true,
        },
        // The user data carries the pinned host key: a change must rebuild the host, not be ignored by cloud-init.
        // Plain text while it fits EC2's 16 KiB, else gzipped (see encodeUserData).
        userData: pulumi.output(i.userData).apply((t) => encodeUserData(t).userData),
        userDataBase64: pulumi.output(i.userData).apply((t) => encodeUserData(t).userDataBase64),
        userDataReplaceOnChange: true,
        monitoring: false,
        tags: i.tags,
        volumeTags: i.tags,
    };
}
