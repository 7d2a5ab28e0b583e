// The CI workflows: valid GitHub Actions syntax (SchemaStore's schema, via action-validator), and the
// preview/deploy contract the README documents.
import { readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const read = (name: string) => readFileSync(path.join(ROOT, ".github/workflows", name), "utf8");

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Workflow {
    on: Record<string, unknown>;
    permissions: Record<string, string>;
    jobs: Record<string, { environment?: string; if?: string; steps: Step[] }>;
}

/** The inputs pulumi/actions declares (its action.yml); anything else is silently ignored by the action. */
const PULUMI_ACTION_INPUTS = [
    "command",
    "stack-name",
    "pulumi-version",
    "pulumi-version-file",
    "work-dir",
    "comment-on-pr",
    "comment-on-pr-number",
    "comment-on-summary",
    "github-token",
    "cloud-url",
    "secrets-provider",
    "parallel",
    "message",
    "config-map",
    "expect-no-changes",
    "diff",
    "replace",
    "target",
    "target-dependents",
    "policyPacks",
    "policyPackConfigs",
    "refresh",
    "upsert",
    "remove",
    "edit-pr-comment",
    "color",
    "exclude-protected",
    "plan",
    "suppress-outputs",
    "suppress-progress",
    "always-include-summary",
];

const secretsIn = (text: string) => [...new Set([...text.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]))].sort();

function pulumiStep(workflow: Workflow): Step {
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const pulumi = steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumi).toHaveLength(1);
    return pulumi[0]!;
}

describe.each(["preview.yml", "up.yml"])("%s", (file) => {
    const text = read(file);
    const workflow = parse(text) as Workflow;

    it("is a valid GitHub Actions workflow", () => {
        expect(validateWorkflow(text).errors).toEqual([]);
    });

    it("runs the policy pack in policies/ with the config derived from the stack", () => {
        const step = pulumiStep(workflow);
        for (const input of Object.keys(step.with ?? {})) expect(PULUMI_ACTION_INPUTS, input).toContain(input);
        expect(step.with).toMatchObject({
            "stack-name": "${{ env.PULUMI_STACK }}",
            policyPacks: "policies",
            policyPackConfigs: "${{ runner.temp }}/policy-config.json",
        });
        expect(existsSync(path.join(ROOT, "policies/PulumiPolicy.yaml"))).toBe(true);
        expect(step.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
        const runs = Object.values(workflow.jobs)
            .flatMap((j) => j.steps)
            .map((s) => s.run ?? "");
        expect(runs).toContain("npm ci --prefix policies --no-audit --no-fund");
        const configStep = runs.find((r) => r.includes("stack-config.ts"))!;
        expect(configStep).toBe(
            'npx tsx policies/scripts/stack-config.ts "$PULUMI_STACK" > "$RUNNER_TEMP/policy-config.json"',
        );
        expect(existsSync(path.join(ROOT, "policies/scripts/stack-config.ts"))).toBe(true);
    });

    it("gets AWS credentials from an OIDC role, never from stored keys", () => {
        expect(workflow.permissions["id-token"]).toBe("write");
        const aws = Object.values(workflow.jobs)
            .flatMap((j) => j.steps)
            .find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        expect(aws?.with?.["role-to-assume"]).toMatch(/^\$\{\{ secrets\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}$/);
        expect(text).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
    });
});

describe("preview.yml", () => {
    const text = read("preview.yml");
    const workflow = parse(text) as Workflow;

    it("previews pull requests and comments the result", () => {
        expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
        expect(pulumiStep(workflow).with).toMatchObject({ command: "preview", "comment-on-pr": true });
        expect(workflow.permissions["pull-requests"]).toBe("write");
        expect(secretsIn(text)).toEqual(["AWS_PREVIEW_ROLE_ARN", "GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN"]);
    });
});

describe("up.yml", () => {
    const text = read("up.yml");
    const workflow = parse(text) as Workflow;

    it("deploys main only, after approval of the production environment", () => {
        expect(workflow.on).toMatchObject({ push: { branches: ["main"] } });
        expect(workflow.jobs.up).toMatchObject({ environment: "production", if: "github.ref == 'refs/heads/main'" });
        expect(pulumiStep(workflow).with).toMatchObject({ command: "up" });
        expect(secretsIn(text)).toEqual(["AWS_DEPLOY_ROLE_ARN", "PULUMI_ACCESS_TOKEN"]);
    });
});

it("the validator rejects a broken workflow (so the checks above can fail)", () => {
    const broken = read("preview.yml").replace("    steps:\n", "    step:\n");
    expect(validateWorkflow(broken).errors).not.toEqual([]);
    expect(validateWorkflow("on: [push\njobs: [").errors[0]).toMatchObject({ code: "parse_error" });
});
