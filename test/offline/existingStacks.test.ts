// Stacks deployed with the standalone program before jumpgate became a library keep every resource: the
// same type, name and parent (so the same URN, nothing replaced for a new identity) and the same stack
// outputs. The fixture was recorded by `npm run plan -- --save` on the program of 72fa9c7 for a default
// stack, a chain of 3 hops, team access with the stack CA and with KMS, tunnels, and an existing VPC.
// A resource may be added; one that is renamed or moved keeps its state only through an alias, which
// counts here as Pulumi counts it: a resource under an aliased parent is also found under the old one.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resourceKey, runOffline } from "../../offline/run";

interface RecordedStack {
    config: Record<string, unknown>;
    /** `type::name`, then ` < type::name` of the parent. */
    resources: string[];
    outputs: string[];
}
const recorded = JSON.parse(readFileSync(path.join(__dirname, "../fixtures/existingStacks.json"), "utf8")) as {
    stacks: Record<string, RecordedStack>;
};

describe("stacks of the standalone program keep every resource", () => {
    for (const [stack, before] of Object.entries(recorded.stacks)) {
        it(`${stack}: every recorded resource under the same parent, and the same outputs`, async () => {
            const run = await runOffline({ stack, config: before.config });
            const byKey = new Map(run.resources.map((r) => [resourceKey(r.type, r.name), r]));
            // A resource answers to its own `type::name` and to each alias, and so does its parent.
            const identities = (key: string) => [key, ...(byKey.get(key)?.aliases ?? [])];
            const now = new Set(
                run.resources.flatMap((r) =>
                    identities(resourceKey(r.type, r.name)).flatMap((id) =>
                        r.parent === undefined ? [id] : identities(r.parent).map((p) => `${id} < ${p}`),
                    ),
                ),
            );
            expect(before.resources.filter((r) => !now.has(r))).toEqual([]);
            expect(Object.keys(run.outputs).sort()).toEqual(before.outputs);
        }, 120_000);
    }
});
