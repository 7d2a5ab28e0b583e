// SSH keys: the operator's key (generated unless the operator brings their own) and one pinned ED25519
// host key per host. Host keys belong to this component, not to the instances, so replacing an
// instance keeps its host key and the operator's known_hosts stays valid.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** A host key as the instances and the known_hosts output consume it. */
export interface HostKeyOutputs {
    publicKeyOpenssh: pulumi.Output<string>;
    /** Secret. */
    privateKeyOpenssh: pulumi.Output<string>;
}

export interface KeysArgs {
    /** Hosts that get a pinned host key: `bastion` and each target name. Required. */
    hostNames: string[];
    /** Operator public keys (OpenSSH format); when empty an ED25519 key is generated. Defaults to []. */
    operatorPublicKeys?: string[];
    /**
     * Team access: no operator key at all; with `stack` the stack's user CA key is created here (with
     * `kms` the CA keys live in KMS). Defaults to none: the single shared key.
     */
    userCa?: "stack" | "kms";
}

export class Keys extends pulumi.ComponentResource {
    /** Public keys allowed to log in (the operator's own, or the generated one). */
    readonly operatorPublicKeys: pulumi.Output<string[]>;
    /** The generated private key, a secret; undefined when the operator brought keys. */
    readonly operatorPrivateKeyOpenssh?: pulumi.Output<string>;
    /** Host keys by host name. */
    readonly hostKeys: Record<string, HostKeyOutputs>;
    /** The stack's user CA public key (`ssh-ed25519 AAAA...`), with `userCa`: public, hosts trust it. */
    readonly userCaPublicKey?: pulumi.Output<string>;
    /** The user CA's private key, a secret; it signs operator certificates and never reaches a plain output. */
    readonly userCaPrivateKeyOpenssh?: pulumi.Output<string>;

    constructor(name: string, args: KeysArgs, opts?: pulumi.ComponentResourceOptions) {
        // Typed `jumpgate:keys:Keys` before every component took the package's `index` module; the alias keeps
        // existing stacks' resources (and, through the parent, their children's URNs).
        super(
            "jumpgate:index:Keys",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "jumpgate:keys:Keys" }],
            },
        );
        const given = args.operatorPublicKeys ?? [];
        if (args.userCa !== undefined && given.length > 0)
            throw new Error("operator keys and a user CA exclude each other");
        if (args.userCa === "kms") {
            this.operatorPublicKeys = pulumi.output([]);
        } else if (args.userCa === "stack") {
            // Its private key lives only in state, as a secret; hosts get the public key.
            const ca = new tls.PrivateKey(`${name}-user-ca`, { algorithm: "ED25519" }, { parent: this });
            this.userCaPublicKey = ca.publicKeyOpenssh.apply((k) => k.trim());
            this.userCaPrivateKeyOpenssh = pulumi.secret(ca.privateKeyOpenssh);
            this.operatorPublicKeys = pulumi.output([]);
        } else if (given.length > 0) {
            this.operatorPublicKeys = pulumi.output(given);
        } else {
            const operator = new tls.PrivateKey(`${name}-operator`, { algorithm: "ED25519" }, { parent: this });
            this.operatorPublicKeys = operator.publicKeyOpenssh.apply((k) => [k.trim()]);
            // The provider marks it secret, but say so explicitly: it must never reach a plain output.
            this.operatorPrivateKeyOpenssh = pulumi.secret(operator.privateKeyOpenssh);
        }
        this.hostKeys = Object.fromEntries(
            args.hostNames.map((host) => {
                const key = new tls.PrivateKey(`${name}-${host}-host`, { algorithm: "ED25519" }, { parent: this });
                return [
                    host,
                    { publicKeyOpenssh: key.publicKeyOpenssh, privateKeyOpenssh: pulumi.secret(key.privateKeyOpenssh) },
                ];
            }),
        );
        this.registerOutputs({ operatorPublicKeys: this.operatorPublicKeys });
    }
}
