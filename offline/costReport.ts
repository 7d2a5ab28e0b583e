// Renders a cost estimate as text: one line per charge, the total, and what the total rests on.
import { CostEstimate } from "./cost";

const usd = (n: number) => `$${n.toFixed(2)}`;

export function renderCost(e: CostEstimate): string {
    const rows = e.lines.map((l) => {
        const amount = l.monthlyUsd === undefined ? `NO PRICE: ${l.noPrice}` : usd(l.monthlyUsd);
        const marks = `${l.unverified ? "*" : ""}${l.assumed ? "~" : ""}`;
        return `  ${`${l.name}  ${l.item}`.padEnd(72)} ${amount}${marks ? ` ${marks}` : ""}`;
    });
    const total =
        e.unpriced > 0
            ? `  ${"Total".padEnd(72)} at least ${usd(e.totalUsd)} (${e.unpriced} charge(s) without a price, not counted)`
            : `  ${"Total".padEnd(72)} ${usd(e.totalUsd)}`;
    return [
        `Estimated monthly cost, ${e.region}, on-demand, ${e.hoursPerMonth} h/month (prices of ${e.date}, offline/prices.json):`,
        ...rows,
        total,
        "  * figure not confirmed by a public source (see offline/prices.json); ~ rests on an assumed volume:",
        ...e.assumptions.map((a) => `    - ${a}`),
    ].join("\n");
}
