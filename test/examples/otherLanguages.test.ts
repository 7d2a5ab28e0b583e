// examples/python and examples/yaml cannot run here (no Pulumi CLI to generate SDKs or run YAML), so this
// checks what can be checked honestly: every argument they pass is an input of jumpgate:index:Jumpgate in
// the schema Pulumi itself derives from the component (ComponentProvider.getSchema), with the right type
// and enum value, recursively; every output they read is an output there; the Python program compiles.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Jumpgate } from "../../index";

const root = path.resolve(__dirname, "../..");
const TOKEN = "jumpgate:index:Jumpgate";

interface PropertySpec {
    type?: string;
    $ref?: string;
    items?: PropertySpec;
    additionalProperties?: PropertySpec;
    plain?: boolean;
}
interface TypeSpec {
    type: string;
    properties?: Record<string, PropertySpec>;
    required?: string[];
    enum?: { value: unknown }[];
}
interface Schema {
    resources: Record<
        string,
        {
            inputProperties: Record<string, PropertySpec>;
            requiredInputs?: string[];
            properties: Record<string, PropertySpec>;
        }
    >;
    types: Record<string, TypeSpec>;
}

let schema: Schema;
beforeAll(async () => {
    const provider = new ComponentProvider({ components: [Jumpgate], name: "jumpgate", dirname: root });
    schema = JSON.parse(await provider.getSchema()) as Schema;
}, 300_000);

/**
 * Pulumi's Python name for a schema name: a port of pyName in pulumi/pulumi pkg/codegen/python/utilities.go
 * (non-legacy), which the generated SDK uses for keyword arguments, dict keys and attributes.
 */
function pyName(name: string): string {
    const upper = (c: string) => c !== c.toLowerCase() && c === c.toUpperCase();
    const parts: string[] = [];
    let current = "";
    let state: "first" | "upper" | "acronym" | "lower" = "first";
    for (const c of name) {
        if (state === "first" || (state === "lower" && !upper(c))) {
            if (state === "lower" || !upper(c)) ((current += c), (state = "lower"));
            else ((current += c.toLowerCase()), (state = "upper"));
        } else if (state === "lower") ((parts.push(current), (current = c.toLowerCase())), (state = "upper"));
        else if (upper(c)) ((current += c.toLowerCase()), (state = "acronym"));
        else if (state === "upper" || /\d/.test(c) || c === "s") ((current += c), (state = "lower"));
        else ((parts.push(current.slice(0, -1)), (current = current.slice(-1) + c)), (state = "lower"));
    }
    if (current) parts.push(current);
    return parts.join("_");
}

/** What a program passes, reduced to what can be checked without running it. */
type Value =
    | { kind: "const"; value: unknown }
    | { kind: "list"; items: Value[] }
    | { kind: "map"; entries: Record<string, Value> }
    /** Known when the program runs (config), of the given type when the program says so. */
    | { kind: "known"; type?: string }
    /** A resource output: allowed only where the input is not plain. */
    | { kind: "output" };

const typeOf = (v: unknown) => (Array.isArray(v) ? "array" : typeof v === "number" ? "number" : typeof v);

