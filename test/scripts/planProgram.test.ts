// `npm run plan -- --program <dir>`: the Pulumi program in a directory, with its own project and stack
// config, planned the same way as the standalone program.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveProgramDir } from "../../offline/programDir";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");
const planScript = path.join(root, "scripts/plan.ts");

// npm runs scripts from the package root, so the plan runs there (tsx reads tsconfig.json's paths there).
function runPlan(args: string[]) {
    return spawnSync(tsx, [planScript, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
}

describe("npm run plan -- --program", () => {
    it("plans the awsx example in its own project, with awsx's VPC and jumpgate's bastion in it", () => {
        const r = runPlan(["--program", "examples/awsx-vpc"]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(
            "jumpgate offline plan: project jumpgate-awsx-example, stack dev, region eu-central-1",
        );
        expect(r.stdout).toMatch(/^awsx:ec2:Vpc {2}app {2}\[1\]\n└─ aws:ec2\/vpc:Vpc {2}app {2}10\.0\.0\.0\/16/m);
        expect(r.stdout).toMatch(/aws:ec2\/subnet:Subnet {2}app-public-1 {2}10\.0\.64\.0\/19 eu-central-1a/);
        // The bastion takes an address in that public subnet; the hosts in the private ones.
        expect(r.stdout).toMatch(/aws:ec2\/instance:Instance {2}edge-bastion-instance {2}t4g\.nano 10\.0\.64\.\d+ /);
        expect(r.stdout).toMatch(/aws:ec2\/instance:Instance {2}app-2 {2}t4g\.micro 10\.0\.128\.\d+ /);
        expect(r.stdout).toContain("app-1  ami-");
        expect(r.stdout).toContain("chosen by the program, not by jumpgate");
        // awsx's NAT gateway is priced with the rest.
        expect(r.stdout).toMatch(/ {2}app-1 {2}NAT gateway hours\s+\$\d+\.\d\d/);
        expect(r.stdout).not.toContain("NO PRICE");
    });

    it("plans the standalone program exactly as `npm run plan` does", () => {
        const viaProgram = runPlan(["--program", "examples/standalone", "--stack", "dev"]);
        const plain = runPlan(["--stack", "dev"]);
        expect(viaProgram.status).toBe(0);
        expect(plain.status).toBe(0);
        // The same resources, images and cost; outputs compared as values (a module lists its exports in
        // its own order, and the Pulumi CLI shows them sorted anyway).
        const [tree, cost] = [
            (t: string) => t.slice(0, t.indexOf("Outputs:")),
            (t: string) => t.slice(t.indexOf("Estimated")),
        ];
        expect(viaProgram.stdout).toContain("Resources: ");
        expect(tree(viaProgram.stdout)).toBe(tree(plain.stdout));
        expect(cost(viaProgram.stdout)).toBe(cost(plain.stdout));
        const outputs = (args: string[]) => JSON.parse(runPlan([...args, "--json", "--stack", "dev"]).stdout) as object;
        expect(outputs(["--program", "examples/standalone"])).toEqual(outputs([]));
    });

    it("finds the project of a directory without Pulumi.yaml by the main that points into it", () => {
        expect(resolveProgramDir(path.join(root, "examples/standalone"))).toEqual({
            project: "jumpgate",
            entry: path.join(root, "examples/standalone/index.ts"),
            projectDir: root,
        });
    });

    it("names a directory that holds no program, and exits non-zero", () => {
        const r = runPlan(["--program", "examples"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("examples has no Pulumi.yaml, and no Pulumi.yaml above it has its main there");
        expect(r.stdout).toBe("");
    });

    it("says a program in another language needs the Pulumi CLI", () => {
        const r = runPlan(["--program", "examples/yaml"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("is a yaml program; the offline plan runs Node.js programs only");
    });

    it("names the missing stack file of the program's project", () => {
        const r = runPlan(["--program", "examples/awsx-vpc", "--stack", "prod"]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(path.join(root, "examples/awsx-vpc/Pulumi.prod.yaml"));
    });
});
