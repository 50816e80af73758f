#!/usr/bin/env bash
# Installs what is needed, builds, and runs the system on this machine: a mosquitto broker on
# loopback (config/mosquitto-local.conf, port ${PORT:-1883}) and the project's programs on it.
# Stop with Ctrl-C; everything started here is stopped with it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release

port="${PORT:-1883}"
state="run"
mkdir -p "$state"
sed "s/^listener 1883 /listener $port /" config/mosquitto-local.conf > "$state/mosquitto.conf"
[ "$(id -u)" -eq 0 ] && echo "user root" >> "$state/mosquitto.conf"

mosquitto -c "$state/mosquitto.conf" &
broker=$!
trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

bin=$(swift build -c release --show-bin-path)
echo "broker on 127.0.0.1:$port; MQTT round trips through it with the project's client:"
"$bin/mqtt-roundtrip" --port "$port" --count 2000
