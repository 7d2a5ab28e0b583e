// Turns an offline run of the real program into the lab's plan: the instances, their user data, and the
// security-group rules as the program created them, with group references resolved to member addresses.
import { readSettings } from "../components/config";
import { decodeUserData } from "../components/render/userDataSize";
import { jumpgateKeys } from "../components/program";
import { OfflineRun, PlannedResource, PROJECT, readStackConfig, runOffline } from "../offline/run";
import { LabFirewallRule, LabHost, LabPlan } from "./model";

const INSTANCE = "aws:ec2/instance:Instance";
const SUBNET = "aws:ec2/subnet:Subnet";
const EIP = "aws:ec2/eip:Eip";
const EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const NAT_GATEWAY = "aws:ec2/natGateway:NatGateway";
const SSM_ASSOCIATION = "aws:ssm/association:Association";

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

/** The lab plan of a finished offline run. */
export function labPlanFromRun(run: OfflineRun, config: Record<string, unknown>): LabPlan {
    const get = (key: string) => {
        const v = config[`${PROJECT}:${key}`] ?? config[key];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    };
    // Our keys come namespaced (`jumpgate:key`) or plain; `aws:region` and the like are not ours.
    const ours = [...jumpgateKeys(config), ...Object.keys(config).filter((k) => !k.includes(":"))];
    const settings = readSettings(get, run.stack, ours);
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const instances = of(INSTANCE);
    const groupsOf = (i: PlannedResource) => (i.inputs.vpcSecurityGroupIds ?? []) as string[];
    const ipOf = (i: PlannedResource) => str(i.state.privateIp);
    const subnetCidr = (i: PlannedResource) => {
        const s = of(SUBNET).find((x) => x.id === i.inputs.subnetId);
        if (s) return str(s.inputs.cidrBlock);
        // Existing-VPC stacks: the subnet was looked up, not created.
        const call = run.calls.find(
            (c) => c.token === "aws:ec2/getSubnet:getSubnet" && c.inputs.id === i.inputs.subnetId,
        );
        if (!call) throw new Error(`no subnet ${str(i.inputs.subnetId)} for ${i.name}`);
        return str(call.result.cidrBlock);
    };

    // A created subnet reaches the internet only through a 0.0.0.0/0 route (NAT or internet gateway) in
    // its route table; a looked-up subnet's routes are not known, so it counts as routed.
    const defaultRoute = (i: PlannedResource) => {
        const assoc = of(ROUTE_TABLE_ASSOCIATION).find((a) => a.inputs.subnetId === i.inputs.subnetId);
        const table = assoc && of(ROUTE_TABLE).find((t) => t.id === assoc.inputs.routeTableId);
        const routes = (table?.inputs.routes ?? []) as { cidrBlock?: string; natGatewayId?: string }[];
        return { associated: assoc !== undefined, route: routes.find((r) => r.cidrBlock === "0.0.0.0/0") };
    };
    const internetRoute = (i: PlannedResource): boolean => {
        const { associated, route } = defaultRoute(i);
        if (!associated) return !of(SUBNET).some((x) => x.id === i.inputs.subnetId);
        return route !== undefined;
    };
    // The NAT gateway's address is its Elastic IP (the simulated NAT gateway leaves publicIp empty).
    const natPublicIp = (i: PlannedResource): string | undefined => {
        const natId = defaultRoute(i).route?.natGatewayId;
        const nat = natId === undefined ? undefined : of(NAT_GATEWAY).find((n) => n.id === natId);
        const eip = nat && of(EIP).find((e) => e.state.allocationId === nat.inputs.allocationId);
        return eip ? str(eip.state.publicIp) || undefined : undefined;
    };

    const rule = (r: PlannedResource): LabFirewallRule => {
        const referenced = r.inputs.referencedSecurityGroupId;
        const cidrs = referenced
            ? instances.filter((i) => groupsOf(i).includes(str(referenced))).map((i) => `${ipOf(i)}/32`)
            : [str(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6)];
        return {
            protocol: str(r.inputs.ipProtocol) as LabFirewallRule["protocol"],
            fromPort: Number(r.inputs.fromPort ?? 0),
            toPort: Number(r.inputs.toPort ?? 0),
            cidrs,
            description: str(r.inputs.description),
        };
    };
    const rulesFor = (type: string, i: PlannedResource) =>
        of(type)
            .filter((r) => groupsOf(i).includes(str(r.inputs.securityGroupId)))
            .map(rule);

    const hopOf = new Map<string, number>();
    const hop = (h: LabHost) => hopOf.get(h.name) ?? 0;
    const hosts: LabHost[] = instances.map((i) => {
        const tags = (i.inputs.tags ?? {}) as Record<string, string>;
        const role = tags["jumpgate:role"] === "bastion" ? "bastion" : "target";
        if (role === "bastion") hopOf.set(tags["jumpgate:bastion"] ?? i.name, Number(tags["jumpgate:hop"] ?? 0));
        const association = of(EIP_ASSOCIATION).find((a) => a.inputs.instanceId === i.id);
        const eip = association && of(EIP).find((e) => e.state.allocationId === association.inputs.allocationId);
        return {
            name: (role === "bastion" ? tags["jumpgate:bastion"] : tags["jumpgate:target"]) ?? i.name,
            role,
            publicIp: eip ? str(eip.state.publicIp) : undefined,
            privateIp: ipOf(i),
            subnetCidr: subnetCidr(i),
            cloudInit: decodeUserData(i.inputs),
            ingress: rulesFor(INGRESS, i),
            egress: rulesFor(EGRESS, i),
            internetRoute: internetRoute(i),
            ...(natPublicIp(i) === undefined ? {} : { natPublicIp: natPublicIp(i) }),
        };
    });
    const privateKey = run.outputs.privateKeyOpenssh;
    const caKey = run.outputs.userCaPrivateKeyOpenssh;
    if (typeof privateKey !== "string" && typeof caKey !== "string") {
        throw new Error("the lab needs the generated operator key; unset operatorPublicKeys for the lab stack");
    }
    const hostOfInstance = new Map(instances.map((i, k) => [i.id, hosts[k]!.name]));
    return {
        stack: run.stack,
        allowedCidrs: settings.allowedCidrs,
        sshPort: settings.sshPort,
        jumpUser: settings.jumpUser,
        loginUser: settings.loginUser,
        // The public bastion first, then the inner hops in chain order, then the targets.
        hosts: [
            ...hosts.filter((h) => h.role === "bastion").sort((a, b) => hop(a) - hop(b)),
            ...hosts.filter((h) => h.role === "target"),
        ],
        sshConfig: str(run.outputs.sshConfig),
        knownHosts: str(run.outputs.knownHosts),
        ...(typeof privateKey === "string" ? { privateKeyOpenssh: privateKey } : {}),
        ...(typeof caKey === "string" ? { userCaPrivateKeyOpenssh: caKey } : {}),
        runCommands: of(SSM_ASSOCIATION)
            .filter((a) => a.inputs.name === "AWS-RunShellScript")
            .map((a) => ({
                association: str(a.inputs.associationName ?? a.name),
                hosts: ((a.inputs.targets ?? []) as { key?: string; values?: string[] }[])
                    .filter((t) => t.key === "InstanceIds")
                    .flatMap((t) => t.values ?? [])
                    .map((id) => hostOfInstance.get(id) ?? `(unknown instance ${id})`),
                commands: str((a.inputs.parameters as Record<string, unknown> | undefined)?.commands),
            })),
        outputs: run.outputs,
    };
}

/**
 * Plans `stack` with `config` offline, with fresh random keys (hosts that run must not share reproducible
 * keys); with `keySeed` (a secret the caller made), a later plan keeps the keys, as a stack's state does.
 */
export async function labPlanForConfig(
    stack: string,
    config: Record<string, unknown>,
    keySeed?: string,
): Promise<LabPlan> {
    const run = await runOffline({ stack, config, keys: keySeed === undefined ? "random" : { seed: keySeed } });
    return labPlanFromRun(run, config);
}

/** Plans `stack` from its `Pulumi.<stack>.yaml`. */
export async function labPlanForStack(stack: string, dir?: string): Promise<LabPlan> {
    return labPlanForConfig(stack, readStackConfig(stack, dir));
}
