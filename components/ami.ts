// AMI selection: the official Debian 13, Debian 12 or Ubuntu 24.04 image for the instance type's
// architecture, pinned in config or recorded in state, never followed silently.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { amiPinCommand, Architecture } from "./config";
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

/** The config key an image is pinned under, e.g. `debian-12/arm64`. */
export const imageKey = (os: OsName, arch: Architecture): string => `${os}/${arch}`;

/** Tag telling which image key a host boots and why: `<os>/<arch> pinned` or `<os>/<arch> recorded`. */
export const IMAGE_TAG = "jumpgate:image";

/** The image one group of hosts (same OS and architecture) boots. */
export interface HostImage {
    /** `<os>/<arch>`. */
    key: string;
    /** The AMI hosts boot, checked to be the official image of that OS and architecture. */
    amiId: pulumi.Output<string>;
    /** `pinned`: from `amiIds` in config. `recorded`: the newest image at the first deploy, kept in state. */
    source: "pinned" | "recorded";
}

/**
 * Which image hosts boot, per architecture. A pin in config (`amiIds`) is used as is. Without one, the
 * newest official image is looked up and recorded in state (a Stash keeps its first value), so an image
 * published later never replaces a host on an unrelated `pulumi up`; a warning names the newer image and
 * the command that moves the hosts to it. Either way the image is checked to be the official one of
 * that OS and architecture (deprecated images included: a pin may outlive AWS's deprecation date).
 */
export class HostImages {
    private readonly byArch = new Map<Architecture, HostImage>();

    constructor(
        private readonly name: string,
        private readonly os: OsName,
        private readonly pins: Record<string, string>,
        private readonly parent: pulumi.Resource,
    ) {}

    /** The image for `arch` (one lookup and record per architecture, shared by all its hosts). */
    for(arch: Architecture): HostImage {
        const known = this.byArch.get(arch);
        if (known) return known;
        const key = imageKey(this.os, arch);
        const query = amiQuery(this.os, arch);
        const opts = { parent: this.parent };
        const newest = aws.ec2.getAmiOutput(query, opts);
        const pin = this.pins[key];
        // A Stash's output is its first input until the Stash is replaced; the name carries the OS, so
        // changing `os` records (and boots) an image of the new OS.
        const chosen: pulumi.Output<string> =
            pin !== undefined
                ? pulumi.output(pin)
                : (new pulumi.Stash(`${this.name}-image-${this.os}-${arch}`, { input: newest.id }, opts)
                      .output as pulumi.Output<string>);
        // The chosen image must be an official one of this OS and architecture (deprecated ones included:
        // a pin may outlive AWS's deprecation date); a pin of another OS or a typo fails here, before boot.
        const official = aws.ec2.getAmiIdsOutput(
            {
                owners: query.owners ?? [],
                nameRegex: query.nameRegex,
                includeDeprecated: true,
                filters: [...(query.filters ?? []), { name: "image-id", values: [chosen] }],
            },
            opts,
        );
        const amiId = pulumi.all([chosen, official.ids, newest.id]).apply(([id, ids, newestId]) => {
            if (ids.includes(id)) return id;
            const where = pin === undefined ? "the image recorded in state" : `amiIds["${key}"]`;
            throw new Error(
                `${where} = ${id} is not an official ${key} image (owner ${(query.owners ?? []).join(",")}); ` +
                    `fix (the newest one): ${amiPinCommand(this.os, arch, newestId)}`,
            );
        });
        pulumi.all([amiId, newest.id, newest.name]).apply(([current, newestId, newestName]) => {
            if (current === newestId) return;
            pulumi.log.warn(
                `hosts on ${key} boot ${current} (${pin === undefined ? "recorded at the first deploy" : "pinned in config"}); ` +
                    `a newer image is published: ${newestId} (${newestName}). To move them to it (every such host is replaced): ` +
                    amiPinCommand(this.os, arch, newestId),
                this.parent,
            );
        });
        const image: HostImage = { key, amiId, source: pin === undefined ? "recorded" : "pinned" };
        this.byArch.set(arch, image);
        return image;
    }
}
