import { decodeUserData, encodedUserDataBytes } from "../../components/render/userDataSize";
// The program's resources and outputs, asserted on what it registers under the mock runtime.
import { amiQuery } from "../../components/ami";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCloudConfig } from "../../components/render/cloudConfig";
import { contains, parseCidr } from "../../components/net/cidr";
import { OfflineRun, resourceKey } from "../../offline/run";
import { BASE_CONFIG, named, ofType, plan, T } from "../helpers/program";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPgcPxffI2idXW8LzCZGLrW9whC5VPh63Wf0tHvsFk0c op@laptop";
const str = (v: unknown) => String(v);

describe("default stack", () => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await plan({ "jumpgate:targets": [{ name: "app-1" }, { name: "db-1", instanceType: "t3.small" }] });
    });

    it("creates a VPC with two public and two private subnets, none assigning public IPs", () => {
        expect(named(run, T.vpc, "test-vpc").inputs.cidrBlock).toBe("10.42.0.0/16");
        const subnets = ofType(run, T.subnet);
        expect(subnets.map((s) => `${s.name} ${str(s.inputs.cidrBlock)} ${str(s.inputs.availabilityZone)}`)).toEqual([
            "test-public-0 10.42.0.0/18 eu-central-1a",
            "test-public-1 10.42.64.0/18 eu-central-1b",
            "test-private-0 10.42.128.0/18 eu-central-1a",
            "test-private-1 10.42.192.0/18 eu-central-1b",
        ]);
        for (const s of subnets) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    });

    it("routes only public subnets to the internet gateway and private ones through one NAT", () => {
        const routeTables = ofType(run, "aws:ec2/routeTable:RouteTable");
        const igw = ofType(run, "aws:ec2/internetGateway:InternetGateway")[0]!;
        const nat = ofType(run, T.nat);
        expect(nat).toHaveLength(1);
        const routes = (name: string) =>
            routeTables.find((r) => r.name === name)!.inputs.routes as Record<string, string>[];
        expect(routes("test-public-rt")).toEqual([
            expect.objectContaining({ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }),
        ]);
        expect(routes("test-private-rt-0")).toEqual([
            expect.objectContaining({ cidrBlock: "0.0.0.0/0", natGatewayId: nat[0]!.id }),
        ]);
    });

    it("sends all VPC traffic to flow logs kept 90 days", () => {
        const flowLog = ofType(run, T.flowLog)[0]!;
        const group = ofType(run, T.logGroup)[0]!;
        expect(flowLog.inputs).toMatchObject({
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: group.state.arn,
        });
        expect(flowLog.inputs.vpcId).toBe(named(run, T.vpc, "test-vpc").id);
        expect(group.inputs.retentionInDays).toBe(90);
    });

    it("empties the VPC's default security group", () => {
        const dsg = ofType(run, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")[0]!;
        expect(dsg.inputs.ingress ?? []).toEqual([]);
        expect(dsg.inputs.egress ?? []).toEqual([]);
    });

    describe("security groups", () => {
        const groupId = (name: string) => named(run, T.sg, name).id;
        const rulesOf = (type: string, name: string) =>
            ofType(run, type).filter((r) => r.inputs.securityGroupId === groupId(name));

        it("use separate rule resources, never inline rules", () => {
            for (const g of ofType(run, T.sg)) {
                expect(g.inputs.ingress ?? []).toEqual([]);
                expect(g.inputs.egress ?? []).toEqual([]);
            }
        });

        it("let SSH reach the bastion only from allowedCidrs on the SSH port", () => {
            const ingress = rulesOf(T.ingress, "test-bastion");
            expect(
                ingress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
            ).toEqual([["tcp", 22, 22, "203.0.113.0/24"]]);
        });

        it("let the bastion open SSH only to the targets' group, plus 80/443 for updates", () => {
            const egress = rulesOf(T.egress, "test-bastion").map((r) => ({
                port: r.inputs.fromPort,
                to: r.inputs.referencedSecurityGroupId
                    ? `sg:${str(r.inputs.referencedSecurityGroupId)}`
                    : r.inputs.cidrIpv4,
            }));
            expect(egress).toEqual(
                expect.arrayContaining([
                    { port: 22, to: `sg:${groupId("test-targets")}` },
                    { port: 80, to: "0.0.0.0/0" },
                    { port: 443, to: "0.0.0.0/0" },
                ]),
            );
            expect(egress).toHaveLength(3);
        });

        it("let targets accept SSH only from the bastion's group, never a CIDR", () => {
            const ingress = rulesOf(T.ingress, "test-targets");
            expect(ingress).toHaveLength(1);
            expect(ingress[0]!.inputs).toMatchObject({
                ipProtocol: "tcp",
                fromPort: 22,
                toPort: 22,
                referencedSecurityGroupId: groupId("test-bastion"),
            });
            expect(ingress[0]!.inputs.cidrIpv4).toBeUndefined();
            expect(ingress[0]!.inputs.cidrIpv6).toBeUndefined();
            const egress = rulesOf(T.egress, "test-targets").map((r) => r.inputs.fromPort);
            expect(egress.sort()).toEqual([443, 80]);
        });

        it("describe every rule", () => {
            for (const r of [...ofType(run, T.ingress), ...ofType(run, T.egress)])
                expect(str(r.inputs.description).length).toBeGreaterThan(5);
        });
    });

    describe("instances", () => {
        const instances = () => ofType(run, T.instance);

        it("require IMDSv2 with hop limit 1 and encrypted gp3 root volumes", () => {
            expect(instances()).toHaveLength(3);
            for (const i of instances()) {
                expect(i.inputs.metadataOptions, i.name).toMatchObject({
                    httpTokens: "required",
                    httpPutResponseHopLimit: 1,
                    httpEndpoint: "enabled",
                });
                expect(i.inputs.rootBlockDevice, i.name).toMatchObject({
                    encrypted: true,
                    volumeType: "gp3",
                    volumeSize: 8,
                });
                expect(i.inputs.userDataReplaceOnChange, i.name).toBe(true);
            }
        });

        it("leave the public IP flag unset only on the Elastic IP bastion, so a refresh does not replace it", () => {
            // With an Elastic IP the provider reads associatePublicIpAddress back as true; `false` in the
            // program would then force a replacement on every refresh (terraform-provider-aws#37318).
            const bastion = named(run, T.instance, "test-bastion-instance");
            expect("associatePublicIpAddress" in bastion.inputs).toBe(false);
            expect(ofType(run, T.eipAssociation).map((a) => a.inputs.instanceId)).toEqual([bastion.id]);
            // Targets have no Elastic IP: false is what AWS reports, and keeps them off the internet.
            for (const t of ["test-app-1", "test-db-1"])
                expect(named(run, T.instance, t).inputs.associatePublicIpAddress, t).toBe(false);
        });

        it("place targets at fixed private addresses in private subnets, without public IPs", () => {
            const privateSubnets = ofType(run, T.subnet).filter((s) => s.name.includes("private"));
            const appTarget = named(run, T.instance, "test-app-1");
            const dbTarget = named(run, T.instance, "test-db-1");
            expect(appTarget.inputs.privateIp).toBe("10.42.128.10");
            expect(dbTarget.inputs.privateIp).toBe("10.42.192.10");
            for (const t of [appTarget, dbTarget]) {
                const subnet = privateSubnets.find((s) => s.id === t.inputs.subnetId);
                expect(subnet, t.name).toBeDefined();
                expect(contains(parseCidr(str(subnet!.inputs.cidrBlock)), str(t.inputs.privateIp))).toBe(true);
                expect(t.inputs.tags).toMatchObject({ "jumpgate:role": "target" });
                // Only the audit trail's own profile (writing its log stream; see auditTrail.test.ts).
                expect(t.inputs.iamInstanceProfile).toBe(
                    named(run, "aws:iam/instanceProfile:InstanceProfile", `${t.name}-profile`).state.name,
                );
            }
            expect(appTarget.inputs.vpcSecurityGroupIds).toEqual([named(run, T.sg, "test-targets").id]);
        });

        it("put the bastion in a public subnet behind an Elastic IP, with Session Manager access", () => {
            const bastion = named(run, T.instance, "test-bastion-instance");
            expect(bastion.inputs.subnetId).toBe(named(run, T.subnet, "test-public-0").id);
            expect(bastion.inputs.vpcSecurityGroupIds).toEqual([named(run, T.sg, "test-bastion").id]);
            expect(bastion.inputs.tags).toMatchObject({ "jumpgate:role": "bastion" });
            const association = ofType(run, T.eipAssociation)[0]!;
            expect(association.inputs.instanceId).toBe(bastion.id);
            expect(association.inputs.allocationId).toBe(named(run, T.eip, "test-bastion-eip").state.allocationId);
            // Session Manager on the bastion only: the one managed policy attached anywhere.
            const [ssm, ...others] = ofType(run, T.rolePolicyAttachment);
            expect(others).toEqual([]);
            expect(ssm!.inputs.policyArn).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
            expect(ssm!.inputs.role).toBe(named(run, "aws:iam/role:Role", "test-bastion-role").state.name);
            expect(bastion.inputs.iamInstanceProfile).toBe(
                named(run, "aws:iam/instanceProfile:InstanceProfile", "test-bastion-profile").state.name,
            );
        });

        it("look up Debian 13 AMIs once per architecture, shared by every host of it", () => {
            const amiCalls = run.calls.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
            const archOf = (c: (typeof amiCalls)[number]) =>
                (c.inputs.filters as { name: string; values: string[] }[]).find((f) => f.name === "architecture")!
                    .values[0];
            expect(amiCalls.map(archOf).sort()).toEqual(["arm64", "x86_64"]);
            const arm = amiCalls.find((c) => archOf(c) === "arm64")!;
            for (const host of ["test-bastion-instance", "test-app-1"])
                expect(named(run, T.instance, host).inputs.ami, host).toBe(arm.result.id);
            for (const c of amiCalls) {
                expect(c.inputs.owners).toEqual(["136693071363"]);
                expect(c.inputs.mostRecent).toBe(true);
            }
            const db = named(run, T.instance, "test-db-1");
            const x86 = amiCalls.find((c) => archOf(c) === "x86_64")!;
            expect(db.inputs.ami).toBe(x86.result.id);
            expect(x86.inputs.nameRegex).toBe("^debian-13-amd64-\\d+-\\d+$");
        });

        it("look up Debian 13 from Debian's account with a regex that keeps backports images out", () => {
            const q = amiQuery("debian-13", "arm64");
            expect(q.owners).toEqual(["136693071363"]);
            expect(q.nameRegex).toBe("^debian-13-arm64-\\d+-\\d+$");
            expect(new RegExp(q.nameRegex!).test("debian-13-backports-arm64-20261101-2100")).toBe(false);
            expect(new RegExp(q.nameRegex!).test("debian-13-arm64-20261101-2100")).toBe(true);
            expect(q.filters).toContainEqual({ name: "name", values: ["debian-13-arm64-*"] });
        });

        it("boot each host with a cloud-config holding its own pinned host key, passed as a secret", () => {
            const hostKeys = ofType(run, T.privateKey);
            for (const [instanceName, host] of [
                ["test-bastion-instance", "bastion"],
                ["test-app-1", "app-1"],
                ["test-db-1", "db-1"],
            ] as const) {
                const instance = named(run, T.instance, instanceName);
                const doc = parseCloudConfig(decodeUserData(instance.inputs));
                const key = hostKeys.find((k) => k.name === `test-${host}-host`)!;
                expect(doc.ssh_keys?.ed25519_private).toBe(key.state.privateKeyOpenssh);
                expect(doc.ssh_keys?.ed25519_public?.trim()).toBe(str(key.state.publicKeyOpenssh).trim());
                expect(instance.secretInputs, instanceName).toContain(
                    typeof instance.inputs.userData === "string" ? "userData" : "userDataBase64",
                );
            }
        });

        it("install the signed SSM agent on the Debian bastion from its region, within AWS's 16 KiB user data", () => {
            const bastion = parseCloudConfig(decodeUserData(named(run, T.instance, "test-bastion-instance").inputs));
            // Before the CloudWatch agent's unit, which comes last (see auditTrail.test.ts).
            expect(bastion.runcmd?.at(-2)).toEqual([
                "systemctl",
                "enable",
                "--now",
                "--no-block",
                "jumpgate-ssm-agent.service",
            ]);
            const unit = bastion.write_files.find((f) => f.path === "/etc/systemd/system/jumpgate-ssm-agent.service");
            expect(unit?.content).toContain(
                "ExecStart=/usr/local/sbin/jumpgate-install-ssm-agent https://s3.eu-central-1.amazonaws.com/amazon-ssm-eu-central-1/latest",
            );
            // Targets have no SSM agent (their instance profile only writes their audit stream).
            expect(decodeUserData(named(run, T.instance, "test-app-1").inputs)).not.toContain("ssm-agent");
            // What EC2 counts: the text, or the gzipped document behind userDataBase64.
            for (const i of ofType(run, T.instance))
                expect(encodedUserDataBytes(decodeUserData(i.inputs)), i.name).toBeLessThanOrEqual(16 * 1024);
        });

        it("boot only after every subnet routes to the internet, so cloud-init can install packages", () => {
            const associations = ofType(run, "aws:ec2/routeTableAssociation:RouteTableAssociation").map((r) =>
                resourceKey(r.type, r.name),
            );
            expect(associations).toHaveLength(4);
            for (const i of ofType(run, T.instance))
                expect(i.dependsOn.sort(), i.name).toEqual([...associations].sort());
        });

        it("keep host keys out of the instances' subtree, so replacing an instance keeps its key", () => {
            const keys = ofType(run, T.privateKey);
            expect(keys.map((k) => k.name).sort()).toEqual([
                "test-app-1-host",
                "test-bastion-host",
                "test-db-1-host",
                "test-operator",
            ]);
            for (const k of keys) expect(k.parent).toBe(resourceKey("jumpgate:index:Keys", "test"));
            expect(keys.every((k) => k.inputs.algorithm === "ED25519")).toBe(true);
        });
    });

    describe("outputs", () => {
        it("are exactly the documented names", () => {
            expect(Object.keys(run.outputs).sort()).toEqual(
                [
                    "auditAlarmTopicArn",
                    "auditLogGroupName",
                    "bastionPublicIp",
                    "knownHosts",
                    "privateKeyOpenssh",
                    "sshCommands",
                    "sshConfig",
                    "sshConfigProxyCommand",
                    "targets",
                ].sort(),
            );
        });

        it("give the Elastic IP and each target's private address", () => {
            expect(run.outputs.bastionPublicIp).toBe(named(run, T.eip, "test-bastion-eip").state.publicIp);
            expect(run.outputs.targets).toEqual({ "app-1": "10.42.128.10", "db-1": "10.42.192.10" });
        });

        it("keep the generated private key secret and matching the authorized public key", () => {
            expect(run.secretOutputs).toEqual(["privateKeyOpenssh"]);
            const operator = named(run, T.privateKey, "test-operator");
            expect(run.outputs.privateKeyOpenssh).toBe(operator.state.privateKeyOpenssh);
            const doc = parseCloudConfig(decodeUserData(named(run, T.instance, "test-bastion-instance").inputs));
            const users = doc.users.filter((u) => u !== "default");
            expect(users.flatMap((u) => u.ssh_authorized_keys ?? [])).toContain(
                str(operator.state.publicKeyOpenssh).trim(),
            );
            // Nothing else carries a private key in clear.
            for (const [name, value] of Object.entries(run.outputs)) {
                if (name !== "privateKeyOpenssh") expect(JSON.stringify(value)).not.toContain("PRIVATE KEY");
            }
        });

        it("pin every host's key under its alias", () => {
            const keys = ofType(run, T.privateKey);
            const pub = (n: string) => str(keys.find((k) => k.name === n)!.state.publicKeyOpenssh).trim();
            expect(str(run.outputs.knownHosts).trim().split("\n")).toEqual([
                `test-bastion ${pub("test-bastion-host")}`,
                `test-app-1 ${pub("test-app-1-host")}`,
                `test-db-1 ${pub("test-db-1-host")}`,
            ]);
        });

        it("list ready commands for each target, scp through the bastion and a tunnel", () => {
            expect(run.outputs.sshCommands).toEqual({
                ssh: { "app-1": "ssh test-app-1", "db-1": "ssh test-db-1" },
                scp: "scp -J test-bastion ./file.txt test-app-1:/tmp/",
                rsync: "rsync -av -e 'ssh -J test-bastion' ./dir/ test-app-1:/tmp/dir/",
                ansible: "test-app-1 ansible_ssh_common_args='-o ProxyJump=test-bastion'",
                tunnel: "ssh -N -L 127.0.0.1:2201:10.42.128.10:22 test-bastion",
            });
        });
    });
});

