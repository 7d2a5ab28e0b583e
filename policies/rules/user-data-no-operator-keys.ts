// With a user CA, hosts trust certificates and know roles only: an operator's public key in user data would
// be a second way in that no certificate expiry or key policy governs, and adding or removing that person
// would replace the instance. The stack has a CA when jumpgate made one (a per-role KMS key or the stack CA
// key) or when any host's user data trusts one.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { findLoginPublicKeys, trustsUserCa, userDataText } from "../lib/userData";

/** The tag jumpgate puts on each role's KMS CA key (components/userCaKms.ts). */
export const ACCESS_ROLE_TAG = "jumpgate:access-role";

function hasUserCaKey(resources: PolicyResource[]): boolean {
    return resources.some(
        (r) =>
            (r.type === "aws:kms/key:Key" && ACCESS_ROLE_TAG in ((r.props.tags ?? {}) as Record<string, unknown>)) ||
            (r.type === "tls:index/privateKey:PrivateKey" && r.name.endsWith("-user-ca")),
    );
}

export const userDataNoOperatorKeys: StackValidationPolicy = {
    name: "user-data-no-operator-keys",
    description:
        "When a user CA is configured, no host's user data may carry an operator's public key: hosts trust the CA " +
        "(cert-authority lines) and their own host key only, so access follows certificates and key policies, and " +
        "operators come and go without replacing an instance.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args, reportViolation) => {
        const hosts = args.resources.flatMap((r) => {
            const userData = userDataText(r.type, r.props);
            return userData ? [{ resource: r, ...userData }] : [];
        });
        if (!hasUserCaKey(args.resources) && !hosts.some((h) => trustsUserCa(h.text))) return;
        for (const host of hosts) {
            for (const key of findLoginPublicKeys(host.text)) {
                reportViolation(
                    `${host.resource.name}: ${host.prop} carries the login key ${key.key} at ${key.path}, although ` +
                        "the stack has a user CA; give the operator a role in config (operators) and let them sign " +
                        "a certificate with npx jumpgate-ssh login.",
                    host.resource.urn,
                );
            }
        }
    },
};
