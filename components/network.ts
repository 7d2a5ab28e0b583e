// The VPC a stack lives in: either a new one (public and private subnets per AZ, internet and NAT
// gateways, flow logs) or an existing one, described by the same `NetworkLayout`.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NatGatewayMode, natGatewayCount, planSubnets } from "./config";
import { Cidr, formatCidr } from "./net/cidr";

/** A subnet as the rest of the program needs it. */
export interface SubnetRef {
    id: pulumi.Output<string>;
    cidrBlock: pulumi.Output<string>;
}

/** What Bastion and Targets are placed into. */
export interface NetworkLayout {
    vpcId: pulumi.Output<string>;
    publicSubnets: SubnetRef[];
    privateSubnets: SubnetRef[];
    /** Subnets for inner bastion hops; empty without a chain (an existing VPC uses its private subnets). */
    managementSubnets: SubnetRef[];
    /** Route table associations: hosts wait for them so their first boot finds the internet (IGW or NAT). */
    routing: pulumi.Resource[];
}

export interface NetworkArgs {
    /** IPv4 CIDR of the new VPC. Defaults to `10.42.0.0/16`. */
    vpcCidr?: string;
    /** Availability zones to spread subnets over. Defaults to 2. */
    azCount?: number;
    /** NAT for the private subnets: `none`, `single` or `perAz`. Defaults to `single`. */
    natGateways?: NatGatewayMode;
    /** Days the VPC flow logs are kept (0 = forever). Defaults to 90. */
    flowLogRetentionDays?: number;
    /** Add a management subnet per AZ for inner bastion hops. Defaults to false. */
    managementSubnets?: boolean;
    /** Tags added to every resource. Defaults to none. */
    tags?: Record<string, string>;
}

/** A new VPC with public subnets for the bastion and private subnets for targets. */
export class Network extends pulumi.ComponentResource implements NetworkLayout {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnets: SubnetRef[];
    readonly privateSubnets: SubnetRef[];
    readonly managementSubnets: SubnetRef[];
    readonly routing: pulumi.Resource[] = [];
    readonly flowLogGroupName: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:network:Network", name, args, opts);
        const routing = this.routing;
        const vpcCidr = args.vpcCidr ?? "10.42.0.0/16";
        const azCount = args.azCount ?? 2;
        const natGateways = args.natGateways ?? "single";
        const tags = args.tags ?? {};
        const named = (suffix: string) => ({ ...tags, Name: `${name}-${suffix}` });
        const parent = { parent: this };

