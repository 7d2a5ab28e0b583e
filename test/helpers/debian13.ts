// Debian 13's OpenSSH 10 is not this machine's: tests that judge the Debian 13 rendering run sshd from the
// lab's Debian 13 root (scripts/build-lab-root.sh, cached outside the clone; .ci/run builds it before the
// tests). Like every real tool, it is required in CI and skipped only on a machine that cannot build it.
import { ensureLabRoot } from "../../lab/rootfs";
import { isRootOrFail, toolsAvailable } from "./tools";

let cached: string | undefined;

/** The unpacked Debian 13 root (built or unpacked on first use), or undefined where it cannot be had. */
export function debian13Root(): string | undefined {
    if (cached) return cached;
    if (!(toolsAvailable("debootstrap", "zstd", "tar") && isRootOrFail())) return undefined;
    cached = ensureLabRoot().rootDir;
    return cached;
}
