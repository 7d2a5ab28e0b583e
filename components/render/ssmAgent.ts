// Break-glass on Debian: Debian's AMIs carry no SSM agent and Debian has no package for it, so the
// bastion installs the .deb AWS publishes for its region at first boot, and only when the package's
// detached signature verifies against AWS's signing key pinned here. Ubuntu's AMIs ship the agent
// (snap), so nothing is rendered there.
// Source: AWS Systems Manager user guide, "Verifying the signature of SSM Agent",
// https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html
//   package   https://s3.<region>.amazonaws.com/amazon-ssm-<region>/latest/debian_<arch>/amazon-ssm-agent.deb
//   signature the same URL + .sig (detached, made with the key below)
//   key       "SSM Agent <ssm-agent-signer@amazon.com>", RSA 2048, created 2023-08-28, fingerprint
//             DE92 C7DA 3E56 E923 31D6  2A36 BC1F 495C 97DD 04ED (the key block published there, also in
//             aws/amazon-ssm-agent Tools/src/setupcli_data_integrity_linux.sh; fingerprint computed by gpg).
// This copy says it expired on 2025-02-17. AWS extends the key with new self-signatures, and gpgv still
// reports VALIDSIG with the primary fingerprint for a good signature checked against an expired copy,
// so the check pins the fingerprint, not the copy's expiry date.

import {
    assertAwsRegionName,
    assertKeyFingerprint,
    renderInstallerUnit,
    renderSignedPackageInstaller,
} from "./signedPackageInstaller";

/** AWS's SSM agent signing key, OpenPGP binary, base64 (the published key block, dearmored). */
export const AWS_SSM_AGENT_KEY_BASE64 = [
    "mQENBGTtIoIBCAD2M1aoGIE0FXynAHM/jtuvdAVVaX3Q4ZejTqrX+Jq8ElAMhxyOGzHu2CDtCYxt",
    "VxXK3unptLVt2kGgJwNbhYC393jDeZx5dCda4Nk2YXX1UK3P461iaxuuXRzMYvfM4RZn+7bJTu63",
    "5tA07q9Xm6MGD4TCTvsjBfViOxbrxOg5ozWbJdSwfSR8MwUrRfmFpAefRlYfCEuZ8FHywa9U6jLe",
    "Wt2O/kqrZliJOAGjGzXtB7EZkqKbfaCCxikjjvhF1awdEqSK4DQorC/OvQc4I5kP5y2CJbtXvXO7",
    "3QH2yE75JMDIIx9xrOsIRUoSfK3UrWaOVuAnEEn5ueKzZNqGG1J1ABEBAAG0J1NTTSBBZ2VudCA8",
    "c3NtLWFnZW50LXNpZ25lckBhbWF6b24uY29tPokBPwQTAQIAKQUCZO0iggIbLwUJAsaYgAcLCQgH",
    "AwIBBhUIAgkKCwQWAgMBAh4BAheAAAoJELwfSVyX3QTt+icH/A//tJsWI+7Ay8FGJh8dJPNy++HI",
    "BjVSFdGNJFWNbw1Z8uZcazHEcUCH3FhW4CLQLTZ3OVPzqvFwzDtRDVIN/Y9EGDhLMFvimrE+/z4o",
    "lWsJ5DANf6BnX8I5UNIcRt5d8SWH1BEJ2FWIBZFgKyTDI6XzRC5x4ahtgpOVAGeeKDehs+wh6Ga4",
    "W0/K4GsviP1Kyr+Ic2brNAIq0q0IHyN1q9zam3Y0+jKwEuNmTj+Bjyzshyv/X8S0JWWoXJhkexkO",
    "vWeBYNNt5wI4QcSteyfIzp6KlQF8q11Hzz9D9WaPfcBEYyhq7vLEARobkbQMBzpkmaZua2410RaW",
    "G50HRvrgm4aJAhwEEAECAAYFAmTtIoMACgkQfdCXo9rX9fwwqBAAzkTgYJ38sWgxpn7Ux/81F2BW",
    "R1sVkmP79i++fXyJlKI8xtcJFQZhzeUos69KBUCy7mgx5bYUP7NA5o9DUbwz/QS0i1Cqm4+jtFlX",
    "0MXe4FikXcqfDPnnzN8mVB2H+fa43iHR1PuHGgUWuNdxzSoIYRmLZXWmeN5YXPcmixlhLzcE2TOQ",
    "n1mOKcu2fKdLtBQ8KiEkmjiunaoLxnUcyk1zMhaha+LzEkQdOyasix0ggylN2ViWVnlmfy0niuXD",
    "xW0qZWPdLStFOODiX3iqGmkH3rDfy6nvxxBR4GIs+MGD72fpWzzrINDgkGI2i2t1+0AX/mps3aTy",
    "+ftlgrim8stYWB58XXDAb0vad06sNye5/zDzfr0I9HupJrTzFhaYJQjWPaSlINtoLDJnBXohiUIP",
    "RYRcy/k012oFHDWZHT3H6CyjK9UD5UlxA9H7dsJurANs6FOVRe+734uJyxDZ/W7zLG4AVG0zxibr",
    "USoaJxwcOjVPVsQAlrwG/GTs7tcAccsJqbJ1Py/w9AgJl8VU2qc8POsHNXk348gjP7C8PDnGMpZF",
    "zr9f5INctRushpiv7onX+aWJVX7Tn2uX/TP3LCyH/MsrNJrJOQnMYFRLQitciP0E+F+eA3v9CY6m",
    "Duyb8JSx5HuGGUsGS4bKBOcA8vimEpwPoT8CE7fdsZ3Qkwdu+pw=",
].join("\n");

