import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { packConfigFor, stackConfigFile } from "../../../policies/scripts/stack-config";
import { readStackConfig, runOffline } from "../../../offline/run";
import { evaluatePack } from "../../helpers/policyHarness";

const ROOT = path.resolve(__dirname, "../../..");

describe("policies/scripts/stack-config.ts", () => {
    it("defaults to port 22 and no exception", () => {
        expect(packConfigFor({})).toEqual({
            "ssh-not-open-to-world": { sshPort: 22, allowSshFromAnywhere: false },
            "bastion-count": { expectedBastions: 1 },
        });
    });

    it("takes sshPort and allowSshFromAnywhere as `pulumi config set` stores them (strings)", () => {
        expect(packConfigFor({ "jumpgate:sshPort": "2222", "jumpgate:allowSshFromAnywhere": "true" })).toEqual({
            "ssh-not-open-to-world": { sshPort: 2222, allowSshFromAnywhere: true },
            "bastion-count": { expectedBastions: 1 },
        });
        expect(() => packConfigFor({ "jumpgate:sshPort": "ssh" })).toThrow('jumpgate:sshPort = "ssh" is not a port');
    });

    it("expects one bastion per hop of the stack's bastion chain", () => {
        const hops = [{ name: "bastion" }, { name: "inner" }];
        expect(packConfigFor({ "jumpgate:bastions": hops })["bastion-count"]).toEqual({ expectedBastions: 2 });
        expect(packConfigFor({ "jumpgate:bastions": JSON.stringify(hops) })["bastion-count"]).toEqual({
            expectedBastions: 2,
        });
    });

    it("makes the audit-trail policy advisory only for a stack that turned the audit trail off", () => {
        expect(packConfigFor({ "jumpgate:audit": "false" })["audit-trail-to-cloudwatch"]).toEqual({
            enforcementLevel: "advisory",
        });
        expect(packConfigFor({ audit: false })["audit-trail-to-cloudwatch"]).toEqual({ enforcementLevel: "advisory" });
        expect(packConfigFor({ "jumpgate:audit": "true" })).not.toHaveProperty("audit-trail-to-cloudwatch");
    });

    it("finds the stack's file from a fully qualified stack name", () => {
        expect(stackConfigFile("acme/jumpgate/dev", "/p")).toBe(path.join("/p", "Pulumi.dev.yaml"));
    });

    it("prints, for the example stack, a config the pack accepts and the stack passes", async () => {
        const result = spawnSync(
            path.join(ROOT, "node_modules/.bin/tsx"),
            [path.join(ROOT, "policies/scripts/stack-config.ts"), "dev"],
            { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
        );
        expect(result.stderr).toBe("");
        const config = JSON.parse(result.stdout) as Record<string, Record<string, unknown>>;
        expect(config).toEqual({
            "ssh-not-open-to-world": { sshPort: 22, allowSshFromAnywhere: false },
            "bastion-count": { expectedBastions: 1 },
        });
        const run = await runOffline({ stack: "dev", config: readStackConfig("dev", ROOT) });
        expect((await evaluatePack(run, { config })).mandatory()).toEqual([]);
    });
});
