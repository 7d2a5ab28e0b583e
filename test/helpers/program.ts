// The one place tests run the program: the real program under Pulumi's mocks with the simulated AWS.
import { OfflineRun, PlannedResource, runOffline } from "../../offline/run";

/** A minimal valid stack config; tests override single keys. */
export const BASE_CONFIG: Record<string, unknown> = {
    "aws:region": "eu-central-1",
    "jumpgate:allowedCidrs": ["203.0.113.0/24"],
};

/** Runs the program for `stack` with BASE_CONFIG plus `overrides` (a key set to undefined is removed). */
export async function plan(
    overrides: Record<string, unknown> = {},
    stack = "test",
    extra: Partial<Parameters<typeof runOffline>[0]> = {},
): Promise<OfflineRun> {
    const config = Object.fromEntries(
        Object.entries({ ...BASE_CONFIG, ...overrides }).filter(([, v]) => v !== undefined),
    );
    return runOffline({ stack, config, ...extra });
}

export function ofType(run: OfflineRun, type: string): PlannedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function named(run: OfflineRun, type: string, name: string): PlannedResource {
    const r = run.resources.find((x) => x.type === type && x.name === name);
    if (!r)
        throw new Error(
            `no ${type} named ${name}; have: ${ofType(run, type)
                .map((x) => x.name)
                .join(", ")}`,
        );
    return r;
}

export const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    nat: "aws:ec2/natGateway:NatGateway",
    eip: "aws:ec2/eip:Eip",
    flowLog: "aws:ec2/flowLog:FlowLog",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    instance: "aws:ec2/instance:Instance",
    privateKey: "tls:index/privateKey:PrivateKey",
    eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
} as const;
