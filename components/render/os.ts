// What differs between the operating systems jumpgate boots, as the renderers need it: the OpenSSH each
// image ships (Debian 13: 10.0p1, Debian 12: 9.2p1, Ubuntu 24.04: 9.6p1), which decides the key exchange
// names and the keywords sshd accepts.
import type { OsName } from "./model";

export interface OpenSshVersion {
    major: number;
    minor: number;
}

export interface OsRelease {
    /** What people call it. */
    label: string;
    /** sshd's version (the server side decides what the drop-in may say). */
    openssh: OpenSshVersion;
}

/** The OS hosts boot unless told otherwise: the Debian release with regular security support. */
export const DEFAULT_OS: OsName = "debian-13";

export const OS_RELEASES: Readonly<Record<OsName, OsRelease>> = {
    "debian-13": {
        label: "Debian 13 (trixie)",
        openssh: { major: 10, minor: 0 },
    },
    "debian-12": {
        label: "Debian 12 (bookworm)",
        openssh: { major: 9, minor: 2 },
    },
    "ubuntu-24.04": {
        label: "Ubuntu 24.04 (noble)",
        openssh: { major: 9, minor: 6 },
    },
};

/** Whether `os`'s sshd is at least `major.minor`. */
export function opensshAtLeast(os: OsName, major: number, minor: number): boolean {
    const v = OS_RELEASES[os].openssh;
    return v.major > major || (v.major === major && v.minor >= minor);
}
