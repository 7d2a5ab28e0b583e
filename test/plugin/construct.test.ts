// The plugin's `construct`, in-process under the mock runtime: what a Python or YAML program's
// `Jumpgate(...)` turns into on the plugin side. The consumer's arguments are written in the wire format an
// SDK sends (output values for the IDs of the consumer's own resources, an existing VPC) and decoded by the
// provider server's own deserializeInputs, so construct sees exactly what the plugin host would give it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun, runOffline } from "../../offline/run";
import { jumpgateProvider } from "../../scripts/pluginSchema";
import { PackageSchema } from "../../scripts/schemaCompat";
import { ofType, T } from "../helpers/program";
import { toolsAvailable } from "../helpers/tools";

const TOKEN = "jumpgate:index:Jumpgate";
const VPC = "vpc-0c0ffee0c0ffee000";
const PUBLIC = "subnet-0aaaaaaaaaaaaaaa1";
const PRIVATE = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"];

/** An output value on the wire: what an SDK sends for an Output when the engine takes output values. */
function outputValue(value: string, fromResource: string): Record<string, unknown> {
    return {
        [pulumi.runtime.specialSigKey]: pulumi.runtime.specialOutputValueSig,
        value,
        dependencies: [`urn:pulumi:plugin::consumer::${fromResource}`],
    };
}

