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

/** What every part of a new network is built with: the component's name, tags, parent and VPC. */
interface NetworkScope {
    name: string;
    /** Tags with `Name` set to `<name>-<suffix>`. */
    named: (suffix: string) => Record<string, string>;
    parent: pulumi.CustomResourceOptions;
    vpcId: pulumi.Output<string>;
    /** Collects the route table associations hosts wait for. */
    routing: pulumi.Resource[];
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
        // Typed `jumpgate:network:Network` before every component took the package's `index` module; the alias keeps
        // existing stacks' resources (and, through the parent, their children's URNs).
        super("jumpgate:index:Network", name, args, {
            ...opts,
            aliases: [...(opts?.aliases ?? []), { type: "jumpgate:network:Network" }],
        });
        const vpcCidr = args.vpcCidr ?? "10.42.0.0/16";
        const azCount = args.azCount ?? 2;
        const tags = args.tags ?? {};
        const named = (suffix: string) => ({ ...tags, Name: `${name}-${suffix}` });
        const parent = { parent: this };
        const vpc = closedVpc(name, vpcCidr, named, parent);
        const scope: NetworkScope = { name, named, parent, vpcId: vpc.id, routing: this.routing };

        const zone = availabilityZone(azCount, parent);
        const { publicCidrs, managementCidrs, privateCidrs } = planSubnets(vpcCidr, azCount, args.managementSubnets);
        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: named("igw") }, parent);
        const publicSubnets = publicTier(scope, publicCidrs, zone, igw);
        const natCount = natGatewayCount(args.natGateways ?? "single", azCount);
        const nats = natGatewaysIn(scope, publicSubnets.slice(0, natCount), igw);
        // Private and management subnets reach the internet (package mirrors) only through NAT.
        const managementSubnets = managementCidrs.map((cidr, i) => natSubnet(scope, "management", cidr, i, zone, nats));
        const privateSubnets = privateCidrs.map((cidr, i) => natSubnet(scope, "private", cidr, i, zone, nats));
        const logGroup = flowLogs(scope, args.flowLogRetentionDays ?? 90);

        this.vpcId = vpc.id;
        this.publicSubnets = publicSubnets.map(subnetRef);
        this.privateSubnets = privateSubnets.map(subnetRef);
        this.managementSubnets = managementSubnets.map(subnetRef);
        this.flowLogGroupName = logGroup.name;
        this.registerOutputs({ vpcId: this.vpcId, flowLogGroupName: this.flowLogGroupName });
    }
}

function subnetRef(s: aws.ec2.Subnet): SubnetRef {
    return { id: s.id, cidrBlock: s.cidrBlock };
}

/** The VPC, with every rule stripped from its default group so nothing lands in an open group by accident. */
function closedVpc(
    name: string,
    cidrBlock: string,
    named: NetworkScope["named"],
    parent: pulumi.CustomResourceOptions,
): aws.ec2.Vpc {
    const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        { cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, tags: named("vpc") },
        parent,
    );
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: named("default-closed") }, parent);
    return vpc;
}

/** The `i`-th zone of the region, failing when the region has fewer than `azCount`. */
function availabilityZone(azCount: number, parent: pulumi.InvokeOutputOptions): (i: number) => pulumi.Output<string> {
    // Regular zones only: an opted-in Local or Wavelength zone sorts first by name (eu-central-1-ham-1a)
    // and lacks NAT gateways and most instance types.
    const zones = aws.getAvailabilityZonesOutput(
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        parent,
    ).names;
    return (i: number) =>
        zones.apply((names) => {
            if (names.length < azCount)
                throw new Error(`azCount is ${azCount} but the region has only ${names.length} zones`);
            return names[i]!;
        });
}

/** One public subnet per AZ, routed to the internet gateway. */
function publicTier(
    scope: NetworkScope,
    cidrs: Cidr[],
    zone: (i: number) => pulumi.Output<string>,
    igw: aws.ec2.InternetGateway,
): aws.ec2.Subnet[] {
    const { name, named, parent, vpcId } = scope;
    const publicRoutes = new aws.ec2.RouteTable(
        `${name}-public-rt`,
        { vpcId, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: named("public") },
        parent,
    );
    return cidrs.map((cidr, i) => {
        const s = new aws.ec2.Subnet(
            `${name}-public-${i}`,
            {
                vpcId,
                cidrBlock: formatCidr(cidr),
                availabilityZone: zone(i),
                // Only the bastion gets a public address, through its own Elastic IP.
                mapPublicIpOnLaunch: false,
                tags: { ...named(`public-${i}`), "jumpgate:tier": "public" },
            },
            parent,
        );
        scope.routing.push(
            new aws.ec2.RouteTableAssociation(
                `${name}-public-${i}`,
                { subnetId: s.id, routeTableId: publicRoutes.id },
                parent,
            ),
        );
        return s;
    });
}

