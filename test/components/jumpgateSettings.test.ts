// The library's arguments: the same validation as stack config, every problem at once and named by
// argument, nothing created; outputs checked when they resolve; the standalone program's config maps to
// arguments that give exactly the settings the config gives.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readSettings } from "../../components/config";
import { Jumpgate } from "../../components/jumpgate";
import { JumpgateArgs } from "../../components/jumpgateArgs";
import { argsOfConfig, JumpgateArgsError, settingsFromArgs } from "../../components/jumpgateSettings";
import { runOffline } from "../../offline/run";

const BASE: JumpgateArgs = { allowedCidrs: ["203.0.113.0/24"] };

function problemsOf(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof JumpgateArgsError) return e.problems.map((p) => `${p.key}: ${p.message}`);
        throw e;
    }
    throw new Error("no JumpgateArgsError");
}

/** Stack configs the standalone program is run with in tests and the README. */
const CONFIGS: Record<string, Record<string, unknown>> = {
    dev: (
        parse(readFileSync(path.resolve(__dirname, "../../Pulumi.dev.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        }
    ).config,
    chain: {
        allowedCidrs: ["198.51.100.7/32"],
        bastions: ["edge", "mgmt"],
        targets: ["app-1", "db-1"],
        sshPort: "2222",
    },
    team: {
        allowedCidrs: ["198.51.100.7/32"],
        userCa: "stack",
        operators: [{ name: "alice", role: "admin", awsPrincipals: ["arn:aws:iam::123456789012:user/alice"] }],
        roles: [{ name: "dba", targets: ["db-*"], sudo: true }],
        targets: [{ name: "db-1", instanceType: "t4g.small" }],
        tags: { CostCenter: "123" },
    },
    existing: {
        allowedCidrs: ["198.51.100.7/32"],
        existingVpc: {
            vpcId: "vpc-0aaaaaaaaaaaaaaa1",
            publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
            privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
        },
        existingHosts: [{ name: "legacy-1", privateIp: "172.31.16.5", securityGroupId: "sg-0123456789abcdef0" }],
    },
};

/** A config map as `pulumi.Config.get` sees it: strings, JSON for the rest, `jumpgate:` prefix dropped. */
function source(config: Record<string, unknown>): (key: string) => string | undefined {
    const flat = Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => !k.includes(":") || k.startsWith("jumpgate:"))
            .map(([k, v]) => [k.replace(/^jumpgate:/, ""), typeof v === "string" ? v : JSON.stringify(v)]),
    );
    return (key) => flat[key];
}

describe("argsOfConfig", () => {
    it.each(Object.keys(CONFIGS))("gives the settings the %s config gives", (name) => {
        const get = source(CONFIGS[name]!);
        const keys = Object.keys(CONFIGS[name]!)
            .map((k) => k.replace(/^jumpgate:/, ""))
            .filter((k) => !k.includes(":"));
        const fromConfig = readSettings(get, "dev", keys);
        expect(settingsFromArgs("dev", argsOfConfig(get), "dev")).toEqual(fromConfig);
    });
});

describe("settingsFromArgs", () => {
    it("reports every problem at once, named by argument", () => {
        const problems = problemsOf(() =>
            settingsFromArgs(
                "edge",
                {
                    ...BASE,
                    network: { vpcCidr: "10.0.0.0/33", natGateways: "many" as never },
                    hosts: [{ name: "app-1" }, { name: "Bad_Name" }, { name: "legacy", privateIp: "8.8.8.8" }],
                    sshPort: 70000,
                    colour: "blue",
                } as JumpgateArgs,
                "dev",
            ),
        );
        expect(problems).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^colour: is not an argument of Jumpgate/),
                expect.stringMatching(/^hosts\[2\]\.privateIp: is not a private address/),
                expect.stringMatching(/^network\.vpcCidr: /),
                expect.stringMatching(/^network\.natGateways: must be one of none, single, perAz/),
                expect.stringMatching(/^hosts\[1\]\.name: /),
                expect.stringMatching(/^sshPort: /),
            ]),
        );
    });

    it("refuses existing-host fields on a built host and an instance type on an existing one", () => {
        const problems = problemsOf(() =>
            settingsFromArgs(
                "edge",
                {
                    ...BASE,
                    network: {
                        vpcId: "vpc-0aaaaaaaaaaaaaaa1",
                        publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                        privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
                    },
                    hosts: [
                        { name: "app-1", hostPublicKey: "ssh-ed25519 AAAA" },
                        {
                            name: "legacy",
                            privateIp: "10.0.1.5",
                            securityGroupId: "sg-0123456789abcdef0",
                            instanceType: "t3.micro",
                        },
                    ],
                },
                "dev",
            ),
        );
        expect(problems).toEqual([
            "hosts[0].hostPublicKey: applies only to an existing host (one with privateIp)",
            "hosts[1].instanceType: an existing host (one with privateIp) is not built, so it has no instance type",
        ]);
    });

    it("refuses an existing host named targets: its rule would take the name of the targets group's rule", () => {
        const problems = problemsOf(() =>
            settingsFromArgs(
                "edge",
                {
                    ...BASE,
                    network: {
                        vpcId: "vpc-0aaaaaaaaaaaaaaa1",
                        publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                        privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
                    },
                    hosts: [{ name: "targets", privateIp: "10.0.1.5", securityGroupId: "sg-0123456789abcdef0" }],
                },
                "dev",
            ),
        );
        expect(problems).toEqual(["hosts[0].name: is reserved for the targets jumpgate builds; pick another name"]);
    });

    it("refuses an output where the value decides which resources exist", () => {
        const problems = problemsOf(() =>
            settingsFromArgs("edge", { ...BASE, bastions: pulumi.output([{ name: "edge" }]) as never }, "dev"),
        );
        expect(problems).toEqual(["bastions: must be a plain value, not an output: it decides which resources exist"]);
    });

    it("an existing host needs an existing VPC", () => {
        const problems = problemsOf(() =>
            settingsFromArgs(
                "edge",
                {
                    ...BASE,
                    hosts: [{ name: "legacy", privateIp: "10.0.1.5", securityGroupId: "sg-0123456789abcdef0" }],
                },
                "dev",
            ),
        );
        expect(problems).toEqual(["hosts: existing hosts live in an existing VPC; jumpgate's own VPC has none"]);
    });
});

