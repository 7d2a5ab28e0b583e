// `npm run schema [-- --breaking]`: writes schema.json, the schema of jumpgate as a Pulumi plugin. It
// refuses a schema that breaks programs written against the committed one (a removed or retyped
// argument, a new required one, ...) unless --breaking is given and package.json's version is a
// breaking bump over the committed schema's.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generatedSchemaText, isBreakingBump, readCommittedSchema, SCHEMA_FILE } from "./pluginSchema";
import { incompatibleChanges, PackageSchema } from "./schemaCompat";

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { breaking: { type: "boolean", default: false } } });
    const text = await generatedSchemaText();
    const next = JSON.parse(text) as PackageSchema;
    const committed = readCommittedSchema();
    const breaking = committed === undefined ? [] : incompatibleChanges(committed, next);
    if (breaking.length > 0) {
        const list = breaking.map((c) => `  - ${c.message}`).join("\n");
        const bumped = isBreakingBump(committed!.version ?? "0.0.0", next.version ?? "0.0.0");
        if (!values.breaking || !bumped) {
            process.stderr.write(
                `schema.json not written: ${breaking.length} change(s) break programs using jumpgate ${committed!.version}:\n${list}\n` +
                    "Keep the old arguments working, or make it a breaking release: raise the major version in " +
                    "package.json (the minor one before 1.0.0), note it in CHANGELOG.md, and run `npm run schema -- --breaking`.\n",
            );
            process.exit(1);
        }
    }
    writeFileSync(SCHEMA_FILE, text);
    process.stderr.write(`Wrote ${SCHEMA_FILE} (${Object.keys(next.types ?? {}).length} types).\n`);
}

main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
