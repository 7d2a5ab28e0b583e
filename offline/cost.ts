// Estimated monthly cost of what a run would build, from the dated price table in ./prices.json.
// Whatever the table cannot price (a region or instance type it lacks) is listed as "no price", never
// guessed; usage-based charges use the table's stated assumptions.
import prices from "./prices.json";

export interface Price {
    usd: number;
    /** Which public page confirmed the figure, or "unverified ...". */
    checked: string;
}

export interface RegionPrices {
    instanceHourly: Record<string, Price>;
    gp3GbMonth: Price;
    natGatewayHourly: Price;
    natGatewayPerGb: Price;
    publicIpv4Hourly: Price;
    flowLogIngestPerGb: Price;
    logStorageGbMonth: Price;
    /** A customer managed KMS key (the kms user CA has one per role). */
    kmsKeyMonth: Price;
    /** Standard-class log ingestion (the audit group). */
    logIngestPerGb: Price;
    metricAlarmMonthly: Price;
    /** A metric filter publishes one custom metric. */
    customMetricMonthly: Price;
}

interface Assumption {
    value: number;
    why: string;
}

export interface PriceTable {
    date: string;
    currency: string;
    hoursPerMonth: number;
    assumptions: {
        natProcessedGbPerMonth: Assumption;
        flowLogGbPerMonth: Assumption;
        auditConnectionsPerMonth: Assumption;
        auditEntriesPerConnection: Assumption;
        auditEntryBytes: Assumption;
        auditHeartbeatsPerHostPerMonth: Assumption;
    };
    regions: Record<string, RegionPrices>;
}

export const PRICES: PriceTable = prices;

/** One charge of one resource; `monthlyUsd` is undefined when the table has no price for it. */
export interface CostLine {
    type: string;
    name: string;
    item: string;
    monthlyUsd?: number;
    /** Why there is no price, when there is none. */
    noPrice?: string;
    /** The price is not confirmed by a source (see prices.json). */
    unverified: boolean;
    /** The amount rests on an assumed usage volume. */
    assumed: boolean;
}

export interface CostEstimate {
    region: string;
    date: string;
    hoursPerMonth: number;
    lines: CostLine[];
    /** Sum of the priced lines; a lower bound when `unpriced` > 0. */
    totalUsd: number;
    unpriced: number;
    assumptions: string[];
}

interface Resource {
    type: string;
    name: string;
    custom: boolean;
    inputs: Record<string, unknown>;
}

/** Resource types AWS does not charge for by themselves. */
const NO_CHARGE = new Set([
    "pulumi:index:Stash",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/route:Route",
    "aws:ec2/keyPair:KeyPair",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/eipAssociation:EipAssociation",
    "aws:iam/role:Role",
    "aws:kms/alias:Alias",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/instanceProfile:InstanceProfile",
    "tls:index/privateKey:PrivateKey",
    // Transformation is part of ingestion; SNS's first 1,000 email notifications a month are free.
    "aws:cloudwatch/logTransformer:LogTransformer",
    "aws:sns/topic:Topic",
    "aws:sns/topicSubscription:TopicSubscription",
    // State Manager associations on EC2 instances carry no charge of their own (Systems Manager pricing).
    "aws:ssm/association:Association",
]);

/** What the audit volume rests on; each figure can be overridden (e.g. with the lab's measured one). */
export interface AuditUsage {
    connectionsPerMonth: number;
    entriesPerConnection: number;
    entryBytes: number;
    heartbeatsPerHostPerMonth: number;
}

export function defaultAuditUsage(table: PriceTable = PRICES): AuditUsage {
    const a = table.assumptions;
    return {
        connectionsPerMonth: a.auditConnectionsPerMonth.value,
        entriesPerConnection: a.auditEntriesPerConnection.value,
        entryBytes: a.auditEntryBytes.value,
        heartbeatsPerHostPerMonth: a.auditHeartbeatsPerHostPerMonth.value,
    };
}

