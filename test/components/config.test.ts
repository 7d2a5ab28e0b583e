import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { architectureOf, CONFIG_KEYS, ConfigError, DEFAULTS, readSettings } from "../../components/config";
import { jumpgateKeys } from "../../components/program";
import { plan } from "../helpers/program";

const GOOD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPgcPxffI2idXW8LzCZGLrW9whC5VPh63Wf0tHvsFk0c op@laptop";

function settingsFrom(values: Record<string, unknown>, stack = "dev") {
    const get = (key: string) => {
        const v = values[key];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    };
    return readSettings(get, stack, Object.keys(values));
}

/** The problems reported for `values` (fails the test if the config is accepted). */
function problemsOf(values: Record<string, unknown>, stack = "dev") {
    try {
        settingsFrom(values, stack);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
}

const base = { allowedCidrs: ["203.0.113.0/24"] };

describe("readSettings", () => {
    it("defaults everything but allowedCidrs to a safe single-target stack", () => {
        const s = settingsFrom(base);
        expect(s.network).toEqual({
            kind: "new",
            vpcCidr: "10.42.0.0/16",
            azCount: 2,
            natGateways: "single",
            flowLogRetentionDays: 90,
        });
        expect(s.targets).toEqual([{ name: "app-1", instanceType: "t4g.micro" }]);
        expect(s.bastionInstanceType).toBe("t4g.nano");
        expect(s.os).toBe("debian-13");
        expect(s.allowSshFromAnywhere).toBe(false);
        expect(s.identityFile).toBe("~/.ssh/jumpgate-dev_ed25519");
    });

    it("requires allowedCidrs and says how to set it", () => {
        const [p] = problemsOf({});
        expect(p).toMatchObject({ key: "allowedCidrs", value: undefined });
        expect(p!.fix).toBe("pulumi config set --path 'allowedCidrs[0]' <your-public-ip>/32");
    });

    it("refuses 0.0.0.0/0 unless allowSshFromAnywhere is set", () => {
        const problems = problemsOf({ allowedCidrs: ["0.0.0.0/0"] });
        expect(problems.map((p) => p.key)).toEqual(["allowedCidrs[0]"]);
        expect(problems[0]!.fix).toContain("pulumi config set allowSshFromAnywhere true");
        const s = settingsFrom({ allowedCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: "true" });
        expect(s.allowedCidrs).toEqual(["0.0.0.0/0"]);
    });

    it("rejects malformed CIDRs and proposes the network address for host bits", () => {
        const problems = problemsOf({ allowedCidrs: ["10.0.0.1/24", "bogus", "2001:db8::1/128"] });
        expect(problems.map((p) => p.key)).toEqual(["allowedCidrs[0]", "allowedCidrs[1]", "allowedCidrs[2]"]);
        expect(problems[0]!.fix).toBe("pulumi config set --path 'allowedCidrs[0]' 10.0.0.0/24");
        expect(problems[2]!.message).toContain("IPv4-only");
    });

    it("rejects overlapping allowed CIDRs", () => {
        const [p] = problemsOf({ allowedCidrs: ["203.0.113.0/24", "203.0.113.128/25"] });
        expect(p).toMatchObject({ key: "allowedCidrs[1]", value: "203.0.113.128/25" });
        expect(p!.message).toContain("overlaps 203.0.113.0/24");
    });

    it("refuses IPv6 allowed CIDRs, even ::/0 with the opt-in: nothing in the network has an IPv6 address", () => {
        const problems = problemsOf({
            allowedCidrs: ["2001:db8:1::/48", "203.0.113.7/32", "::/0"],
            allowSshFromAnywhere: "true",
        });
        expect(problems.map((p) => `${p.key}=${p.value}`)).toEqual([
            "allowedCidrs[0]=2001:db8:1::/48",
            "allowedCidrs[2]=::/0",
        ]);
        expect(problems[0]!.message).toContain("IPv4-only");
        expect(problems[0]!.message).toContain("dual-stack is not built yet");
        expect(problems[0]!.fix).toBe("pulumi config set --path 'allowedCidrs[0]' <your-public-ipv4>/32");
    });

    it("rejects an unknown os, NAT mode and bad numbers", () => {
        const problems = problemsOf({ ...base, os: "arch", natGateways: "many", sshPort: "70000", azCount: "0" });
        expect(problems.map((p) => p.key).sort()).toEqual(["azCount", "natGateways", "os", "sshPort"]);
        expect(problems.find((p) => p.key === "os")!.fix).toBe("pulumi config set os debian-13");
    });

    it("takes Debian 13 and the post-quantum-only crypto profile, and refuses an unknown profile", () => {
        const s = settingsFrom({ ...base, os: "debian-13", cryptoProfile: "pq-only" });
        expect([s.os, s.cryptoProfile]).toEqual(["debian-13", "pq-only"]);
        expect(settingsFrom(base).cryptoProfile).toBe("compatible");
        const problems = problemsOf({ ...base, cryptoProfile: "quantum" });
        expect(problems).toEqual([
            expect.objectContaining({
                key: "cryptoProfile",
                fix: "pulumi config set cryptoProfile compatible",
            }),
        ]);
    });

    it("rejects a VPC CIDR that is not an AWS-sized IPv4 block or too small for the subnets", () => {
        expect(problemsOf({ ...base, vpcCidr: "10.0.0.0/8" })[0]!.message).toContain("/16 to /28");
        expect(problemsOf({ ...base, vpcCidr: "10.0.0.0/27" })[0]!.message).toContain("too small");
    });

    it("picks the architecture from the instance type and refuses types without an AMI", () => {
        expect(architectureOf("t4g.nano")).toBe("arm64");
        expect(architectureOf("m7gd.large")).toBe("arm64");
        expect(architectureOf("c6gn.xlarge")).toBe("arm64");
        expect(architectureOf("a1.medium")).toBe("arm64");
        expect(architectureOf("t3.micro")).toBe("x86_64");
        expect(architectureOf("g5.xlarge")).toBe("x86_64");
        expect(architectureOf("mac2.metal")).toBeUndefined();
        const problems = problemsOf({
            ...base,
            bastionInstanceType: "mac2.metal",
            targets: [{ name: "a1", instanceType: "nano" }],
        });
        expect(problems.map((p) => p.key)).toEqual(["bastionInstanceType", "targets[0].instanceType"]);
    });

    it("rejects duplicate, invalid and reserved target names", () => {
        const problems = problemsOf({
            ...base,
            targets: [{ name: "web" }, { name: "web" }, { name: "Bad_Name" }, { name: "bastion" }],
        });
        expect(problems.map((p) => `${p.key}=${p.value}`)).toEqual([
            "targets[1].name=web",
            "targets[2].name=Bad_Name",
            "targets[3].name=bastion",
        ]);
        expect(problems[0]!.message).toContain("unique");
    });

    it("rejects more targets than fit in the private subnets", () => {
        const targets = Array.from({ length: 12 }, (_, i) => ({ name: `t${i + 1}` }));
        const [p] = problemsOf({ ...base, vpcCidr: "10.0.0.0/26", targets });
        expect(p!.key).toBe("targets");
        expect(p!.message).toContain("only 10 fit");
        // Exactly the capacity is fine.
        expect(settingsFrom({ ...base, vpcCidr: "10.0.0.0/26", targets: targets.slice(0, 10) }).targets).toHaveLength(
            10,
        );
    });

    it("accepts only OpenSSH ed25519 public keys with an intact blob", () => {
        expect(settingsFrom({ ...base, operatorPublicKeys: [GOOD_KEY] }).operatorPublicKeys).toEqual([GOOD_KEY]);
        const problems = problemsOf({
            ...base,
            operatorPublicKeys: [
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user",
                "-----BEGIN PUBLIC KEY-----",
                "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ mislabelled",
            ],
        });
        expect(problems.map((p) => p.key)).toEqual([
            "operatorPublicKeys[0]",
            "operatorPublicKeys[1]",
            "operatorPublicKeys[2]",
        ]);
        expect(problems[0]!.message).toContain("ssh-rsa");
        expect(problems[1]!.message).toContain("not an OpenSSH public key");
        expect(problems[2]!.message).toContain("damaged");
    });

    it("validates an existing VPC's IDs and that public and private subnet lists do not overlap", () => {
        const good = {
            vpcId: "vpc-0123456789abcdef0",
            publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
            privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1"],
        };
        expect(settingsFrom({ ...base, existingVpc: good }).network).toEqual({ kind: "existing", ...good });
        const problems = problemsOf({
            ...base,
            existingVpc: {
                vpcId: "vpc-x",
                publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
                privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "sub-1"],
            },
        });
        expect(problems.map((p) => p.key)).toEqual([
            "existingVpc.vpcId",
            "existingVpc.privateSubnetIds[1]",
            "existingVpc.privateSubnetIds[0]",
        ]);
        expect(
            problemsOf({ ...base, existingVpc: { vpcId: "vpc-0123456789abcdef0", publicSubnetIds: [] } }).map(
                (p) => p.key,
            ),
        ).toEqual(["existingVpc.publicSubnetIds", "existingVpc.privateSubnetIds"]);
    });

    it("reports every problem at once, each with key, value and a pulumi config command", () => {
        try {
            settingsFrom({
                allowedCidrs: ["0.0.0.0/0"],
                os: "windows",
                targets: [{ name: "x" }],
                fail2banBanTimeMaxSeconds: "10",
                upgradesRebootTime: "25:00",
                jumpUser: "root",
            });
            throw new Error("accepted");
        } catch (e) {
            const err = e as ConfigError;
            expect(err.problems.length).toBe(6);
            expect(err.message).toMatch(/^jumpgate: 6 configuration problems, nothing was created:/);
            for (const p of err.problems) {
                expect(err.message).toContain(`- ${p.key} = `);
                expect(p.fix).toMatch(/^pulumi config (set|rm) /);
            }
        }
    });

    it("reads image pins for the configured OS and refuses malformed ones, all at once", () => {
        expect(settingsFrom({ ...base, amiIds: { "debian-13/arm64": "ami-0123456789abcdef0" } }).amiIds).toEqual({
            "debian-13/arm64": "ami-0123456789abcdef0",
        });
        expect(settingsFrom(base).amiIds).toEqual({});
        const problems = problemsOf({
            ...base,
            amiIds: {
                "debian-13/arm64": "ami-XYZ",
                "debian-13/riscv": "ami-0123456789abcdef0",
                "ubuntu-24.04/x86_64": "ami-0123456789abcdef0",
            },
        });
        expect(problems.map((p) => [p.key, p.message.split(":")[0], p.fix])).toEqual([
            [
                'amiIds["debian-13/arm64"]',
                "must be an AMI ID",
                `pulumi config set --path 'amiIds["debian-13/arm64"]' ami-0123456789abcdef0`,
            ],
            [
                'amiIds["debian-13/riscv"]',
                "key must be <os>/<arch>, os one of debian-13, debian-12, ubuntu-24.04, arch arm64 or x86_64",
                `pulumi config rm --path 'amiIds["debian-13/riscv"]'`,
            ],
            [
                'amiIds["ubuntu-24.04/x86_64"]',
                "pins a ubuntu-24.04 image, but os is debian-13",
                `pulumi config rm --path 'amiIds["ubuntu-24.04/x86_64"]'  (and pin the debian-13 image the plan shows: pulumi config set --path 'amiIds["debian-13/x86_64"]' <ami-id>)`,
            ],
        ]);
        expect(problemsOf({ ...base, amiIds: ["ami-0123456789abcdef0"] })[0]).toMatchObject({ key: "amiIds" });
    });

    it("refuses a key it does not know and names the closest one", () => {
        const problems = problemsOf({
            ...base,
            natGateway: "perAz",
            sshPorts: "2222",
            colourScheme: "dark",
            target: [{ name: "db-1" }],
        });
        expect(problems.map((p) => [p.key, p.message, p.fix])).toEqual([
            [
                "natGateway",
                "is not a jumpgate setting, so it would be ignored; did you mean natGateways?",
                "pulumi config rm natGateway  (and set the value again as natGateways: pulumi config set natGateways ...)",
            ],
            [
                "sshPorts",
                "is not a jumpgate setting, so it would be ignored; did you mean sshPort?",
                "pulumi config rm sshPorts  (and set the value again as sshPort: pulumi config set sshPort ...)",
            ],
            [
                "colourScheme",
                "is not a jumpgate setting, so it would be ignored (Pulumi.yaml lists every key)",
                "pulumi config rm colourScheme",
            ],
            [
                "target",
                "is not a jumpgate setting, so it would be ignored; did you mean targets?",
                "pulumi config rm target  (and set the value again as targets: pulumi config set targets ...)",
            ],
        ]);
    });

    it("never echoes the value of an unknown key, which may be a secret", () => {
        const problems = problemsOf({ ...base, apiTokn: "s3cr3t-value" });
        expect(problems.map((p) => p.key)).toEqual(["apiTokn"]);
        expect(JSON.stringify(problems)).not.toContain("s3cr3t");
    });

    it("knows every key it reads", () => {
        const asked = new Set<string>();
        readSettings(
            (key) => {
                asked.add(key);
                return key === "allowedCidrs" ? JSON.stringify(base.allowedCidrs) : undefined;
            },
            "dev",
            ["allowedCidrs"],
        );
        expect([...asked].filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
    });

    it("refuses natGateways none while private hosts need packages, unless explicitly allowed", () => {
        const [p] = problemsOf({ ...base, natGateways: "none", bastions: ["edge", "inner"] });
        expect(p).toMatchObject({ key: "natGateways", value: "none" });
        expect(p!.message).toContain("the hosts inner, app-1 install fail2ban");
        expect(p!.message).toContain("no security updates");
        expect(p!.message).toContain("no CloudWatch agent: their audit records would stay on the hosts");
        const [quiet] = problemsOf({ ...base, audit: false, natGateways: "none" });
        expect(quiet!.message).not.toContain("CloudWatch");
        expect(p!.fix).toContain("pulumi config set natGateways single");
        expect(p!.fix).toContain("pulumi config set allowPrivateHostsWithoutPackages true");
        const s = settingsFrom({ ...base, natGateways: "none", allowPrivateHostsWithoutPackages: "true" });
        expect(s.network).toMatchObject({ natGateways: "none" });
        // No private host at all: nothing goes without packages.
        expect(settingsFrom({ ...base, natGateways: "none", targets: [] }).targets).toEqual([]);
    });

    it("counts Elastic IPs (bastion plus NAT gateways) against the quota before anything is created", () => {
        const [p] = problemsOf({ ...base, natGateways: "perAz", azCount: "5" });
        expect(p).toMatchObject({ key: "natGateways", value: "perAz" });
        expect(p!.message).toContain("needs 6 Elastic IPs (1 for the bastion, 5 for NAT gateways)");
        expect(p!.message).toContain("quota is 5");
        expect(p!.fix).toMatch(/^pulumi config set natGateways single /);
        expect(p!.fix).toContain('raise "EC2-VPC Elastic IPs" in Service Quotas');
        expect(p!.fix).toContain("pulumi config set elasticIpQuota 6");
        expect(settingsFrom({ ...base, natGateways: "perAz", azCount: "4" }).elasticIpQuota).toBe(5);
        expect(settingsFrom({ ...base, natGateways: "perAz", azCount: "5", elasticIpQuota: "6" }).elasticIpQuota).toBe(
            6,
        );
        const [q] = problemsOf({ ...base, elasticIpQuota: "1" });
        expect(q).toMatchObject({ key: "elasticIpQuota", value: "1" });
        expect(q!.fix).toContain("pulumi config set elasticIpQuota 2");
    });

    it("refuses a bastion whose user data would pass EC2's 16 KiB, saying how many targets too many", () => {
        const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `host-${i + 1}` }));
        // Past 16 KiB the document goes gzipped (cloud-init uncompresses it), the CloudWatch agent and auditd
        // included: 901 fit (measured), 1,031 before the audit rules and the fail2ban sandbox.
        expect(settingsFrom({ ...base, targets: targets(900) }).targets).toHaveLength(900);
        const [p] = problemsOf({ ...base, targets: targets(3000) });
        expect(p).toMatchObject({ key: "targets", value: "3000 targets, 0 tunnels" });
        const bytes = Number(/user data (\d+) bytes/.exec(p!.message)![1]);
        expect(bytes).toBeGreaterThan(16384);
        expect(p!.message).toContain("EC2 accepts at most 16384 bytes");
        expect(p!.message).toMatch(/about \d+ fewer targets or tunnels fit/);
        expect(p!.fix).toBe("pulumi config rm --path 'targets[2999]'  (repeat, or split the targets over two stacks)");
    });

    it("turns the audit trail on by default: 365 days, thresholds, no alert address", () => {
        expect(settingsFrom(base).audit).toEqual({
            logRetentionDays: 365,
            authFailuresPerMinute: 10,
            heartbeatMinutes: 15,
        });
        expect(settingsFrom({ ...base, audit: false }).audit).toBeUndefined();
        expect(
            settingsFrom({ ...base, alertEmail: "ops@example.com", auditLogRetentionDays: 3653 }).audit,
        ).toMatchObject({ alertEmail: "ops@example.com", logRetentionDays: 3653 });
    });

    it("refuses audit settings CloudWatch and SNS would refuse, all at once, each with its fix", () => {
        const problems = problemsOf({
            ...base,
            audit: "yes",
            auditLogRetentionDays: 100,
            alertEmail: "Ops Team <ops@example.com>",
            auditHeartbeatMinutes: 12,
            auditAuthFailuresPerMinute: 0,
        });
        expect(problems.map((p) => p.key)).toEqual([
            "audit",
            "auditLogRetentionDays",
            "alertEmail",
            "auditAuthFailuresPerMinute",
            "auditHeartbeatMinutes",
        ]);
        const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
        expect(byKey.audit!.fix).toBe("pulumi config set audit true");
        expect(byKey.auditLogRetentionDays!.message).toContain(
            "CloudWatch Logs accepts only 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150",
        );
        expect(byKey.auditLogRetentionDays!.fix).toBe("pulumi config set auditLogRetentionDays 120");
        expect(byKey.alertEmail).toMatchObject({
            value: "Ops Team <ops@example.com>",
            fix: "pulumi config set alertEmail ops@example.com",
        });
        expect(byKey.auditHeartbeatMinutes!.fix).toBe("pulumi config set auditHeartbeatMinutes 15");
        expect(problemsOf({ ...base, auditHeartbeatMinutes: 5 })[0]!.message).toContain("from 10 to 1440");
    });

    it("refuses hop names that make the bastion's IAM role name longer than 64 characters", () => {
        const hop = "a-very-long-bastion-hop-name-xy";
        const problems = problemsOf({ ...base, bastions: [{ name: hop }] }, "platform-production-eu");
        expect(problems.map((p) => p.key)).toEqual(["bastions[0].name"]);
        expect(problems[0]!.message).toContain("67 characters long; IAM allows 64");
        expect(problems[0]!.fix).toMatch(
            /^pulumi config set --path 'bastions\[0\]\.name' a-very-long-bastion-hop-name /,
        );
        expect(() =>
            settingsFrom({ ...base, bastions: [{ name: hop.slice(0, 28) }] }, "platform-production-eu"),
        ).not.toThrow();
    });

    it("refuses tags AWS would refuse: too many next to jumpgate's own, aws: keys, long keys and values", () => {
        const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
        expect(Object.keys(settingsFrom({ ...base, tags: many(42) }).tags)).toHaveLength(42);
        const [p] = problemsOf({ ...base, tags: many(44) });
        expect(p).toMatchObject({ key: "tags", value: "44 tags" });
        expect(p!.message).toContain("at most 50 tags per resource and jumpgate adds up to 8, so at most 42 fit");
        expect(p!.fix).toBe("pulumi config rm --path 'tags.k43'  (and 1 more)");
        const problems = problemsOf({
            ...base,
            tags: { "aws:owner": "me", ["k".repeat(129)]: "v", Long: "v".repeat(257) },
        });
        expect(problems.map((x) => x.key)).toEqual(["tags.aws:owner", `tags.${"k".repeat(129)}`, "tags.Long"]);
        expect(problems[0]!.message).toContain("a prefix AWS reserves");
        expect(problems[2]!.fix).toBe("pulumi config rm --path 'tags.Long'");
    });

    it("says when a list key is not valid JSON", () => {
        const [p] = problemsOf({ allowedCidrs: "203.0.113.0/24" });
        expect(p!.message).toContain("not valid JSON");
        expect(p!.fix).toContain("--path");
    });
});