describe("variants", () => {
    it("creates no NAT with natGateways none, and one per AZ with perAz", async () => {
        const none = await plan({ "jumpgate:natGateways": "none", "jumpgate:allowPrivateHostsWithoutPackages": true });
        expect(ofType(none, T.nat)).toHaveLength(0);
        const perAz = await plan({ "jumpgate:natGateways": "perAz", "jumpgate:azCount": 3 });
        const nats = ofType(perAz, T.nat);
        expect(nats).toHaveLength(3);
        const publicIds = ofType(perAz, T.subnet)
            .filter((s) => s.name.includes("public"))
            .map((s) => s.id);
        expect(nats.map((n) => n.inputs.subnetId)).toEqual(publicIds);
    });

    it("boots Ubuntu 24.04 from Canonical's images when asked", async () => {
        const run = await plan({ "jumpgate:os": "ubuntu-24.04" });
        const ami = run.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
        expect(ami.inputs.owners).toEqual(["099720109477"]);
        expect(JSON.stringify(ami.inputs.filters)).toContain("ubuntu-noble-24.04-arm64-server-*");
    });

    it("opens the configured SSH port for every allowed CIDR", async () => {
        const run = await plan({
            "jumpgate:allowedCidrs": ["203.0.113.7/32", "198.51.100.0/24"],
            "jumpgate:sshPort": 2222,
        });
        const rules = ofType(run, T.ingress).filter(
            (r) => r.inputs.securityGroupId === named(run, T.sg, "test-bastion").id,
        );
        expect(rules.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4, r.inputs.cidrIpv6])).toEqual([
            [2222, "203.0.113.7/32", undefined],
            [2222, "198.51.100.0/24", undefined],
        ]);
        expect(str(run.outputs.sshConfig)).toContain("  Port 2222");
    });

    it("uses the operator's own keys: no generated key, no privateKeyOpenssh output", async () => {
        const key = KEY;
        const run = await plan({ "jumpgate:operatorPublicKeys": [key], "jumpgate:identityFile": "~/.ssh/id_ed25519" });
        expect(ofType(run, T.privateKey).map((k) => k.name)).not.toContain("test-operator");
        expect(run.outputs.privateKeyOpenssh).toBeUndefined();
        expect(run.secretOutputs).toEqual([]);
        expect(str(run.outputs.sshConfig)).toContain("IdentityFile ~/.ssh/id_ed25519");
        const doc = parseCloudConfig(decodeUserData(named(run, T.instance, "test-app-1").inputs));
        const users = doc.users.filter((u) => u !== "default");
        expect(users.flatMap((u) => u.ssh_authorized_keys ?? [])).toEqual([key]);
    });

    describe("existing VPC", () => {
        const existingVpc = {
            vpcId: "vpc-0123456789abcdef0",
            publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
            privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
        };
        const existingSubnets = {
            "subnet-0aaaaaaaaaaaaaaa1": { vpcId: existingVpc.vpcId, cidrBlock: "172.31.0.0/20" },
            "subnet-0bbbbbbbbbbbbbbb1": { vpcId: existingVpc.vpcId, cidrBlock: "172.31.16.0/20" },
            "subnet-0bbbbbbbbbbbbbbb2": { vpcId: existingVpc.vpcId, cidrBlock: "172.31.32.0/20" },
        };

        it("creates no network resources and places hosts in the given subnets", async () => {
            const run = await plan(
                {
                    "jumpgate:existingVpc": existingVpc,
                    "jumpgate:targets": [{ name: "a1" }, { name: "a2" }, { name: "a3" }],
                },
                "test",
                { existingSubnets },
            );
            for (const type of [
                T.vpc,
                T.subnet,
                T.nat,
                "aws:ec2/internetGateway:InternetGateway",
                "aws:ec2/routeTable:RouteTable",
                T.flowLog,
            ]) {
                expect(ofType(run, type), type).toHaveLength(0);
            }
            // The one log group left is the audit trail's, not the VPC's flow logs.
            expect(ofType(run, T.logGroup).map((g) => g.name)).toEqual(["test-audit"]);
            expect(ofType(run, "jumpgate:index:Network")).toHaveLength(0);
            expect(named(run, T.sg, "test-bastion").inputs.vpcId).toBe(existingVpc.vpcId);
            expect(named(run, T.instance, "test-bastion-instance").inputs.subnetId).toBe("subnet-0aaaaaaaaaaaaaaa1");
            expect(run.outputs.targets).toEqual({ a1: "172.31.16.10", a2: "172.31.32.10", a3: "172.31.16.11" });
            expect(named(run, T.instance, "test-a2").inputs.subnetId).toBe("subnet-0bbbbbbbbbbbbbbb2");
        });

        it("fails, naming the subnet and the fix, when a subnet belongs to another VPC", () => {
            // Its own process: the failure surfaces as an unhandled rejection, as under `pulumi up`.
            const subnets = {
                ...existingSubnets,
                "subnet-0bbbbbbbbbbbbbbb2": { vpcId: "vpc-0fffffffffffffff0", cidrBlock: "10.9.0.0/24" },
            };
            const config = { ...BASE_CONFIG, "jumpgate:existingVpc": existingVpc };
            const result = spawnSync(
                path.resolve(__dirname, "../../node_modules/.bin/tsx"),
                [
                    path.resolve(__dirname, "../fixtures/planWithSubnets.ts"),
                    JSON.stringify(config),
                    JSON.stringify(subnets),
                ],
                { encoding: "utf8", timeout: 60_000 },
            );
            expect(result.status).toBe(1);
            expect(result.stderr).toContain("subnet-0bbbbbbbbbbbbbbb2, which is in vpc-0fffffffffffffff0");
            expect(result.stderr).toContain("pulumi config set --path 'existingVpc.vpcId'");
            // The same config with matching subnets plans fine.
            const ok = spawnSync(
                path.resolve(__dirname, "../../node_modules/.bin/tsx"),
                [
                    path.resolve(__dirname, "../fixtures/planWithSubnets.ts"),
                    JSON.stringify(config),
                    JSON.stringify(existingSubnets),
                ],
                { encoding: "utf8", timeout: 60_000 },
            );
            expect(ok.stdout).toContain("planned");
        });
    });

    it("is reproducible: the same config plans the same resources and outputs", async () => {
        const a = await plan();
        const b = await plan();
        expect(b.outputs).toEqual(a.outputs);
        expect(b.resources.map((r) => [r.type, r.name, r.id])).toEqual(a.resources.map((r) => [r.type, r.name, r.id]));
    });

    it("rejects bad config before registering any resource", async () => {
        await expect(plan({ "jumpgate:allowedCidrs": ["0.0.0.0/0"] })).rejects.toThrow(/allowSshFromAnywhere/);
    });
});
