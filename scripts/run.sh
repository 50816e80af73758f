#!/usr/bin/env bash
# Installs what is needed, builds, and runs the system on this machine with an embedded default:
# a mosquitto broker on loopback (config/mosquitto-local.conf, port ${PORT:-1883}), the access
# gateway (config/access-gateway.yaml with keys, store and log under ./run/), a demo booking and
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

# Secrets, made once: the site key and PIN key (0600), and a demo booking issuer's Ed25519 key.
umask 077
[ -s "$state/site.key" ] || openssl rand -hex 32 > "$state/site.key"
[ -s "$state/pin.key" ] || openssl rand -hex 32 > "$state/pin.key"
py=.venv-interop/bin/python
[ -s "$state/issuer.key" ] || "$py" -c "import os; print(os.urandom(32).hex())" > "$state/issuer.key"
umask 022
issuer_public=$("$py" - "$state/issuer.key" <<'PY'
import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(open(sys.argv[1]).read().strip()))
raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
print(base64.urlsafe_b64encode(raw).decode().rstrip("="))
PY
)

sed -e "s|/etc/access-gateway/site.key|$state/site.key|" \
    -e "s|/etc/access-gateway/pin.key|$state/pin.key|" \
    -e "s|/var/lib/access-gateway/access.sqlite|$state/access.sqlite|" \
    -e "s|\"kid-1 https://booking.example .*\"|\"kid-1 https://booking.example $issuer_public\"|" \
    -e "s|^  port: 1883|  port: $port|" \
    -e "s|127.0.0.1:9464|127.0.0.1:$http|" \
    config/access-gateway.yaml > "$state/gateway.yaml"

"$bin/access-gateway" --config "$state/gateway.yaml" 2> >(tee "$state/gateway.log" >&2) &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break
  sleep 0.1
done
echo "gateway healthy: $(curl -s "http://127.0.0.1:$http/healthz")"

# A demo booking (now to two hours from now in room-1), a token for it minted as the booking
# backend would (PyJWT), and the keypad PIN the backend would send.
read -r booking token pin < <("$py" - "$state/issuer.key" "$state/pin.key" <<'PY'
import datetime, hashlib, hmac, json, sys, time, jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(open(sys.argv[1]).read().strip()))
pin_key = bytes.fromhex(open(sys.argv[2]).read().strip())
start = int(time.time()) - 60; end = start + 7200
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()
booking = {"op": "upsert", "reservation": {"id": "demo-1", "spaceId": "room-1", "holder": "u-demo",
           "start": iso(start), "end": iso(end), "status": "confirmed", "version": int(time.time())}}
claims = {"iss": "https://booking.example", "sub": "u-demo", "rid": "demo-1", "spc": "room-1",
          "iat": start, "nbf": start, "exp": end, "jti": "demo-%d" % time.time()}
token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "kid-1"})
digest = hmac.new(pin_key, ("pin\nsite-1\nroom-1\ndemo-1\n%d\n%d" % (start, end)).encode(), hashlib.sha256).digest()
print(json.dumps(booking, separators=(",", ":")), token, str(int.from_bytes(digest[:8], "big") % 10**8).zfill(8))
PY
)
mosquitto_pub -p "$port" -V mqttv5 -q 1 -t access/site-1/bookings -m "$booking"
sleep 0.3
echo "a lock asks with the token, then with the PIN $pin:"
mosquitto_sub -p "$port" -V mqttv5 -t 'access/site-1/locks/lock-1/decision' -t 'access/site-1/locks/lock-1/command' -C 4 -v &
sub=$!
sleep 0.3
mosquitto_pub -p "$port" -V mqttv5 -q 1 -t access/site-1/locks/lock-1/request \
  -m "{\"requestId\":\"demo-token\",\"credential\":{\"type\":\"token\",\"value\":\"$token\"},\"ts\":0}"
mosquitto_pub -p "$port" -V mqttv5 -q 1 -t access/site-1/locks/lock-1/request \
  -m "{\"requestId\":\"demo-pin\",\"credential\":{\"type\":\"pin\",\"value\":\"$pin\"},\"ts\":0}"
wait "$sub" || true
echo "audit chain: $(sqlite3 "$state/access.sqlite" 'SELECT count(*) || " records, head " || max(seq) FROM audit_log')"

echo "the floor every decision is measured against (MQTT round trips through the same broker):"
"$bin/mqtt-roundtrip" --port "$port" --count 2000

echo "gateway running: http://127.0.0.1:$http/metrics, log in $state/gateway.log; Ctrl-C stops everything"
wait "${pids[1]}"
