#!/usr/bin/env bash
# The project's test command: installs what the tests need, builds, runs every test against
# real parts (a mosquitto per test on a free loopback port), and checks nothing was left running.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift format lint --strict -r Sources Tests simulators Benchmarks Package.swift
swift build --build-tests
scripts/check-systemd.sh "$(swift build --show-bin-path)/access-gateway"
swift test --skip-build "$@"

# Every test broker runs from a folder named mosquitto-test-*, every test gateway from a
# gateway-*/gateway.yaml; none may outlive the suite.
sleep 1.5  # a broker's watchdog needs up to a second to notice a crashed test process
leftover=$(ps -eo pid=,stat=,args= | awk '$2 !~ /^Z/ && (/mosquitto-test-/ || /postgres-test-/ || /gateway-.*gateway.yaml/) && !/awk/' || true)
if [ -n "$leftover" ]; then
  echo "test brokers or gateways left running:" >&2
  echo "$leftover" >&2
  exit 1
fi