describe("Jumpgate in a program of its own", () => {
    it("throws before registering anything when an argument is bad", () => {
        // Outside any Pulumi runtime: a constructor that got as far as registering would fail differently.
        expect(() => new Jumpgate("edge", { ...BASE, sshPort: 0, hosts: [{ name: "x" }] })).toThrow(
            'jumpgate: 2 problems with the arguments of Jumpgate "edge", nothing was created:\n' +
                '  - sshPort = "0": must be a whole number from 1 to 65535\n' +
                '  - hosts[0].name = "x": must be 2-32 characters',
        );
    });

    const existingSubnets = {
        "subnet-0aaaaaaaaaaaaaaa1": { vpcId: "vpc-0aaaaaaaaaaaaaaa1", cidrBlock: "172.31.0.0/20" },
        "subnet-0bbbbbbbbbbbbbbb1": { vpcId: "vpc-0aaaaaaaaaaaaaaa1", cidrBlock: "172.31.16.0/20" },
    };

    it("takes an existing VPC's IDs as outputs of the program's own resources", async () => {
        const run = await runOffline({
            stack: "lib",
            project: "platform",
            config: { "aws:region": "eu-central-1" },
            existingSubnets,
            program: () => {
                const jg = new Jumpgate("edge", {
                    ...BASE,
                    network: {
                        vpcId: pulumi.output("vpc-0aaaaaaaaaaaaaaa1"),
                        publicSubnetIds: [pulumi.output("subnet-0aaaaaaaaaaaaaaa1")],
                        privateSubnetIds: [pulumi.output("subnet-0bbbbbbbbbbbbbbb1")],
                    },
                    hosts: [{ name: "app-1" }],
                });
                return { targets: jg.targets };
            },
        });
        expect(run.outputs.targets).toEqual({ "app-1": "172.31.16.10" });
        expect(run.resources.filter((r) => r.type === "aws:ec2/vpc:Vpc")).toEqual([]);
    });
});
