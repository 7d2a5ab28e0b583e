#!/usr/bin/env bash
# Installs the Debian packages the lab runs and the tests judge with: OpenSSH 9.2, fail2ban 1.0.2,
# cloud-init 22.4, ssh-audit and nftables on Debian 12. Needs root. Used by .ci/run as well.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    openssh-server openssh-client fail2ban python3-systemd ssh-audit cloud-init nftables iproute2 procps util-linux \
    >/dev/null
