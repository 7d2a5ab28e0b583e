// The program `index.ts` runs: read the stack's config, validate all of it, then build. Validation
// throws before the first resource is registered, so bad input never leaves anything half-created.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, JumpgateSettings, readSettings } from "./config";
import { Jumpgate } from "./jumpgate";
import { JumpgateArgs } from "./jumpgateArgs";
import { argsOfConfig } from "./jumpgateSettings";

/** Keys set in the `jumpgate:` namespace of a config map whose keys are `namespace:key`. */
export function jumpgateKeys(config: Record<string, unknown>): string[] {
    return Object.keys(config)
        .filter((k) => k.startsWith("jumpgate:"))
        .map((k) => k.slice("jumpgate:".length));
}

/** Reads and validates this stack's configuration; a RunError (no stack trace) lists every problem. */
export function loadSettings(): JumpgateSettings {
    const config = new pulumi.Config("jumpgate");
    try {
        return readSettings((key) => config.get(key), pulumi.getStack(), jumpgateKeys(pulumi.runtime.allConfig()));
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

/** The component's arguments from this stack's config, validated with config messages first. */
export function loadArgs(): JumpgateArgs {
    loadSettings();
    const config = new pulumi.Config("jumpgate");
    return argsOfConfig((key) => config.get(key));
}

/** Builds the stack and returns its outputs (names are a contract with users and CI). */
export function jumpgateProgram(args: JumpgateArgs = loadArgs()) {
    const jumpgate = new Jumpgate(pulumi.getStack(), args);
    return {
        bastionPublicIp: jumpgate.bastionPublicIp,
        targets: jumpgate.targets,
        existingHosts: jumpgate.existingHosts,
        sshConfig: jumpgate.sshConfig,
        sshConfigProxyCommand: jumpgate.sshConfigProxyCommand,
        knownHosts: jumpgate.knownHosts,
        privateKeyOpenssh: jumpgate.privateKeyOpenssh,
        sshCommands: jumpgate.sshCommands,
        userCa: jumpgate.userCa,
        userCaPublicKeys: jumpgate.userCaPublicKeys,
        userCaKmsKeyArns: jumpgate.userCaKmsKeyArns,
        userCaPublicKey: jumpgate.userCaPublicKey,
        userCaPrivateKeyOpenssh: jumpgate.userCaPrivateKeyOpenssh,
        operatorPrincipals: jumpgate.operatorPrincipals,
        roleAccounts: jumpgate.roleAccounts,
        roleMfa: jumpgate.roleMfa,
        roleSshConfigs: jumpgate.roleSshConfigs,
        auditLogGroupName: jumpgate.auditLogGroupName,
        auditAlarmTopicArn: jumpgate.auditAlarmTopicArn,
    };
}

export type JumpgateOutputs = ReturnType<typeof jumpgateProgram>;
