// The operator's side: OpenSSH client config, pinned known_hosts and ready-to-paste commands, rendered
// from one inventory so aliases, addresses and pinned keys can never disagree. Pure: no Pulumi imports.

/** One SSH server as the client reaches it. */
export interface SshEndpoint {
    /** Short name: `bastion` or the target's name. */
    name: string;
    /** Address the client connects to (the bastion's public IP, a target's private IP). */
    hostName: string;
    port: number;
    user: string;
    /** The host's pinned public key, `ssh-ed25519 AAAA...`. */
    hostPublicKey: string;
}

/** A host jumpgate does not build: reached through the whole chain; its key is pinned only when known. */
export interface SshExistingHost extends Omit<SshEndpoint, "hostPublicKey"> {
    /** Its public host key when the config gives it; without it the entry is unpinned until `pin`. */
    hostPublicKey?: string;
}

/** A declared tunnel: a local port forwarded through the last bastion hop to one target's port. */
export interface SshTunnel {
    name: string;
    /** The target's private address (the literal host the bastion's PermitOpen lists). */
    targetHost: string;
    remotePort: number;
    localPort: number;
}

/** Everything the client side is rendered from. */
export interface SshClientInventory {
    stack: string;
    /** The bastion chain, outermost first; one hop named `bastion` by default. */
    bastions: SshEndpoint[];
    targets: SshEndpoint[];
    /** Existing hosts (their own users, sshd and keys). Defaults to none. */
    existingHosts?: SshExistingHost[];
    /** Declared tunnels. Defaults to none. */
    tunnels?: SshTunnel[];
    /** Private key path on the operator's machine. */
    identityFile: string;
    /** Pinned known_hosts path on the operator's machine. */
    knownHostsFile: string;
    /** Multiplex the bastion hops (ControlMaster auto, ControlPersist 10m). */
    controlMaster: boolean;
}

/** Team access: one role, the account it logs in as on the targets and what it reaches. */
export interface SshRole {
    name: string;
    /** The role's account on the targets it reaches (`<loginUser>-<role>`). */
    account: string;
    /** Names of the targets and tunnels (`tunnel-<name>`) the role reaches; the others are left out. */
    reach: readonly string[];
}

/**
 * Team access: every host is reached with the operator's certificate (`<identityFile>-cert.pub`,
 * written by `jumpgate-ssh login`). With a role, its targets log in as the role's account; without one
 * (the stack-wide config), no account is named on targets: each operator installs their role's config.
 */
export interface SshCertificateView {
    role?: SshRole;
}

/** The certificate ssh offers with a key: OpenSSH's own default name, `<key>-cert.pub`. */
export function certificateFileOf(identityFile: string): string {
    return `${identityFile}-cert.pub`;
}

/** How targets reach through the bastion: `ProxyJump` (OpenSSH 7.3+) or `ProxyCommand ssh -W` (older). */
export type JumpStyle = "proxyjump" | "proxycommand";

/** `<stack>-<name>`: the alias the operator types, also the HostKeyAlias the key is pinned under. */
export function hostAlias(stack: string, name: string): string {
    return `${stack}-${name}`;
}

/** Default paths on the operator's machine, shared by the outputs and the installer. */
export function defaultIdentityFile(stack: string): string {
    return `~/.ssh/jumpgate-${stack}_ed25519`;
}
export function defaultKnownHostsFile(stack: string): string {
    return `~/.ssh/jumpgate-${stack}_known_hosts`;
}
/** Keys the operator pinned with `jumpgate-ssh pin` (existing hosts): `install` never writes it. */
export function defaultPinnedHostsFile(stack: string): string {
    return `~/.ssh/jumpgate-${stack}_pinned_hosts`;
}

/** The command that pins an unpinned existing host's key, once its fingerprint is known out of band. */
export function pinCommand(alias: string): string {
    return `npx jumpgate-ssh pin ${alias} --fingerprint SHA256:<fingerprint>`;
}

function hostBlock(alias: string, lines: [string, string | number][]): string {
    return [`Host ${alias}`, ...lines.map(([k, v]) => `  ${k} ${v}`)].join("\n");
}

// Settings every host shares: pinned keys only (never trust on first use) and no agent exposure.
function commonLines(
    inv: SshClientInventory,
    alias: string,
    e: SshEndpoint,
    view?: SshCertificateView,
): [string, string | number][] {
    // The certificate goes with the key (ssh would try `<key>-cert.pub` anyway; naming it makes
    // `ssh -G` show exactly what is offered).
    const certificate: [string, string][] = view ? [["CertificateFile", certificateFileOf(inv.identityFile)]] : [];
    // An empty user: the stack-wide team config, which names no account on targets.
    const user: [string, string][] = e.user === "" ? [] : [["User", e.user]];
    return [
        ["HostName", e.hostName],
        ...user,
        ["Port", e.port],
        ["IdentityFile", inv.identityFile],
        ...certificate,
        ["IdentitiesOnly", "yes"],
        ["UserKnownHostsFile", inv.knownHostsFile],
        ["StrictHostKeyChecking", "yes"],
        // Pin under the alias, so a new address (a replaced instance, a new EIP) never breaks pinning.
        ["HostKeyAlias", alias],
        ["ForwardAgent", "no"],
        ["ServerAliveInterval", 30],
        ["ServerAliveCountMax", 3],
    ];
}