/** Primary key fingerprint a good signature must carry (last field of gpgv's VALIDSIG). */
export const AWS_SSM_AGENT_KEY_FINGERPRINT = "DE92C7DA3E56E92331D62A36BC1F495C97DD04ED";

/** Where the bastion's user data writes the installer. */
export const SSM_AGENT_INSTALLER_PATH = "/usr/local/sbin/jumpgate-install-ssm-agent";

/** The unit that runs the installer at boot until it succeeds. */
export const SSM_AGENT_UNIT = "jumpgate-ssm-agent.service";
export const SSM_AGENT_UNIT_PATH = `/etc/systemd/system/${SSM_AGENT_UNIT}`;

/** The unit that runs the installer at boot until it succeeds (SSH access does not depend on break-glass). */
export function renderSsmAgentUnit(baseUrl: string): string {
    return renderInstallerUnit({
        description: "Install AWS's SSM agent if its signature verifies (jumpgate break-glass)",
        installedPath: "/usr/bin/amazon-ssm-agent",
        installerPath: SSM_AGENT_INSTALLER_PATH,
        baseUrl,
    });
}

/** AWS's regional bucket for the agent; the installer appends `/debian_<dpkg arch>/amazon-ssm-agent.deb`. */
export function ssmAgentBaseUrl(region: string): string {
    assertAwsRegionName(region);
    return `https://s3.${region}.amazonaws.com/amazon-ssm-${region}/latest`;
}

/** The OpenPGP key an installer trusts; tests swap in their own. */
export interface SigningKey {
    /** Binary (dearmored) public key, base64. */
    base64: string;
    /** Its primary key fingerprint, 40 upper-case hex digits. */
    fingerprint: string;
}

export const AWS_SSM_AGENT_KEY: SigningKey = {
    base64: AWS_SSM_AGENT_KEY_BASE64,
    fingerprint: AWS_SSM_AGENT_KEY_FINGERPRINT,
};

/**
 * `installer <base-url>`: downloads the package and its signature, installs only if gpgv reports a valid
 * signature by the pinned key, then starts the agent. Any failure refuses the install and says why.
 */
export function renderSsmAgentInstaller(key: SigningKey = AWS_SSM_AGENT_KEY): string {
    assertKeyFingerprint(key.fingerprint);
    if (!/^[A-Za-z0-9+/=\n]+$/.test(key.base64)) throw new Error("key must be base64");
    return renderSignedPackageInstaller({
        purpose: "Installs AWS's SSM agent only if its signature verifies against the pinned key (jumpgate).",
        tag: "jumpgate-ssm-agent",
        fingerprint: key.fingerprint,
        packageUrl: "$1/debian_$arch/amazon-ssm-agent.deb",
        fetch: [
            `base64 -d >"$dir/key.gpg" <<'KEY' || refuse "the pinned key does not decode"`,
            key.base64.trim(),
            "KEY",
            `curl -fsS --retry 2 --retry-connrefused --retry-delay 5 -o "$dir/agent.deb" "$url" || refuse "cannot download $url"`,
            `curl -fsS --retry 2 --retry-connrefused --retry-delay 5 -o "$dir/agent.sig" "$url.sig" || refuse "cannot download $url.sig"`,
        ],
        install: [
            `dpkg -i "$dir/agent.deb" >&2 || refuse "dpkg -i failed"`,
            `systemctl enable --now amazon-ssm-agent.service || refuse "installed, but the service did not start"`,
        ],
    });
}
