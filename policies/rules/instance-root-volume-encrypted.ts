// Encrypted volumes: a snapshot or a detached volume must not expose the host key, logs or data.
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

export const instanceRootVolumeEncrypted: ResourceValidationPolicy = {
    name: "instance-root-volume-encrypted",
    description:
        "Every instance's root volume (and any extra EBS volume) must be encrypted: the root volume holds the " +
        "host's private SSH key, and snapshots or detached volumes are readable by whoever can copy them.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, _args, reportViolation) => {
        const root = instance.rootBlockDevice;
        if (root?.encrypted !== true) {
            reportViolation(
                `rootBlockDevice.encrypted is ${root === undefined ? "unset (no rootBlockDevice)" : String(root.encrypted)}; ` +
                    `set rootBlockDevice: { encrypted: true } (with a KMS key if you need your own).`,
            );
        }
        (instance.ebsBlockDevices ?? []).forEach((device, i) => {
            if (device.encrypted !== true) {
                reportViolation(`ebsBlockDevices[${i}] (${device.deviceName}) is not encrypted; set encrypted: true.`);
            }
        });
    }),
};
