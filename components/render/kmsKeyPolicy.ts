// The key policy of a role's KMS CA key, as plain JSON. Two statements: the account administers the key
// (so it can never become unmanageable, and CreateKey's lock-out safety check passes), and only the
// role's AWS principals may sign with it. The account's statement leaves out kms:Sign and kms:CreateGrant,
// so no IAM policy alone can let anyone else sign: an administrator would first have to change this
// policy, which CloudTrail records like every Sign.

/** KMS refuses key policies longer than this (CreateKey/PutKeyPolicy `Policy`, 32 KB). */
export const KMS_KEY_POLICY_MAX_BYTES = 32768;

/**
 * What the account (and so IAM policies in it) may do with the key: administer it, never use it to sign
 * or hand out a grant that could. Deleting it is possible and waits deletionWindowInDays.
 */
export const KMS_ADMIN_ACTIONS: readonly string[] = [
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:Describe*",
    "kms:Enable*",
    "kms:Disable*",
    "kms:List*",
    "kms:Get*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
];

/** What a role's signers may do: sign certificate bodies, and read the CA public key. */
export const KMS_SIGNER_ACTIONS: readonly string[] = ["kms:Sign", "kms:GetPublicKey"];

export interface UserCaKeyPolicySpec {
    /** `aws`, `aws-cn`, `aws-us-gov`, ... */
    partition: string;
    accountId: string;
    role: string;
    /** IAM user, role or assumed-role ARNs that may sign for the role; empty: nobody (yet). */
    signers: readonly string[];
    /** Sign only with an MFA-authenticated session (`aws:MultiFactorAuthPresent`). */
    requireMfa: boolean;
}

/** The policy document (pretty JSON, stable order: the same team gives the same text). */
export function renderUserCaKeyPolicy(spec: UserCaKeyPolicySpec): string {
    if (!/^\d{12}$/.test(spec.accountId)) throw new Error(`invalid AWS account ID '${spec.accountId}'`);
    const statements: Record<string, unknown>[] = [
        {
            Sid: "AccountAdministersKey",
            Effect: "Allow",
            Principal: { AWS: `arn:${spec.partition}:iam::${spec.accountId}:root` },
            Action: [...KMS_ADMIN_ACTIONS],
            Resource: "*",
        },
    ];
    const signers = [...new Set(spec.signers)].sort();
    // A statement must name a principal: a role nobody may sign for yet has none.
    if (signers.length > 0)
        statements.push({
            Sid: `SignCertificatesFor${spec.role.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`,
            Effect: "Allow",
            Principal: { AWS: signers },
            Action: [...KMS_SIGNER_ACTIONS],
            Resource: "*",
            ...(spec.requireMfa ? { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } } : {}),
        });
    return JSON.stringify(
        { Version: "2012-10-17", Id: `jumpgate-user-ca-${spec.role}`, Statement: statements },
        null,
        2,
    );
}
