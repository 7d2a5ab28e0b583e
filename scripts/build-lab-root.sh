#!/usr/bin/env bash
# Builds (or finds in the cache) the Debian 13 root filesystem every lab host boots: a debootstrap of
# Debian's own packages, packed as a tar.zst outside the clone. The cache key is a hash of the suite,
# the package list and this script, so any change to what goes into the root builds a new one.
# Prints the tarball's path as the last line of stdout. Needs root, debootstrap and zstd.
#
#   scripts/build-lab-root.sh            # build unless cached (1.5-6 min cold, with the load)
#   scripts/build-lab-root.sh --key      # print the cache key only
#
# Environment: JUMPGATE_CACHE (default /var/cache/jumpgate), JUMPGATE_DEBIAN_MIRROR (default the
# mirror this machine's apt uses, else http://deb.debian.org/debian).
set -euo pipefail

SUITE=trixie
# The AMI's packages plus what cloud-init and fail2ban's journal backend need. Without
# python3-cffi-backend debootstrap cannot resolve a virtual dependency of python3-cryptography and
# cloud-init stays unconfigured.
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,fail2ban,python3-systemd,nftables,cloud-init,iproute2,sudo,unattended-upgrades,python3-cffi-backend,curl
# Packages the hosts' user data installs (PACKAGES in components/render/cloudInit.ts) that the AMI does not
# have: downloaded into the lab's mirror with their dependencies, not installed in the root, so the first
# boot installs them (and runs their maintainer scripts) as an instance's does. The lab's mirror serves
# only what is downloaded here: a package missing here fails the hosts' apt install.
FIRST_BOOT_PACKAGES=auditd,audispd-plugins

CACHE="${JUMPGATE_CACHE:-/var/cache/jumpgate}"
self="$(readlink -f "${BASH_SOURCE[0]}")"
key="$( { printf '%s\n%s\n%s\n' "$SUITE" "$PACKAGES" "$FIRST_BOOT_PACKAGES"; cat "$self"; } | sha256sum | cut -c1-16)"
name="lab-root-$SUITE-$key"
tarball="$CACHE/$name.tar.zst"
# The packages and the signed indices they came with, laid out as a Debian mirror
# (debian/dists/$SUITE/..., debian/pool/...), for the lab's in-lab mirror.
mirror_tree="$CACHE/$name.mirror"

if [ "${1:-}" = "--key" ]; then
    echo "$key"
    exit 0
fi

# The Debian archive apt on this machine uses (the first one-line or deb822 source), unless overridden.
MIRROR="${JUMPGATE_DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
    # grep exits 2 when one of the files is missing, even with matches in the others.
    MIRROR="$(grep -hsoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list |
        head -n1 | tr -d ' ' || true)"
fi
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

mkdir -p "$CACHE"
exec 9>"$CACHE/.build-lab-root.lock"
# One build at a time: a second caller waits here, then finds the cache.
flock 9
if [ -s "$tarball" ]; then
    echo "lab root: cached $tarball" >&2
    echo "$tarball"
    exit 0
fi

for tool in debootstrap zstd wget; do
    command -v "$tool" >/dev/null || {
        echo "build-lab-root: $tool is missing (bash scripts/install-tools.sh)" >&2
        exit 1
    }
done

work="$(mktemp -d "$CACHE/.build-XXXXXX")"
trap 'rm -rf --one-file-system "$work"' EXIT
root="$work/root"
start=$SECONDS
echo "lab root: debootstrap $SUITE from $MIRROR into $root" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    exit 1
}

# apt of the root itself resolves them (Recommends too, as cloud-init's apt-get does) against the same index.
# shellcheck disable=SC2086 # one word per package
chroot "$root" apt-get install --download-only --yes --quiet ${FIRST_BOOT_PACKAGES//,/ } >"$work/first-boot.log" 2>&1 || {
    tail -n 30 "$work/first-boot.log" >&2
    exit 1
}

# Keep the packages and the signed indices apt trusts (InRelease, and the Packages file whose hash it
# lists), but not inside the root: the lab serves them as the hosts' Debian mirror.
mkdir -p "$work/mirror"
(
    cd "$root/var/lib/apt/lists"
    dists="$work/mirror/debian/dists/$SUITE"
    index="$dists/main/binary-amd64"
    mkdir -p "$index/by-hash/SHA256"
    prefix="$(ls | grep -E "_dists_${SUITE}_InRelease\$" | sed "s/InRelease\$//")"
    for f in InRelease Release Release.gpg; do cp "${prefix}$f" "$dists/$f"; done
    cp "${prefix}main_binary-amd64_Packages" "$index/Packages"
    ln "$index/Packages" "$index/by-hash/SHA256/$(sha256sum "$index/Packages" | cut -d' ' -f1)"
    # apt-get update also fetches the English descriptions and fails without them; debootstrap does
    # not, so fetch them and check them against the signed Release, like apt would.
    i18n="$dists/main/i18n"
    mkdir -p "$i18n/by-hash/SHA256"
    want="$(mawk '/^SHA256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && $3 == "main/i18n/Translation-en.xz" { print $1 }' "$dists/Release")"
    wget -q -O "$i18n/Translation-en.xz" "$MIRROR/dists/$SUITE/main/i18n/Translation-en.xz"
    [ -n "$want" ] && [ "$(sha256sum "$i18n/Translation-en.xz" | cut -d' ' -f1)" = "$want" ] || {
        echo "build-lab-root: Translation-en.xz does not match the signed Release file, so the archive changed during the build: run it again" >&2
        exit 1
    }
    ln "$i18n/Translation-en.xz" "$i18n/by-hash/SHA256/$want"
    # Each .deb (debootstrap names it package_version_arch.deb, ':' as %3a) goes to its pool path.
    mawk -v RS= -F'\n' '{
        delete f
        for (i = 1; i <= NF; i++) {
            split($i, kv, ": ")
            f[kv[1]] = kv[2]
        }
        v = f["Version"]
        gsub(":", "%3a", v)
        print f["Package"] "_" v "_" f["Architecture"] ".deb " f["Filename"]
    }' "$index/Packages" | while read -r deb path; do
        src="$root/var/cache/apt/archives/$deb"
        if [ -f "$src" ]; then
            mkdir -p "$work/mirror/debian/$(dirname "$path")"
            mv "$src" "$work/mirror/debian/$path"
        fi
    done
)
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
# No resolver and no name from the machine that built it: the lab gives each host its own.
: >"$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
# Every host must make its own identity on first boot, as an instance launched from the AMI does.
rm -f "$root"/etc/ssh/ssh_host_* "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"

tar --numeric-owner --xattrs --acls -C "$root" -cf - . | zstd -q -T0 -3 -o "$work/root.tar.zst"
rm -rf "$mirror_tree"
mv "$work/mirror" "$mirror_tree"
mv "$work/root.tar.zst" "$tarball" # last: the tarball's presence means the whole build is cached
debs="$(find "$mirror_tree/debian/pool" -name '*.deb' | wc -l)"
echo "lab root: built $tarball in $((SECONDS - start)) s ($(du -h "$tarball" | cut -f1); $debs .debs in $mirror_tree)" >&2
echo "$tarball"
