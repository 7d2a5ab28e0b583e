// The policies of the jumpgate-guardrails pack, without starting it: index.ts serves them to the
// Pulumi CLI, the offline tests evaluate them directly (testing/evaluate.ts), and the npm package
// exports this module as `jumpgate/policies` for a platform team's own pack.
import { Policies, PolicyPackArgs } from "@pulumi/policy";
import { auditTrailToCloudWatch } from "./rules/audit-trail-to-cloudwatch";
import { bastionCount } from "./rules/bastion-count";
import { elasticIpOnlyOnBastion } from "./rules/elastic-ip-only-on-bastion";
import { instanceImdsv2Required } from "./rules/instance-imdsv2-required";
import { instanceRootVolumeEncrypted } from "./rules/instance-root-volume-encrypted";
import { publicIpOnlyOnBastion } from "./rules/public-ip-only-on-bastion";
import { requiredTags } from "./rules/required-tags";
import { sshNotOpenToWorld } from "./rules/ssh-not-open-to-world";
import { targetSshOnlyFromBastion } from "./rules/target-ssh-only-from-bastion";
import { targetsNotReachableFromOutside } from "./rules/targets-not-reachable-from-outside";
import { userDataHostKeysReadable } from "./rules/user-data-host-keys-readable";
import { userDataNoOperatorKeys } from "./rules/user-data-no-operator-keys";
import { userDataNoPrivateKeys } from "./rules/user-data-no-private-keys";
import { userDataSshdHardened } from "./rules/user-data-sshd-hardened";
import { vpcFlowLogs } from "./rules/vpc-flow-logs";

export const PACK_NAME = "jumpgate-guardrails";

export const policies: Policies = [
    sshNotOpenToWorld,
    instanceImdsv2Required,
    instanceRootVolumeEncrypted,
    publicIpOnlyOnBastion,
    elasticIpOnlyOnBastion,
    targetSshOnlyFromBastion,
    userDataSshdHardened,
    userDataNoPrivateKeys,
    userDataNoOperatorKeys,
    userDataHostKeysReadable,
    vpcFlowLogs,
    requiredTags,
    bastionCount,
    targetsNotReachableFromOutside,
    auditTrailToCloudWatch,
];

export const packArgs: PolicyPackArgs = {
    description: "Guardrails that keep a jumpgate environment safe when its program or config changes.",
    displayName: "jumpgate guardrails",
    provider: "aws",
    enforcementLevel: "mandatory",
    policies,
};
