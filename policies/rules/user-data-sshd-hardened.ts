// User data must not undo the sshd baseline: no password logins, no root logins.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { cloudConfigEnablesPasswords, setsYes, userDataOf } from "../lib/userData";

export const userDataSshdHardened: ResourceValidationPolicy = {
    name: "user-data-sshd-hardened",
    description:
        "User data must not turn on SSH password or root logins (PasswordAuthentication yes, PermitRootLogin yes, " +
        "cloud-config ssh_pwauth: true): passwords can be guessed, keys cannot, and root logins leave no trail of who.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args, reportViolation) => {
        const userData = userDataOf(args);
        if (!userData) return;
        const { text, prop } = userData;
        for (const keyword of ["PasswordAuthentication", "PermitRootLogin"]) {
            if (setsYes(text, keyword)) {
                reportViolation(
                    `${prop} sets "${keyword} yes"; jumpgate hosts accept public keys only, never as root.`,
                );
            }
        }
        if (cloudConfigEnablesPasswords(text)) {
            reportViolation(
                `${prop} sets cloud-config ssh_pwauth: true, which writes "PasswordAuthentication yes"; set it to false.`,
            );
        }
    },
};
