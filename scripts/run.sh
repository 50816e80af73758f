#!/usr/bin/env bash
# Installs what is needed, builds, and runs the system on this machine with an embedded default:
# a mosquitto broker on loopback (config/mosquitto-local.conf, port ${PORT:-1883}), the access
# gateway (config/gateway.example.yaml with keys, store and log under ./run/), a demo booking and
# a door opened with a token and with a PIN, then the gateway keeps running until Ctrl-C.
# Everything started here is stopped with it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release
bin=$(swift build -c release --show-bin-path)

port="${PORT:-1883}"
http="${HTTP_PORT:-9464}"
state="$PWD/run"
mkdir -p "$state"
sed "s/^listener 1883 /listener $port /" config/mosquitto-local.conf > "$state/mosquitto.conf"
echo "persistence_location $state/" >> "$state/mosquitto.conf"
[ "$(id -u)" -eq 0 ] && echo "user root" >> "$state/mosquitto.conf"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

mosquitto -c "$state/mosquitto.conf" > "$state/mosquitto.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "broker on 127.0.0.1:$port"

# Secrets, made once: the site key and PIN key (0600), and the demo booking backend's issuer key.
umask 077
[ -s "$state/site.key" ] || openssl rand -hex 32 > "$state/site.key"
[ -s "$state/pin.key" ] || openssl rand -hex 32 > "$state/pin.key"
umask 022
backend=(--broker "127.0.0.1:$port" --site site-1 --pin-key-file "$state/pin.key"
         --issuer-key-file "$state/issuer.key" --kid kid-1 --issuer https://booking.example)
issuer_line=$("$bin/booking-sim" "${backend[@]}" --create-issuer-key --print-issuer)

sed -e "s|/etc/access-gateway/credentials/site.key|$state/site.key|" \
    -e "s|/etc/access-gateway/credentials/pin.key|$state/pin.key|" \
    -e "s|/var/lib/access-gateway/access.sqlite|$state/access.sqlite|" \
    -e "s|^issuers: \[\]|issuers: [\"$issuer_line\"]|" \
    -e "s|^  port: 1883|  port: $port|" \
    -e "s|127.0.0.1:9464|127.0.0.1:$http|" \
    config/gateway.example.yaml > "$state/gateway.yaml"

"$bin/access-gateway" --config "$state/gateway.yaml" 2> "$state/gateway.log" &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break
  sleep 0.1
done
echo "gateway healthy: $(curl -s "http://127.0.0.1:$http/healthz"); log in $state/gateway.log"

# Light poles on a day that passes in two minutes.
"$bin/pole-sim" --broker "127.0.0.1:$port" --site site-1 --site-key-file "$state/site.key" \
  --poles pole-1,pole-2 --speed 720 --start-hour 17 --interval-s 5 > "$state/pole-sim.log" 2>&1 &
pids+=($!)

# The booking backend runs alongside: its feed (kept in run/feed.ndjson, so a restarted gateway or
# backend catches up by replay), the retained head, replays. It publishes reservations (new ids each
# run) and hands out tokens and PINs; a holder arrives.
rm -f "$state/holders.ndjson"
"$bin/booking-sim" serve "${backend[@]}" --spaces room-1,room-2 --count 10 --period-h 3 --seed "$(date +%s)" \
  --holders-out "$state/holders.ndjson" --feed-file "$state/feed.ndjson" < /dev/null > "$state/booking-sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$state/holders.ndjson" ] && break; sleep 0.1; done
echo "booking backend serving its feed (run/feed.ndjson, replays included); log in $state/booking-sim.log"
# Bookings reach the gateway on its booking connection: wait until it has applied them.
for _ in $(seq 100); do
  applied=$(curl -s "http://127.0.0.1:$http/metrics" | awk '/^access_booking_messages_total/ {s += $2} END {print int(s)}')
  [ "${applied:-0}" -ge 10 ] && break
  sleep 0.1
done
read -r space token pin < <(head -1 "$state/holders.ndjson" | python3 -c \
  'import json,sys; h=json.load(sys.stdin); print(h["spaceId"], h["token"], h["pin"])')
lock=$([ "$space" = room-1 ] && echo lock-1 || echo lock-2)
echo "the holder of the first booking ($space) opens $lock with the token, then with the PIN $pin:"
printf 'present %s token %s\npresent %s pin %s\nquit\n' "$lock" "$token" "$lock" "$pin" | \
  "$bin/lock-sim" --broker "127.0.0.1:$port" --site site-1 --site-key-file "$state/site.key" \
    --locks "lock-1@room-1,lock-2@room-2" | sed 's/^/  /'
echo "audit chain: $(sqlite3 "$state/access.sqlite" 'SELECT count(*) || " records, head " || max(seq) FROM audit_log')"

echo "a small day at another site, every outcome checked (scenario, its own gateway on the same broker):"
"$bin/scenario" --broker "127.0.0.1:$port" --spaces 10 --locks 16 --poles 6 --bookings 200 --seed 1 2> /dev/null | sed 's/^/  /'

echo "the floor every decision is measured against (MQTT round trips through the same broker):"
"$bin/mqtt-roundtrip" --broker "127.0.0.1:$port" --count 2000 2> /dev/null

echo "gateway running: status page http://127.0.0.1:$http/ and metrics http://127.0.0.1:$http/metrics; Ctrl-C stops everything"
wait "${pids[1]}"