/** How a host reaches the hops before it: `ProxyJump a,b` or `ProxyCommand ssh -W %h:%p b`. */
function jumpLine(aliases: string[], style: JumpStyle): [string, string][] {
    if (aliases.length === 0) return [];
    return style === "proxyjump"
        ? [["ProxyJump", aliases.join(",")]]
        : [["ProxyCommand", `ssh -W %h:%p ${aliases[aliases.length - 1]}`]];
}

/**
 * The `sshConfig` output: a `Host` block per bastion hop (each jumping through the ones before it), per
 * target (jumping through the whole chain) and per declared tunnel. With a role view (team access), the
 * role's own config: its certificate everywhere, its account on the targets, only what it reaches.
 */
export function renderSshConfig(
    inv: SshClientInventory,
    style: JumpStyle = "proxyjump",
    view?: SshCertificateView,
): string {
    const hopAliases = inv.bastions.map((b) => hostAlias(inv.stack, b.name));
    const role = view?.role;
    const reaches = (name: string) => role === undefined || role.reach.includes(name);
    const withJump = (lines: [string, string | number][], jump: [string, string][]) => {
        lines.splice(lines.findIndex(([k]) => k === "Port") + 1, 0, ...jump);
        return lines;
    };
    const blocks = inv.bastions.map((hop, k) => {
        const lines = withJump(commonLines(inv, hopAliases[k]!, hop, view), jumpLine(hopAliases.slice(0, k), style));
        if (inv.controlMaster) {
            lines.push(["ControlMaster", "auto"], ["ControlPath", "~/.ssh/cm-jumpgate-%C"], ["ControlPersist", "10m"]);
        }
        return hostBlock(hopAliases[k]!, lines);
    });
    for (const t of inv.targets.filter((x) => reaches(x.name))) {
        const alias = hostAlias(inv.stack, t.name);
        const target = view ? { ...t, user: role?.account ?? "" } : t;
        blocks.push(hostBlock(alias, withJump(commonLines(inv, alias, target, view), jumpLine(hopAliases, style))));
    }
    for (const e of (inv.existingHosts ?? []).filter((x) => reaches(x.name))) {
        blocks.push(existingHostBlock(inv, e, jumpLine(hopAliases, style), view));
    }
    const last = inv.bastions[inv.bastions.length - 1]!;
    const lastAlias = hopAliases[hopAliases.length - 1]!;
    for (const tunnel of (inv.tunnels ?? []).filter((x) => reaches(`tunnel-${x.name}`))) {
        // The tunnel logs in to the last hop (pinned under its alias) and forwards one declared port.
        const lines = withJump(commonLines(inv, lastAlias, last, view), jumpLine(hopAliases.slice(0, -1), style));
        lines.push(["LocalForward", `127.0.0.1:${tunnel.localPort} ${tunnel.targetHost}:${tunnel.remotePort}`]);
        lines.push(["ExitOnForwardFailure", "yes"]);
        // No session: the jump user's shell is nologin. SessionType needs OpenSSH 8.7; IgnoreUnknown (6.3+)
        // keeps older clients reading the config, and they open the tunnel with `ssh -N`.
        if (style === "proxyjump") lines.push(["IgnoreUnknown", "SessionType"], ["SessionType", "none"]);
        lines.push(["RequestTTY", "no"]);
        blocks.push(hostBlock(hostAlias(inv.stack, `tunnel-${tunnel.name}`), lines));
    }
    const header = `# jumpgate stack ${inv.stack}: generated, do not edit. Targets are reached through ${hopAliases.join(", then ")}.`;
    return `${[header, ...roleHeader(inv, view)].join("\n")}\n${blocks.join("\n\n")}\n`;
}

/**
 * An existing host: its own login user and port, through the whole chain. Without a known key it
 * checks the stack's known_hosts and the operator's pinned file, which holds nothing for it until
 * `jumpgate-ssh pin` compares the key with a fingerprint from out of band: ssh refuses it until then.
 */
