// Reads every section in a fixed order (so problems are listed in the order of the settings), then checks
// the limits of the whole stack. Pure apart from the `ConfigSource` it is handed.
import { readAccounts, readIngress, readNamedAccess, readOperatorPublicKeys } from "./access";
import { readAudit } from "./audit";
import { iamNameProblems, isChain, readBastions, readRawBastions } from "./chain";
import { readSshClient } from "./client";
import { readFail2ban, readUpgrades } from "./hardening";
import { readBastionInstanceType, readImage, readRootVolumeSizeGb, readTargets } from "./hosts";
import { readExistingHosts } from "./existingHosts";
import { elasticIpProblems, packageRouteProblems, readNetwork } from "./network";
import { ConfigReader } from "./reader";
import { readTags, tagProblems } from "./tags";
import { readTunnels } from "./tunnels";
import { CONFIG_KEYS, ConfigError, ConfigSource, DEFAULTS, JumpgateSettings } from "./types";
import { unknownKeyProblems } from "./unknownKeys";
import { userDataProblems } from "./userData";

/**
 * Reads, defaults and validates every key; throws ConfigError listing all problems. `presentKeys` are the
 * keys set in the `jumpgate:` namespace (without the prefix), so an unknown one (a typo) is refused.
 */
export function readSettings(source: ConfigSource, stack: string, presentKeys: readonly string[]): JumpgateSettings {
    const r = new ConfigReader(source);
    const { settings, management, allowPrivateHostsWithoutPackages } = readSections(r, stack);
    const problems = r.problems;
    problems.push(...unknownKeyProblems(presentKeys, new Set([...CONFIG_KEYS, ...r.read])));
    // Limits of the whole stack. Rendering the bastion's user data needs every key valid.
    problems.push(
        ...elasticIpProblems(settings),
        ...packageRouteProblems(settings, allowPrivateHostsWithoutPackages),
        ...iamNameProblems(settings),
        ...tagProblems(settings.tags),
    );
    if (problems.length === 0) problems.push(...userDataProblems(settings, management));
    if (problems.length > 0) throw new ConfigError(problems);
    return settings;
}

/** Every section, each reporting into `r`; later sections build on what earlier ones read. */
function readSections(
    r: ConfigReader,
    stack: string,
): { settings: JumpgateSettings; management: boolean; allowPrivateHostsWithoutPackages: boolean } {
    const ingress = readIngress(r);
    // The chain's length decides the subnet layout, so read it before the network.
    const rawBastions = readRawBastions(r);
    const management = isChain(rawBastions);
    const network = readNetwork(r, management);
    const image = readImage(r);
    const bastionInstanceType = readBastionInstanceType(r);
    const targets = readTargets(r, network, management);
    const bastions = readBastions(r, rawBastions, bastionInstanceType, targets);
    const tunnels = readTunnels(r, targets);
    const operatorPublicKeys = readOperatorPublicKeys(r);
    const accounts = readAccounts(r);
    const existingHosts = readExistingHosts(r, network, accounts.loginUser, { targets, bastions });
    const access = readNamedAccess(r, accounts.loginUser, [...targets, ...existingHosts]);
    const client = readSshClient(r, stack);
    const rootVolumeSizeGb = readRootVolumeSizeGb(r);
    const fail2ban = readFail2ban(r);
    const upgrades = readUpgrades(r);
    const tags = readTags(r);
    const elasticIpQuota = r.int("elasticIpQuota", DEFAULTS.elasticIpQuota, 1, 10000);
    const allowPrivateHostsWithoutPackages = r.bool(
        "allowPrivateHostsWithoutPackages",
        DEFAULTS.allowPrivateHostsWithoutPackages,
    );
    const audit = readAudit(r);
    const settings: JumpgateSettings = {
        stack,
        allowedCidrs: ingress.allowedCidrs,
        allowSshFromAnywhere: ingress.allowSshFromAnywhere,
        sshPort: ingress.sshPort,
        network,
        os: image.os,
        cryptoProfile: image.cryptoProfile,
        bastionInstanceType,
        bastions,
        targets,
        existingHosts,
        tunnels,
        operatorPublicKeys,
        ...(access === undefined ? {} : { access }),
        jumpUser: accounts.jumpUser,
        loginUser: accounts.loginUser,
        controlMaster: client.controlMaster,
        identityFile: client.identityFile,
        rootVolumeSizeGb,
        fail2ban,
        upgrades,
        tags,
        amiIds: image.amiIds,
        elasticIpQuota,
        ...(audit === undefined ? {} : { audit }),
    };
    return { settings, management, allowPrivateHostsWithoutPackages };
}
