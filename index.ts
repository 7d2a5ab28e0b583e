// The jumpgate library: import it into any Pulumi program (`import { Jumpgate } from "jumpgate"`), or
// use it from Python, Go, C# or YAML as a source-based plugin (`pulumi package add`). Only exports:
// loading this module creates nothing, so the plugin host and programs can import it freely.
export { Jumpgate, RoleSshConfig } from "./components/jumpgate";
export {
    BastionHopArgs,
    CryptoProfile,
    HostArgs,
    HostOs,
    JumpgateArgs,
    NatGateways,
    NetworkArgs,
    OperatorArgs,
    RevokedCertificatesArgs,
    RoleArgs,
    TunnelArgs,
    UserCa,
} from "./components/jumpgateArgs";
export { JumpgateArgsError } from "./components/jumpgateSettings";
