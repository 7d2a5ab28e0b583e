// Sample host specs for the renderer tests, with REAL ED25519 keys from ssh-keygen (so sshd can
// load the host key and the OpenSSH client can authenticate with the operator key).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
    BastionHostSpec,
    Fail2banSettings,
    SshKeyPair,
    TargetHostSpec,
    UpgradeSettings,
} from "../../components/render/model";

/** A fresh ED25519 key pair made by `ssh-keygen -t ed25519 -N ''`. */
export function makeKeyPair(comment = "jumpgate-test"): SshKeyPair {
    const dir = mkdtempSync(join(tmpdir(), "jgt-key-"));
    try {
        const file = join(dir, "id_ed25519");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
        return {
            privateKeyOpenssh: readFileSync(file, "utf8"),
            publicKeyOpenssh: readFileSync(`${file}.pub`, "utf8").trim(),
        };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

let cached: { host: SshKeyPair; targetHost: SshKeyPair; operator: SshKeyPair } | undefined;

/** Keys shared by every fixture in one test process (ssh-keygen runs three times, not per test). */
export function fixtureKeys(): { host: SshKeyPair; targetHost: SshKeyPair; operator: SshKeyPair } {
    cached ??= {
        host: makeKeyPair("bastion-host"),
        targetHost: makeKeyPair("target-host"),
        operator: makeKeyPair("operator"),
    };
    return cached;
}

export const sampleFail2ban: Fail2banSettings = {
    maxRetry: 4,
    findTimeSeconds: 600,
    banTimeSeconds: 900,
    banTimeMaxSeconds: 604800,
    ignoreIps: [],
};

export const sampleUpgrades: UpgradeSettings = {};

/** A bastion with two targets on the default port 22. */
export function sampleBastionSpec(overrides: Partial<BastionHostSpec> = {}): BastionHostSpec {
    const keys = fixtureKeys();
    return {
        os: "debian-12",
        cryptoProfile: "compatible",
        sshPort: 22,
        jumpUser: "jump",
        operatorPublicKeys: [keys.operator.publicKeyOpenssh],
        hostKey: keys.host,
        targets: [
            { name: "app-1", privateIp: "10.0.1.20", port: 22 },
            { name: "app-2", privateIp: "10.0.2.21", port: 22 },
        ],
        fail2ban: sampleFail2ban,
        upgrades: sampleUpgrades,
        ...overrides,
    };
}

/** A target on a private address. */
export function sampleTargetSpec(overrides: Partial<TargetHostSpec> = {}): TargetHostSpec {
    const keys = fixtureKeys();
    return {
        os: "debian-12",
        cryptoProfile: "compatible",
        name: "app-1",
        privateIp: "10.0.1.20",
        loginUser: "ops",
        operatorPublicKeys: [keys.operator.publicKeyOpenssh],
        hostKey: keys.targetHost,
        // The outer bastion's public subnet: AWS picks its address there at launch.
        hopAddresses: ["10.0.0.0/24"],
        fail2ban: sampleFail2ban,
        upgrades: sampleUpgrades,
        ...overrides,
    };
}
