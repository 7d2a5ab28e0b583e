// The simulated AWS refuses what the real API refuses: each rule is fed a violating input directly.
import { describe, expect, it } from "vitest";
import { SimulatedAws } from "../../offline/simulatedAws";

const T = {
    sg: "aws:ec2/securityGroup:SecurityGroup",
    defaultSg: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    subnet: "aws:ec2/subnet:Subnet",
    instance: "aws:ec2/instance:Instance",
    eip: "aws:ec2/eip:Eip",
    vpc: "aws:ec2/vpc:Vpc",
    role: "aws:iam/role:Role",
    profile: "aws:iam/instanceProfile:InstanceProfile",
    zones: "aws:index/getAvailabilityZones:getAvailabilityZones",
} as const;

function sim(options: Partial<ConstructorParameters<typeof SimulatedAws>[0]> = {}) {
    return new SimulatedAws({ stack: "test", region: "eu-central-1", keys: "deterministic", ...options });
}

const create = (aws: SimulatedAws, type: string, name: string, inputs: Record<string, unknown>) =>
    aws.newResource({ type, name, inputs, custom: true } as Parameters<SimulatedAws["newResource"]>[0]);

const zones = (aws: SimulatedAws, inputs: Record<string, unknown>) =>
    aws.call({ token: T.zones, inputs } as Parameters<SimulatedAws["call"]>[0]) as {
        names: string[];
        zoneIds: string[];
        groupNames: string[];
    };

