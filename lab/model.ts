// What the lab needs to stand a stack's hosts up on this machine. Produced from the program's offline
// run (the same resources `pulumi up` would create); consumed by the namespace, firewall and daemon code.

/** One security-group rule, with group references already resolved to the member hosts' addresses. */
export interface LabFirewallRule {
    /** `tcp`, `udp`, `icmp` or `-1` (all), as in the AWS rule. */
    protocol: "tcp" | "udp" | "icmp" | "-1";
    /** First port (ignored for `-1`/icmp). */
    fromPort: number;
    /** Last port (ignored for `-1`/icmp). */
    toPort: number;
    /** IPv4 or IPv6 CIDRs the rule allows (peer addresses). */
    cidrs: string[];
    /** The rule's description from the program, for nft comments. */
    description: string;
}

/** One host (EC2 instance) of the stack. */
export interface LabHost {
    /** `bastion` or the target's name, e.g. `app-1`. */
    name: string;
    role: "bastion" | "target";
    /** Bastion only: its Elastic IP, which the lab puts on the bastion's public leg. */
    publicIp?: string;
    /** The instance's private IPv4 address. */
    privateIp: string;
    /** CIDR of the subnet the instance sits in. */
    subnetCidr: string;
    /** The rendered `#cloud-config` user data, exactly what the instance would boot with. */
    cloudInit: string;
    /** Security-group ingress rules (stateful: replies are allowed). */
    ingress: LabFirewallRule[];
    /** Security-group egress rules. */
    egress: LabFirewallRule[];
    /**
     * False when the host's subnet has no default route (no NAT gateway, no internet gateway): the lab's VPC
     * router then has no route for its packets to the internet, as in AWS. Absent = routed.
     */
    internetRoute?: boolean;
    /**
     * The Elastic IP of the NAT gateway the host's default route points to: the address its packets to the
     * internet leave from. Absent for the bastion (its own public leg) or when the plan does not know it
     * (a looked-up subnet): the lab then gives the NAT a documentation address of its own.
     */
    natPublicIp?: string;
    /**
     * `program`: an instance the user's program built itself (jumpgate only reaches it); absent for
     * jumpgate's own hosts. The lab boots it as EC2 launches it from the image, with its own user data.
     */
    origin?: "program";
    /** The instance's key pair (EC2's `public-keys` metadata), which cloud-init gives the default user. */
    publicKeys?: string[];
}

/** A whole stack, as the lab stands it up. */
export interface LabPlan {
    /** Stack name; SSH aliases are `<stack>-bastion` and `<stack>-<target>`. */
    stack: string;
    /** CIDRs allowed to reach the bastion's SSH port (from config `allowedCidrs`). */
    allowedCidrs: string[];
    /** The bastion's SSH port. */
    sshPort: number;
    /** The jump user on the bastion and the login user on targets. */
    jumpUser: string;
    loginUser: string;
    hosts: LabHost[];
    /** Stack outputs, as `pulumi stack output` would print them. */
    sshConfig: string;
    knownHosts: string;
    /** The generated operator private key (OpenSSH format); absent with team access (operators bring keys). */
    privateKeyOpenssh?: string;
    /** Team access: the stack CA's private key (the secret output login's `--ca stack` reads). */
    userCaPrivateKeyOpenssh?: string;
    /** `AWS-RunShellScript` associations: the commands SSM's agent runs on these hosts (by host name). */
    runCommands?: LabRunCommand[];
    /**
     * Every stack output, secrets in clear, as `pulumi stack output --json --show-secrets` prints them: what
     * `jumpgate-ssh install/login --from` read.
     */
    outputs?: Record<string, unknown>;
}

/** What an SSM association runs, and where. */
export interface LabRunCommand {
    association: string;
    hosts: string[];
    commands: string;
}
