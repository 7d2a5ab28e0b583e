// Reads and validates the stack's configuration before any resource exists. Pure apart from the
// `ConfigSource` it is handed, so every bad-input case is unit-testable. Every problem is reported
// at once, each with the key, the bad value and the `pulumi config set` command that fixes it.
// The readers live in ./config/, one file per concern; this is the entry the rest of the program imports.
export type {
    AuditSettings,
    Architecture,
    BastionHopSettings,
    ConfigProblem,
    ConfigSource,
    ExistingNetworkSettings,
    JumpgateSettings,
    NatGatewayMode,
    NewNetworkSettings,
    TargetSettings,
    TunnelSettings,
} from "./config/types";
export {
    CONFIG_KEYS,
    ConfigError,
    DEFAULTS,
    FIRST_HOST_OFFSET,
    LOG_RETENTION_DAYS,
    MAX_BASTION_HOPS,
    OS_NAMES,
} from "./config/types";
export { natGatewayCount, planSubnets, targetCapacity, targetPlacement } from "./config/network";
export { amiPinCommand, architectureOf } from "./config/hosts";
export { publicKeyProblem } from "./config/access";
export { OWN_TAGS_MAX } from "./config/tags";
export { readSettings } from "./config/readSettings";
