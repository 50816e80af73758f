#!/usr/bin/env bash
# Installs the system packages the project builds and tests against (Debian 12).
# Swift itself and the Swift packages come from the machine's toolchain and package copies.
set -euo pipefail

packages=(
  mosquitto          # the real broker: embedded default for `scripts/run.sh`, started by the tests
  mosquitto-clients  # mosquitto_pub/mosquitto_sub for operators poking at a site
  libmosquitto-dev   # the MQTT client library behind Sources/CMosquitto
  libsqlite3-dev     # SQLite for the reservation store and audit log
  sqlite3            # the sqlite3 shell (operators, and the audit-tamper tests)
  openssl            # test certificates for the TLS tests
  pkg-config         # lets SwiftPM find libmosquitto
  python3            # independent reference implementations in the interop tests
  python3-venv       # the interop tests' own Python environment (below)
  curl               # /healthz and /metrics in the tests and in scripts/run.sh
  systemd            # systemd-analyze verify/security on the unit (scripts/check-systemd.sh)
  prometheus         # promtool: lints /metrics and checks config/prometheus-alerts.yml in the tests
  chromium           # headless, loads the status page in the tests
  fonts-dejavu-core  # a font for chromium's screenshots
  postgresql         # the shared store's tests start their own server (initdb, postgres) on loopback
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PyJWT with `cryptography`, from PyPI, in the project's own virtual environment: the interop
# tests mint tokens with it as an independent booking backend would.
cd "$(dirname "$0")/.."
venv=.venv-interop
if ! "$venv/bin/python" -c "import jwt, cryptography" 2>/dev/null; then
  echo "creating $venv with pyjwt and cryptography"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyjwt[crypto]>=2.8" "cryptography>=42"
fi
