// The pack as the Pulumi CLI runs it: started with @pulumi/pulumi's run-policy-pack (ts-node with type
// checking, the pack's own node_modules), then asked over the analyzer gRPC protocol. The offline tests
// use it to check that evaluate.ts reports exactly what the served pack reports.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { EnforcementLevel } from "@pulumi/policy";
import { HarnessResource, PackConfig, Violation } from "./evaluate";

const PACK_DIR = path.resolve(__dirname, "..");

const LEVELS: Record<EnforcementLevel, proto.EnforcementLevel> = {
    advisory: proto.EnforcementLevel.ADVISORY,
    mandatory: proto.EnforcementLevel.MANDATORY,
    disabled: proto.EnforcementLevel.DISABLED,
    remediate: proto.EnforcementLevel.REMEDIATE,
};
const LEVEL_NAMES = new Map(Object.entries(LEVELS).map(([k, v]) => [v, k as EnforcementLevel]));

/** A diagnostic as the served pack returns it, in the harness's terms. */
export type ServedDiagnostic = Pick<Violation, "policyName" | "enforcementLevel" | "diagnostic" | "urn">;

export interface ServedPack {
    info(): Promise<{
        name: string;
        version: string;
        policies: { name: string; enforcementLevel: EnforcementLevel }[];
    }>;
    configure(config: PackConfig): Promise<void>;
    analyze(resource: HarnessResource): Promise<ServedDiagnostic[]>;
    analyzeStack(resources: HarnessResource[]): Promise<ServedDiagnostic[]>;
    stop(): void;
}

const struct = (value: Record<string, unknown>) =>
    Struct.fromJavaScript(JSON.parse(JSON.stringify(value)) as Parameters<typeof Struct.fromJavaScript>[0]);

function options(r: HarnessResource): proto.AnalyzerResourceOptions {
    const o = new proto.AnalyzerResourceOptions();
    o.setCustomtimeouts(new proto.AnalyzerResourceOptions.CustomTimeouts());
    if (r.parent) o.setParent(r.parent);
    return o;
}

function diagnostics(response: proto.AnalyzeResponse): ServedDiagnostic[] {
    return response.getDiagnosticsList().map((d) => ({
        policyName: d.getPolicyname(),
        enforcementLevel: LEVEL_NAMES.get(d.getEnforcementlevel()) ?? "advisory",
        diagnostic: d.getMessage(),
        urn: d.getUrn() || undefined,
    }));
}

function call<Req, Res>(
    method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
    request: Req,
): Promise<Res> {
    return new Promise((resolve, reject) => method(request, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Starts the pack in policies/ as `pulumi preview --policy-pack policies` would. */
export async function startServedPack(timeoutMs = 120_000): Promise<ServedPack> {
    const child: ChildProcess = spawn(
        process.execPath,
        [path.join(PACK_DIR, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."],
        { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        let stdout = "";
        const timer = setTimeout(() => reject(new Error(`policy pack did not start: ${stderr}`)), timeoutMs);
        child.stdout?.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            const m = /^(\d+)\s*$/m.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`policy pack exited with ${code}: ${stderr}`));
        });
    });
    const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

    return {
        async info() {
            const info = await call<Empty, proto.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
            return {
                name: info.getName(),
                version: info.getVersion(),
                policies: info.getPoliciesList().map((p) => ({
                    name: p.getName(),
                    enforcementLevel: LEVEL_NAMES.get(p.getEnforcementlevel()) ?? "advisory",
                })),
            };
        },
        async configure(config) {
            const req = new proto.ConfigureAnalyzerRequest();
            for (const [name, value] of Object.entries(config)) {
                const { enforcementLevel, ...properties } =
                    typeof value === "string" ? { enforcementLevel: value } : value;
                const c = new proto.PolicyConfig();
                c.setProperties(struct(properties));
                if (enforcementLevel) c.setEnforcementlevel(LEVELS[enforcementLevel]);
                req.getPolicyconfigMap().set(name, c);
            }
            await call<proto.ConfigureAnalyzerRequest, Empty>(client.configure.bind(client), req);
        },
        async analyze(r) {
            const req = new proto.AnalyzeRequest();
            req.setType(r.type);
            req.setName(r.name);
            req.setUrn(r.urn);
            req.setProperties(struct(r.inputs));
            req.setOptions(options(r));
            const found = diagnostics(
                await call<proto.AnalyzeRequest, proto.AnalyzeResponse>(client.analyze.bind(client), req),
            );
            // The engine attributes a resource policy's diagnostic to the resource it analyzed.
            return found.map((d) => ({ ...d, urn: d.urn ?? r.urn }));
        },
        async analyzeStack(resources) {
            const req = new proto.AnalyzeStackRequest();
            req.setResourcesList(
                resources.map((r) => {
                    const a = new proto.AnalyzerResource();
                    a.setType(r.type);
                    a.setName(r.name);
                    a.setUrn(r.urn);
                    a.setProperties(struct(r.outputs));
                    a.setOptions(options(r));
                    if (r.parent) a.setParent(r.parent);
                    const deps = r.dependencies ?? [...new Set(Object.values(r.propertyDependencies).flat())];
                    a.setDependenciesList(deps);
                    for (const [prop, urns] of Object.entries(r.propertyDependencies)) {
                        a.getPropertydependenciesMap().set(
                            prop,
                            new proto.AnalyzerPropertyDependencies().setUrnsList(urns),
                        );
                    }
                    return a;
                }),
            );
            return diagnostics(
                await call<proto.AnalyzeStackRequest, proto.AnalyzeResponse>(client.analyzeStack.bind(client), req),
            );
        },
        stop() {
            client.close();
            child.kill();
        },
    };
}
