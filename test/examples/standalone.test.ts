// examples/standalone run as a program directory (its entry module, under the root project) plans as the
// standalone program does, including what its config says about the account (the Elastic IP quota).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveProgramDir, runEntry } from "../../offline/programDir";
import { runOffline } from "../../offline/run";
import { ofType, T } from "../helpers/program";

describe("examples/standalone as a program directory", () => {
    it("keeps the account's Elastic IP quota from its config: 5 NAT gateways and the bastion in a quota of 6", async () => {
        const program = resolveProgramDir(path.resolve(__dirname, "../../examples/standalone"));
        const run = await runOffline({
            stack: "quota",
            project: program.project,
            config: {
                "aws:region": "us-east-1",
                "jumpgate:allowedCidrs": ["203.0.113.0/24"],
                "jumpgate:azCount": 5,
                "jumpgate:natGateways": "perAz",
                "jumpgate:elasticIpQuota": 6,
            },
            program: () => runEntry(program.entry),
        });
        expect(ofType(run, T.eip)).toHaveLength(6);
        expect(run.outputs.sshConfig).toContain("Host quota-bastion");
    });
});
