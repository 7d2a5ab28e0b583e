// Existing hosts on the real program under mocks: the one rule jumpgate adds to a group it does not own,
// the last hop's forwarding (PermitOpen, and each role's permitopen), the client entries and outputs.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Jumpgate } from "../../components/jumpgate";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { decodeUserData } from "../../components/render/userDataSize";
import { AUTHORIZED_CAS_DIR, SSHD_DROPIN_PATH } from "../../components/render/sshd";
import { ed25519KeyPair, seedFrom } from "../../offline/sshKeys";
import { OfflineRun, runOffline } from "../../offline/run";
import { named, ofType, plan, T } from "../helpers/program";

const VPC = "vpc-0123456789abcdef0";
const existingVpc = {
    vpcId: VPC,
    publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
    privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
};
const existingSubnets = {
    "subnet-0aaaaaaaaaaaaaaa1": { vpcId: VPC, cidrBlock: "172.31.0.0/20" },
    "subnet-0bbbbbbbbbbbbbbb1": { vpcId: VPC, cidrBlock: "172.31.16.0/20" },
};
const SG_WEB = "sg-0aaaaaaaaaaaaaaa1";
const SG_DB = "sg-0bbbbbbbbbbbbbbb1";
const HOST_KEY = ed25519KeyPair(seedFrom("legacy-1 host")).publicKeyOpenssh.trim();
const EXISTING = [
    {
        name: "legacy-1",
        privateIp: "172.31.40.5",
        securityGroupId: SG_WEB,
        loginUser: "admin",
        sshPort: 2222,
        hostPublicKey: HOST_KEY,
    },
    // Same group and port as legacy-1: EC2 takes that permission once.
    { name: "legacy-2", privateIp: "172.31.40.6", securityGroupId: SG_WEB, loginUser: "admin", sshPort: 2222 },
    { name: "db-old", privateIp: "172.31.41.9", securityGroupId: SG_DB },
];
const CONFIG = {
    "jumpgate:existingVpc": existingVpc,
    "jumpgate:targets": [{ name: "app-1" }],
    "jumpgate:existingHosts": EXISTING,
};

/** Every standalone rule on `groupId`, as `in|out proto port peer`. */
function rulesOn(run: OfflineRun, groupId: string): string[] {
    return [T.ingress, T.egress].flatMap((type) =>
        ofType(run, type)
            .filter((r) => r.inputs.securityGroupId === groupId)
            .map(
                (r) =>
                    `${type === T.ingress ? "in" : "out"} ${String(r.inputs.ipProtocol)} ${String(r.inputs.fromPort)}-${String(r.inputs.toPort)} ${String(r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4)}`,
            ),
    );
}

const userDataFile = (run: OfflineRun, instance: string, path: string) =>
    parseCloudConfig(decodeUserData(named(run, T.instance, instance).inputs)).write_files.find((f) => f.path === path)!
        .content;
const permitOpen = (run: OfflineRun, instance: string) =>
    /PermitOpen (.+)$/m.exec(userDataFile(run, instance, SSHD_DROPIN_PATH).split("Match Group")[1]!)![1]!.split(" ");

describe("existing hosts from the stack config", () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan(CONFIG, "test", { existingSubnets });
    });

    it("adds one ingress rule to each host's own group: SSH on its port from the last hop's group, nothing else", () => {
        const bastionGroup = named(run, T.sg, "test-bastion").id;
        expect(rulesOn(run, SG_WEB)).toEqual([`in tcp 2222-2222 ${bastionGroup}`]);
        expect(rulesOn(run, SG_DB)).toEqual([`in tcp 22-22 ${bastionGroup}`]);
        expect(named(run, T.ingress, "test-db-old-ssh-from-bastion").inputs.securityGroupId).toBe(SG_DB);
        // The groups are the hosts' own: jumpgate creates none for them.
        expect(ofType(run, T.sg).map((g) => g.name)).toEqual(["test-bastion", "test-targets"]);
    });

    it("lets the last hop open SSH to exactly each host's address and port", () => {
        const out = rulesOn(run, named(run, T.sg, "test-bastion").id).filter((r) => r.startsWith("out"));
        expect(out).toEqual(
            expect.arrayContaining([
                "out tcp 2222-2222 172.31.40.5/32",
                "out tcp 2222-2222 172.31.40.6/32",
                "out tcp 22-22 172.31.41.9/32",
            ]),
        );
    });

    it("lets the last hop forward to each host's address and port, after the targets", () => {
        const ips = run.outputs.targets as Record<string, string>;
        expect(permitOpen(run, "test-bastion-instance")).toEqual([
            `${ips["app-1"]}:22`,
            "172.31.40.5:2222",
            "172.31.40.6:2222",
            "172.31.41.9:22",
        ]);
    });

    it("keeps targets to the built hosts and lists existing hosts with whether their key is pinned", () => {
        expect(Object.keys(run.outputs.targets as object)).toEqual(["app-1"]);
        expect(run.outputs.existingHosts).toEqual({
            "legacy-1": { privateIp: "172.31.40.5", pinned: true },
            "legacy-2": { privateIp: "172.31.40.6", pinned: false },
            "db-old": { privateIp: "172.31.41.9", pinned: false },
        });
    });

    it("pins a known host key under the alias and pins nothing for the others", () => {
        const known = String(run.outputs.knownHosts).split("\n");
        expect(known).toContain(`test-legacy-1 ${HOST_KEY.split(" ").slice(0, 2).join(" ")}`);
        expect(known.filter((l) => /^test-(legacy-2|db-old) /.test(l))).toEqual([]);
        const config = String(run.outputs.sshConfig);
        expect(config).toContain("# UNPINNED existing host legacy-2");
        expect(config).toContain("npx jumpgate-ssh pin test-db-old --fingerprint SHA256:<fingerprint>");
        expect(config).not.toContain("# UNPINNED existing host legacy-1");
        expect((run.outputs.sshCommands as { ssh: Record<string, string> }).ssh["legacy-2"]).toBe("ssh test-legacy-2");
    });

    it("leaves stacks without existing hosts without the output", async () => {
        const plain = await plan({ "jumpgate:existingVpc": existingVpc }, "test", { existingSubnets });
        expect(Object.keys(plain.outputs)).not.toContain("existingHosts");
    });
});

