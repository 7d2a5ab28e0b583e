import { beforeAll, describe, expect, it } from "vitest";
import { OfflineRun } from "../../../offline/run";
import { named, plan, T } from "../../helpers/program";
import { evaluatePack, withChange, withResource } from "../../helpers/policyHarness";

const POLICY = "ssh-not-open-to-world";
const advice =
    "List specific CIDRs (the program's allowedCidrs); to accept SSH from anywhere, set allowSshFromAnywhere " +
    "in this pack's config, as in the stack's config.";
const messages = async (run: OfflineRun, config = {}) =>
    (await evaluatePack(run, { config: { [POLICY]: config } })).of(POLICY).map((v) => v.message);

describe(POLICY, () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan();
    });
    const openBastionRule = (change: (p: Record<string, unknown>) => void) =>
        withChange(run, T.ingress, "test-bastion-ssh-in-0", change);

    it("passes the default stack", async () => {
        expect(await messages(run)).toEqual([]);
    });

    it("catches an aws.vpc.SecurityGroupIngressRule from 0.0.0.0/0", async () => {
        const bad = openBastionRule((p) => (p.cidrIpv4 = "0.0.0.0/0"));
        expect(await messages(bad)).toEqual([`test-bastion-ssh-in-0 opens SSH (port 22) to 0.0.0.0/0. ${advice}`]);
    });

    it("catches the IPv6 form ::/0", async () => {
        const bad = openBastionRule((p) => {
            delete p.cidrIpv4;
            p.cidrIpv6 = "::/0";
        });
        expect(await messages(bad)).toEqual([`test-bastion-ssh-in-0 opens SSH (port 22) to ::/0. ${advice}`]);
    });

    it("catches an inline rule of aws.ec2.SecurityGroup", async () => {
        const bad = withChange(run, T.sg, "test-bastion", (p) => {
            p.ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] }];
        });
        expect(await messages(bad)).toEqual([`ingress[0] opens SSH (port 22) to 0.0.0.0/0. ${advice}`]);
    });

    it("catches an aws.ec2.SecurityGroupRule that allows all protocols from ::/0", async () => {
        const bad = withResource(run, {
            type: "aws:ec2/securityGroupRule:SecurityGroupRule",
            name: "extra-all",
            inputs: {
                type: "ingress",
                securityGroupId: named(run, T.sg, "test-bastion").id,
                protocol: "-1",
                fromPort: 0,
                toPort: 0,
                ipv6CidrBlocks: ["::/0"],
            },
        });
        expect(await messages(bad)).toEqual([`extra-all opens SSH (port 22) to ::/0. ${advice}`]);
    });

    it("catches a port range that includes 22, but not a world-open HTTPS rule", async () => {
        const range = openBastionRule((p) => Object.assign(p, { cidrIpv4: "0.0.0.0/0", fromPort: 1, toPort: 1024 }));
        expect(await messages(range)).toEqual([`test-bastion-ssh-in-0 opens SSH (port 22) to 0.0.0.0/0. ${advice}`]);
        const https = openBastionRule((p) => Object.assign(p, { cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 }));
        expect(await messages(https)).toEqual([]);
    });

    it("checks the configured SSH port as well as 22", async () => {
        const custom = await plan({ "jumpgate:sshPort": 2222 });
        const bad = withChange(custom, T.ingress, "test-bastion-ssh-in-0", (p) => (p.cidrIpv4 = "0.0.0.0/0"));
        expect(await messages(bad, { sshPort: 2222 })).toEqual([
            `test-bastion-ssh-in-0 opens SSH (port 2222) to 0.0.0.0/0. ${advice}`,
        ]);
        expect(await messages(custom, { sshPort: 2222 })).toEqual([]);
    });

    it("allows SSH from anywhere only through the pack's allowSshFromAnywhere, as the program does", async () => {
        const anywhere = await plan({ "jumpgate:allowedCidrs": ["0.0.0.0/0"], "jumpgate:allowSshFromAnywhere": true });
        expect(named(anywhere, T.ingress, "test-bastion-ssh-in-0").inputs.cidrIpv4).toBe("0.0.0.0/0");
        expect(await messages(anywhere)).toEqual([`test-bastion-ssh-in-0 opens SSH (port 22) to 0.0.0.0/0. ${advice}`]);
        expect(await messages(anywhere, { allowSshFromAnywhere: true })).toEqual([]);
    });
});
