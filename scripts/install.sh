#!/usr/bin/env bash
# Builds in release mode and installs the gateway, the CLI and the simulators, the systemd unit,
# and the example configuration (never over an existing one).
#   PREFIX   where binaries go (default /usr/local; the unit expects /usr/local/bin)
#   DESTDIR  a staging root for packaging (default: install into the live system)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"

scripts/install-deps.sh
swift build -c release
bin=$(swift build -c release --show-bin-path)

install -d "$DESTDIR$PREFIX/bin" "$DESTDIR/etc/systemd/system" "$DESTDIR/etc/access-gateway" \
  "$DESTDIR$PREFIX/share/doc/access-gateway"
for tool in access-gateway accessctl lock-sim pole-sim booking-sim scenario; do
  install -m 0755 "$bin/$tool" "$DESTDIR$PREFIX/bin/$tool"
done
sed "s|/usr/local/bin/access-gateway|$PREFIX/bin/access-gateway|" systemd/access-gateway.service \
  > "$DESTDIR/etc/systemd/system/access-gateway.service"
chmod 0644 "$DESTDIR/etc/systemd/system/access-gateway.service"
if [ -e "$DESTDIR/etc/access-gateway/gateway.yaml" ]; then
  echo "kept the existing /etc/access-gateway/gateway.yaml"
else
  install -m 0644 config/gateway.example.yaml "$DESTDIR/etc/access-gateway/gateway.yaml"
fi
install -d -m 0700 "$DESTDIR/etc/access-gateway/credentials"
install -m 0644 README.md docs/*.md "$DESTDIR$PREFIX/share/doc/access-gateway/"
install -m 0644 systemd/README.md "$DESTDIR$PREFIX/share/doc/access-gateway/systemd.md"
install -d "$DESTDIR$PREFIX/share/doc/access-gateway/examples"
install -m 0644 config/gateway.example.yaml config/site-inventory.example.yaml \
  config/mosquitto-site.conf "$DESTDIR$PREFIX/share/doc/access-gateway/examples/"

cat <<NEXT
installed into ${DESTDIR:-/} (binaries in $PREFIX/bin). Next:
  sudo accessctl keys generate --site-key /etc/access-gateway/credentials/site.key \\
       --pin-key /etc/access-gateway/credentials/pin.key
  sudoedit /etc/access-gateway/gateway.yaml        # site, inventory, issuers, broker
  sudo systemctl daemon-reload
  sudo systemctl enable --now access-gateway
  systemctl status access-gateway && curl -s http://127.0.0.1:9464/healthz
NEXT
