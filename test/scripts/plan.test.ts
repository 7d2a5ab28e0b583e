// `npm run plan` as a user runs it: the tree, the outputs, secrets redacted, and clear failures.
import { spawnSync } from "node:child_process";
import { mkdtempSync, cpSync, writeFileSync } from "node:fs";
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
        expect(r.stdout).toMatch(/├─ jumpgate:network:Network {2}dev/);
        expect(r.stdout).toContain(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule  dev-bastion-ssh-in-0  tcp/22 from 203.0.113.0/24",
        );
        expect(r.stdout).toContain("privateKeyOpenssh: [secret]");
        expect(r.stdout).not.toContain("PRIVATE KEY");
        expect(r.stdout).toContain("ProxyJump dev-bastion");
    });

    it("says which image each host boots, and how to pin it", () => {
        const r = runPlan(["--stack", "dev"]);
        expect(r.status).toBe(0);
        const images = r.stdout.slice(r.stdout.indexOf("Images ("), r.stdout.indexOf("Outputs:"));
        for (const host of ["dev-bastion-instance", "dev-app-1", "dev-db-1"])
            expect(images).toMatch(
                new RegExp(
                    `  ${host}  (ami-[0-9a-f]{17}) debian-12-arm64-\\d{8}-\\d{4}  newest debian-12/arm64 image, recorded in state at the first deploy; ` +
                        `pin it: pulumi config set --path 'amiIds\\["debian-12/arm64"\\]' \\1\n`,
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
        expect(r.stderr).toContain("pulumi config set os debian-12");
        expect(r.stdout).toBe("");
    });

    it("names the missing stack file", () => {
        const r = runPlan(["--stack", "nope"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("Pulumi.nope.yaml");
    });
});
