// Every resource type the program can register has a force-new list, so a new type cannot be added
// without saying which of its changes replace it.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { coveredBy, FORCE_NEW } from "../../offline/forceNew";
import { plan } from "../helpers/program";

const components = path.resolve(__dirname, "../../components");

/** Pulumi's type token for `new aws.ec2.Instance(...)`: `aws:ec2/instance:Instance`. */
function tokenOf(expr: string): string {
    const parts = expr.split(".");
    const cls = parts.pop()!;
    const [provider, module = "index"] = parts;
    return `${provider}:${module}/${cls[0]!.toLowerCase()}${cls.slice(1)}:${cls}`;
}

/** Provider resources constructed anywhere in components/, found in the source. */
function constructedTypes(): Set<string> {
    const found = new Set<string>();
    for (const file of readdirSync(components, { recursive: true, encoding: "utf8" })) {
        if (!file.endsWith(".ts")) continue;
        const text = readFileSync(path.join(components, file), "utf8");
        for (const m of text.matchAll(/new ((?:aws|tls)(?:\.\w+)+)\(/g)) found.add(tokenOf(m[1]!));
        // The engine's built-in Stash (pulumi.Stash) records the image a stack first booted.
        if (/new pulumi\.Stash\(/.test(text)) found.add("pulumi:index:Stash");
    }
    return found;
}

describe("force-new table", () => {
    it("covers every provider resource the components construct", () => {
        const types = constructedTypes();
        expect(types.size).toBeGreaterThan(15);
        expect([...types].filter((t) => !FORCE_NEW[t])).toEqual([]);
    });

    it("covers every type the program registers across network, chain, tunnel and existing-VPC stacks", async () => {
        const configs: Record<string, unknown>[] = [
            {},
            {
                "jumpgate:natGateways": "perAz",
                "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
                "jumpgate:alertEmail": "ops@example.com",
            },
            { "jumpgate:tunnels": [{ name: "db", target: "app-1", remotePort: 5432, localPort: 15432 }] },
            {
                "jumpgate:operators": [
                    { name: "alice", role: "admin", awsPrincipals: ["arn:aws:iam::123456789012:user/alice"] },
                ],
            },
            {
                "jumpgate:existingVpc": {
                    vpcId: "vpc-0123456789abcdef0",
                    publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                    privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
                },
            },
        ];
        const registered = new Set<string>();
        for (const config of configs) {
            for (const r of (await plan(config)).resources) if (r.custom) registered.add(r.type);
        }
        expect([...registered].filter((t) => !FORCE_NEW[t])).toEqual([]);
        // The source scan's token mapping agrees with what the runtime registers.
        expect([...registered].filter((t) => !constructedTypes().has(t))).toEqual([]);
    });

    it("a KMS key is replaced for a new key spec or usage, and keeps its key material for a new policy", () => {
        const rule = FORCE_NEW["aws:kms/key:Key"]!;
        for (const path of ["customerMasterKeySpec", "keyUsage", "multiRegion"])
            expect(coveredBy(path, rule.paths)).toBe(true);
        for (const path of ["policy", "description", "deletionWindowInDays"])
            expect(coveredBy(path, rule.paths)).toBe(false);
        expect(coveredBy("targetKeyId", FORCE_NEW["aws:kms/alias:Alias"]!.paths)).toBe(false);
        expect(coveredBy("name", FORCE_NEW["aws:kms/alias:Alias"]!.paths)).toBe(true);
    });

    it("cites the provider source of every entry", () => {
        for (const [type, rule] of Object.entries(FORCE_NEW)) {
            expect(rule.source, type).toMatch(
                /^(hashicorp\/terraform-provider-(aws|tls) internal|pulumi\/pulumi pkg\/resource)\/\S+\.go/,
            );
        }
    });
});