function existingHostBlock(
    inv: SshClientInventory,
    e: SshExistingHost,
    jump: [string, string][],
    view?: SshCertificateView,
): string {
    const alias = hostAlias(inv.stack, e.name);
    const lines = commonLines(inv, alias, { ...e, hostPublicKey: e.hostPublicKey ?? "" }, view);
    lines.splice(lines.findIndex(([k]) => k === "Port") + 1, 0, ...jump);
    if (e.hostPublicKey !== undefined) return hostBlock(alias, lines);
    const files = lines.find(([k]) => k === "UserKnownHostsFile")!;
    files[1] = `${inv.knownHostsFile} ${defaultPinnedHostsFile(inv.stack)}`;
    const comment = [
        `# UNPINNED existing host ${e.name}: jumpgate does not know its host key, so ssh refuses it until you pin it.`,
        "# Get its SHA256 fingerprint out of band: from the host's team, or for an EC2 instance from cloud-init's",
        "# console lines (aws ec2 get-console-output --instance-id <id> --latest --output text, between",
        "# BEGIN and END SSH HOST KEY FINGERPRINTS). Then fetch the key through the bastion and pin it only if it matches:",
        `#   ${pinCommand(alias)}`,
    ];
    return `${comment.join("\n")}\n${hostBlock(alias, lines)}`;
}

/** Comment lines saying whose config it is, how to get its certificate, and what it leaves out. */
function roleHeader(inv: SshClientInventory, view?: SshCertificateView): string[] {
    if (!view) return [];
    const login = `the certificate from: npx jumpgate-ssh login --stack ${inv.stack}`;
    const role = view.role;
    if (!role) {
        return [
            `# Team access: no account on targets here; install your role's config with: npx jumpgate-ssh install --stack ${inv.stack} --operator <you>`,
        ];
    }
    const left = [
        ...inv.targets.filter((t) => !role.reach.includes(t.name)).map((t) => t.name),
        ...(inv.existingHosts ?? []).filter((e) => !role.reach.includes(e.name)).map((e) => e.name),
        ...(inv.tunnels ?? []).filter((t) => !role.reach.includes(`tunnel-${t.name}`)).map((t) => `tunnel-${t.name}`),
    ];
    return [
        `# Role ${role.name}: targets as ${role.account}, with ${login}`,
        ...(left.length > 0 ? [`# Not reached by role ${role.name}, so left out: ${left.join(", ")}`] : []),
    ];
}

/** The `knownHosts` output: each host's pinned key under its alias (matching HostKeyAlias); unpinned existing hosts have none. */
export function renderKnownHosts(inv: SshClientInventory): string {
    const pinned = (inv.existingHosts ?? []).flatMap((e) =>
        e.hostPublicKey === undefined ? [] : [{ name: e.name, hostPublicKey: e.hostPublicKey }],
    );
    const lines = [...inv.bastions, ...inv.targets, ...pinned].map((e) => {
        const [type, blob] = e.hostPublicKey.trim().split(/\s+/);
        return `${hostAlias(inv.stack, e.name)} ${type} ${blob}`;
    });
    return `${lines.join("\n")}\n`;
}

/** The `sshCommands` output: commands that work once `sshConfig` and `knownHosts` are installed. */
/** Ready-to-paste commands that go through the bastion chain, by the aliases of the installed config. */
export interface SshCommands {
    /** Target name to its `ssh <alias>` command. Default: one per target. */
    ssh: Record<string, string>;
    /** An scp copy to the first target over the chain. Default: empty without targets. */
    scp: string;
    /** An rsync copy to the first target over the chain. Default: empty without targets. */
    rsync: string;
    /** An Ansible INI inventory line for the first target. Default: empty without targets. */
    ansible: string;
    /** A local forward (127.0.0.1:2201) to the first target's SSH port. Default: empty without targets. */
    tunnel: string;
}

export function renderSshCommands(inv: SshClientInventory): SshCommands {
    const hops = inv.bastions.map((b) => hostAlias(inv.stack, b.name));
    // The whole chain, outermost first, as -J and ProxyJump take it.
    const jump = hops.join(",");
    const hosts = [...inv.targets, ...(inv.existingHosts ?? [])];
    const ssh = Object.fromEntries(hosts.map((t) => [t.name, `ssh ${hostAlias(inv.stack, t.name)}`]));
    const first = inv.targets[0];
    if (!first) return { ssh, scp: "", rsync: "", ansible: "", tunnel: "" };
    const firstAlias = hostAlias(inv.stack, first.name);
    return {
        ssh,
        scp: `scp -J ${jump} ./file.txt ${firstAlias}:/tmp/`,
        rsync: `rsync -av -e 'ssh -J ${jump}' ./dir/ ${firstAlias}:/tmp/dir/`,
        // An INI inventory line. The host is the alias, so the installed config supplies address, user, key
        // and pinned host key; the jump it already holds is spelled out too, the way Ansible users expect it.
        ansible: `${firstAlias} ansible_ssh_common_args='-o ProxyJump=${jump}'`,
        // The last hop forwards only to targets' SSH (and declared tunnel) ports, so this tunnel carries SSH.
        tunnel: `ssh -N -L 127.0.0.1:2201:${first.hostName}:${first.port} ${hops[hops.length - 1]}`,
    };
}
