// schema.json is the contract programs in other languages are written against: the sources must still
// generate it exactly, and a change to the arguments that would break those programs must fail here.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { generatedSchemaText, isBreakingBump, providerIdentity, SCHEMA_FILE } from "../../scripts/pluginSchema";
import { incompatibleChanges, PackageSchema, SchemaObject, SchemaProperty } from "../../scripts/schemaCompat";

const TOKEN = "jumpgate:index:Jumpgate";
const committedText = readFileSync(SCHEMA_FILE, "utf8");
const committed = JSON.parse(committedText) as PackageSchema;
let generatedText: string;

beforeAll(async () => {
    generatedText = await generatedSchemaText();
}, 240_000);

/** A copy of the committed schema changed by `edit`, with handles on the component and its types. */
function mutated(edit: (jumpgate: SchemaObject, types: Record<string, SchemaObject>) => void): PackageSchema {
    const copy = structuredClone(committed);
    edit(copy.resources![TOKEN]!, copy.types!);
    return copy;
}
const type = (types: Record<string, SchemaObject>, name: string) => types[`jumpgate:index:${name}`]!;
const kinds = (after: PackageSchema) => incompatibleChanges(committed, after).map((c) => `${c.kind} ${c.path}`);

describe("schema.json", () => {
    it("has no change from the sources that breaks programs written against it", () => {
        expect(incompatibleChanges(committed, JSON.parse(generatedText) as PackageSchema)).toEqual([]);
    });

    it("is exactly what the sources generate (`npm run schema` rewrites it)", () => {
        expect(generatedText, "schema.json is stale: run `npm run schema` and commit it").toBe(committedText);
    });

    it("hosts Jumpgate under the package name's token, with its arguments and outputs", () => {
        expect(providerIdentity("jumpgate")).toEqual({ name: "jumpgate" });
        expect(providerIdentity("@acme/jumpgate")).toEqual({ name: "jumpgate", namespace: "acme" });
        expect(Object.keys(committed.resources!)).toEqual([TOKEN]);
        const jumpgate = committed.resources![TOKEN]!;
        expect(Object.keys(jumpgate.inputProperties!)).toEqual(expect.arrayContaining(["allowedCidrs", "network"]));
        expect(jumpgate.required).toEqual(
            expect.arrayContaining(["bastionPublicIp", "knownHosts", "sshConfig", "targets"]),
        );
        // Ids of the consumer's own resources are Inputs; structure-deciding arguments are plain.
        const network = type(committed.types!, "NetworkArgs").properties!;
        expect(network.vpcId!.plain).toBeUndefined();
        expect(network.publicSubnetIds!.items!.plain).toBeUndefined();
        expect(network.azCount!.plain).toBe(true);
        expect(type(committed.types!, "HostOs").enum!.map((e) => e.value)).toEqual([
            "debian-13",
            "debian-12",
            "ubuntu-24.04",
        ]);
    });

    it("documents every argument and output on one line, with its default", () => {
        const objects: [string, Record<string, SchemaProperty & { description?: string }>][] = [
            ["Jumpgate inputs", committed.resources![TOKEN]!.inputProperties!],
            ["Jumpgate outputs", committed.resources![TOKEN]!.properties!],
            ...Object.entries(committed.types!)
                .filter(([, t]) => t.properties !== undefined)
                .map(([token, t]): [string, Record<string, SchemaProperty>] => [token, t.properties!]),
        ];
        const undocumented = objects.flatMap(([owner, props]) =>
            Object.entries(props)
                .filter(([, p]) => !/^[^\n]+(Default: |Required|Always set)[^\n]*$/.test(p.description ?? ""))
                .map(([name]) => `${owner}.${name}`),
        );
        expect(undocumented).toEqual([]);
    });
});

describe("incompatible changes to the arguments are named", () => {
    it("a removed argument", () => {
        const after = mutated((j, types) => {
            delete j.inputProperties!.sshPort;
            delete type(types, "HostArgs").properties!.instanceType;
        });
        expect(kinds(after)).toEqual(["removed-input Jumpgate.sshPort", "removed-input HostArgs.instanceType"]);
    });

    it("an optional argument made required, and a new required one", () => {
        const after = mutated((j, types) => {
            j.requiredInputs = ["allowedCidrs"];
            const network = type(types, "NetworkArgs");
            network.properties!.region = { type: "string", plain: true };
            network.required = ["region"];
        });
        expect(kinds(after)).toEqual([
            "new-required-input Jumpgate.allowedCidrs",
            "new-required-input NetworkArgs.region",
        ]);
    });

    it("a changed type, in the component and in a nested argument type", () => {
        const after = mutated((j, types) => {
            j.inputProperties!.sshPort = { ...j.inputProperties!.sshPort!, type: "string" };
            type(types, "NetworkArgs").properties!.privateSubnetIds!.items = { type: "number" };
            j.inputProperties!.hosts!.items = { $ref: "#/types/jumpgate:index:Host", plain: true };
        });
        expect(kinds(after)).toEqual([
            "changed-type Jumpgate.sshPort",
            "changed-type Jumpgate.hosts",
            "changed-type NetworkArgs.privateSubnetIds",
        ]);
    });

    it("an argument that became plain or an Input, and a removed enum value", () => {
        const after = mutated((j, types) => {
            const network = type(types, "NetworkArgs").properties!;
            network.vpcId!.plain = true;
            network.publicSubnetIds!.items!.plain = true;
            delete j.inputProperties!.allowedCidrs!.plain;
            type(types, "HostOs").enum = type(types, "HostOs").enum!.filter((e) => e.value !== "debian-12");
        });
        expect(kinds(after)).toEqual([
            "became-input Jumpgate.allowedCidrs",
            "became-plain NetworkArgs.vpcId",
            "became-plain NetworkArgs.publicSubnetIds[]",
            "removed-enum-value HostOs.Debian12",
        ]);
    });

    it("a removed output, and one no longer always set", () => {
        const after = mutated((j) => {
            delete j.properties!.knownHosts;
            j.required = j.required!.filter((n) => n !== "sshConfig");
        });
        expect(kinds(after)).toEqual(["output-now-optional Jumpgate.sshConfig", "removed-output Jumpgate.knownHosts"]);
    });

    it("additions are compatible: a new optional argument, output, enum value and nested field", () => {
        const after = mutated((j, types) => {
            j.inputProperties!.bastionName = { type: "string", plain: true };
            j.properties!.bastionPrivateIp = { type: "string" };
            type(types, "HostOs").enum!.push({ name: "Debian14", value: "debian-14" });
            type(types, "HostArgs").properties!.rootVolumeSizeGb = { type: "number", plain: true };
        });
        expect(incompatibleChanges(committed, after)).toEqual([]);
    });
});

describe("a breaking schema needs a breaking version", () => {
    it("follows semver, where the minor version breaks before 1.0.0", () => {
        expect(isBreakingBump("0.1.0", "0.2.0")).toBe(true);
        expect(isBreakingBump("0.1.0", "0.1.1")).toBe(false);
        expect(isBreakingBump("1.4.2", "2.0.0")).toBe(true);
        expect(isBreakingBump("1.4.2", "1.5.0")).toBe(false);
        expect(isBreakingBump("1.4.2", "0.9.0")).toBe(false);
    });
});