/** GB a month the audit group ingests: every connection's entries plus every host's heartbeats. */
export function auditGbPerMonth(usage: AuditUsage, hosts: number): number {
    const entries = usage.connectionsPerMonth * usage.entriesPerConnection + usage.heartbeatsPerHostPerMonth * hosts;
    return (entries * usage.entryBytes) / 1e9;
}

/** Ingestion of a month and storage of the retention's worth (never-expiring groups priced after a year). */
function auditLogCharges(days: number, gbPerMonth: number, region: RegionPrices | undefined): Charge[] {
    const months = days === 0 ? 12 : days / 30;
    const stored = gbPerMonth * months;
    return [
        {
            item: `audit log ingestion, ${gbPerMonth.toFixed(3)} GB assumed`,
            price: region?.logIngestPerGb,
            quantity: gbPerMonth,
            assumed: true,
        },
        {
            item: `audit log storage, ${stored.toFixed(2)} GB assumed (${days === 0 ? "never expires: after a year" : `${days}-day retention`})`,
            price: region?.logStorageGbMonth,
            quantity: stored,
            assumed: true,
        },
    ];
}

interface CostContext {
    region: RegionPrices | undefined;
    table: PriceTable;
    /** GB a month the audit log group ingests. */
    auditGb: number;
}

type Charge = { item: string; price?: Price; quantity: number; noPrice?: string; assumed?: boolean };

/** The charges one resource brings, priced from `region` (undefined when the table lacks the region). */
/** A KMS key says what it is for: a role's user CA (tagged with the role) or the audit log group's key. */
function kmsKeyItem(inputs: Record<string, unknown>): string {
    const role = ((inputs.tags ?? {}) as Record<string, unknown>)["jumpgate:access-role"];
    return typeof role === "string" ? `KMS key (user CA of role ${role})` : "KMS key (audit log encryption)";
}

function chargesOf(r: Resource, { region, table, auditGb }: CostContext): Charge[] {
    const hours = table.hoursPerMonth;
    const i = r.inputs;
    switch (r.type) {
        case "aws:ec2/instance:Instance": {
            const type = String(i.instanceType);
            const root = (i.rootBlockDevice ?? {}) as { volumeSize?: number; volumeType?: string };
            const size = root.volumeSize ?? 8;
            const charges: Charge[] = [
                {
                    item: `${type} instance`,
                    price: region?.instanceHourly[type],
                    quantity: hours,
                    noPrice: `no price for instance type ${type}`,
                },
                root.volumeType === "gp3"
                    ? { item: `root volume gp3 ${size} GB`, price: region?.gp3GbMonth, quantity: size }
                    : {
                          item: `root volume ${root.volumeType ?? "default"} ${size} GB`,
                          quantity: size,
                          noPrice: "only gp3 is in the table",
                      },
            ];
            if (i.associatePublicIpAddress === true) {
                charges.push({ item: "public IPv4 address", price: region?.publicIpv4Hourly, quantity: hours });
            }
            return charges;
        }
        case "aws:ec2/eip:Eip":
            return [{ item: "public IPv4 address (Elastic IP)", price: region?.publicIpv4Hourly, quantity: hours }];
        case "aws:ec2/natGateway:NatGateway": {
            const gb = table.assumptions.natProcessedGbPerMonth.value;
            return [
                { item: "NAT gateway hours", price: region?.natGatewayHourly, quantity: hours },
                {
                    item: `NAT data processed, ${gb} GB assumed`,
                    price: region?.natGatewayPerGb,
                    quantity: gb,
                    assumed: true,
                },
            ];
        }
        case "aws:ec2/flowLog:FlowLog": {
            const gb = table.assumptions.flowLogGbPerMonth.value;
            if (i.logDestinationType !== "cloud-watch-logs")
                return [
                    {
                        item: "flow log delivery",
                        quantity: 0,
                        noPrice: "only CloudWatch Logs delivery is in the table",
                    },
                ];
            return [
                {
                    item: `flow log ingestion, ${gb} GB assumed`,
                    price: region?.flowLogIngestPerGb,
                    quantity: gb,
                    assumed: true,
                },
            ];
        }
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return [{ item: "alarm (standard resolution)", price: region?.metricAlarmMonthly, quantity: 1 }];
        case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
            return [{ item: "custom metric of the filter", price: region?.customMetricMonthly, quantity: 1 }];
        case "aws:cloudwatch/logGroup:LogGroup": {
            const days = Number(i.retentionInDays ?? 0);
            const tags = (i.tags ?? {}) as Record<string, unknown>;
            if (tags["jumpgate:logs"] === "audit") return auditLogCharges(days, auditGb, region);
            // Steady state: retention's worth of the assumed monthly volume; never-expiring logs priced after a year.
            const months = days === 0 ? 12 : days / 30;
            const gb = table.assumptions.flowLogGbPerMonth.value * months;
            const item = `log storage, ${gb.toFixed(1)} GB assumed (${days === 0 ? "never expires: after a year" : `${days}-day retention`})`;
            return [{ item, price: region?.logStorageGbMonth, quantity: gb, assumed: true }];
        }
        case "aws:kms/key:Key":
            return [{ item: kmsKeyItem(i), price: region?.kmsKeyMonth, quantity: 1 }];
        default:
            return NO_CHARGE.has(r.type)
                ? []
                : [{ item: r.type, quantity: 0, noPrice: `no price for resource type ${r.type}` }];
    }
}

