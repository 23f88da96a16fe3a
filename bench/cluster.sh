#!/usr/bin/env bash
# Two tessera serve nodes on one PostgreSQL database against one node on the same database:
# client_credentials and introspection under load with oha, requests spread over the nodes
# as a load balancer would. Prints requests/s, p50 and p99 per scenario, and the core count.
# Usage: bench/cluster.sh [SECONDS] [CONNECTIONS]
#   TESSERA_BENCH_PG_URL=postgres://USER@HOST:PORT/postgres uses that server (a database named
#   tessera_bench_<random> is created on it); otherwise a throw-away cluster of Debian's
#   PostgreSQL is started (installed when missing and we are root).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-50}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
ensure_oha_and_build
bin="$PWD/target/release/tessera"
dir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_throwaway_pg
  rm -rf "$dir"
}
trap cleanup EXIT

use_postgres_database "$bin"
export TESSERA_LOG=warn
export TESSERA_DATA_DIR="$dir"

"$bin" org create bench >/dev/null 2>&1
secret=$("$bin" client create --org bench --name bench --client-id bench \
  --grant-type client_credentials --scope api.read 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

port_a=$(( 30000 + RANDOM % 10000 ))
port_b=$(( 40000 + RANDOM % 10000 ))
issuer="http://127.0.0.1:$port_a"
for port in "$port_a" "$port_b"; do
  "$bin" serve --listen "127.0.0.1:$port" --public-url "$issuer" >/dev/null 2>&1 &
  pids+=("$!")
done
for port in "$port_a" "$port_b"; do
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
done

basic="Authorization: Basic $(printf 'bench:%s' "$secret" | base64 -w0)"
form="Content-Type: application/x-www-form-urlencoded"
token=$(curl -s -H "$basic" -H "$form" -d grant_type=client_credentials "$issuer/orgs/bench/api/v1/oauth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# oha on each given port at once (the connections split between them); the combined figures.
load() {
  local what="$1"; shift
  local body
  case "$what" in
    client_credentials) body="grant_type=client_credentials"; path=token ;;
    introspection) body="token=$token"; path=introspect ;;
  esac
  local n=$#; local per=$(( conns / n )); local outs=() loaders=()
  for port in "$@"; do
    local out="$dir/oha-$what-$port.json"; outs+=("$out")
    oha -z "${secs}s" -c "$per" --no-tui --output-format json -m POST -H "$basic" -H "$form" \
      -d "$body" "http://127.0.0.1:$port/orgs/bench/api/v1/oauth/$path" > "$out" &
    loaders+=("$!")
  done
  wait "${loaders[@]}"
  python3 - "$what ($n node$( [ "$n" -gt 1 ] && echo s))" "${outs[@]}" <<'PY'
import json, sys
label, files = sys.argv[1], sys.argv[2:]
rps = p50 = p99 = 0.0; ok = total = 0
for f in files:
    d = json.load(open(f)); s = d["summary"]; p = d["latencyPercentiles"]
    rps += s["requestsPerSec"]; p50 = max(p50, p["p50"]); p99 = max(p99, p["p99"])
    codes = d.get("statusCodeDistribution", {})
    ok += sum(v for k, v in codes.items() if k.startswith("2")); total += sum(codes.values())
print("%-34s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   2xx %5.1f%%" % (label, rps, p50 * 1000, p99 * 1000, 100.0 * ok / max(total, 1)))
PY
}

# Warm both nodes' caches and pools.
for port in "$port_a" "$port_b"; do
  oha -z 2s -c 10 --no-tui -m POST -H "$basic" -H "$form" -d grant_type=client_credentials \
    "http://127.0.0.1:$port/orgs/bench/api/v1/oauth/token" >/dev/null 2>&1
done
echo "cores: $(nproc); PostgreSQL; $conns connections in all, ${secs}s per scenario"
load client_credentials "$port_a"
load client_credentials "$port_a" "$port_b"
load introspection "$port_a"
load introspection "$port_a" "$port_b"
