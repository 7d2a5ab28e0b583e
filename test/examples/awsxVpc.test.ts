// examples/awsx-vpc as the Pulumi CLI would run it (its Pulumi.yaml and Pulumi.dev.yaml, its entry module
// importing "jumpgate"), under the mock runtime with the simulated AWS answering awsx.ec2.Vpc.
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveProgramDir, runEntry } from "../../offline/programDir";
import { OfflineRun, readStackConfig, runOffline } from "../../offline/run";
import { named, ofType, T } from "../helpers/program";

const dir = path.resolve(__dirname, "../../examples/awsx-vpc");
let run: OfflineRun;

beforeAll(async () => {
    const program = resolveProgramDir(dir);
    run = await runOffline({
        stack: "dev",
        config: readStackConfig("dev", program.projectDir),
        project: program.project,
        program: () => runEntry(program.entry),
    });
});

const awsxSubnet = (name: string) => named(run, T.subnet, name);

describe("examples/awsx-vpc", () => {
    it("is its own project, with the VPC awsx builds: one public and one private subnet per configured zone", () => {
        expect(resolveProgramDir(dir).project).toBe("jumpgate-awsx-example");
        const vpc = named(run, "awsx:ec2:Vpc", "app");
        expect(vpc.custom).toBe(false);
        const subnets = ofType(run, T.subnet).map((s) => `${s.name} ${String(s.inputs.availabilityZone)}`);
        expect(subnets.sort()).toEqual(
            [
                "app-private-1 eu-central-1a",
                "app-private-2 eu-central-1b",
                "app-public-1 eu-central-1a",
                "app-public-2 eu-central-1b",
            ].sort(),
        );
        // The only VPC is awsx's: jumpgate adds none of its own for an existing network.
        expect(ofType(run, T.vpc).map((v) => v.parent)).toEqual(["awsx:ec2:Vpc::app"]);
    });

    it("puts jumpgate's bastion in the awsx VPC's first public subnet, and the example's hosts in its private ones", () => {
        const bastion = named(run, T.instance, "edge-bastion-instance");
        expect(bastion.inputs.subnetId).toBe(awsxSubnet("app-public-1").id);
        expect(named(run, T.instance, "app-1").inputs.subnetId).toBe(awsxSubnet("app-private-1").id);
        expect(named(run, T.instance, "app-2").inputs.subnetId).toBe(awsxSubnet("app-private-2").id);
        // The bastion's group lives in the awsx VPC.
        const awsxVpcId = named(run, T.vpc, "app").id;
        expect(named(run, T.sg, "edge-bastion").inputs.vpcId).toBe(awsxVpcId);
        expect(named(run, T.sg, "app-hosts").inputs.vpcId).toBe(awsxVpcId);
    });

    it("exports a client config that jumps through the bastion's Elastic IP", () => {
        const eip = named(run, T.eip, "edge-bastion-eip").state.publicIp as string;
        expect(run.outputs.bastionPublicIp).toBe(eip);
        expect(run.outputs.sshConfig).toContain(`Host dev-bastion\n  HostName ${eip}\n`);
        expect(run.outputs.knownHosts).toMatch(/^dev-bastion ssh-ed25519 /m);
    });

    it("opens the example's own host group only, with one SSH rule from the last hop's group", () => {
        const hostsGroup = named(run, T.sg, "app-hosts");
        const bastionGroup = named(run, T.sg, "edge-bastion");
        const intoHosts = ofType(run, T.ingress).filter((r) => r.inputs.securityGroupId === hostsGroup.id);
        // The example's own rules: none inbound, so anything here is jumpgate's.
        expect(intoHosts.length).toBeLessThanOrEqual(1);
        for (const rule of intoHosts) {
            expect(rule.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 22, toPort: 22 });
            expect(rule.inputs.referencedSecurityGroupId).toBe(bastionGroup.id);
        }
    });

    // Both hosts pass the same output object (the example's group id): jumpgate knows they share the group
    // before it resolves and adds one rule, as EC2 takes it only once.
    it("reaches both hosts: one ingress rule from the bastion's group and a client entry for each", () => {
        const hostsGroup = named(run, T.sg, "app-hosts");
        const intoHosts = ofType(run, T.ingress).filter((r) => r.inputs.securityGroupId === hostsGroup.id);
        expect(intoHosts).toHaveLength(1);
        for (const host of ["app-1", "app-2"]) {
            const ip = named(run, T.instance, host).state.privateIp as string;
            expect(run.outputs.sshConfig).toContain(`Host dev-${host}\n  HostName ${ip}\n`);
            expect(run.outputs.sshConfig).toMatch(new RegExp(`Host dev-${host}\\n[^]*?User admin\\n`));
        }
    });
});
