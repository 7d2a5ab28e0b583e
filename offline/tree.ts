// Renders an offline run as text: the resource tree by component, then the stack outputs with
// secrets redacted unless asked for.
import { amiPinCommand } from "../components/config";
import { IMAGE_TAG } from "../components/ami";
import { OfflineRun, PlannedResource, resourceKey } from "./run";

/** A short, human detail for the resources a reviewer looks at first. */
function detail(r: PlannedResource): string {
    const i = r.inputs as Record<string, unknown>;
    switch (r.type) {
        case "aws:ec2/vpc:Vpc":
        case "aws:ec2/subnet:Subnet":
            return `${String(i.cidrBlock)}${i.availabilityZone ? ` ${String(i.availabilityZone)}` : ""}`;
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
            const peer =
                i.cidrIpv4 ??
                i.cidrIpv6 ??
                (i.referencedSecurityGroupId ? `group ${String(i.referencedSecurityGroupId)}` : "?");
            const dir = r.type.includes("Ingress") ? "from" : "to";
            // "-1" is every protocol and port (the API's spelling); there is no port to show.
            const what = i.ipProtocol === "-1" ? "all traffic" : `${String(i.ipProtocol)}/${String(i.fromPort)}`;
            return `${what} ${dir} ${String(peer)}`;
        }
        case "aws:ec2/instance:Instance":
            return `${String(i.instanceType)} ${String(r.state.privateIp)} ${String(i.ami)}`;
        case "aws:ec2/eip:Eip":
            return String(r.state.publicIp);
        case "aws:cloudwatch/logGroup:LogGroup":
            return `${i.kmsKeyId ? "KMS-encrypted, " : ""}retention ${String(i.retentionInDays)} days`;
        case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
            return String(i.pattern);
        case "aws:cloudwatch/metricAlarm:MetricAlarm": {
            const op = i.comparisonOperator === "LessThanThreshold" ? "<" : ">=";
            const missing = i.treatMissingData === "breaching" ? ", no data = alarm" : "";
            return `${String(i.statistic)} ${op} ${String(i.threshold)} over ${String(i.evaluationPeriods)} x ${String(i.period)} s${missing}`;
        }
        case "aws:sns/topicSubscription:TopicSubscription":
            return `${String(i.protocol)} ${String(i.endpoint)}`;
        case "tls:index/privateKey:PrivateKey":
            return String(i.algorithm);
        case "pulumi:index:Stash":
            return `recorded ${String(r.state.output)}`;
        default:
            return "";
    }
}

/** The resource tree under the stack, children in registration order. */
export function renderTree(run: OfflineRun): string {
    const children = new Map<string | undefined, PlannedResource[]>();
    for (const r of run.resources) {
        if (r.type === "pulumi:pulumi:Stack") continue;
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const stackKey = run.resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const roots = [
        ...(children.get(undefined) ?? []),
        ...(stackKey ? (children.get(resourceKey(stackKey.type, stackKey.name)) ?? []) : []),
    ];
    const lines: string[] = [];
    const walk = (r: PlannedResource, prefix: string, last: boolean, depth: number) => {
        const kids = children.get(resourceKey(r.type, r.name)) ?? [];
        const d = detail(r);
        const count = kids.length > 0 ? `  [${kids.length}]` : "";
        const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
        lines.push(`${prefix}${branch}${r.type}  ${r.name}${d ? `  ${d}` : ""}${count}`);
        const next = depth === 0 ? "" : prefix + (last ? "   " : "│  ");
        kids.forEach((k, i) => walk(k, next, i === kids.length - 1, depth + 1));
    };
    roots.forEach((r) => walk(r, "", true, 0));
    return lines.join("\n");
}

/** Stack outputs as `pulumi stack output` would list them; secrets shown as [secret] unless `showSecrets`. */
export function renderOutputs(run: OfflineRun, showSecrets: boolean): string {
    return Object.entries(run.outputs)
        .map(([name, value]) => {
            if (run.secretOutputs.includes(name) && !showSecrets) return `${name}: [secret]`;
            if (typeof value === "string" && value.includes("\n")) {
                return `${name}:\n${value
                    .replace(/\n$/, "")
                    .split("\n")
                    .map((l) => `    ${l}`)
                    .join("\n")}`;
            }
            return `${name}: ${typeof value === "string" ? value : JSON.stringify(value, null, 2).replace(/\n/g, "\n  ")}`;
        })
        .join("\n");
}

/** Which image each host boots and why; a recorded image comes with the command that pins it. */
export function renderImages(run: OfflineRun): string {
    // The newest-image lookups (getAmi); the checks of chosen images are getAmiIds.
    const amiCalls = run.calls.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
    const filter = (c: (typeof amiCalls)[number], name: string) =>
        (c.inputs.filters as { name: string; values: string[] }[] | undefined)?.find((f) => f.name === name)?.values;
    return run.resources
        .filter((r) => r.type === "aws:ec2/instance:Instance")
        .map((r) => {
            const ami = String(r.inputs.ami);
            const tags = (r.inputs.tags ?? {}) as Record<string, string>;
            // A program's own instances (next to jumpgate's) choose their image themselves.
            if (tags[IMAGE_TAG] === undefined) return `  ${r.name}  ${ami}  chosen by the program, not by jumpgate`;
            const [key = "?", source] = String(tags[IMAGE_TAG]).split(" ");
            const [os = "?", arch = "?"] = key.split("/");
            const newest = amiCalls.find((c) => filter(c, "architecture")?.[0] === arch);
            const why =
                source === "pinned"
                    ? `pinned in config (amiIds["${key}"])`
                    : `newest ${key} image, recorded in state at the first deploy; pin it: ${amiPinCommand(os, arch, ami)}`;
            const newer =
                newest && newest.result.id !== ami
                    ? `; newer image published: ${String(newest.result.id)} (${String(newest.result.name)})`
                    : "";
            const name = newest?.result.id === ami ? String(newest.result.name) : "(an earlier image)";
            return `  ${r.name}  ${ami} ${name}  ${why}${newer}`;
        })
        .join("\n");
}
