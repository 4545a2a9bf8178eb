#!/usr/bin/env bash
# BIRD 1.6 (Calico's base) conflicts with Debian's bird2 package, so it is unpacked into
# tools/bird1.6 instead of installed. Tests find it there (or at $BIRD16_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${BIRD16_DIR:-$here/bird1.6}
if [ -x "$dest/usr/sbin/bird" ]; then
  exit 0
fi
work=$(mktemp -d)
chmod 755 "$work"  # apt drops root to _apt for the download
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download bird >/dev/null)
mkdir -p "$dest"
dpkg -x "$work"/bird_*.deb "$dest"
"$dest/usr/sbin/bird" --version
