// Prints the pack config (JSON, for `--policy-pack-config` / the action's `policyPackConfigs`) that
// matches a stack's own config, so the pack checks the port the stack really uses and honours the
// stack's explicit allowSshFromAnywhere opt-in - and nothing else can relax it - expects one
// bastion per hop of the stack's bastion chain, and only advises on the audit trail of a stack that
// turned it off (`audit: false`).
//
//   npx tsx policies/scripts/stack-config.ts dev > policy-config.json     # reads ./Pulumi.dev.yaml
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** The pack config for a stack whose `Pulumi.<stack>.yaml` has this `config:` block. */
export function packConfigFor(stackConfig: Record<string, unknown>): Record<string, Record<string, unknown>> {
    const get = (key: string): unknown => stackConfig[`jumpgate:${key}`] ?? stackConfig[key];
    // `pulumi config set sshPort 2222` stores the string "2222"; a hand-written file may hold a number.
    const rawPort = get("sshPort");
    const sshPort = rawPort === undefined ? 22 : Number(rawPort);
    if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535)
        throw new Error(`jumpgate:sshPort = ${JSON.stringify(rawPort)} is not a port`);
    const anywhere = get("allowSshFromAnywhere");
    // One bastion per hop of the chain (`bastions`, outermost first); one when unset.
    const rawHops = get("bastions");
    const hops: unknown = typeof rawHops === "string" ? JSON.parse(rawHops) : rawHops;
    const expectedBastions = Array.isArray(hops) && hops.length > 0 ? hops.length : 1;
    const audit = get("audit");
    return {
        "ssh-not-open-to-world": { sshPort, allowSshFromAnywhere: anywhere === true || anywhere === "true" },
        "bastion-count": { expectedBastions },
        ...(audit === false || audit === "false"
            ? { "audit-trail-to-cloudwatch": { enforcementLevel: "advisory" } }
            : {}),
    };
}

/** `org/project/dev`, `org/dev` or `dev` -> the stack's config file in `dir`. */
export function stackConfigFile(stack: string, dir: string): string {
    return path.join(dir, `Pulumi.${stack.split("/").pop()}.yaml`);
}

if (require.main === module) {
    const [stack, dir = process.cwd()] = process.argv.slice(2);
    if (!stack) {
        console.error("usage: stack-config.ts <stack> [project-dir]");
        process.exit(2);
    }
    const doc = (parse(readFileSync(stackConfigFile(stack, dir), "utf8")) ?? {}) as {
        config?: Record<string, unknown>;
    };
    process.stdout.write(`${JSON.stringify(packConfigFor(doc.config ?? {}), null, 2)}\n`);
}