/** A NAT gateway, with its Elastic IP, in each of the given public subnets. */
function natGatewaysIn(
    scope: NetworkScope,
    publicSubnets: aws.ec2.Subnet[],
    igw: aws.ec2.InternetGateway,
): aws.ec2.NatGateway[] {
    const { name, named, parent } = scope;
    return publicSubnets.map((subnet, i) => {
        const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: named(`nat-${i}`) }, parent);
        return new aws.ec2.NatGateway(
            `${name}-nat-${i}`,
            { allocationId: eip.allocationId, subnetId: subnet.id, tags: named(`nat-${i}`) },
            { ...parent, dependsOn: [igw] },
        );
    });
}

/** A private or management subnet with its own route table: the internet through its AZ's NAT, or none. */
function natSubnet(
    scope: NetworkScope,
    tier: "private" | "management",
    cidr: Cidr,
    i: number,
    zone: (i: number) => pulumi.Output<string>,
    nats: aws.ec2.NatGateway[],
): aws.ec2.Subnet {
    const { name, named, parent, vpcId } = scope;
    const s = new aws.ec2.Subnet(
        `${name}-${tier}-${i}`,
        {
            vpcId,
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
            vpcId,
            routes: nat ? [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] : [],
            tags: named(`${tier}-${i}`),
        },
        parent,
    );
    scope.routing.push(
        new aws.ec2.RouteTableAssociation(`${name}-${tier}-${i}`, { subnetId: s.id, routeTableId: routes.id }, parent),
    );
    return s;
}

/** Flow logs: who talked to the bastion and targets, kept in CloudWatch. Returns the log group. */
function flowLogs(scope: NetworkScope, retentionInDays: number): aws.cloudwatch.LogGroup {
    const { name, named, parent, vpcId } = scope;
    const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-flow-logs`,
        { retentionInDays, tags: named("flow-logs") },
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
        { role: flowLogRole.id, policy: logGroup.arn.apply(flowLogWritePolicy) },
        parent,
    );
    new aws.ec2.FlowLog(
        `${name}-flow-log`,
        {
            vpcId,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: logGroup.arn,
            iamRoleArn: flowLogRole.arn,
            tags: named("flow-log"),
        },
        parent,
    );
    return logGroup;
}

/** What the flow log service may do with the group `arn` and its streams. */
function flowLogWritePolicy(arn: string): string {
    return JSON.stringify({
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
    });
}

/** An existing VPC: looks up each subnet (for its CIDR) and checks it belongs to the VPC. */
export function existingNetwork(
    ids: {
        vpcId: pulumi.Input<string>;
        publicSubnetIds: pulumi.Input<string>[];
        privateSubnetIds: pulumi.Input<string>[];
    },
    opts: pulumi.InvokeOutputOptions,
): NetworkLayout {
    const vpcId = pulumi.output(ids.vpcId);
    const ref = (id: pulumi.Input<string>, key: string): SubnetRef => {
        const s = aws.ec2.getSubnetOutput({ id }, opts);
        const checked = pulumi.all([s, vpcId]).apply(([subnet, expected]) => {
            if (subnet.vpcId !== expected) {
                throw new Error(
                    `${key} contains ${subnet.id}, which is in ${subnet.vpcId}, not the VPC ${expected}; ` +
                        `fix: list subnets of ${expected} (stack config: pulumi config set --path 'existingVpc.vpcId' ${subnet.vpcId})`,
                );
            }
            return subnet;
        });
        return { id: checked.id, cidrBlock: checked.cidrBlock };
    };
    return {
        vpcId,
        publicSubnets: ids.publicSubnetIds.map((id) => ref(id, "the public subnets")),
        privateSubnets: ids.privateSubnetIds.map((id) => ref(id, "the private subnets")),
        managementSubnets: [],
        routing: [],
    };
}
