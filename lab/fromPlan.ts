// Turns an offline run of the real program into the lab's plan: the instances, their user data, and the
// security-group rules as the program created them, with group references resolved to member addresses.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS, readSettings } from "../components/config";
import { decodeUserData } from "../components/render/userDataSize";
import { jumpgateKeys } from "../components/program";
import { resolveProgramDir, runEntry } from "../offline/programDir";
import { OfflineRun, PlannedResource, PROJECT, readStackConfig, runOffline } from "../offline/run";
import { LabFirewallRule, LabHost, LabPlan } from "./model";
import { parseSshHostBlocks } from "./sshconfig";

const INSTANCE = "aws:ec2/instance:Instance";
const SUBNET = "aws:ec2/subnet:Subnet";
const EIP = "aws:ec2/eip:Eip";
const EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const ROUTE = "aws:ec2/route:Route";
const ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
const NAT_GATEWAY = "aws:ec2/natGateway:NatGateway";
const SSM_ASSOCIATION = "aws:ssm/association:Association";

const KEY_PAIR = "aws:ec2/keyPair:KeyPair";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const JUMPGATE = "jumpgate:index:Jumpgate";

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
const tagsOf = (r: PlannedResource) => (r.inputs.tags ?? {}) as Record<string, string>;

/** A plan's settings the lab needs besides its hosts. */
type LabSettings = Pick<LabPlan, "allowedCidrs" | "sshPort" | "jumpUser" | "loginUser">;
/** The client outputs jumpgate produced (the standalone program exports them under these names). */
type ClientOutputs = Record<string, unknown>;

/** The lab plan of a finished offline run of the standalone program, with its stack config. */
export function labPlanFromRun(run: OfflineRun, config: Record<string, unknown>): LabPlan {
    const get = (key: string) => {
        const v = config[`${PROJECT}:${key}`] ?? config[key];
        return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    };
    // Our keys come namespaced (`jumpgate:key`) or plain; `aws:region` and the like are not ours.
    const ours = [...jumpgateKeys(config), ...Object.keys(config).filter((k) => !k.includes(":"))];
    const settings = readSettings(get, run.stack, ours);
    return assemblePlan(run, settings, run.outputs, run.outputs);
}

/** The Jumpgate component a program made, and its outputs (it exports them under names of its own). */
export function jumpgateOutputsOf(run: OfflineRun): ClientOutputs {
    const found = Object.entries(run.componentOutputs ?? {}).filter(([key]) => key.startsWith(`${JUMPGATE}::`));
    if (found.length !== 1) {
        throw new Error(
            `the lab stands up a program with exactly one Jumpgate component; this one has ${found.length}` +
                (run.componentOutputs === undefined
                    ? " (run it with componentOutputs: [jumpgate:index:Jumpgate])"
                    : ""),
        );
    }
    return found[0]![1];
}

/**
 * The lab plan of a finished offline run of any program that uses the Jumpgate component, without a
 * jumpgate stack config: allowedCidrs and the SSH port from the outer bastion's security-group rules, the
 * jump and login users from the client config the component produced. Instances the program built itself
 * are hosts too, named as its jumpgate hosts when they are (by address), else by resource name.
 */
