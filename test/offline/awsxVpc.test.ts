// The simulated awsx.ec2.Vpc lays out subnets as awsx 3.9.0 does and refuses what awsx or AWS refuse; its
// children are real simulated resources (subnets for getSubnet, Elastic IPs against the quota).
import { describe, expect, it } from "vitest";
import { AWSX_VPC, awsxVpcLayout } from "../../offline/awsxVpc";
import { SimulatedAws } from "../../offline/simulatedAws";

const US_EAST_1 = ["us-east-1a", "us-east-1b", "us-east-1c"];

function sim(region = "eu-central-1") {
    return new SimulatedAws({ stack: "test", region, keys: "deterministic" });
}

const buildVpc = (aws: SimulatedAws, inputs: Record<string, unknown>) =>
    aws.newResource({ type: AWSX_VPC, name: "app", inputs, custom: false } as Parameters<
        SimulatedAws["newResource"]
    >[0]) as {
        id: string | undefined;
        state: { vpcId: string; publicSubnetIds: string[]; privateSubnetIds: string[] };
    };

const blocks = (inputs: Record<string, unknown>, zones = US_EAST_1) =>
    awsxVpcLayout("vpcname", inputs, zones).subnets.map((s) => `${s.resourceName} ${s.azName} ${s.cidrBlock}`);