/** Problems of `value` against `spec` at `at`; object keys are mapped through `key` (camelCase or pyName). */
function check(value: Value, spec: PropertySpec, at: string, key: (schemaName: string) => string): string[] {
    if (value.kind === "output") return spec.plain ? [`${at}: a resource output where the input is plain`] : [];
    if (spec.$ref) {
        const type = schema.types[spec.$ref.replace("#/types/", "")];
        if (!type) return [`${at}: schema type ${spec.$ref} missing`];
        if (type.enum) {
            if (value.kind === "known") return [];
            const allowed = type.enum.map((e) => e.value);
            return value.kind === "const" && allowed.includes(value.value)
                ? []
                : [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`];
        }
        return checkObject(value, type, at, key);
    }
    if (value.kind === "known")
        return value.type && value.type !== spec.type ? [`${at}: ${value.type}, not ${spec.type}`] : [];
    switch (spec.type) {
        case "array":
            return value.kind === "list"
                ? value.items.flatMap((item, i) => check(item, spec.items!, `${at}[${i}]`, key))
                : [`${at}: not a list`];
        case "object":
            return value.kind === "map"
                ? Object.entries(value.entries).flatMap(([k, v]) =>
                      check(v, spec.additionalProperties!, `${at}.${k}`, key),
                  )
                : [`${at}: not a map`];
        default:
            return value.kind === "const" && (value.value === null || typeOf(value.value) === spec.type)
                ? []
                : [`${at}: ${JSON.stringify(value)} is not a ${spec.type}`];
    }
}

function checkObject(
    value: Value,
    type: { properties?: Record<string, PropertySpec>; required?: string[] },
    at: string,
    key: (schemaName: string) => string,
): string[] {
    if (value.kind !== "map") return [`${at}: not a map of properties`];
    const byName = new Map(Object.entries(type.properties ?? {}).map(([name, spec]) => [key(name), spec]));
    const unknown = Object.keys(value.entries)
        .filter((k) => !byName.has(k))
        .map((k) => `${at}.${k}: no such property (have ${[...byName.keys()].join(", ")})`);
    const missing = (type.required ?? [])
        .filter((r) => !(key(r) in value.entries))
        .map((r) => `${at}: ${key(r)} missing`);
    const nested = Object.entries(value.entries).flatMap(([k, v]) =>
        byName.has(k) ? check(v, byName.get(k)!, `${at}.${k}`, key) : [],
    );
    return [...unknown, ...missing, ...nested];
}

const jumpgateInputs = () => {
    const r = schema.resources[TOKEN]!;
    return { properties: r.inputProperties, required: r.requiredInputs };
};

describe("Pulumi's Python names", () => {
    it("follow pyName: Pulumi's own cases, and jumpgate's", () => {
        expect(["Sha256Hash", "SHA256Hash", "GetPublicIPs"].map(pyName)).toEqual([
            "sha256_hash",
            "sha256_hash",
            "get_public_ips",
        ]);
        expect(["allowedCidrs", "vpcId", "fail2banMaxRetry", "sshConfigProxyCommand"].map(pyName)).toEqual([
            "allowed_cidrs",
            "vpc_id",
            "fail2ban_max_retry",
            "ssh_config_proxy_command",
        ]);
    });
});

describe("examples/yaml", () => {
    const project = parse(readFileSync(path.join(root, "examples/yaml/Pulumi.yaml"), "utf8")) as {
        packages: Record<string, string>;
        config: Record<string, { type: string }>;
        resources: Record<string, { type: string; properties: unknown }>;
        outputs: Record<string, string>;
    };

    /** A YAML value: `${config}` is known at run time, `${resource.output}` is an output. */
    function yamlValue(v: unknown): Value {
        if (typeof v === "string") {
            const m = /^\$\{([^}.]+)(\.[^}]+)?\}$/.exec(v);
            if (m) return m[2] ? { kind: "output" } : { kind: "known", type: project.config[m[1]!]?.type ?? "?" };
        }
        if (Array.isArray(v)) return { kind: "list", items: v.map(yamlValue) };
        if (typeof v === "object" && v !== null)
            return { kind: "map", entries: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yamlValue(x)])) };
        return { kind: "const", value: v };
    }

    it("uses the plugin at the repository root and its component's type token", () => {
        expect(path.resolve(root, "examples/yaml", project.packages.jumpgate!)).toBe(root);
        expect(project.resources.edge!.type).toBe(TOKEN);
        expect(Object.keys(schema.resources)).toEqual([TOKEN]);
    });

    it("passes only Jumpgate's inputs, with their types and enum values, recursively", () => {
        const problems = checkObject(yamlValue(project.resources.edge!.properties), jumpgateInputs(), "edge", (n) => n);
        expect(problems).toEqual([]);
    });

    it("reads only Jumpgate's outputs", () => {
        const read = Object.values(project.outputs).map((o) => /^\$\{edge\.(\w+)\}$/.exec(o)?.[1]);
        expect(read.filter((name) => !name || !(name in schema.resources[TOKEN]!.properties))).toEqual([]);
    });

    it("catches a property the schema does not have, a wrong type and a wrong enum value", () => {
        const bad = yamlValue({ allowedCidrs: "203.0.113.0/24", os: "windows", network: { vpcID: "vpc-1" } });
        expect(checkObject(bad, jumpgateInputs(), "edge", (n) => n).sort()).toEqual(
            [
                "edge.network.vpcID: no such property (have vpcCidr, azCount, natGateways, flowLogRetentionDays, vpcId, publicSubnetIds, privateSubnetIds)",
                "edge.allowedCidrs: not a list",
                'edge.os: {"kind":"const","value":"windows"} is not one of ["debian-13","debian-12","ubuntu-24.04"]',
            ].sort(),
        );
    });
});

describe("examples/python", () => {
    const file = path.join(root, "examples/python/__main__.py");

    it("compiles", () => {
        const cache = mkdtempSync(path.join(tmpdir(), "jg-pyc-"));
        const r = spawnSync("python3", ["-m", "py_compile", file], {
            encoding: "utf8",
            env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
        });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    /** The Jumpgate(...) call's keyword arguments and the attributes read from its result, from Python's own ast. */
    function pythonCall(): { kwargs: Record<string, Value>; attributes: string[] } {
        const script = String.raw`
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
def value(n):
    if isinstance(n, ast.Constant): return {"kind": "const", "value": n.value}
    if isinstance(n, ast.List): return {"kind": "list", "items": [value(x) for x in n.elts]}
    if isinstance(n, ast.Dict): return {"kind": "map", "entries": {k.value: value(v) for k, v in zip(n.keys, n.values)}}
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and ast.unparse(n.func.value) == "config":
        return {"kind": "known", "type": {"require": "string", "get": "string"}.get(n.func.attr)}
    return {"kind": "output"}
calls = [a for a in ast.walk(tree) if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call)
         and ast.unparse(a.value.func) == "jumpgate.Jumpgate"]
var = calls[0].targets[0].id
attrs = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and ast.unparse(n.value) == var})
print(json.dumps({"kwargs": {k.arg: value(k.value) for k in calls[0].value.keywords}, "attributes": attrs}))
`;
        const r = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(r.stderr);
        return JSON.parse(r.stdout) as { kwargs: Record<string, Value>; attributes: string[] };
    }

    it("passes only Jumpgate's inputs under their Python names, with their types and enum values", () => {
        const { kwargs } = pythonCall();
        expect(Object.keys(kwargs)).toEqual(["allowed_cidrs", "network", "os", "hosts"]);
        const problems = checkObject({ kind: "map", entries: kwargs }, jumpgateInputs(), "Jumpgate", pyName);
        expect(problems).toEqual([]);
    });

    it("refuses an argument under its schema (camelCase) name", () => {
        const camel: Value = { kind: "map", entries: { allowedCidrs: { kind: "list", items: [] } } };
        expect(checkObject(camel, jumpgateInputs(), "Jumpgate", pyName)[0]).toMatch(
            /^Jumpgate\.allowedCidrs: no such property/,
        );
    });

    it("reads only Jumpgate's outputs, under their Python names", () => {
        const outputs = new Set(Object.keys(schema.resources[TOKEN]!.properties).map(pyName));
        const { attributes } = pythonCall();
        expect(attributes).toEqual(["bastion_public_ip", "known_hosts", "ssh_config"]);
        expect(attributes.filter((a) => !outputs.has(a))).toEqual([]);
    });
});
