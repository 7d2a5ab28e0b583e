// The pack as a whole: its shape (names, levels, config, one file per policy), the program's default
// stacks passing every policy, and the evaluation harness behaving as the policy SDK's server does.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OfflineRun } from "../../offline/run";
import { named, plan, T } from "../helpers/program";
import { evaluatePack, harnessResources, PACK_NAME, policies, withChange } from "../helpers/policyHarness";
import { evaluatePolicies } from "../../policies/testing/evaluate";
import { packConfigFor } from "../../policies/scripts/stack-config";

const POLICIES_DIR = path.resolve(__dirname, "../../policies");
const ADVISORY = ["user-data-host-keys-readable"];
const EXISTING_VPC = {
    vpcId: "vpc-0123456789abcdef0",
    publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
    privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
};
const TARGETS = [{ name: "app-1" }, { name: "db-1", instanceType: "t3.small" }];

describe("the jumpgate-guardrails pack", () => {
    it("is named jumpgate-guardrails in PulumiPolicy.yaml and pins the SDK versions", () => {
        const manifest = parse(readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8")) as Record<
            string,
            string
        >;
        expect(manifest).toMatchObject({ name: "jumpgate-guardrails", runtime: "nodejs" });
        expect(PACK_NAME).toBe(manifest.name);
        const pkg = JSON.parse(readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8")) as {
            version: string;
            dependencies: Record<string, string>;
        };
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(pkg.dependencies).toMatchObject({
            "@pulumi/policy": "1.21.0",
            "@pulumi/pulumi": "3.248.0",
            "@pulumi/aws": "7.48.0",
        });
    });

    it("has one policy per file in rules/, named as the file, kebab-case, each saying why", () => {
        const files = readdirSync(path.join(POLICIES_DIR, "rules")).map((f) => f.replace(/\.ts$/, ""));
        expect(policies.map((p) => p.name).sort()).toEqual(files.sort());
        for (const p of policies) {
            expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            // The description gives the rule and the reason after a colon.
            expect(p.description, p.name).toMatch(/^.{20,}: .{20,}$/s);
        }
    });

    it("is mandatory except the host-key advisory", () => {
        expect(Object.fromEntries(policies.map((p) => [p.name, p.enforcementLevel]))).toEqual(
            Object.fromEntries(policies.map((p) => [p.name, ADVISORY.includes(p.name) ? "advisory" : "mandatory"])),
        );
    });

    it("takes config where an exception or a stack-specific value must be possible", () => {
        const config = Object.fromEntries(
            policies.filter((p) => p.configSchema).map((p) => [p.name, Object.keys(p.configSchema!.properties).sort()]),
        );
        expect(config).toEqual({
            "ssh-not-open-to-world": ["allowSshFromAnywhere", "sshPort"],
            "target-ssh-only-from-bastion": ["targetSshPort"],
            "required-tags": ["requiredTags"],
            "bastion-count": ["expectedBastions"],
            "audit-trail-to-cloudwatch": ["minimumRetentionDays"],
        });
    });
});

describe("the program's default stacks", () => {
    let fresh: OfflineRun;
    let existing: OfflineRun;
    beforeAll(async () => {
        fresh = await plan({ "jumpgate:targets": TARGETS });
        existing = await plan({ "jumpgate:existingVpc": EXISTING_VPC, "jumpgate:targets": TARGETS });
    });
    const hostKeyAdvisories = (run: OfflineRun) =>
        ["test-app-1", "test-db-1", "test-bastion-instance"].map((n) => [
            "user-data-host-keys-readable",
            "advisory",
            named(run, T.instance, n).name,
        ]);
    const summary = async (run: OfflineRun) =>
        (await evaluatePack(run)).violations.map((v) => [v.policyName, v.enforcementLevel, v.urn?.split("::").pop()]);

    it("new VPC: pass every policy; the only notes are the host-key advisories", async () => {
        const evaluation = await evaluatePack(fresh);
        expect(evaluation.mandatory()).toEqual([]);
        expect(await summary(fresh)).toEqual(hostKeyAdvisories(fresh));
    });

    it("existing VPC: pass every policy; flow logs are not applicable", async () => {
        const evaluation = await evaluatePack(existing);
        expect(evaluation.mandatory()).toEqual([]);
        expect(await summary(existing)).toEqual(hostKeyAdvisories(existing));
        expect(evaluation.notApplicable.filter((n) => !n.urn).map((n) => n.policyName)).toEqual(["vpc-flow-logs"]);
    });

    it("existing VPC with existing hosts: the rule on each host's own group passes every policy", async () => {
        const withHosts = await plan({
            "jumpgate:existingVpc": EXISTING_VPC,
            "jumpgate:targets": TARGETS,
            "jumpgate:existingHosts": [
                { name: "legacy-1", privateIp: "172.31.40.5", securityGroupId: "sg-0aaaaaaaaaaaaaaa1", sshPort: 2222 },
            ],
        });
        const evaluation = await evaluatePack(withHosts);
        expect(evaluation.mandatory()).toEqual([]);
        expect(await summary(withHosts)).toEqual(hostKeyAdvisories(withHosts));
    });

    it("every policy applies to something in the new-VPC stack", async () => {
        const evaluation = await evaluatePack(fresh);
        const resources = harnessResources(fresh);
        for (const p of policies) {
            const skipped = evaluation.notApplicable.filter((n) => n.policyName === p.name);
            if ("validateStack" in p) expect(skipped, p.name).toEqual([]);
            else expect(skipped.length, p.name).toBeLessThan(resources.length * [p.validateResource].flat().length);
        }
    });

    it("in a first preview (IDs and keys unknown): no mandatory violation; user-data checks wait for the values", async () => {
        for (const run of [fresh, existing]) {
            const evaluation = await evaluatePack(run, { preview: true });
            expect(evaluation.mandatory()).toEqual([]);
            const waiting = evaluation.violations.filter((v) => v.unknown);
            expect(new Set(waiting.map((v) => v.policyName))).toEqual(
                new Set([
                    "user-data-sshd-hardened",
                    "user-data-no-private-keys",
                    "user-data-no-operator-keys",
                    "user-data-host-keys-readable",
                ]),
            );
            expect(waiting[0]).toMatchObject({
                enforcementLevel: "advisory",
                message:
                    `can't run policy '${waiting[0]!.policyName}' from policy pack 'jumpgate-guardrails@v0.1.0' during preview: ` +
                    "string value at .userDataBase64 can't be known during preview",
            });
        }
    });

    it("a bastion chain with a tunnel: passes with the config derived from the stack, and needs it", async () => {
        const stackConfig = {
            "jumpgate:targets": TARGETS,
            "jumpgate:bastions": [{ name: "bastion" }, { name: "inner" }],
            "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
        };
        const run = await plan(stackConfig);
        expect((await evaluatePack(run, { config: packConfigFor(stackConfig) })).mandatory()).toEqual([]);
        expect((await evaluatePack(run, { preview: true, config: packConfigFor(stackConfig) })).mandatory()).toEqual(
            [],
        );
        expect((await evaluatePack(run)).mandatory().map((v) => v.message)).toEqual([
            "expected exactly 1 bastion (instances tagged jumpgate:role=bastion), found 2: test-bastion-instance, test-inner-instance.",
        ]);
    });

    it("with a custom SSH port and several allowed CIDRs: pass, given the matching pack config", async () => {
        const run = await plan({
            "jumpgate:sshPort": 2222,
            "jumpgate:allowedCidrs": ["203.0.113.7/32", "198.51.100.0/24"],
        });
        const evaluation = await evaluatePack(run, { config: { "ssh-not-open-to-world": { sshPort: 2222 } } });
        expect(evaluation.mandatory()).toEqual([]);
    });
});

describe("the evaluation harness", () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const openToWorld = () => withChange(run, T.ingress, "test-bastion-ssh-in-0", (p) => (p.cidrIpv4 = "0.0.0.0/0"));

    it("builds URNs from the component tree and property dependencies from references", () => {
        const resources = harnessResources(run);
        const rule = resources.find((r) => r.name === "test-targets-ssh-from-bastion")!;
        expect(rule.urn).toBe(
            "urn:pulumi:test::jumpgate::jumpgate:index:Jumpgate$jumpgate:index:SshAccess$" +
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::test-targets-ssh-from-bastion",
        );
        expect(rule.parent).toBe("urn:pulumi:test::jumpgate::jumpgate:index:Jumpgate$jumpgate:index:SshAccess::test");
        const sg = (name: string) => resources.find((r) => r.type === T.sg && r.name === name)!.urn;
        expect(rule.propertyDependencies).toEqual({
            securityGroupId: [sg("test-targets")],
            referencedSecurityGroupId: [sg("test-bastion")],
        });
        expect(rule.outputs.id).toBe(named(run, T.ingress, "test-targets-ssh-from-bastion").id);
    });

    it("reports with the policy's description as the CLI does, at the config's enforcement level", async () => {
        const [violation] = (await evaluatePack(openToWorld())).of("ssh-not-open-to-world");
        const description = policies.find((p) => p.name === "ssh-not-open-to-world")!.description;
        expect(violation!.diagnostic).toBe(`${description}\n${violation!.message}`);
        const downgraded = await evaluatePack(openToWorld(), {
            config: { "ssh-not-open-to-world": { enforcementLevel: "advisory" } },
        });
        expect(downgraded.of("ssh-not-open-to-world").map((v) => v.enforcementLevel)).toEqual(["advisory"]);
        expect(
            (await evaluatePack(openToWorld(), { config: { "ssh-not-open-to-world": "disabled" } })).of(
                "ssh-not-open-to-world",
            ),
        ).toEqual([]);
    });

    it("rejects config the CLI would reject", async () => {
        await expect(evaluatePack(run, { config: { "ssh-not-open-to-world": { sshPrt: 2222 } } })).rejects.toThrow(
            "policy ssh-not-open-to-world has no config property sshPrt",
        );
        await expect(evaluatePack(run, { config: { "no-such-policy": "advisory" } })).rejects.toThrow(
            "config for unknown policy no-such-policy",
        );
        await expect(
            evaluatePack(run, { config: { "ssh-not-open-to-world": { allowSshFromAnywhere: "yes" } } }),
        ).rejects.toThrow("config allowSshFromAnywhere must be boolean, not string");
    });

    it("passes stack tags, and lets a policy mark itself not applicable", async () => {
        const seen: string[] = [];
        const result = await evaluatePolicies(
            [
                {
                    name: "probe",
                    description: "records what it is given: a test double",
                    validateStack: (args) => {
                        seen.push(args.stackTags.get("team") ?? "none");
                        args.notApplicable("nothing to do");
                    },
                },
            ],
            harnessResources(run),
            { stackTags: { team: "platform" } },
        );
        expect(seen).toEqual(["platform"]);
        expect(result.notApplicable).toEqual([{ policyName: "probe", urn: undefined, reason: "nothing to do" }]);
    });
});