        const vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: vpcCidr,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: named("vpc"),
            },
            parent,
        );

        // Strip every rule from the default group so nothing lands in an open group by accident.
        new aws.ec2.DefaultSecurityGroup(
            `${name}-default-sg`,
            { vpcId: vpc.id, tags: named("default-closed") },
            parent,
        );

        // Regular zones only: an opted-in Local or Wavelength zone sorts first by name (eu-central-1-ham-1a)
        // and lacks NAT gateways and most instance types.
        const zones = aws.getAvailabilityZonesOutput(
            { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
            parent,
        ).names;
        const zone = (i: number) =>
            zones.apply((names) => {
                if (names.length < azCount)
                    throw new Error(`azCount is ${azCount} but the region has only ${names.length} zones`);
                return names[i]!;
            });
        const { publicCidrs, managementCidrs, privateCidrs } = planSubnets(vpcCidr, azCount, args.managementSubnets);

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: named("igw") }, parent);
        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public-rt`,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
                tags: named("public"),
            },
            parent,
        );

        const publicSubnets = publicCidrs.map((cidr, i) => {
            const s = new aws.ec2.Subnet(
                `${name}-public-${i}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: formatCidr(cidr),
                    availabilityZone: zone(i),
                    // Only the bastion gets a public address, through its own Elastic IP.
                    mapPublicIpOnLaunch: false,
                    tags: { ...named(`public-${i}`), "jumpgate:tier": "public" },
                },
                parent,
            );
            routing.push(
                new aws.ec2.RouteTableAssociation(
                    `${name}-public-${i}`,
                    { subnetId: s.id, routeTableId: publicRoutes.id },
                    parent,
                ),
            );
            return s;
        });

        const natCount = natGatewayCount(natGateways, azCount);
        const nats = Array.from({ length: natCount }, (_, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: named(`nat-${i}`) }, parent);
            return new aws.ec2.NatGateway(
                `${name}-nat-${i}`,
                {
                    allocationId: eip.allocationId,
                    subnetId: publicSubnets[i]!.id,
                    tags: named(`nat-${i}`),
                },
                { parent: this, dependsOn: [igw] },
            );
        });

        // Private and management subnets reach the internet (package mirrors) only through NAT.
        const natSubnet = (tier: "private" | "management", cidr: Cidr, i: number) => {
            const s = new aws.ec2.Subnet(
                `${name}-${tier}-${i}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: formatCidr(cidr),
                    availabilityZone: zone(i),
                    mapPublicIpOnLaunch: false,
                    tags: { ...named(`${tier}-${i}`), "jumpgate:tier": tier },
                },
                parent,
            );
            const nat = nats[Math.min(i, nats.length - 1)];
            const routes = new aws.ec2.RouteTable(
                `${name}-${tier}-rt-${i}`,
                {
                    vpcId: vpc.id,
                    routes: nat ? [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] : [],
                    tags: named(`${tier}-${i}`),
                },
                parent,
            );
            routing.push(
                new aws.ec2.RouteTableAssociation(
                    `${name}-${tier}-${i}`,
                    { subnetId: s.id, routeTableId: routes.id },
                    parent,
                ),
            );
            return s;
        };
        const managementSubnets = managementCidrs.map((cidr, i) => natSubnet("management", cidr, i));
        const privateSubnets = privateCidrs.map((cidr, i) => natSubnet("private", cidr, i));

        // Flow logs: who talked to the bastion and targets, kept in CloudWatch.
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-flow-logs`,
            {
                retentionInDays: args.flowLogRetentionDays ?? 90,
                tags: named("flow-logs"),
            },
            parent,
        );
        const flowLogRole = new aws.iam.Role(
            `${name}-flow-logs`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        },
                    ],
                }),
                tags: named("flow-logs"),
            },
            parent,
        );
        new aws.iam.RolePolicy(
            `${name}-flow-logs`,
            {
                role: flowLogRole.id,
                policy: logGroup.arn.apply((arn) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Action: [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                ],
                                Resource: [arn, `${arn}:*`],
                            },
                        ],
                    }),
                ),
            },
            parent,
        );
        new aws.ec2.FlowLog(
            `${name}-flow-log`,
            {
                vpcId: vpc.id,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: logGroup.arn,
                iamRoleArn: flowLogRole.arn,
                tags: named("flow-log"),
            },
            parent,
        );

        this.vpcId = vpc.id;
        this.publicSubnets = publicSubnets.map((s) => ({ id: s.id, cidrBlock: s.cidrBlock }));
        this.privateSubnets = privateSubnets.map((s) => ({ id: s.id, cidrBlock: s.cidrBlock }));
        this.managementSubnets = managementSubnets.map((s) => ({ id: s.id, cidrBlock: s.cidrBlock }));
        this.flowLogGroupName = logGroup.name;
        this.registerOutputs({ vpcId: this.vpcId, flowLogGroupName: this.flowLogGroupName });
    }
}

/** An existing VPC: looks up each subnet (for its CIDR) and checks it belongs to the VPC. */
export function existingNetwork(
    vpcId: string,
    publicSubnetIds: string[],
    privateSubnetIds: string[],
    opts: pulumi.InvokeOutputOptions,
): NetworkLayout {
    const ref = (id: string, key: string): SubnetRef => {
        const s = aws.ec2.getSubnetOutput({ id }, opts);
        const checked = s.apply((subnet) => {
            if (subnet.vpcId !== vpcId) {
                throw new Error(
                    `${key} contains ${id}, which is in ${subnet.vpcId}, not existingVpc.vpcId ${vpcId}; ` +
                        `fix: pulumi config set --path 'existingVpc.vpcId' ${subnet.vpcId}`,
                );
            }
            return subnet;
        });
        return { id: checked.id, cidrBlock: checked.cidrBlock };
    };
    return {
        vpcId: pulumi.output(vpcId),
        publicSubnets: publicSubnetIds.map((id) => ref(id, "existingVpc.publicSubnetIds")),
        privateSubnets: privateSubnetIds.map((id) => ref(id, "existingVpc.privateSubnetIds")),
        managementSubnets: [],
        routing: [],
    };
}
