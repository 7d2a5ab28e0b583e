// The only private key user data may carry is the host's own SSH host key (pinned by jumpgate so the
// client config can be written before boot). Anything else - an operator key, a deploy key, a TLS key -
// is readable by everyone who can describe the instance.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { findPrivateKeys, userDataOf } from "../lib/userData";

export const userDataNoPrivateKeys: ResourceValidationPolicy = {
    name: "user-data-no-private-keys",
    description:
        "User data must not contain private keys other than the host's SSH host keys: user data is stored in " +
        "clear by EC2 and readable by anyone with ec2:DescribeInstanceAttribute, and by every process on the host via IMDS.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args, reportViolation) => {
        const userData = userDataOf(args);
        if (!userData) return;
        for (const key of findPrivateKeys(userData.text).filter((k) => !k.hostKey)) {
            reportViolation(
                `${userData.prop} contains a private key at ${key.path}; only SSH host keys (cloud-config ` +
                    `ssh_keys.<type>_private) may be passed in user data. Fetch other secrets at boot ` +
                    `(SSM Parameter Store, Secrets Manager) with the instance role.`,
            );
        }
    },
};
