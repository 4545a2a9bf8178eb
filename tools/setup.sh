#!/usr/bin/env bash
# Installs what the lab and the tests need on a fresh Debian 12 machine (run as root):
# the reference peers (BIRD 2, GoBGP, FRR), iproute2, tshark, clang and zlib (Native AOT links the
# image's binaries with them), and BIRD 1.6 unpacked beside the repo.
# Safe to run again; skips apt when everything is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=(bird2 gobgpd frr iproute2 tshark socat procps kmod prometheus clang zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the default answer is fine.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packaged daemons start as services on install on some machines; the tests run their own
# instances in namespaces, so make sure none holds a port or socket in the root namespace.
for svc in bird frr gobgpd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
"$here/fetch-bird16.sh" >/dev/null
echo "setup: bird $(bird --version 2>&1 | awk '{print $3}'), bird 1.6 $("$here/bird1.6/usr/sbin/bird" --version 2>&1 | awk '{print $3}'), $(gobgpd --version), dotnet $(dotnet --version)"
