// AMI selection: the official Debian 13, Debian 12 or Ubuntu 24.04 image for the instance type's architecture.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Architecture } from "./config";
import { OsName } from "./render/model";

/** The lookup arguments for one OS and architecture (pure, so tests can assert the filters). */
export function amiQuery(os: OsName, arch: Architecture): aws.ec2.GetAmiArgs {
    const debArch = arch === "arm64" ? "arm64" : "amd64";
    const common = [
        { name: "architecture", values: [arch] },
        { name: "root-device-type", values: ["ebs"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "state", values: ["available"] },
    ];
    if (os === "debian-12" || os === "debian-13") {
        return {
            owners: ["136693071363"], // Debian's official cloud account
            mostRecent: true,
            // The regex keeps out debian-1x-backports-* images that the name filter alone would match.
            nameRegex: `^${os}-${debArch}-\\d+-\\d+$`,
            filters: [{ name: "name", values: [`${os}-${debArch}-*`] }, ...common],
        };
    }
    return {
        owners: ["099720109477"], // Canonical
        mostRecent: true,
        filters: [
            { name: "name", values: [`ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${debArch}-server-*`] },
            ...common,
        ],
    };
}

/** Looks the AMI up (an invoke, so it runs at preview time too). */
export function lookupAmi(os: OsName, arch: Architecture, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return aws.ec2.getAmiOutput(amiQuery(os, arch), opts).id;
}
