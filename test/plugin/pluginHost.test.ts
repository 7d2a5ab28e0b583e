// What `pulumi package add` starts for a nodejs source plugin: @pulumi/pulumi's run-plugin on the
// package directory (loaded with ts-node, as the language host does). Without a Pulumi CLI here, the
// test stands in for the engine: it reads the port the plugin prints and asks it for its schema over
// gRPC on loopback, which must be the committed schema.json.
import { ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { GetSchemaRequest } from "@pulumi/pulumi/proto/provider_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, SCHEMA_FILE } from "../../scripts/pluginSchema";

const RUN_PLUGIN = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run-plugin");
let plugin: ChildProcess;
let port: number;
let stderr = "";

/** The file the plugin host loads: package.json's main (a build output once the package ships compiled). */
function packageEntry(): string {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { main?: string };
    return path.resolve(REPO_ROOT, pkg.main ?? "index.js");
}

beforeAll(async () => {
    if (!existsSync(packageEntry()))
        throw new Error(
            `${packageEntry()} (package.json main) does not exist: build the package first (\`npm run build\`)`,
        );
    plugin = spawn(process.execPath, [RUN_PLUGIN, REPO_ROOT], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    plugin.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    port = await new Promise<number>((resolve, reject) => {
        let out = "";
        plugin.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
            const line = /^(\d+)\n/.exec(out);
            if (line) resolve(Number(line[1]));
        });
        plugin.on("exit", (code) => reject(new Error(`the plugin exited (${code}) before serving:\n${stderr}`)));
    });
}, 240_000);

afterAll(() => {
    plugin?.kill();
});

function getSchema(): Promise<string> {
    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) =>
        client.getSchema(new GetSchemaRequest(), (err, resp) => {
            client.close();
            if (err) reject(err);
            else resolve(resp.getSchema());
        }),
    );
}

describe("the plugin as Pulumi starts it", () => {
    it("serves the committed schema.json", async () => {
        const served = JSON.parse(await getSchema()) as unknown;
        expect(served).toEqual(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
    }, 240_000);
});
