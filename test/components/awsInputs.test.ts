// What the program sends to AWS passes AWS's own input rules, for every kind of stack: security group
// descriptions, zones, tags, IAM names and the bastion's user data size. The simulated AWS refuses the
// same inputs; these tests name the property and the config validation that keeps it.
import { allowedFlows, hostFlows } from "../../components/net/flows";
import { beforeAll, describe, expect, it } from "vitest";
import { OWN_TAGS_MAX } from "../../components/config";
import { bastionUserDataBytes } from "../../components/render/userDataSize";
import { securityGroupDescriptionError } from "../../offline/awsRules";
import { OfflineRun } from "../../offline/run";
import { named, ofType, plan, T } from "../helpers/program";

const existingVpc = {
    vpcId: "vpc-0123456789abcdef0",
    publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
    privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
};
const existingSubnets = {
    "subnet-0aaaaaaaaaaaaaaa1": { vpcId: existingVpc.vpcId, cidrBlock: "172.31.0.0/20" },
    "subnet-0bbbbbbbbbbbbbbb1": { vpcId: existingVpc.vpcId, cidrBlock: "172.31.16.0/20" },
};
const TARGETS = [{ name: "app-1" }, { name: "db-1" }];

/** Every kind of stack the program builds. */
const STACKS: Record<string, () => Promise<OfflineRun>> = {
    default: () => plan(),
    "chain of bastions": () => plan({ "jumpgate:bastions": ["edge", "mgmt", "core"], "jumpgate:targets": TARGETS }),
    tunnels: () =>
        plan({
            "jumpgate:targets": TARGETS,
            "jumpgate:tunnels": [
                { name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 },
                { name: "web", target: "app-1", remotePort: 8080, localPort: 18080 },
            ],
        }),
    "existing VPC": () =>
        plan({ "jumpgate:existingVpc": existingVpc, "jumpgate:targets": TARGETS }, "test", { existingSubnets }),
    "NAT per AZ, custom port": () =>
        plan({ "jumpgate:natGateways": "perAz", "jumpgate:azCount": 3, "jumpgate:sshPort": 2222 }),
};

const GROUP_TYPES = [T.sg, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"];

/** Every security group and rule description of a run, with what it describes. */
function descriptions(run: OfflineRun): { kind: "security group" | "rule"; text: string }[] {
    const out: { kind: "security group" | "rule"; text: string }[] = [];
    for (const r of run.resources) {
        if (GROUP_TYPES.includes(r.type)) {
            if (typeof r.inputs.description === "string")
                out.push({ kind: "security group", text: r.inputs.description });
            for (const inline of [r.inputs.ingress, r.inputs.egress].flat())
                if (inline && typeof (inline as { description?: unknown }).description === "string")
                    out.push({ kind: "rule", text: (inline as { description: string }).description });
        }
        if ((r.type === T.ingress || r.type === T.egress) && typeof r.inputs.description === "string")
            out.push({ kind: "rule", text: r.inputs.description });
    }
    return out;
}

describe.each(Object.keys(STACKS))("the %s stack", (stack) => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await STACKS[stack]!();
    });

    it("describes every security group and rule with characters EC2 accepts", () => {
        const all = descriptions(run);
        const rules = ofType(run, T.ingress).length + ofType(run, T.egress).length;
        expect(all.filter((d) => d.kind === "rule")).toHaveLength(rules);
        const refused = all.filter((d) => securityGroupDescriptionError(d.text, d.kind) !== undefined);
        expect(refused).toEqual([]);
    });

    it("puts no more tags on any resource than jumpgate's own allowance", () => {
        for (const r of run.resources) {
            const tags = (r.inputs.tags ?? {}) as Record<string, string>;
            expect(Object.keys(tags).length, r.name).toBeLessThanOrEqual(OWN_TAGS_MAX);
        }
    });
});