describe("existing hosts with team access", () => {
    it("gives a role reaching legacy-* the hosts in its permitopen on the last hop, and no one else", async () => {
        const key = (who: string) => ed25519KeyPair(seedFrom(`team-${who}`)).publicKeyOpenssh;
        const run = await plan(
            {
                ...CONFIG,
                "jumpgate:userCa": "stack",
                "jumpgate:roles": [{ name: "legacy", targets: ["legacy-*"] }],
                "jumpgate:operators": [
                    { name: "alice", role: "admin", publicKeys: [key("alice")] },
                    { name: "lee", role: "legacy", publicKeys: [key("lee")] },
                ],
            },
            "test",
            { existingSubnets },
        );
        const lines = userDataFile(run, "test-bastion-instance", `${AUTHORIZED_CAS_DIR}/jump`).trim().split("\n");
        const legacy = lines.find((l) => l.includes('principals="legacy"'))!;
        expect(legacy.split(" ")[0]).toBe(
            'cert-authority,principals="legacy",permitopen="172.31.40.5:2222",permitopen="172.31.40.6:2222"',
        );
        const roles = run.outputs.roleSshConfigs as Record<string, { sshConfig: string }>;
        expect(roles.legacy!.sshConfig).toContain("Host test-legacy-1\n");
        expect(roles.legacy!.sshConfig).toContain("Host test-legacy-2\n");
        expect(roles.legacy!.sshConfig).not.toContain("Host test-db-old\n");
        expect(roles.legacy!.sshConfig).not.toContain("Host test-app-1\n");
        // The existing host's own account, not a role account jumpgate would have made.
        expect(/Host test-legacy-1\n(?:  .*\n)*?  User (\S+)/.exec(roles.legacy!.sshConfig)![1]).toBe("admin");
    });
});

describe("existing hosts given to Jumpgate as outputs of the program's own resources", () => {
    it("opens the host's group, forwards to it and renders its entry once the outputs resolve", async () => {
        const run = await runOffline({
            stack: "lib",
            project: "platform",
            config: { "aws:region": "eu-central-1" },
            existingSubnets,
            existingSecurityGroups: { [SG_DB]: { vpcId: VPC } },
            program: () => {
                const jg = new Jumpgate("edge", {
                    allowedCidrs: ["203.0.113.0/24"],
                    network: {
                        vpcId: pulumi.output(VPC),
                        publicSubnetIds: [pulumi.output("subnet-0aaaaaaaaaaaaaaa1")],
                        privateSubnetIds: [pulumi.output("subnet-0bbbbbbbbbbbbbbb1")],
                    },
                    hosts: [
                        { name: "app-1" },
                        {
                            name: "db-old",
                            privateIp: pulumi.output("172.31.41.9"),
                            securityGroupId: pulumi.output(SG_DB),
                            hostPublicKey: pulumi.output(HOST_KEY),
                        },
                    ],
                });
                return { sshConfig: jg.sshConfig, knownHosts: jg.knownHosts, existingHosts: jg.existingHosts };
            },
        });
        expect(rulesOn(run, SG_DB)).toEqual([`in tcp 22-22 ${named(run, T.sg, "edge-bastion").id}`]);
        expect(permitOpen(run, "edge-bastion-instance")).toContain("172.31.41.9:22");
        expect(String(run.outputs.sshConfig)).toMatch(/Host lib-db-old\n  HostName 172\.31\.41\.9\n/);
        expect(String(run.outputs.knownHosts)).toContain(`lib-db-old ${HOST_KEY.split(" ").slice(0, 2).join(" ")}`);
        expect(run.outputs.existingHosts).toEqual({ "db-old": { privateIp: "172.31.41.9", pinned: true } });
    });
});
