#!/usr/bin/env bash
# Checks systemd/access-gateway.service the way CI must: `systemd-analyze verify` against a
# temporary root holding the unit and the binary at its path (any output fails), and
# `systemd-analyze security --offline` with an exposure of at most 2.0.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-$(swift build --show-bin-path)/access-gateway}"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/bin" "$root/usr/lib/systemd"
ln -s usr/bin "$root/bin"
cp "$binary" "$root/usr/local/bin/access-gateway"
cp /usr/bin/kill "$root/usr/bin/"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp systemd/access-gateway.service "$root/etc/systemd/system/"

output=$(systemd-analyze verify --root="$root" "$root/etc/systemd/system/access-gateway.service" 2>&1) || {
  echo "systemd-analyze verify failed:" >&2; echo "$output" >&2; exit 1; }
if [ -n "$output" ]; then echo "systemd-analyze verify warned:" >&2; echo "$output" >&2; exit 1; fi

systemd-analyze security --offline=yes --root="$root" --threshold="${SECURITY_THRESHOLD:-20}" access-gateway.service > "$root/security.txt" 2>&1 || {
  cat "$root/security.txt" >&2; echo "exposure above 2.0" >&2; exit 1; }
grep "Overall exposure level" "$root/security.txt"