export function labPlanFromProgramRun(run: OfflineRun, operatorPrivateKey?: string): LabPlan {
    const component = jumpgateOutputsOf(run);
    // The operator's own key is the lab's to hold, never one of the stack's outputs.
    const client =
        component.privateKeyOpenssh === undefined && operatorPrivateKey !== undefined
            ? { ...component, privateKeyOpenssh: operatorPrivateKey }
            : component;
    const hosts = planHosts(run, sshHostNames(str(client.sshConfig), run.stack));
    const outer = run.resources.find(
        (r) => r.type === INSTANCE && tagsOf(r)["jumpgate:role"] === "bastion" && tagsOf(r)["jumpgate:hop"] === "0",
    );
    const bastion = outer && hosts.find((h) => h.privateIp === str(outer.state.privateIp));
    if (!outer || !bastion?.publicIp) throw new Error("the program's plan has no jumpgate bastion with an Elastic IP");
    // allowedCidrs are the outer bastion's only CIDR-sourced SSH rules (the inner hops' come from groups).
    const groups = (outer.inputs.vpcSecurityGroupIds ?? []) as string[];
    const fromCidrs = securityGroupRules(run, () => [])
        .filter((r) => r.kind === "ingress" && !r.fromGroup && groups.includes(r.group))
        .map((r) => r.rule)
        .filter((r) => r.protocol === "tcp" && r.fromPort === r.toPort);
    const ports = [...new Set(fromCidrs.map((r) => r.fromPort))];
    if (ports.length !== 1)
        throw new Error(
            `the bastion's security group opens ${ports.length} ports to CIDRs; the lab expects one SSH port`,
        );
    const blocks = parseSshHostBlocks(str(client.sshConfig));
    const bastionBlock = blocks.find((b) => b.hostName === bastion.publicIp);
    const targetUser = blocks.find((b) => b !== bastionBlock && b.user !== undefined)?.user;
    const settings: LabSettings = {
        allowedCidrs: fromCidrs.flatMap((r) => r.cidrs),
        sshPort: ports[0]!,
        jumpUser: bastionBlock?.user ?? DEFAULTS.jumpUser,
        // Team access names no login user in the stack-wide config (each role has its own account).
        loginUser: targetUser ?? DEFAULTS.loginUser,
    };
    return assemblePlan(run, settings, client, { ...component, ...run.outputs }, hosts);
}

/** The plan's hosts, security groups resolved to addresses; `names` maps private addresses to host names. */
function planHosts(run: OfflineRun, names: Map<string, string> = new Map()): LabHost[] {
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
        // Routes written inline in the table, or as Route resources of their own (as awsx makes them).
        const routes = [
            ...((table?.inputs.routes ?? []) as { cidrBlock?: string; natGatewayId?: string }[]),
            ...of(ROUTE)
                .filter((r) => table !== undefined && r.inputs.routeTableId === table.id)
                .map((r) => ({
                    cidrBlock: str(r.inputs.destinationCidrBlock),
                    natGatewayId: r.inputs.natGatewayId as string | undefined,
                })),
        ];
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
    const membersOf = (group: string) =>
        instances.filter((i) => groupsOf(i).includes(group)).map((i) => `${ipOf(i)}/32`);
    const rules = securityGroupRules(run, membersOf);

    const hopOf = new Map<string, number>();
    const hop = (h: LabHost) => hopOf.get(h.name) ?? 0;
    const hosts: LabHost[] = instances.map((i) => {
        const tags = tagsOf(i);
        const role = tags["jumpgate:role"] === "bastion" ? "bastion" : "target";
        if (role === "bastion") hopOf.set(tags["jumpgate:bastion"] ?? i.name, Number(tags["jumpgate:hop"] ?? 0));
        const association = of(EIP_ASSOCIATION).find((a) => a.inputs.instanceId === i.id);
        const eip = association && of(EIP).find((e) => e.state.allocationId === association.inputs.allocationId);
        const jumpgateName = role === "bastion" ? tags["jumpgate:bastion"] : tags["jumpgate:target"];
        const ingress = rules.filter((r) => r.kind === "ingress" && groupsOf(i).includes(r.group));
        const egress = rules.filter((r) => r.kind === "egress" && groupsOf(i).includes(r.group));
        return {
            name: jumpgateName ?? names.get(ipOf(i)) ?? i.name,
            role,
            publicIp: eip ? str(eip.state.publicIp) : undefined,
            privateIp: ipOf(i),
            subnetCidr: subnetCidr(i),
            cloudInit: decodeUserData(i.inputs),
            ingress: ingress.map((r) => r.rule),
            egress: egress.map((r) => r.rule),
            internetRoute: internetRoute(i),
            ...(natPublicIp(i) === undefined ? {} : { natPublicIp: natPublicIp(i) }),
            ...(jumpgateName === undefined ? programHost(run, i) : {}),
        };
    });
    // The public bastion first, then the inner hops in chain order, then the targets.
    return [
        ...hosts.filter((h) => h.role === "bastion").sort((a, b) => hop(a) - hop(b)),
        ...hosts.filter((h) => h.role === "target"),
    ];
}

