import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { architectureOf, ConfigError, DEFAULTS, readSettings } from "../../components/config";

const GOOD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPgcPxffI2idXW8LzCZGLrW9whC5VPh63Wf0tHvsFk0c op@laptop";

function settingsFrom(values: Record<string, unknown>, stack = "dev") {
    const get = (key: string) => {
        const v = values[key];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    };
    return readSettings(get, stack);
}

/** The problems reported for `values` (fails the test if the config is accepted). */
function problemsOf(values: Record<string, unknown>) {
    try {
        settingsFrom(values);
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
        expect(s.os).toBe("debian-12");
        expect(s.allowSshFromAnywhere).toBe(false);
        expect(s.identityFile).toBe("~/.ssh/jumpgate-dev_ed25519");
    });

    it("requires allowedCidrs and says how to set it", () => {
        const [p] = problemsOf({});
        expect(p).toMatchObject({ key: "allowedCidrs", value: undefined });
        expect(p!.fix).toBe("pulumi config set --path 'allowedCidrs[0]' <your-public-ip>/32");
    });

    it("refuses 0.0.0.0/0 and ::/0 unless allowSshFromAnywhere is set", () => {
        const problems = problemsOf({ allowedCidrs: ["0.0.0.0/0", "::/0"] });
        expect(problems.map((p) => p.key)).toEqual(["allowedCidrs[0]", "allowedCidrs[1]"]);
        expect(problems[0]!.fix).toContain("pulumi config set allowSshFromAnywhere true");
        const s = settingsFrom({ allowedCidrs: ["0.0.0.0/0", "::/0"], allowSshFromAnywhere: "true" });
        expect(s.allowedCidrs).toEqual(["0.0.0.0/0", "::/0"]);
    });

    it("rejects malformed CIDRs and proposes the network address for host bits", () => {
        const problems = problemsOf({ allowedCidrs: ["10.0.0.1/24", "bogus", "2001:db8::1/129"] });
        expect(problems.map((p) => p.key)).toEqual(["allowedCidrs[0]", "allowedCidrs[1]", "allowedCidrs[2]"]);
        expect(problems[0]!.fix).toBe("pulumi config set --path 'allowedCidrs[0]' 10.0.0.0/24");
        expect(problems[2]!.message).toContain("/128");
    });

    it("rejects overlapping allowed CIDRs", () => {
        const [p] = problemsOf({ allowedCidrs: ["203.0.113.0/24", "203.0.113.128/25"] });
        expect(p).toMatchObject({ key: "allowedCidrs[1]", value: "203.0.113.128/25" });
        expect(p!.message).toContain("overlaps 203.0.113.0/24");
    });

    it("accepts IPv6 allowed CIDRs", () => {
        expect(settingsFrom({ allowedCidrs: ["2001:db8:1::/48", "203.0.113.7/32"] }).allowedCidrs).toHaveLength(2);
    });

    it("rejects an unknown os, NAT mode and bad numbers", () => {
        const problems = problemsOf({ ...base, os: "arch", natGateways: "many", sshPort: "70000", azCount: "0" });
        expect(problems.map((p) => p.key).sort()).toEqual(["azCount", "natGateways", "os", "sshPort"]);
        expect(problems.find((p) => p.key === "os")!.fix).toBe("pulumi config set os debian-12");
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

    it("says when a list key is not valid JSON", () => {
        const [p] = problemsOf({ allowedCidrs: "203.0.113.0/24" });
        expect(p!.message).toContain("not valid JSON");
        expect(p!.fix).toContain("--path");
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
        ] as const;
        for (const key of keys) {
            const decl = project.config[key];
            expect(decl, key).toBeDefined();
            expect(decl!.description, key).toBeTruthy();
            expect(decl!.default, key).toEqual(DEFAULTS[key]);
        }
        expect(project.config.allowedCidrs!.default).toBeUndefined();
    });

    it("produces a valid stack when its defaults are applied as the CLI would", () => {
        const values: Record<string, unknown> = { ...base };
        for (const [key, decl] of Object.entries(project.config))
            if (decl.default !== undefined) values[key] = decl.default;
        expect(() => settingsFrom(values)).not.toThrow();
    });
});
