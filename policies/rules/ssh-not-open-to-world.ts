// SSH (22 and the bastion's configured port) never open to the whole internet, whichever way the rule
// is written. The exception mirrors the program's own opt-in, `allowSshFromAnywhere`.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { admitsTcpPort, describeSource, ingressRulesOf, TYPE } from "../lib/ingress";
import { isWholeInternet } from "../lib/cidr";

export interface SshNotOpenToWorldConfig {
    /** Port the bastion's sshd listens on (the program's `sshPort`). Port 22 is always checked too. */
    sshPort?: number;
    /** The program's `allowSshFromAnywhere`: the one way to allow 0.0.0.0/0 or ::/0. */
    allowSshFromAnywhere?: boolean;
}

const RULE_TYPES: readonly string[] = Object.values(TYPE);

export const sshNotOpenToWorld: ResourceValidationPolicy = {
    name: "ssh-not-open-to-world",
    description:
        "SSH must not be reachable from 0.0.0.0/0 or ::/0: an internet-wide SSH port is scanned and brute-forced " +
        "within minutes. Allowed only when the stack opts in (allowSshFromAnywhere).",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: {
        properties: {
            sshPort: { type: "integer", minimum: 1, maximum: 65535, default: 22 },
            allowSshFromAnywhere: { type: "boolean", default: false },
        },
    },
    validateResource: (args, reportViolation) => {
        if (!RULE_TYPES.includes(args.type)) args.notApplicable(`Policy only applies to security group rules`);
        const config = args.getConfig<SshNotOpenToWorldConfig>();
        if (config.allowSshFromAnywhere === true) return;
        const ports = [...new Set([22, config.sshPort ?? 22])];
        for (const rule of ingressRulesOf(args.type, args.name, args.props)) {
            for (const port of ports.filter((p) => admitsTcpPort(rule, p))) {
                for (const source of rule.sources) {
                    if (source.kind === "cidr" && isWholeInternet(source.cidr)) {
                        reportViolation(
                            `${rule.where} opens SSH (port ${port}) to ${describeSource(source)}. List specific ` +
                                `CIDRs (the program's allowedCidrs); to accept SSH from anywhere, set ` +
                                `allowSshFromAnywhere in this pack's config, as in the stack's config.`,
                        );
                    }
                }
            }
        }
    },
};