export function estimateCost(
    run: { region: string; resources: Resource[] },
    table: PriceTable = PRICES,
    audit: AuditUsage = defaultAuditUsage(table),
): CostEstimate {
    const region = table.regions[run.region];
    const hosts = run.resources.filter((r) => r.type === "aws:ec2/instance:Instance").length;
    const context: CostContext = { region, table, auditGb: auditGbPerMonth(audit, hosts) };
    const missingRegion = `no price for region ${run.region} (the table has ${Object.keys(table.regions).join(", ")})`;
    const lines: CostLine[] = run.resources
        .filter((r) => r.custom)
        .flatMap((r) =>
            chargesOf(r, context).map((c) => {
                const base = { type: r.type, name: r.name, item: c.item, assumed: c.assumed ?? false };
                if (c.price) {
                    const unverified = c.price.checked.startsWith("unverified");
                    return { ...base, monthlyUsd: c.price.usd * c.quantity, unverified };
                }
                return { ...base, unverified: false, noPrice: region ? (c.noPrice ?? "no price") : missingRegion };
            }),
        );
    const a = table.assumptions;
    return {
        region: run.region,
        date: table.date,
        hoursPerMonth: table.hoursPerMonth,
        lines,
        totalUsd: lines.reduce((sum, l) => sum + (l.monthlyUsd ?? 0), 0),
        unpriced: lines.filter((l) => l.monthlyUsd === undefined).length,
        assumptions: [
            `${a.natProcessedGbPerMonth.value} GB/month through each NAT gateway: ${a.natProcessedGbPerMonth.why}`,
            `${a.flowLogGbPerMonth.value} GB/month of flow logs: ${a.flowLogGbPerMonth.why}`,
            `audit trail: ${audit.connectionsPerMonth} connections/month (${a.auditConnectionsPerMonth.why}) x ` +
                `${audit.entriesPerConnection} journal entries each (${a.auditEntriesPerConnection.why}) + ` +
                `${audit.heartbeatsPerHostPerMonth} heartbeats per host, ${audit.entryBytes} bytes an entry ` +
                `(${a.auditEntryBytes.why})`,
            "internet data transfer out and CPU credit surplus of burstable instances are not included",
            ...(run.resources.some((r) => r.type === "aws:kms/key:Key" && kmsKeyItem(r.inputs).includes("user CA"))
                ? [
                      "KMS requests are not included: each certificate is one kms:Sign on an asymmetric key, charged " +
                          "per 10,000 requests outside the free tier (aws.amazon.com/kms/pricing); one login per " +
                          "operator and working day stays far below 10,000 a month",
                  ]
                : []),
        ],
    };
}