describe("unknown keys in a whole run", () => {
    it("refuses a typo in the jumpgate: namespace and leaves other namespaces alone", async () => {
        expect(jumpgateKeys({ "aws:region": "x", "jumpgate:natGateway": "perAz", "other:key": "y" })).toEqual([
            "natGateway",
        ]);
        await expect(plan({ "jumpgate:natGateway": "perAz", "aws:profile": "admin" })).rejects.toThrow(
            /natGateway = "\(hidden\)": is not a jumpgate setting, so it would be ignored; did you mean natGateways\?/,
        );
    });
});

describe("Pulumi.yaml", () => {
    const project = parse(readFileSync(path.resolve(__dirname, "../../Pulumi.yaml"), "utf8")) as {
        config: Record<string, { type: string; default?: unknown; description?: string }>;
    };

    it("declares every scalar key the program reads, with a description and the code's default", () => {
        const keys = [
            "allowSshFromAnywhere",
            "sshPort",
            "vpcCidr",
            "azCount",
            "natGateways",
            "flowLogRetentionDays",
            "os",
            "bastionInstanceType",
            "operatorPublicKeys",
            "jumpUser",
            "loginUser",
            "controlMaster",
            "rootVolumeSizeGb",
            "fail2banMaxRetry",
            "fail2banFindTimeSeconds",
            "fail2banBanTimeSeconds",
            "fail2banBanTimeMaxSeconds",
            "fail2banIgnoreIps",
            "upgradesRebootTime",
            "elasticIpQuota",
            "allowPrivateHostsWithoutPackages",
            "audit",
            "auditLogRetentionDays",
            "auditAuthFailuresPerMinute",
            "auditHeartbeatMinutes",
        ] as const;
        for (const key of keys) {
            const decl = project.config[key];
            expect(decl, key).toBeDefined();
            expect(decl!.description, key).toBeTruthy();
            expect(decl!.default, key).toEqual(DEFAULTS[key]);
        }
        expect(project.config.allowedCidrs!.default).toBeUndefined();
    });

    it("declares every key the program knows, in the schema or (objects) in the header comment", () => {
        const text = readFileSync(path.resolve(__dirname, "../../Pulumi.yaml"), "utf8");
        const commented = [...text.matchAll(/^#   (\w+):/gm)].map((m) => m[1]!);
        expect([...Object.keys(project.config), ...commented].sort()).toEqual([...CONFIG_KEYS].sort());
    });

    it("produces a valid stack when its defaults are applied as the CLI would", () => {
        const values: Record<string, unknown> = { ...base };
        for (const [key, decl] of Object.entries(project.config))
            if (decl.default !== undefined) values[key] = decl.default;
        expect(() => settingsFrom(values)).not.toThrow();
    });
});
