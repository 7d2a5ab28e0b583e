// The monthly cost estimate of the real program, from the dated price table: the default stack's total,
// and "no price" (never a guess) for a region or instance type the table lacks.
import { describe, expect, it } from "vitest";
import { PRICES, auditGbPerMonth, defaultAuditUsage, estimateCost } from "../../offline/cost";
import { renderCost } from "../../offline/costReport";
import { plan } from "../helpers/program";

/** The default stack (bastion t4g.nano, one t4g.micro target, one NAT gateway) priced by hand from the table. */
function expectedDefaultStack(region: string): number {
    const p = PRICES.regions[region]!;
    const h = PRICES.hoursPerMonth;
    const nat = PRICES.assumptions.natProcessedGbPerMonth.value;
    const flow = PRICES.assumptions.flowLogGbPerMonth.value;
    return (
        h * (p.instanceHourly["t4g.nano"]!.usd + p.instanceHourly["t4g.micro"]!.usd) +
        2 * 8 * p.gp3GbMonth.usd + // two 8 GB gp3 root volumes
        h * p.natGatewayHourly.usd +
        nat * p.natGatewayPerGb.usd +
        2 * h * p.publicIpv4Hourly.usd + // the bastion's and the NAT gateway's Elastic IPs
        flow * p.flowLogIngestPerGb.usd +
        flow * 3 * p.logStorageGbMonth.usd + // 90 days of flow logs kept
        auditTrail(region, 2)
    );
}

/** The audit trail: its key, five filters' metrics and alarms, a month's ingestion and 365 days kept. */
function auditTrail(region: string, hosts: number): number {
    const p = PRICES.regions[region]!;
    const a = PRICES.assumptions;
    const gb =
        ((a.auditConnectionsPerMonth.value * a.auditEntriesPerConnection.value +
            a.auditHeartbeatsPerHostPerMonth.value * hosts) *
            a.auditEntryBytes.value) /
        1e9;
    return (
        p.kmsKeyMonth.usd +
        5 * (p.metricAlarmMonthly.usd + p.customMetricMonthly.usd) +
        gb * p.logIngestPerGb.usd +
        gb * (365 / 30) * p.logStorageGbMonth.usd
    );
}

describe("monthly cost estimate", () => {
    it("prices the default stack in eu-central-1 and us-east-1 from the table", async () => {
        const eu = estimateCost(await plan());
        expect(eu.unpriced).toBe(0);
        expect(eu.totalUsd).toBeCloseTo(expectedDefaultStack("eu-central-1"), 9);
        expect(eu.totalUsd.toFixed(2)).toBe("61.37");
        const us = estimateCost(await plan({ "aws:region": "us-east-1" }));
        expect(us.totalUsd).toBeCloseTo(expectedDefaultStack("us-east-1"), 9);
        expect(us.totalUsd.toFixed(2)).toBe("54.52");
        expect(renderCost(eu)).toMatch(/Total\s+\$61\.37\n/);
    });

    it("prices the audit trail at a stated volume, which a measured figure can replace, and not at all when it is off", async () => {
        const run = await plan();
        const usage = defaultAuditUsage();
        // 3000 connections x 19.8 entries (the lab day's measure) + 2 hosts' heartbeats, 1094 bytes each.
        expect(auditGbPerMonth(usage, 2)).toBeCloseTo(((3000 * 19.8 + 2 * 8760) * 1094) / 1e9, 12);
        const measured = estimateCost(run, PRICES, { ...usage, entriesPerConnection: 39.8 });
        const ingest = (e: ReturnType<typeof estimateCost>) =>
            e.lines.find((l) => l.item.startsWith("audit log ingestion"))!.monthlyUsd!;
        const base = estimateCost(run);
        const perEntry = (3000 * 1094 * PRICES.regions["eu-central-1"]!.logIngestPerGb.usd) / 1e9;
        expect(ingest(measured) - ingest(base)).toBeCloseTo(20 * perEntry, 12);
        expect(base.assumptions.join("\n")).toContain("3000 connections/month");
        const off = estimateCost(await plan({ "jumpgate:audit": false }));
        expect(off.lines.filter((l) => /audit|KMS|alarm|metric/.test(l.item))).toEqual([]);
        expect(base.totalUsd - off.totalUsd).toBeCloseTo(auditTrail("eu-central-1", 2), 9);
    });

    it("adds $1 a month per role's KMS key with the kms user CA, and says requests are not included", async () => {
        const operators = [{ name: "alice", role: "admin", awsPrincipals: ["arn:aws:iam::123456789012:user/alice"] }];
        const e = estimateCost(await plan({ "jumpgate:operators": operators }));
        const kms = e.lines.filter((l) => l.type === "aws:kms/key:Key" && l.item.includes("user CA"));
        // Built-in roles admin and developer: one key each (beside the audit log key); aliases cost nothing.
        expect(kms.map((l) => [l.item, l.monthlyUsd])).toEqual([
            ["KMS key (user CA of role admin)", 1],
            ["KMS key (user CA of role developer)", 1],
        ]);
        expect(e.unpriced).toBe(0);
        expect(e.totalUsd).toBeCloseTo(expectedDefaultStack("eu-central-1") + 2, 9);
        expect(e.assumptions.join("\n")).toMatch(/KMS requests are not included: each certificate is one kms:Sign/);
        expect(estimateCost(await plan()).assumptions.join("\n")).not.toContain("KMS requests");
    });

    it("says 'no price' for a region the table lacks, and gives no total as if complete", async () => {
        const e = estimateCost(await plan({ "aws:region": "ap-south-2" }));
        expect(e.totalUsd).toBe(0);
        expect(e.unpriced).toBe(e.lines.length);
        expect(e.lines.every((l) => l.noPrice?.startsWith("no price for region ap-south-2"))).toBe(true);
        const text = renderCost(e);
        expect(text).toContain("NO PRICE: no price for region ap-south-2 (the table has us-east-1, eu-central-1)");
        expect(text).toMatch(/Total\s+at least \$0\.00 \(\d+ charge\(s\) without a price, not counted\)/);
    });

    it("says 'no price' for an instance type the table lacks and counts the rest", async () => {
        const e = estimateCost(await plan({ "jumpgate:targets": [{ name: "app-1", instanceType: "m7g.large" }] }));
        expect(e.lines.filter((l) => l.noPrice)).toEqual([
            expect.objectContaining({ name: "test-app-1", noPrice: "no price for instance type m7g.large" }),
        ]);
        const micro = PRICES.hoursPerMonth * PRICES.regions["eu-central-1"]!.instanceHourly["t4g.micro"]!.usd;
        expect(e.totalUsd).toBeCloseTo(expectedDefaultStack("eu-central-1") - micro, 9);
        expect(renderCost(e)).toContain("at least");
    });

    it("carries its date, and a source or 'unverified' for every figure, for the types the program uses", () => {
        expect(PRICES.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        for (const [region, p] of Object.entries(PRICES.regions)) {
            for (const type of ["t4g.nano", "t4g.micro", "t3.nano", "t3.micro"]) {
                expect(p.instanceHourly[type], `${region} ${type}`).toBeDefined();
            }
            const figures = [...Object.values(p.instanceHourly), p.gp3GbMonth, p.natGatewayHourly, p.publicIpv4Hourly];
            for (const f of figures) expect(f.checked.length, region).toBeGreaterThan(8);
        }
    });
});
