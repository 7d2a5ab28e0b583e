// The standalone program (the root Pulumi.yaml runs it): stack config -> Jumpgate arguments -> outputs.
// The logic lives in components/; config is validated with config messages before anything is created.
import { jumpgateProgram } from "../../components/program";

const outputs = jumpgateProgram();

export const bastionPublicIp = outputs.bastionPublicIp;
export const targets = outputs.targets;
/** Existing hosts: name to {privateIp, pinned}; unpinned ones are pinned with `npx jumpgate-ssh pin`. */
export const existingHosts = outputs.existingHosts;
export const sshConfig = outputs.sshConfig;
export const sshConfigProxyCommand = outputs.sshConfigProxyCommand;
export const knownHosts = outputs.knownHosts;
/** A secret; present only when jumpgate generated the operator key. */
export const privateKeyOpenssh = outputs.privateKeyOpenssh;
export const sshCommands = outputs.sshCommands;
/** Team access (with `operators`): which CA signs certificates, `kms` or `stack`. */
export const userCa = outputs.userCa;
/** Team access: each role's CA public key, the only one hosts accept for that role's principal; public data. */
export const userCaPublicKeys = outputs.userCaPublicKeys;
/** Team access with the kms CA: each role's KMS key ARN, which `jumpgate-ssh login` signs with. */
export const userCaKmsKeyArns = outputs.userCaKmsKeyArns;
/** Team access with the stack CA: the one CA public key hosts trust for every role; public data. */
export const userCaPublicKey = outputs.userCaPublicKey;
/** Team access: a secret; whoever reads it signs certificates for any role (login --ca stack --ca-key-file). */
export const userCaPrivateKeyOpenssh = outputs.userCaPrivateKeyOpenssh;
/** Team access: each operator's certificate principals (their role); public data. */
export const operatorPrincipals = outputs.operatorPrincipals;
/** Team access: the account each role logs in as on the targets (`<loginUser>-<role>`). */
export const roleAccounts = outputs.roleAccounts;
/** Team access: each role's client config; `npx jumpgate-ssh install --operator <name>` installs its role's. */
export const roleSshConfigs = outputs.roleSshConfigs;
/** Team access: roles whose logins need a verified FIDO key (`jumpgate-ssh login` adds verify-required). */
export const roleMfa = outputs.roleMfa;
/** The audit trail's CloudWatch Logs group (`jumpgate-ssh audit` reads it). */
export const auditLogGroupName = outputs.auditLogGroupName;
/** The SNS topic the audit alarms notify. */
export const auditAlarmTopicArn = outputs.auditAlarmTopicArn;