/** A consumer's arguments on the wire; the VPC and subnet IDs are outputs of the consumer's resources. */
function consumerInputs(): Record<string, unknown> {
    return {
        environment: "prod",
        allowedCidrs: ["203.0.113.0/24"],
        sshPort: 2222,
        os: "debian-12",
        network: {
            vpcId: outputValue(VPC, "aws:ec2/vpc:Vpc::main"),
            publicSubnetIds: [outputValue(PUBLIC, "aws:ec2/subnet:Subnet::public")],
            privateSubnetIds: PRIVATE.map((id, i) => outputValue(id, `aws:ec2/subnet:Subnet::private-${i}`)),
        },
        hosts: [{ name: "app-1" }, { name: "db-1", instanceType: "t4g.small" }],
        tunnels: [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
        audit: false,
    };
}

/** The provider server's own input decoding (internal to @pulumi/pulumi, so not in its typings). */
const { deserializeInputs } = require("@pulumi/pulumi/provider/server") as {
    deserializeInputs: (inputs: Struct, dependencies: Map<string, unknown>) => Promise<Record<string, unknown>>;
};

/** The arguments as the plugin's construct receives them. */
function received(wire: Record<string, unknown>): Promise<Record<string, unknown>> {
    return deserializeInputs(Struct.fromJavaScript(wire as Parameters<typeof Struct.fromJavaScript>[0]), new Map());
}

let provider: ComponentProvider;
let inputs: Record<string, unknown>;
let schema: PackageSchema;
let run: OfflineRun;

beforeAll(async () => {
    provider = jumpgateProvider();
    // The plugin host analyzes the sources once; construct reuses that to know the outputs.
    schema = JSON.parse(await provider.getSchema()) as PackageSchema;
    const outputNames = Object.keys(schema.resources![TOKEN]!.properties!);
    run = await runOffline({
        stack: "plugin",
        project: "consumer",
        config: { "aws:region": "eu-central-1" },
        existingSubnets: {
            [PUBLIC]: { vpcId: VPC, cidrBlock: "172.31.0.0/20" },
            [PRIVATE[0]!]: { vpcId: VPC, cidrBlock: "172.31.16.0/20" },
            [PRIVATE[1]!]: { vpcId: VPC, cidrBlock: "172.31.32.0/20" },
        },
        program: () => {
            const constructed = received(consumerInputs()).then((decoded) => {
                inputs = decoded;
                return provider.construct("edge", TOKEN, decoded, {});
            });
            // Each output on its own, as the provider server serializes them: secrets stay per output.
            const state = Object.fromEntries(
                outputNames.map((k) => [k, pulumi.output(constructed.then((r) => r.state[k]))]),
            );
            return { urn: pulumi.output(constructed.then((r) => r.urn)), ...state };
        },
    });
}, 240_000);

describe("construct jumpgate:index:Jumpgate", () => {
    it("receives plain arguments as values and the consumer's resource IDs as outputs", () => {
        expect(inputs.allowedCidrs).toEqual(["203.0.113.0/24"]);
        expect(inputs.sshPort).toBe(2222);
        const network = inputs.network as Record<string, unknown>;
        expect(pulumi.Output.isInstance(network.vpcId)).toBe(true);
        expect((network.privateSubnetIds as unknown[]).every((id) => pulumi.Output.isInstance(id))).toBe(true);
    });

    it("registers the component under the consumer's stack with the plugin's type token", () => {
        // The mock runtime names the stack in the type chain of a top-level resource; the engine does not.
        expect(run.outputs.urn).toMatch(
            new RegExp(`^urn:pulumi:plugin::consumer::(pulumi:pulumi:Stack\\$)?${TOKEN}::edge$`),
        );
    });

    it("builds every resource under the component, in the consumer's existing VPC", () => {
        const parentOf = new Map(run.resources.map((r) => [`${r.type}::${r.name}`, r.parent]));
        const underComponent = (key: string): boolean => {
            const parent = parentOf.get(key);
            return parent === `${TOKEN}::edge` || (parent !== undefined && underComponent(parent));
        };
        const others = run.resources.filter(
            (r) => r.type !== "pulumi:pulumi:Stack" && r.type !== TOKEN && !underComponent(`${r.type}::${r.name}`),
        );
        expect(others.map((r) => `${r.type}::${r.name}`)).toEqual([]);
        expect(ofType(run, T.vpc)).toEqual([]);
        expect(ofType(run, T.instance).map((r) => r.name)).toEqual(
            expect.arrayContaining(["edge-bastion-instance", "edge-app-1", "edge-db-1"]),
        );
        // The VPC id the consumer passed as an output reached the security groups.
        for (const sg of ofType(run, T.sg)) expect(sg.inputs.vpcId).toBe(VPC);
    });

    it("returns every output the schema declares, built from the consumer's arguments", () => {
        const targets = run.outputs.targets as Record<string, string>;
        expect(Object.keys(targets).sort()).toEqual(["app-1", "db-1"]);
        // Round-robin over the private subnets the consumer passed.
        expect(targets["app-1"]).toMatch(/^172\.31\.(1[6-9]|2\d|3[01])\./);
        expect(targets["db-1"]).toMatch(/^172\.31\.(3[2-9]|4\d)\./);
        expect(String(run.outputs.knownHosts)).toMatch(/^prod-bastion ssh-ed25519 AAAA/m);
        expect(String(run.outputs.knownHosts)).toMatch(/^prod-db-1 ssh-ed25519 AAAA/m);
        expect(run.outputs.sshCommands).toMatchObject({ ssh: { "app-1": "ssh prod-app-1" } });
        // The generated operator key comes back, and only it is a secret.
        expect(String(run.outputs.privateKeyOpenssh)).toContain("BEGIN OPENSSH PRIVATE KEY");
        expect(run.secretOutputs).toEqual(["privateKeyOpenssh"]);
        // No team access and no audit trail: those outputs are unset, as their docs say.
        for (const unset of ["userCa", "roleSshConfigs", "auditLogGroupName"])
            expect(run.outputs[unset]).toBeUndefined();
    });

    it.runIf(toolsAvailable("ssh"))("hands back a client config ssh resolves through the hop to each host", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-construct-"));
        const file = path.join(dir, "config");
        writeFileSync(file, String(run.outputs.sshConfig), { mode: 0o600 });
        const effective = (alias: string) =>
            new Map(
                execFileSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8" })
                    .trim()
                    .split("\n")
                    .map((line) => [line.split(" ")[0]!, line.split(" ").slice(1).join(" ")] as const),
            );
        const hop = effective("prod-bastion");
        expect(hop.get("hostname")).toBe(run.outputs.bastionPublicIp);
        expect(hop.get("port")).toBe("2222");
        const db = effective("prod-db-1");
        expect(db.get("hostname")).toBe((run.outputs.targets as Record<string, string>)["db-1"]);
        expect(db.get("proxyjump")).toBe("prod-bastion");
        expect(effective("prod-tunnel-pg").get("localforward")).toContain("15432");
    });
});

describe("construct with an output where the schema says plain", () => {
    it("refuses it by argument name before creating anything", async () => {
        // The provider server wraps a top-level input that depends on other resources in an Output.
        const inputs = { ...(await received(consumerInputs())), allowedCidrs: pulumi.output(["203.0.113.0/24"]) };
        await expect(provider.construct("late", TOKEN, inputs, {})).rejects.toThrow(
            /allowedCidrs = \(not set\): must be a plain value, not an output/,
        );
    });
});
