// The simulated AWS refuses what the real API refuses: each rule is fed a violating input directly.
import { createPublicKey } from "node:crypto";
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
    describe("security group rules", () => {
        const VPC_A = "vpc-0aaaaaaaaaaaaaaa1";
        const existing = { "sg-0eeeeeeeeeeeeeee1": { vpcId: VPC_A }, "sg-0fffffffffffffff1": { vpcId: "vpc-0ffff" } };
        const ssh = (group: string, peer: Record<string, unknown>) => ({
            securityGroupId: group,
            ipProtocol: "tcp",
            fromPort: 22,
            toPort: 22,
            ...peer,
        });
        /** An account with the existing groups and one group the program created in VPC_A. */
        function account() {
            const aws = sim({ existingSecurityGroups: existing });
            const hop = create(aws, T.sg, "hop", { vpcId: VPC_A, description: "hop" }).id!;
            return { aws, hop };
        }

        it("adds a rule to an existing group from a created group of the same VPC", () => {
            const { aws, hop } = account();
            expect(() =>
                create(aws, T.ingress, "in", ssh("sg-0eeeeeeeeeeeeeee1", { referencedSecurityGroupId: hop })),
            ).not.toThrow();
        });

        it("refuses a rule on a group that does not exist", () => {
            const { aws, hop } = account();
            expect(() =>
                create(aws, T.ingress, "in", ssh("sg-0123456789abcdef0", { referencedSecurityGroupId: hop })),
            ).toThrow(
                /in \(aws:vpc\/.*\): InvalidGroup\.NotFound: The security group 'sg-0123456789abcdef0' does not exist/,
            );
        });

        it("refuses a rule referencing a group that does not exist", () => {
            const { aws, hop } = account();
            expect(() =>
                create(aws, T.egress, "out", ssh(hop, { referencedSecurityGroupId: "sg-0123456789abcdef0" })),
            ).toThrow(/InvalidGroup\.NotFound: The security group 'sg-0123456789abcdef0' does not exist/);
        });

        it("refuses a rule referencing a group of another VPC", () => {
            const { aws, hop } = account();
            expect(() =>
                create(aws, T.ingress, "in", ssh("sg-0fffffffffffffff1", { referencedSecurityGroupId: hop })),
            ).toThrow(/InvalidGroup\.NotFound: You have specified two resources that belong to different networks/);
        });

        it("refuses the same permission twice on a group, and takes it in the other direction", () => {
            const { aws, hop } = account();
            const rule = ssh("sg-0eeeeeeeeeeeeeee1", { referencedSecurityGroupId: hop });
            create(aws, T.ingress, "first", rule);
            expect(() => create(aws, T.ingress, "second", rule)).toThrow(
                /InvalidPermission\.Duplicate: the specified rule "peer: sg-\w+, TCP, from port: 22, to port: 22, ALLOW" already exists/,
            );
            expect(() => create(aws, T.egress, "out", rule)).not.toThrow();
            expect(() => create(aws, T.ingress, "other-port", { ...rule, fromPort: 2222, toPort: 2222 })).not.toThrow();
        });
    });

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

    describe("KMS keys, key policies and aliases", () => {
        const key = "aws:kms/key:Key";
        const alias = "aws:kms/alias:Alias";
        const root = "arn:aws:iam::123456789012:root";
        const policy = (statements: Record<string, unknown>[]) =>
            JSON.stringify({ Version: "2012-10-17", Statement: statements });
        const admin = { Effect: "Allow", Principal: { AWS: root }, Action: "kms:*", Resource: "*" };
        const signingKey = (inputs: Record<string, unknown> = {}) => ({
            customerMasterKeySpec: "ECC_NIST_EDWARDS25519",
            keyUsage: "SIGN_VERIFY",
            policy: policy([admin]),
            ...inputs,
        });

        it("accepts an Ed25519 signing key whose policy keeps the account's administration", () => {
            expect(() => create(sim(), key, "ca", signingKey())).not.toThrow();
        });

        it.each([
            [
                "ECC_NIST_EDWARDS25519",
                undefined,
                /KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_EDWARDS25519/,
            ],
            ["ECC_NIST_EDWARDS25519", "ENCRYPT_DECRYPT", /not compatible/],
            [
                "SYMMETRIC_DEFAULT",
                "SIGN_VERIFY",
                /KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT/,
            ],
            ["ECC_NIST_ED25519", "SIGN_VERIFY", /Value 'ECC_NIST_ED25519' at 'keySpec' failed to satisfy constraint/],
        ])("refuses key spec %s with usage %s", (spec, usage, message) => {
            expect(() =>
                create(sim(), key, "ca", signingKey({ customerMasterKeySpec: spec, keyUsage: usage })),
            ).toThrow(message);
        });

        it("allows the other valid combinations (RSA signs or encrypts, P-256 signs)", () => {
            for (const [spec, usage] of [
                ["RSA_2048", "ENCRYPT_DECRYPT"],
                ["RSA_2048", "SIGN_VERIFY"],
                ["ECC_NIST_P256", "SIGN_VERIFY"],
            ])
                expect(() =>
                    create(
                        sim(),
                        key,
                        `k-${spec}-${usage}`,
                        signingKey({ customerMasterKeySpec: spec, keyUsage: usage }),
                    ),
                ).not.toThrow();
        });

        it("refuses a policy over 32 KB", () => {
            const long = policy([{ ...admin, Sid: "x".repeat(32768) }]);
            expect(() => create(sim(), key, "ca", signingKey({ policy: long }))).toThrow(
                /Member must have length less than or equal to 32768/,
            );
        });

        it("applies the lock-out safety check unless bypassPolicyLockoutSafetyCheck", () => {
            const signOnly = policy([
                {
                    Effect: "Allow",
                    Principal: { AWS: "arn:aws:iam::123456789012:user/alice" },
                    Action: ["kms:Sign"],
                    Resource: "*",
                },
            ]);
            expect(() => create(sim(), key, "ca", signingKey({ policy: signOnly }))).toThrow(
                /MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy in the future/,
            );
            expect(() =>
                create(sim(), key, "ca", signingKey({ policy: signOnly, bypassPolicyLockoutSafetyCheck: true })),
            ).not.toThrow();
            // The account's root with an action list that includes PutKeyPolicy through a wildcard passes.
            const adminList = policy([{ ...admin, Action: ["kms:Describe*", "kms:Put*"] }]);
            expect(() => create(sim(), key, "ca2", signingKey({ policy: adminList }))).not.toThrow();
            // ...but not behind a condition, which may not hold for the next change.
            const conditional = policy([{ ...admin, Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } }]);
            expect(() => create(sim(), key, "ca3", signingKey({ policy: conditional }))).toThrow(
                /will not allow you to update/,
            );
        });

        it.each(["arn:aws:iam::123456789012:group/devs", "alice", "arn:aws:iam::1234:user/x", "*"])(
            "refuses the principal %s",
            (principal) => {
                const p = policy([
                    admin,
                    { Effect: "Allow", Principal: { AWS: [principal] }, Action: "kms:Sign", Resource: "*" },
                ]);
                expect(() => create(sim(), key, "ca", signingKey({ policy: p }))).toThrow(
                    "MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals.",
                );
            },
        );

        it.each([6, 31, 7.5])("refuses a deletion window of %s days (7 to 30)", (days) => {
            expect(() => create(sim(), key, "ca", signingKey({ deletionWindowInDays: days }))).toThrow(
                /deletion_window_in_days to be in the range \(7 - 30\)/,
            );
        });

        it.each([
            ["jumpgate/test/admin", /Alias must start with the prefix "alias\/"/],
            ["alias/aws/jumpgate", /NotAuthorizedException: Cannot create alias with prefix 'alias\/aws\/'/],
            [
                "alias/jumpgate/prod.eu/admin",
                /failed to satisfy constraint: Member must satisfy regular expression pattern/,
            ],
        ])("refuses the alias name %s", (name, message) => {
            expect(() => create(sim(), alias, "a", { name, targetKeyId: "k" })).toThrow(message);
        });

        it("GetPublicKey returns a real Ed25519 SubjectPublicKeyInfo for a key, by ARN, ID or alias", () => {
            const aws = sim();
            const created = create(aws, key, "ca", signingKey()) as { id: string; state: { arn: string } };
            create(aws, alias, "a", { name: "alias/jumpgate/test/admin", targetKeyId: created.id });
            const get = (keyId: string) =>
                aws.call({ token: "aws:kms/getPublicKey:getPublicKey", inputs: { keyId } } as Parameters<
                    SimulatedAws["call"]
                >[0]) as {
                    publicKey: string;
                    signingAlgorithms: string[];
                };
            const der = Buffer.from(get(created.state.arn).publicKey, "base64");
            const k = createPublicKey({ key: der, format: "der", type: "spki" });
            expect(k.asymmetricKeyType).toBe("ed25519");
            expect(get(created.id).publicKey).toBe(get("alias/jumpgate/test/admin").publicKey);
            expect(get(created.id).signingAlgorithms).toContain("ED25519_SHA_512");
            expect(() => get("alias/none")).toThrow(/NotFoundException/);
        });
    });

    describe("the audit trail's CloudWatch, SNS and KMS rules", () => {
        const A = {
            logGroup: "aws:cloudwatch/logGroup:LogGroup",
            filter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
            alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
            topic: "aws:sns/topic:Topic",
            subscription: "aws:sns/topicSubscription:TopicSubscription",
            key: "aws:kms/key:Key",
        } as const;
        const filter = (over: Record<string, unknown> = {}) => ({
            name: "prod-AuthFailures",
            logGroupName: "/jumpgate/prod/audit",
            pattern: '{ $.event = "auth-failure" }',
            metricTransformation: { name: "prod-AuthFailures", namespace: "Jumpgate/Audit", value: "1" },
            ...over,
        });
        const alarm = (over: Record<string, unknown> = {}) => ({
            name: "prod-Heartbeats",
            period: 300,
            evaluationPeriods: 3,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
            ...over,
        });

        it("takes only CloudWatch's retention periods", () => {
            for (const days of [0, 1, 365, 3653])
                expect(() => create(sim(), A.logGroup, "g", { name: "/a", retentionInDays: days })).not.toThrow();
            expect(() => create(sim(), A.logGroup, "g", { name: "/a", retentionInDays: 366 })).toThrow(
                /g \(aws:cloudwatch\/logGroup:LogGroup\): expected retention_in_days to be one of \[0 1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653\], got 366/,
            );
        });

        it("takes log group names of up to 512 characters from its character set", () => {
            expect(() => create(sim(), A.logGroup, "g", { name: "/jumpgate/prod_1/audit.#-x" })).not.toThrow();
            expect(() => create(sim(), A.logGroup, "g", { name: "/jumpgate/prod audit" })).toThrow(
                /isn't a valid log group name \(alphanumeric characters, underscores, hyphens, slashes, hash signs and dots are allowed\)/,
            );
            expect(() => create(sim(), A.logGroup, "g", { name: `/${"a".repeat(512)}` })).toThrow(
                /cannot be longer than 512 characters/,
            );
        });

        it("refuses metric filter names with ':' or '*', and patterns over 1024 bytes", () => {
            expect(() => create(sim(), A.filter, "f", filter())).not.toThrow();
            expect(() => create(sim(), A.filter, "f", filter({ name: "prod:auth" }))).toThrow(
                /isn't a valid log metric name \(must not contain colon nor asterisk/,
            );
            const long = `{ $.event = "${"x".repeat(1020)}" }`;
            expect(() => create(sim(), A.filter, "f", filter({ pattern: long }))).toThrow(
                /expected length of pattern to be in the range \(0 - 1024\)/,
            );
        });

        it("refuses metric names and namespaces with ':', '*' or '$', and JSON patterns that do not parse", () => {
            const t = { name: "m", namespace: "Jumpgate:Audit", value: "1" };
            expect(() => create(sim(), A.filter, "f", filter({ metricTransformation: t }))).toThrow(
                /"metric_transformation.0.namespace" isn't a valid log metric transformation name/,
            );
            expect(() => create(sim(), A.filter, "f", filter({ pattern: '{ $.event = "ban" ' }))).toThrow(
                /InvalidParameterException: Invalid metric filter pattern/,
            );
            expect(() => create(sim(), A.filter, "f", filter({ pattern: '{ event = "ban" }' }))).toThrow(
                /Invalid metric filter pattern/,
            );
        });

        it("takes alarm periods of 10, 20, 30 s or whole minutes, and at most a day of them", () => {
            expect(() => create(sim(), A.alarm, "a", alarm({ period: 30 }))).not.toThrow();
            expect(() => create(sim(), A.alarm, "a", alarm({ period: 90 }))).toThrow(
                /expected period to be one of \[10 20 30\] or divisible by 60, got 90/,
            );
            expect(() => create(sim(), A.alarm, "a", alarm({ period: 300, evaluationPeriods: 289 }))).toThrow(
                /ValidationError: Metrics cannot be checked across more than a day \(EvaluationPeriods \* Period must be <= 86400\)/,
            );
            expect(() => create(sim(), A.alarm, "a", alarm({ evaluationPeriods: 0 }))).toThrow(
                /expected evaluation_periods to be at least \(1\), got 0/,
            );
        });

        it("refuses more datapoints than periods, an unknown comparison and an unknown missing-data rule", () => {
            expect(() => create(sim(), A.alarm, "a", alarm({ datapointsToAlarm: 4 }))).toThrow(
                /DatapointsToAlarm must be less than or equal to EvaluationPeriods/,
            );
            expect(() => create(sim(), A.alarm, "a", alarm({ comparisonOperator: "LessThan" }))).toThrow(
                /expected comparison_operator to be one of/,
            );
            expect(() => create(sim(), A.alarm, "a", alarm({ treatMissingData: "alarm" }))).toThrow(
                /expected treat_missing_data to be one of \[breaching notBreaching ignore missing\], got alarm/,
            );
        });

        it("names topics from letters, digits, '-' and '_' (auto-named ones too), FIFO ones ending in .fifo", () => {
            const aws = sim();
            const made = create(aws, A.topic, "prod-audit-alarms", {});
            expect(String(made.state.name)).toMatch(/^prod-audit-alarms-[0-9a-f]{7}$/);
            expect(() => create(sim(), A.topic, "t", { name: "prod.alarms" })).toThrow(
                /invalid topic name: prod.alarms/,
            );
            expect(() => create(sim(), A.topic, "t", { name: "prod-alarms", fifoTopic: true })).toThrow(
                /invalid topic name/,
            );
            expect(() => create(sim(), A.topic, "t", { name: "prod-alarms.fifo", fifoTopic: true })).not.toThrow();
        });

        it("subscribes only known protocols, and by email only one address", () => {
            const sub = (protocol: string, endpoint: string) =>
                create(sim(), A.subscription, "s", { topic: "arn:aws:sns:eu-central-1:1:t", protocol, endpoint });
            expect(() => sub("email", "ops@example.com")).not.toThrow();
            expect(() => sub("email", "Ops <ops@example.com>")).toThrow(
                /InvalidParameter: Invalid parameter: Email address/,
            );
            expect(() => sub("mail", "ops@example.com")).toThrow(/expected protocol to be one of \[application email/);
        });

        it("takes transformers that start with a parser and have at most five parsers", () => {
            const t = "aws:cloudwatch/logTransformer:LogTransformer";
            const json = { parseJsons: [{}] };
            expect(() =>
                create(sim(), t, "t", { transformerConfigs: [json, { parseJsons: [{ source: "body.MESSAGE" }] }] }),
            ).not.toThrow();
            expect(() =>
                create(sim(), t, "t", { transformerConfigs: [{ lowerCaseStrings: [{ withKeys: ["a"] }] }, json] }),
            ).toThrow(/InvalidParameterException: the first processor in a transformer must be a parser/);
            expect(() => create(sim(), t, "t", { transformerConfigs: Array(6).fill(json) })).toThrow(
                /at most five parser-type processors, got 6/,
            );
            expect(() => create(sim(), t, "t", { transformerConfigs: [] })).toThrow(/1 to 20 processors, got 0/);
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
