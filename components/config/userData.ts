// The last hop's user data lists every target and tunnel; EC2 refuses it past 16 KiB.
import { roleReach } from "../accessConfig";
import { auditLogGroupName } from "../render/auditNames";
import { bastionUserDataBytes, LONGEST_REGION_STAND_IN, USER_DATA_LIMIT_BYTES } from "../render/userDataSize";
import { hostAt } from "../net/cidr";
import { allowedFlows, hostFlows } from "../net/flows";
import type { HostFirewallSpec } from "../render/model";
import { planSubnets, targetPlacement } from "./network";
import { ConfigProblem, JumpgateSettings } from "./types";

/** Target addresses as the program will place them; in an existing VPC the widest IPv4 text (an upper bound). */
function plannedTargetAddresses(s: JumpgateSettings, management: boolean): string[] {
    const net = s.network;
    if (net.kind === "existing") return s.targets.map(() => "255.255.255.255");
    const { privateCidrs } = planSubnets(net.vpcCidr, net.azCount, management);
    return s.targets.map((_, i) => {
        const { subnetIndex, offset } = targetPlacement(i, privateCidrs.length);
        return hostAt(privateCidrs[subnetIndex]!, offset);
    });
}

/** The last hop's own firewall: its flows with the planned target addresses, the widest text for the rest. */
function lastHopFirewall(s: JumpgateSettings, targetIps: string[]): HostFirewallSpec {
    const hops = s.bastions.map((b) => b.name);
    const last = hops[hops.length - 1]!;
    const widest = "255.255.255.255";
    const ipOf = (name: string) => targetIps[s.targets.findIndex((t) => t.name === name)]!;
    const flows = allowedFlows({
        allowedCidrs: s.allowedCidrs,
        sshPort: s.sshPort,
        hops,
        tunnels: s.tunnels.map((t) => ({ name: t.name, port: t.remotePort })),
    });
    const addresses = {
        hops: Object.fromEntries(hops.map((h) => [h, widest])),
        targets: Object.fromEntries(s.targets.map((t, i) => [t.name, targetIps[i]!])),
        tunnels: Object.fromEntries(s.tunnels.map((t) => [t.name, ipOf(t.target)])),
    };
    return { ...hostFlows(flows, last, last, addresses), vpcResolver: widest };
}

/** The last hop's user data lists every target and tunnel (PermitOpen, its firewall); EC2 takes at most 16 KiB of it. */
export function userDataProblems(s: JumpgateSettings, management: boolean): ConfigProblem[] {
    const ips = plannedTargetAddresses(s, management);
    const ipOf = (name: string) => ips[s.targets.findIndex((t) => t.name === name)]!;
    const endpoints = [
        ...s.targets.map((t, i) => ({ name: t.name, privateIp: ips[i]!, port: 22 })),
        ...s.tunnels.map((t) => ({ name: `tunnel-${t.name}`, privateIp: ipOf(t.target), port: t.remotePort })),
    ];
    const spec = {
        os: s.os,
        sshPort: s.bastions.length === 1 ? s.sshPort : 22,
        jumpUser: s.jumpUser,
        operatorPublicKeys: s.operatorPublicKeys,
        fail2ban: s.fail2ban,
        upgrades: s.upgrades,
        ssmAgentRegion: LONGEST_REGION_STAND_IN,
        cryptoProfile: s.cryptoProfile,
        // bastionUserDataBytes puts a key of the real size in place of each role's CA key.
        userCa: s.access && { roles: roleReach(s.access, s.tunnels).map((r) => ({ ...r, caPublicKey: "" })) },
        auditShipping: s.audit && {
            region: LONGEST_REGION_STAND_IN,
            logGroupName: auditLogGroupName(s.stack),
            logStreamName: s.bastions[s.bastions.length - 1]!.name,
        },
        // The last hop lists every target (and their names for the audit records).
        audit: { stack: s.stack, host: s.bastions[s.bastions.length - 1]!.name },
        firewall: lastHopFirewall(s, ips),
    };
    const bytes = bastionUserDataBytes({ ...spec, targets: endpoints });
    if (bytes <= USER_DATA_LIMIT_BYTES) return [];
    // Past the limit the document is gzipped: what one more endpoint costs, gzipped both ways.
    const perEndpoint =
        (bytes -
            bastionUserDataBytes(
                { ...spec, targets: [], firewall: lastHopFirewall({ ...s, targets: [], tunnels: [] }, []) },
                true,
            )) /
        endpoints.length;
    const fewer = Math.ceil((bytes - USER_DATA_LIMIT_BYTES) / perEndpoint);
    const last = s.targets.length - 1;
    return [
        {
            key: "targets",
            value: `${s.targets.length} targets, ${s.tunnels.length} tunnels`,
            message:
                `make the bastion's user data ${bytes} bytes (at most): ` +
                `it lists every target and tunnel${s.access ? " (again for each role that reaches only some)" : ""}, ` +
                `and EC2 accepts at most ${USER_DATA_LIMIT_BYTES} bytes; ` +
                `about ${fewer} fewer targets or tunnels fit`,
            fix: `pulumi config rm --path 'targets[${last}]'  (repeat, or split the targets over two stacks)`,
        },
    ];
}
