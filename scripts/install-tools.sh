#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt: the tools the lab runs and the tests
# judge with (OpenSSH, fail2ban, cloud-init, ssh-audit, nftables, ...). Needs root. Used by .ci/run as well.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' debian-packages.txt)
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
