// The `kms` user CA: one AWS KMS Ed25519 signing key per role, so the CA private keys never leave KMS and
// every certificate is a kms:Sign call in CloudTrail. Each key's policy lets only that role's AWS
// principals sign; hosts get each role's public key and accept it for that role's principal alone.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { spkiToOpenssh } from "./render/caKeys";
import { renderUserCaKeyPolicy } from "./render/kmsKeyPolicy";

/** The key spec and usage of a KMS key that signs SSH certificates with ED25519_SHA_512. */
export const USER_CA_KEY_SPEC = "ECC_NIST_EDWARDS25519";
export const USER_CA_KEY_USAGE = "SIGN_VERIFY";
/** Days KMS waits before deleting a role key taken out of the stack (the longest, to undo a mistake). */
export const USER_CA_DELETION_WINDOW_DAYS = 30;

export interface UserCaKmsArgs {
    stack: string;
    /** Every role, each with the IAM principals that may sign for it (may be empty: nobody yet). */
    roles: { name: string; signers: string[] }[];
    /** kms:Sign only from MFA-authenticated sessions. */
    requireMfa: boolean;
    tags: Record<string, string>;
}

/** `alias/jumpgate/<stack>/<role>`; KMS alias names take letters, digits, `/`, `_`, `-` and `:` only. */
export function userCaAliasName(stack: string, role: string): string {
    return `alias/jumpgate/${stack.replace(/[^A-Za-z0-9_-]/g, "-")}/${role}`;
}

export class UserCaKms extends pulumi.ComponentResource {
    /** Role to its CA public key (`ssh-ed25519 AAAA...`), read from KMS (GetPublicKey). */
    readonly publicKeys: Record<string, pulumi.Output<string>>;
    /** Role to its key's ARN: what `jumpgate-ssh login` signs with. */
    readonly keyArns: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: UserCaKmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("jumpgate:index:UserCaKms", name, {}, opts);
        const parent = { parent: this };
        const identity = aws.getCallerIdentityOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent);
        this.publicKeys = {};
        this.keyArns = {};
        for (const role of args.roles) {
            const policy = pulumi.all([partition.partition, identity.accountId]).apply(([p, accountId]) =>
                renderUserCaKeyPolicy({
                    partition: p,
                    accountId,
                    role: role.name,
                    signers: role.signers,
                    requireMfa: args.requireMfa,
                }),
            );
            // Changing who may sign updates the policy in place: the key, and so every host, stays.
            const key = new aws.kms.Key(
                `${name}-user-ca-${role.name}`,
                {
                    description: `jumpgate ${args.stack}: SSH user CA of role ${role.name}`,
                    customerMasterKeySpec: USER_CA_KEY_SPEC,
                    keyUsage: USER_CA_KEY_USAGE,
                    deletionWindowInDays: USER_CA_DELETION_WINDOW_DAYS,
                    policy,
                    tags: { ...args.tags, "jumpgate:access-role": role.name },
                },
                parent,
            );
            new aws.kms.Alias(
                `${name}-user-ca-${role.name}`,
                { name: userCaAliasName(args.stack, role.name), targetKeyId: key.keyId },
                parent,
            );
            const publicKey = aws.kms.getPublicKeyOutput({ keyId: key.arn }, parent);
            this.publicKeys[role.name] = publicKey.publicKey.apply((der) => spkiToOpenssh(Buffer.from(der, "base64")));
            this.keyArns[role.name] = key.arn;
        }
        this.registerOutputs({ keyArns: this.keyArns });
    }
}