describe("the simulated AWS", () => {
    describe("security group and rule descriptions", () => {
        const allowedEverything = "a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*";

        it("accepts every allowed character and up to 255 of them", () => {
            const aws = sim();
            expect(() => create(aws, T.ingress, "ok", { description: allowedEverything })).not.toThrow();
            expect(() => create(aws, T.sg, "long", { description: "x".repeat(255) })).not.toThrow();
        });

        it.each([T.ingress, T.egress])("refuses an apostrophe in a %s description", (type) => {
            expect(() => create(sim(), type, "bad", { description: "SSH from the bastion's group only" })).toThrow(
                /bad \(aws:vpc\/.*\): InvalidParameterValue: Invalid rule description\. Valid descriptions are strings less than 256 characters from the following set: a-zA-Z0-9\. _-:\/\(\)#,@\[\]\+=&;\{\}!\$\*.*terraform-provider-aws#18874/,
            );
        });

        it("refuses a group description of 256 characters and non-ASCII ones", () => {
            expect(() => create(sim(), T.sg, "long", { description: "x".repeat(256) })).toThrow(
                /InvalidParameterValue: Invalid security group description/,
            );
            expect(() => create(sim(), T.sg, "umlaut", { description: "Zugang für Admins" })).toThrow(
                /Invalid security group description/,
            );
        });

        it("checks inline rules of security groups and the default security group", () => {
            expect(() =>
                create(sim(), T.defaultSg, "default", { ingress: [{ description: "admins' access" }] }),
            ).toThrow(/Invalid rule description/);
            expect(() => create(sim(), T.sg, "inline", { egress: [{ description: "out > anywhere" }] })).toThrow(
                /Invalid rule description/,
            );
        });
    });

    describe("tags", () => {
        const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));

        it("accepts 50 tags and refuses 51, on tags and tagsAll of any aws resource", () => {
            expect(() => create(sim(), T.vpc, "fifty", { tags: many(50) })).not.toThrow();
            expect(() => create(sim(), T.vpc, "many", { tags: many(51) })).toThrow(
                /TagLimitExceeded: The maximum number of Tags for a resource has been reached \(51 > 50/,
            );
            expect(() => create(sim(), T.role, "many", { tagsAll: many(51) })).toThrow(/TagLimitExceeded/);
        });

        it("refuses keys over 128 and values over 256 characters", () => {
            expect(() => create(sim(), T.sg, "key", { tags: { ["k".repeat(129)]: "v" } })).toThrow(
                /InvalidParameterValue: Tag key exceeds the maximum length of 128 characters/,
            );
            expect(() => create(sim(), T.sg, "ok", { tags: { ["k".repeat(128)]: "v".repeat(256) } })).not.toThrow();
            expect(() => create(sim(), T.sg, "value", { tags: { Name: "v".repeat(257) } })).toThrow(
                /Tag value exceeds the maximum length of 256 characters/,
            );
        });

        it("refuses the reserved aws: prefix in any case", () => {
            expect(() => create(sim(), T.instance, "i", { tags: { "AWS:cloudformation:stack-name": "x" } })).toThrow(
                /Tag keys starting with 'aws:' are reserved for internal use/,
            );
        });
    });

    describe("instances", () => {
        const withSubnet = () => {
            const aws = sim();
            const { id } = create(aws, T.subnet, "private", { vpcId: "vpc-1", cidrBlock: "10.0.1.0/24" });
            return { aws, subnetId: id };
        };

        it("accepts 16384 bytes of user data and refuses one more, counted before base64", () => {
            const { aws, subnetId } = withSubnet();
            expect(() => create(aws, T.instance, "fits", { subnetId, userData: "x".repeat(16384) })).not.toThrow();
            expect(() => create(aws, T.instance, "big", { subnetId, userData: "é".repeat(8193) })).toThrow(
                /InvalidParameterValue: User data is limited to 16384 bytes \(got 16386/,
            );
        });

        it("refuses a fixed private address outside the subnet, in its first four or its last address", () => {
            const { aws, subnetId } = withSubnet();
            for (const ip of ["10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"]) {
                expect(() => create(aws, T.instance, `at-${ip}`, { subnetId, privateIp: ip }), ip).toThrow(
                    `InvalidParameterValue: Address ${ip} is in subnet's reserved address range`,
                );
            }
            expect(() => create(aws, T.instance, "outside", { subnetId, privateIp: "10.0.2.10" })).toThrow(
                "InvalidParameterValue: Address 10.0.2.10 does not fall within the subnet's address range",
            );
            expect(() => create(aws, T.instance, "first", { subnetId, privateIp: "10.0.1.4" })).not.toThrow();
            expect(() => create(aws, T.instance, "last", { subnetId, privateIp: "10.0.1.254" })).not.toThrow();
        });
    });

    describe("Elastic IPs", () => {
        it("allocates up to the quota (5 by default) and refuses the next", () => {
            const aws = sim();
            for (let i = 0; i < 5; i++) create(aws, T.eip, `eip-${i}`, { domain: "vpc" });
            expect(() => create(aws, T.eip, "eip-5", { domain: "vpc" })).toThrow(
                /AddressLimitExceeded: The maximum number of addresses has been reached\. \(quota 5/,
            );
        });

        it("allows more when the account's quota is higher", () => {
            const aws = sim({ elasticIpQuota: 7 });
            for (let i = 0; i < 7; i++) create(aws, T.eip, `eip-${i}`, { domain: "vpc" });
            expect(() => create(aws, T.eip, "eip-7", { domain: "vpc" })).toThrow(/AddressLimitExceeded/);
        });
    });

    describe("IAM names", () => {
        it("refuses role names over 64 characters and name prefixes over 38", () => {
            expect(() => create(sim(), T.role, "r", { name: "r".repeat(64) })).not.toThrow();
            expect(() => create(sim(), T.role, "r", { name: "r".repeat(65) })).toThrow(
                /ValidationError: 1 validation error detected: Value 'r{65}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64/,
            );
            expect(() => create(sim(), T.role, "r", { namePrefix: "p".repeat(38) })).not.toThrow();
            expect(() => create(sim(), T.role, "r", { namePrefix: "p".repeat(39) })).toThrow(
                /expected length of name_prefix to be in the range \(1 - 38\)/,
            );
        });

        it("refuses a logical name that leaves no room for Pulumi's random suffix", () => {
            expect(() => create(sim(), T.role, "r".repeat(56), {})).not.toThrow();
            expect(() => create(sim(), T.role, "r".repeat(57), {})).toThrow(
                /could not make instance of 'aws:iam\/role:Role': name 'r{57}-' plus 7 random chars is longer than maximum length 64/,
            );
        });

        it("refuses instance profile names over 128 characters", () => {
            expect(() => create(sim(), T.profile, "p", { name: "p".repeat(128) })).not.toThrow();
            expect(() => create(sim(), T.profile, "p", { name: "p".repeat(129) })).toThrow(
                /at 'instanceProfileName' failed to satisfy constraint: Member must have length less than or equal to 128/,
            );
        });
    });

    describe("availability zones", () => {
        it("returns an opted-in Local Zone first when the program does not filter", () => {
            const all = zones(sim(), { state: "available" });
            expect(all.names).toEqual(["eu-central-1-ham-1a", "eu-central-1a", "eu-central-1b", "eu-central-1c"]);
            expect(all.zoneIds[0]).toBe("euc1-ham1-az1");
            expect(all.groupNames).toEqual(["eu-central-1", "eu-central-1-ham-1"]);
        });

        it("honours the opt-in-status filter, allAvailabilityZones and exclusions", () => {
            const aws = sim();
            const regular = { filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] };
            expect(zones(aws, regular).names).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
            expect(zones(aws, regular).groupNames).toEqual(["eu-central-1"]);
            const local = {
                allAvailabilityZones: true,
                filters: [{ name: "opt-in-status", values: ["opted-in", "not-opted-in"] }],
            };
            expect(zones(aws, local).names).toEqual(["eu-central-1-ham-1a", "eu-central-1-waw-1a"]);
            expect(zones(aws, { ...regular, excludeNames: ["eu-central-1b"] }).names).toEqual([
                "eu-central-1a",
                "eu-central-1c",
            ]);
            expect(zones(aws, { state: "impaired" }).names).toEqual([]);
        });

        it("refuses a filter name the API does not know", () => {
            expect(() => zones(sim(), { filters: [{ name: "optin-status", values: ["opted-in"] }] })).toThrow(
                "InvalidParameterValue: The filter 'optin-status' is invalid",
            );
        });
    });
});

describe("SSM associations", () => {
    const ASSOCIATION = "aws:ssm/association:Association";
    const valid = {
        name: "AWS-RunShellScript",
        associationName: "prod-revoked-keys",
        targets: [{ key: "InstanceIds", values: ["i-0123456789abcdef0"] }],
        parameters: { commands: "true" },
    };

    it("accepts a valid association and gives it a UUID and an ARN", () => {
        const r = create(sim(), ASSOCIATION, "a", valid);
        expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(r.state.arn).toBe(`arn:aws:ssm:eu-central-1:${String(r.state.arn).split(":")[4]}:association/${r.id}`);
    });

    it("refuses a bad name, more than 5 targets and more than 50 values in one", () => {
        expect(() => create(sim(), ASSOCIATION, "a", { ...valid, associationName: "a b" })).toThrow(/AssociationName/);
        const six = Array.from({ length: 6 }, () => valid.targets[0]);
        expect(() => create(sim(), ASSOCIATION, "a", { ...valid, targets: six })).toThrow(/at most 5 targets/);
        const many = [{ key: "InstanceIds", values: Array.from({ length: 51 }, (_, i) => `i-${i}`) }];
        expect(() => create(sim(), ASSOCIATION, "a", { ...valid, targets: many })).toThrow(/51 values/);
    });
});