/**
 * An instance the program built itself, as EC2 launches it: its key pair's public key is in the instance
 * metadata (`public-keys`), which cloud-init gives the image's default user.
 */
function programHost(run: OfflineRun, i: PlannedResource): Pick<LabHost, "origin" | "publicKeys"> {
    const keyName = i.inputs.keyName;
    if (keyName === undefined || keyName === null || keyName === "") return { origin: "program" };
    const pair = run.resources.find((r) => r.type === KEY_PAIR && r.state.keyName === keyName);
    if (!pair) throw new Error(`instance ${i.name}: no key pair named ${str(keyName)} in the plan`);
    return { origin: "program", publicKeys: [str(pair.inputs.publicKey).trim()] };
}

function assemblePlan(
    run: OfflineRun,
    settings: LabSettings,
    client: ClientOutputs,
    outputs: Record<string, unknown>,
    hosts: LabHost[] = planHosts(run),
): LabPlan {
    const privateKey = client.privateKeyOpenssh;
    const caKey = client.userCaPrivateKeyOpenssh;
    if (typeof privateKey !== "string" && typeof caKey !== "string") {
        throw new Error(
            "the lab needs the operator's private key: unset operatorPublicKeys for the lab stack (jumpgate then " +
                "generates one), or, for a program that passes its own, give its private half (--identity <file>)",
        );
    }
    const instances = run.resources.filter((r) => r.type === INSTANCE);
    const hostOfInstance = new Map(
        instances.map((i) => [i.id, hosts.find((h) => h.privateIp === str(i.state.privateIp))?.name]),
    );
    return {
        stack: run.stack,
        allowedCidrs: settings.allowedCidrs,
        sshPort: settings.sshPort,
        jumpUser: settings.jumpUser,
        loginUser: settings.loginUser,
        hosts,
        sshConfig: str(client.sshConfig),
        knownHosts: str(client.knownHosts),
        ...(typeof privateKey === "string" ? { privateKeyOpenssh: privateKey } : {}),
        ...(typeof caKey === "string" ? { userCaPrivateKeyOpenssh: caKey } : {}),
        runCommands: run.resources
            .filter((r) => r.type === SSM_ASSOCIATION && r.inputs.name === "AWS-RunShellScript")
            .map((a) => ({
                association: str(a.inputs.associationName ?? a.name),
                hosts: ((a.inputs.targets ?? []) as { key?: string; values?: string[] }[])
                    .filter((t) => t.key === "InstanceIds")
                    .flatMap((t) => t.values ?? [])
                    .map((id) => hostOfInstance.get(id) ?? `(unknown instance ${id})`),
                commands: str((a.inputs.parameters as Record<string, unknown> | undefined)?.commands),
            })),
        outputs,
    };
}

