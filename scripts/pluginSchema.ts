// The schema Pulumi serves for jumpgate as a source-based plugin (`pulumi package add`), generated
// offline the way the plugin host does it: the components the library entry exports, analyzed from the
// TypeScript sources by @pulumi/pulumi's ComponentProvider. Other languages' SDKs are generated from it.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as library from "../index";
import { PackageSchema } from "./schemaCompat";

export const REPO_ROOT = path.resolve(__dirname, "..");
/** The committed schema: the contract programs in other languages are written against. */
export const SCHEMA_FILE = path.join(REPO_ROOT, "schema.json");

/** Provider name and namespace from the npm package name, as the plugin host derives them (`@ns/name`). */
export function providerIdentity(packageName: string): { name: string; namespace?: string } {
    const m = /^(?:@([^/]+)\/)?(.+)$/.exec(packageName)!;
    return { name: m[2]!.replace(/[^-a-zA-Z0-9_]/g, "-"), ...(m[1] === undefined ? {} : { namespace: m[1] }) };
}

/** The provider the plugin host would start for this package. */
export function jumpgateProvider(): ComponentProvider {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { name: string };
    return new ComponentProvider({
        ...providerIdentity(pkg.name),
        components: getPulumiComponents(library),
        dirname: REPO_ROOT,
    });
}

/** The schema as committed: pretty-printed, in the analyzer's (source) order, with a final newline. */
export async function generatedSchemaText(provider: ComponentProvider = jumpgateProvider()): Promise<string> {
    return `${JSON.stringify(JSON.parse(await provider.getSchema()), null, 2)}\n`;
}

export function readCommittedSchema(): PackageSchema | undefined {
    try {
        return JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as PackageSchema;
    } catch {
        return undefined;
    }
}

/** Whether going from `before` to `after` is a version bump semver allows breaking changes in. */
export function isBreakingBump(before: string, after: string): boolean {
    const parse = (v: string) => v.split(/[.+-]/).slice(0, 2).map(Number) as [number, number];
    const [majorBefore, minorBefore] = parse(before);
    const [majorAfter, minorAfter] = parse(after);
    if (majorAfter !== majorBefore) return majorAfter > majorBefore;
    // Under 1.0.0 the minor version is the one that signals breaking changes.
    return majorBefore === 0 && minorAfter > minorBefore;
}
