// Entry point for `pulumi up`: read and validate config, build, export. The logic lives in components/.
import { jumpgateProgram } from "./components/program";

const outputs = jumpgateProgram();

export const bastionPublicIp = outputs.bastionPublicIp;
export const targets = outputs.targets;
export const sshConfig = outputs.sshConfig;
export const sshConfigProxyCommand = outputs.sshConfigProxyCommand;
export const knownHosts = outputs.knownHosts;
/** A secret; present only when jumpgate generated the operator key. */
export const privateKeyOpenssh = outputs.privateKeyOpenssh;
export const sshCommands = outputs.sshCommands;