describe("the simulated awsx.ec2.Vpc", () => {
    it("lays out awsx's default subnets (its own test: 10.0.0.0/16 over three zones)", () => {
        // pulumi-awsx awsx/ec2/subnetDistributorLegacy.test.ts, "should return the default subnets with no
        // parameters and 3 AZs": private /19 at the start of each /18 zone block, public /20 after it.
        expect(blocks({ availabilityZoneNames: US_EAST_1 }).sort()).toEqual(
            [
                "vpcname-private-1 us-east-1a 10.0.0.0/19",
                "vpcname-private-2 us-east-1b 10.0.64.0/19",
                "vpcname-private-3 us-east-1c 10.0.128.0/19",
                "vpcname-public-1 us-east-1a 10.0.32.0/20",
                "vpcname-public-2 us-east-1b 10.0.96.0/20",
                "vpcname-public-3 us-east-1c 10.0.160.0/20",
            ].sort(),
        );
    });

    it("defaults to 10.0.0.0/16 over the first three zones the region lists, public subnet first in each", () => {
        const layout = awsxVpcLayout("v", {}, ["z-1a", "z-1b", "z-1c", "z-1d"]);
        expect(layout.cidrBlock).toBe("10.0.0.0/16");
        expect(layout.azNames).toEqual(["z-1a", "z-1b", "z-1c"]);
        expect(layout.natStrategy).toBe("OnePerAz");
        expect(layout.subnets.slice(0, 2).map((s) => s.type)).toEqual(["Public", "Private"]);
    });

    it("refuses more zones than the region has, with awsx's message", () => {
        expect(() => awsxVpcLayout("v", { numberOfAvailabilityZones: 4 }, US_EAST_1)).toThrow(
            "The configured region for this provider does not have at least 4 Availability Zones",
        );
        // awsx's default of three needs three zones too.
        expect(() => awsxVpcLayout("v", {}, ["z-1a", "z-1b"])).toThrow("does not have at least 3 Availability Zones");
    });

    it("refuses both zone names and a zone count, as awsx does", () => {
        expect(() =>
            awsxVpcLayout("v", { availabilityZoneNames: US_EAST_1, numberOfAvailabilityZones: 3 }, US_EAST_1),
        ).toThrow("Only one of [availabilityZoneNames] and [numberOfAvailabilityZones] can be specified");
    });

    it("refuses a zone the region does not have, as CreateSubnet does", () => {
        expect(() => awsxVpcLayout("v", { availabilityZoneNames: ["us-east-1a", "eu-west-1a"] }, US_EAST_1)).toThrow(
            "Value (eu-west-1a) for parameter availabilityZone is invalid",
        );
    });

    it("refuses a VPC block AWS refuses: outside /16 to /28, or with host bits set", () => {
        for (const cidrBlock of ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.5/16", "fd00::/56", "10.0.0/16"])
            expect(
                () => awsxVpcLayout("v", { cidrBlock, availabilityZoneNames: US_EAST_1 }, US_EAST_1),
                cidrBlock,
            ).toThrow(/expected an IPv4 network address with a \/16 to \/28 prefix/);
        expect(() =>
            awsxVpcLayout("v", { cidrBlock: "10.0.0.0/24", numberOfAvailabilityZones: 2 }, US_EAST_1),
        ).not.toThrow();
    });

    it("refuses a VPC too small for awsx's split: a subnet smaller than /28", () => {
        // A /26 over two zones: /27 per zone, private /28, public /29, which AWS refuses.
        expect(() => awsxVpcLayout("v", { cidrBlock: "10.0.0.0/26", numberOfAvailabilityZones: 2 }, US_EAST_1)).toThrow(
            "InvalidSubnet.Range: The CIDR '10.0.0.16/29' is invalid",
        );
    });

    it("refuses layouts it does not simulate instead of guessing them", () => {
        expect(() => awsxVpcLayout("v", { subnetSpecs: [{ type: "Private" }] }, US_EAST_1)).toThrow(
            "not simulated: subnetSpecs",
        );
        expect(() => awsxVpcLayout("v", { subnetStrategy: "Auto" }, US_EAST_1)).toThrow("subnetStrategy Auto");
    });

    it("registers its subnets so getSubnet finds them in its VPC and zone, in awsx's output order", () => {
        const aws = sim();
        const { id, state } = buildVpc(aws, {
            availabilityZoneNames: ["eu-central-1a", "eu-central-1b"],
            natGateways: { strategy: "Single" },
        });
        expect(id).toBeUndefined(); // a component has no ID
        expect(state.vpcId).toMatch(/^vpc-[0-9a-f]{17}$/);
        const lookup = (subnetId: string) =>
            aws.call({ token: "aws:ec2/getSubnet:getSubnet", inputs: { id: subnetId } } as Parameters<
                SimulatedAws["call"]
            >[0]) as { vpcId: string; cidrBlock: string; availabilityZone: string };
        expect(state.publicSubnetIds.map(lookup)).toEqual([
            expect.objectContaining({
                vpcId: state.vpcId,
                cidrBlock: "10.0.64.0/19",
                availabilityZone: "eu-central-1a",
            }),
            expect.objectContaining({
                vpcId: state.vpcId,
                cidrBlock: "10.0.192.0/19",
                availabilityZone: "eu-central-1b",
            }),
        ]);
        expect(state.privateSubnetIds.map((s) => lookup(s).cidrBlock)).toEqual(["10.0.0.0/18", "10.0.128.0/18"]);
        // One NAT gateway (Single) in the first public subnet; each private route goes through it.
        const nats = aws.resources.filter((r) => r.type === "aws:ec2/natGateway:NatGateway");
        expect(nats.map((n) => n.inputs.subnetId)).toEqual([state.publicSubnetIds[0]]);
        const privateRoutes = aws.resources.filter(
            (r) => r.type === "aws:ec2/route:Route" && r.name.includes("private"),
        );
        expect(privateRoutes.map((r) => r.inputs.natGatewayId)).toEqual([nats[0]!.id, nats[0]!.id]);
    });

    it("takes the first zones the region lists by default, an opted-in Local Zone first (why the example names them)", () => {
        const aws = sim("eu-central-1");
        buildVpc(aws, {});
        const zones = aws.resources
            .filter((r) => r.type === "aws:ec2/subnet:Subnet")
            .map((s) => s.inputs.availabilityZone);
        expect([...new Set(zones)]).toEqual(["eu-central-1-ham-1a", "eu-central-1a", "eu-central-1b"]);
    });

    it("counts its NAT gateways' Elastic IPs against the account's quota", () => {
        // us-east-1 lists six zones; one NAT gateway per zone (awsx's default) needs six of the five.
        expect(() => buildVpc(sim("us-east-1"), { numberOfAvailabilityZones: 6 })).toThrow(/AddressLimitExceeded/);
        expect(() => buildVpc(sim("us-east-1"), { numberOfAvailabilityZones: 5 })).not.toThrow();
    });
});
