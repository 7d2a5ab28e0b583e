// Runs a command in a private mount namespace with a laid-out host's /etc/ssh, passwd, group and shadow
// mounted over this machine's: `unshare --mount --propagation private sh -c SCRIPT sh <root> cmd...`.
// The tests that start a real sshd on a rendered document all use it, so the machine's files stay untouched.
export const ETC_OVERLAY_SCRIPT = [
    "set -e",
    'r="$1"; shift',
    'mount --bind "$r/etc/ssh" /etc/ssh',
    'for f in passwd group shadow; do mount --bind "$r/$f" "/etc/$f"; done',
    'exec "$@"',
].join("\n");
