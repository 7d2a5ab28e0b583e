// `npm run plan` as a user runs it: the tree, the outputs, secrets redacted, and clear failures.
import { spawnSync } from "node:child_process";
import { mkdtempSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");
const planScript = path.join(root, "scripts/plan.ts");

function runPlan(args: string[], cwd = root) {
    return spawnSync(tsx, [planScript, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
}

describe("npm run plan", () => {
    it("prints the resource tree and outputs of the dev stack, with the private key redacted", () => {
        const r = runPlan(["--stack", "dev"]);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("this is not `pulumi preview`");
        expect(r.stdout).toMatch(/jumpgate:index:Jumpgate {2}dev/);
        expect(r.stdout).toMatch(/├─ jumpgate:index:Network {2}dev/);
        expect(r.stdout).toContain(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule  dev-bastion-ssh-in-0  tcp/22 from 203.0.113.0/24",
        );
        expect(r.stdout).toContain("privateKeyOpenssh: [secret]");
        expect(r.stdout).not.toContain("PRIVATE KEY");
        expect(r.stdout).toContain("ProxyJump dev-bastion");
        expect(r.stdout).toMatch(/Estimated monthly cost, eu-central-1, on-demand, 730 h\/month/);
        expect(r.stdout).toMatch(/dev-bastion-instance {2}t4g\.nano instance\s+\$\d+\.\d\d/);
        expect(r.stdout).toMatch(/ {2}Total\s+\$\d+\.\d\d\n/);
    });

    it("says which image each host boots, and how to pin it", () => {
        const r = runPlan(["--stack", "dev"]);
        expect(r.status).toBe(0);
        const images = r.stdout.slice(r.stdout.indexOf("Images ("), r.stdout.indexOf("Outputs:"));
        for (const host of ["dev-bastion-instance", "dev-app-1", "dev-db-1"])
            expect(images).toMatch(
                new RegExp(
                    `  ${host}  (ami-[0-9a-f]{17}) debian-13-arm64-\\d{8}-\\d{4}  newest debian-13/arm64 image, recorded in state at the first deploy; ` +
                        `pin it: pulumi config set --path 'amiIds\\["debian-13/arm64"\\]' \\1\n`,
                ),
            );
    });

    it("shows secrets only with --show-secrets", () => {
        const r = runPlan(["--stack", "dev", "--show-secrets", "--json"]);
        expect(r.status).toBe(0);
        const outputs = JSON.parse(r.stdout) as Record<string, string>;
        expect(outputs.privateKeyOpenssh).toContain("BEGIN OPENSSH PRIVATE KEY");
    });

    it("exits non-zero with the validation message on bad config, and creates nothing", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-plan-"));
        cpSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        writeFileSync(
            path.join(dir, "Pulumi.bad.yaml"),
            "config:\n  jumpgate:allowedCidrs:\n    - 0.0.0.0/0\n  jumpgate:os: windows\n",
        );
        const r = spawnSync(tsx, [planScript, "--stack", "bad"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("2 configuration problems, nothing was created");
        expect(r.stderr).toContain("pulumi config set allowSshFromAnywhere true");
        expect(r.stderr).toContain("pulumi config set os debian-13");
        expect(r.stdout).toBe("");
    });

    it("names the missing stack file", () => {
        const r = runPlan(["--stack", "nope"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("Pulumi.nope.yaml");
    });

    it("saves a plan without secrets and compares a changed stack against it", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "jg-compare-"));
        cpSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const stackFile = path.join(dir, "Pulumi.day2.yaml");
        const config = "config:\n  aws:region: eu-central-1\n  jumpgate:allowedCidrs:\n    - 203.0.113.0/24\n";
        writeFileSync(stackFile, `${config}  jumpgate:targets:\n    - name: app-1\n    - name: app-2\n`);
        const savedFile = path.join(dir, "before.json");
        const save = runPlan(["--stack", "day2", "--save", savedFile], dir);
        expect(save.status).toBe(0);
        expect(save.stderr).toContain(`to ${savedFile} (secret inputs as salted digests)`);
        const saved = readFileSync(savedFile, "utf8");
        expect(saved).not.toContain("PRIVATE KEY");
        expect(saved).toContain('"secretDigest": "sha256:');

        writeFileSync(stackFile, `${config}  jumpgate:targets:\n    - name: app-1\n`);
        const r = runPlan(["--stack", "day2", "--compare", savedFile], dir);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("jumpgate offline plan comparison: stack day2");
        expect(r.stdout).toContain("!!! 1 instance(s) will be DESTROYED: day2-app-2");
        expect(r.stdout).toContain("-/+ REPLACE  aws:ec2/instance:Instance  day2-bastion-instance");
        expect(r.stdout).toMatch(/Estimated monthly cost: \$\d+\.\d\d -> \$\d+\.\d\d/);
        expect(r.stdout).not.toContain("PRIVATE KEY");
    });

    it("refuses a file that is not a saved plan, before running anything", () => {
        const r = runPlan(["--stack", "dev", "--compare", path.join(root, "package.json")]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("is not a saved jumpgate plan");
        expect(r.stderr).toContain("npm run plan -- --save");
        expect(r.stdout).toBe("");
    });
});