describe("tags", () => {
    it("takes as many tags of your own as config validation lets through, and AWS takes them", async () => {
        const tags = Object.fromEntries(Array.from({ length: 50 - OWN_TAGS_MAX }, (_, i) => [`CostTag${i}`, "x"]));
        const run = await plan({ "jumpgate:tags": tags });
        const bastion = named(run, T.instance, "test-bastion-instance");
        expect(Object.keys(bastion.inputs.tags as object)).toHaveLength(50);
    });
});

describe("zones", () => {
    it("spreads subnets over regular zones only, never an opted-in Local Zone that sorts first", async () => {
        const run = await plan({ "jumpgate:azCount": 3 });
        const call = run.calls.find((c) => c.token === "aws:index/getAvailabilityZones:getAvailabilityZones")!;
        expect(call.inputs.filters).toEqual([{ name: "opt-in-status", values: ["opt-in-not-required"] }]);
        const zones = new Set(ofType(run, T.subnet).map((s) => s.inputs.availabilityZone));
        expect([...zones].sort()).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
    });
});

describe("user data", () => {
    it("config validation measures the bastion's user data exactly as the program renders it", async () => {
        const run = await STACKS.tunnels!();
        const bastion = named(run, T.instance, "test-bastion-instance");
        // The bytes EC2 counts: the text, or the gzipped document behind userDataBase64.
        const actual =
            typeof bastion.inputs.userData === "string"
                ? Buffer.byteLength(bastion.inputs.userData, "utf8")
                : Buffer.from(String(bastion.inputs.userDataBase64), "base64").length;
        const targets = run.outputs.targets as Record<string, string>;
        const estimate = bastionUserDataBytes({
            os: "debian-13",
            cryptoProfile: "compatible",
            ssmAgentRegion: run.region,
            sshPort: 22,
            jumpUser: "jump",
            operatorPublicKeys: [],
            targets: [
                ...TARGETS.map((t) => ({ name: t.name, privateIp: targets[t.name]!, port: 22 })),
                { name: "tunnel-pg", privateIp: targets["db-1"]!, port: 5432 },
                { name: "tunnel-web", privateIp: targets["app-1"]!, port: 8080 },
            ],
            fail2ban: {
                maxRetry: 5,
                findTimeSeconds: 600,
                banTimeSeconds: 3600,
                banTimeMaxSeconds: 604800,
                ignoreIps: [],
            },
            upgrades: {},
            auditShipping: { region: run.region, logGroupName: "/jumpgate/test/audit", logStreamName: "bastion" },
            audit: { stack: "test", host: "bastion" },
            // The bastion's own firewall, from the same flows as its security group.
            firewall: {
                ...hostFlows(
                    allowedFlows({
                        allowedCidrs: ["203.0.113.0/24"],
                        sshPort: 22,
                        hops: ["bastion"],
                        tunnels: [
                            { name: "pg", port: 5432 },
                            { name: "web", port: 8080 },
                        ],
                    }),
                    "bastion",
                    "bastion",
                    {
                        hops: { bastion: "10.42.0.0/24" },
                        targets,
                        tunnels: { pg: targets["db-1"]!, web: targets["app-1"]! },
                    },
                ),
                vpcResolver: "10.42.0.2",
            },
        });
        // Exact for text; gzipped sizes depend on the keys' bytes, so the estimate may only err high, by little.
        if (typeof bastion.inputs.userData === "string") expect(estimate).toBe(actual);
        expect(estimate).toBeGreaterThanOrEqual(actual);
        expect(estimate).toBeLessThanOrEqual(actual * 1.03);
    });
});

describe("IAM names", () => {
    it("builds the longest role name config validation lets through, and AWS takes it", async () => {
        // platform-production-eu-<28-character hop>-role plus Pulumi's `-` and 7 random characters: 64.
        const hop = "a-very-long-bastion-hop-name";
        const run = await plan({ "jumpgate:bastions": [hop] }, "platform-production-eu");
        const role = run.resources.find((r) => r.type === "aws:iam/role:Role" && r.name.includes(hop))!;
        expect(String(role.state.name)).toHaveLength(64);
    });
});
