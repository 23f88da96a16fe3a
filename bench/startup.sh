#!/usr/bin/env bash
# Start-up time to ready and idle memory of a release build on an existing SQLite database.
# Usage: bench/startup.sh [RUNS]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release -q
bin=target/release/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(( 30000 + RANDOM % 20000 ))
# First start creates and bootstraps the database; it is not measured.
TESSERA_LOG=warn "$bin" --data-dir "$dir" migrate >/dev/null 2>&1
echo "cores: $(nproc)"
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  TESSERA_LOG=warn "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
  ready=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  echo "run $i: ready in ${ready} ms, idle RSS $(( rss / 1024 )) MiB"
  kill -TERM "$pid"; wait "$pid" || true
done
