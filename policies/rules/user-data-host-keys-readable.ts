// Advisory: jumpgate pins host keys by generating them and passing them in user data. That is what
// lets ssh trust a host without a first-use prompt, but the key is then readable through the EC2 API.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { findPrivateKeys, userDataOf } from "../lib/userData";

export const userDataHostKeysReadable: ResourceValidationPolicy = {
    name: "user-data-host-keys-readable",
    description:
        "Host keys in user data are readable by anyone with ec2:DescribeInstanceAttribute (and from IMDS on the " +
        "host): whoever can read them can impersonate the host to clients that pinned it. Grant that permission narrowly.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: (args, reportViolation) => {
        const userData = userDataOf(args);
        if (!userData) return;
        const hostKeys = findPrivateKeys(userData.text).filter((k) => k.hostKey);
        if (hostKeys.length === 0) return;
        reportViolation(
            `${userData.prop} carries the SSH host private key (${hostKeys.map((k) => k.path).join(", ")}): anyone ` +
                `with ec2:DescribeInstanceAttribute on this instance can read it and impersonate the host. Limit ` +
                `that permission to administrators, and replace the host (pulumi up --replace) if it leaked.`,
        );
    },
};