/** Host aliases of a client config by the address they connect to, without the `<stack>-` prefix. */
function sshHostNames(sshConfig: string, stack?: string): Map<string, string> {
    const names = new Map<string, string>();
    for (const b of parseSshHostBlocks(sshConfig)) {
        if (b.hostName === undefined) continue;
        const name = stack !== undefined && b.alias.startsWith(`${stack}-`) ? b.alias.slice(stack.length + 1) : b.alias;
        if (!names.has(b.hostName)) names.set(b.hostName, name);
    }
    return names;
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

/** What the lab is given besides a program's plan. */
export interface ProgramLabOptions {
    /** Config on top of the project's `Pulumi.<stack>.yaml` (a bare key is the project's). */
    config?: Record<string, unknown>;
    /**
     * The operator's private key, when the program passes its own `operatorPublicKeys` (jumpgate then
     * generates none); the lab writes it where the client config's IdentityFile points.
     */
    operatorPrivateKey?: string;
}

/**
 * Plans the Pulumi program in `dir` (with its project's `Pulumi.<stack>.yaml`, if any) with fresh random
 * keys, and takes the lab's settings from what it registered, not from a jumpgate stack config.
 */
export async function labPlanForProgram(dir: string, stack: string, opts: ProgramLabOptions = {}): Promise<LabPlan> {
    const program = resolveProgramDir(dir);
    const configFile = join(program.projectDir, `Pulumi.${stack}.yaml`);
    const run = await runOffline({
        stack,
        config: { ...(existsSync(configFile) ? readStackConfig(stack, program.projectDir) : {}), ...opts.config },
        project: program.project,
        program: () => runEntry(program.entry),
        keys: "random",
        componentOutputs: [JUMPGATE],
    });
    return labPlanFromProgramRun(run, opts.operatorPrivateKey);
}

/** Plans `stack` from its `Pulumi.<stack>.yaml`. */
export async function labPlanForStack(stack: string, dir?: string): Promise<LabPlan> {
    return labPlanForConfig(stack, readStackConfig(stack, dir));
}

/** One security-group rule of the plan, whichever way the program wrote it. */
interface PlannedRule {
    group: string;
    kind: "ingress" | "egress";
    /** The peer is a group (resolved to its members' addresses), not a CIDR. */
    fromGroup: boolean;
    rule: LabFirewallRule;
}

/** AWS protocol names and numbers as the lab's firewall takes them (`-1` and `all` are all traffic). */
function protocolOf(p: unknown): LabFirewallRule["protocol"] {
    const named: Record<string, LabFirewallRule["protocol"]> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1" };
    const v = str(p).toLowerCase();
    if (["tcp", "udp", "icmp", "-1"].includes(v)) return v as LabFirewallRule["protocol"];
    const mapped = named[v];
    if (!mapped) throw new Error(`security group rule protocol '${v}' is not one the lab models (tcp, udp, icmp, -1)`);
    return mapped;
}

/**
 * Every security-group rule of the plan: rule resources (`aws.vpc` ingress/egress rules, `aws.ec2`
 * SecurityGroupRule) and rules written inline in a SecurityGroup. A group reference (or `self`) becomes
 * the addresses of the instances in that group (`membersOf`).
 */
function securityGroupRules(run: OfflineRun, membersOf: (group: string) => string[]): PlannedRule[] {
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const make = (
        group: string,
        kind: PlannedRule["kind"],
        r: Record<string, unknown>,
        cidrs: string[],
        groups: string[],
    ): PlannedRule => ({
        group,
        kind,
        fromGroup: groups.length > 0,
        rule: {
            protocol: protocolOf(r.ipProtocol ?? r.protocol),
            fromPort: Number(r.fromPort ?? 0),
            toPort: Number(r.toPort ?? 0),
            cidrs: [...cidrs, ...groups.flatMap(membersOf)],
            description: str(r.description),
        },
    });
    const list = (v: unknown) => (Array.isArray(v) ? (v as unknown[]).map(str) : []);
    const vpcRules = [INGRESS, EGRESS].flatMap((type) =>
        of(type).map((r) => {
            const referenced = r.inputs.referencedSecurityGroupId;
            const cidr = r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6;
            return make(
                str(r.inputs.securityGroupId),
                type === INGRESS ? "ingress" : "egress",
                r.inputs,
                referenced ? [] : [str(cidr)],
                referenced ? [str(referenced)] : [],
            );
        }),
    );
    const ruleResources = of(SECURITY_GROUP_RULE).map((r) => {
        const group = str(r.inputs.securityGroupId);
        const source = r.inputs.self === true ? [group] : list([r.inputs.sourceSecurityGroupId].filter(Boolean));
        const cidrs = [...list(r.inputs.cidrBlocks), ...list(r.inputs.ipv6CidrBlocks)];
        return make(group, r.inputs.type === "egress" ? "egress" : "ingress", r.inputs, cidrs, source);
    });
    const inline = of(SECURITY_GROUP).flatMap((g) =>
        (["ingress", "egress"] as const).flatMap((kind) =>
            ((g.inputs[kind] ?? []) as Record<string, unknown>[]).map((r) => {
                const groups = [...list(r.securityGroups), ...(r.self === true ? [g.id] : [])];
                return make(g.id, kind, r, [...list(r.cidrBlocks), ...list(r.ipv6CidrBlocks)], groups);
            }),
        ),
    );
    return [...vpcRules, ...ruleResources, ...inline];
}
