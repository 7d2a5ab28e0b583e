// The library entry is what the plugin host loads (`require` of the package) before it serves the
// components it finds there: loading it must create nothing, and the components found must be exactly
// the ones the schema describes.
import * as pulumi from "@pulumi/pulumi";
import { getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { beforeAll, describe, expect, it } from "vitest";

const registered: string[] = [];
const invoked: string[] = [];

beforeAll(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push(`${args.type}::${args.name}`);
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => {
                invoked.push(args.token);
                return {};
            },
        },
        "entry",
        "test",
        false,
    );
});

describe("the library entry (index.ts)", () => {
    it("registers no resource and calls no provider when loaded", async () => {
        await import("../../index");
        // Anything the module started would reach the mocks within a few turns of the event loop.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(registered).toEqual([]);
        expect(invoked).toEqual([]);
    });

    it("exports exactly the components the plugin hosts, beside the enums and the error type", async () => {
        const library = await import("../../index");
        expect(getPulumiComponents(library).map((c) => c.name)).toEqual(["Jumpgate"]);
        // The test transform keeps re-exported interfaces as undefined bindings; ts-node drops them.
        const values = Object.entries(library).filter(([, v]) => v !== undefined);
        expect(values.map(([k]) => k).sort()).toEqual([
            "CryptoProfile",
            "HostOs",
            "Jumpgate",
            "JumpgateArgsError",
            "NatGateways",
            "UserCa",
        ]);
    });
});
