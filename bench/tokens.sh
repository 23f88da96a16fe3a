#!/usr/bin/env bash
# Load test of the machine-to-machine endpoints on loopback: client_credentials, introspection,
# JWKS and discovery, against a release build on a fresh SQLite data dir.
# Usage: bench/tokens.sh [SECONDS] [CONNECTIONS] [EXTRA_CLIENTS]
#   EXTRA_CLIENTS: more clients registered in the same organization before the run (to show the
#   cost of a token does not grow with the number of clients).
# Prints requests/s, p50, p99 and the success rate per scenario, and the server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-50}"
extra="${3:-0}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
ensure_oha_and_build
bin=target/release/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export TESSERA_LOG=warn
secret=$(bench_client)
key=$("$bin" --data-dir "$dir" api-key create --org bench --name bench --role owner 2>/dev/null)
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready

if [ "$extra" -gt 0 ]; then
  cfg="$dir/create.curl"
  for i in $(seq 1 "$extra"); do
    printf 'url = "%s/orgs/bench/api/v1/admin/oauth-clients"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"name\\":\\"Client %s\\",\\"redirectUris\\":[],\\"grantTypes\\":[\\"client_credentials\\"]}"\noutput = "/dev/null"\nnext\n' "$base" "$key" "$i"
  done > "$cfg"
  sed -i '$ d' "$cfg"
  curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg"
fi
clients=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $key" "$base/orgs/bench/api/v1/admin/oauth-clients?limit=1" |
  awk 'tolower($1)=="x-total-count:" {print $2}' | tr -d '\r')

basic="Authorization: Basic $(printf 'bench:%s' "$secret" | base64 -w0)"
form="Content-Type: application/x-www-form-urlencoded"
token=$(bench_token "$secret")
# Warm the caches and the connection pool.
oha -z 2s -c "$conns" --no-tui -m POST -H "$basic" -H "$form" -d grant_type=client_credentials \
  "$base/orgs/bench/api/v1/oauth/token" >/dev/null 2>&1

report() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2"))
total = sum(codes.values()) or 1
print("%-20s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   2xx %5.1f%%" % (sys.argv[1], s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, 100.0 * ok / total))
' "$1"
}
echo "cores: $(nproc); clients in the organization: $clients; $conns connections, ${secs}s per scenario"
oha -z "${secs}s" -c "$conns" --no-tui --output-format json -m POST -H "$basic" -H "$form" \
  -d grant_type=client_credentials "$base/orgs/bench/api/v1/oauth/token" | report client_credentials
oha -z "${secs}s" -c "$conns" --no-tui --output-format json -m POST -H "$basic" -H "$form" \
  -d "token=$token" "$base/orgs/bench/api/v1/oauth/introspect" | report introspection
oha -z "${secs}s" -c "$conns" --no-tui --output-format json \
  "$base/orgs/bench/api/v1/oauth/jwks" | report jwks
oha -z "${secs}s" -c "$conns" --no-tui --output-format json \
  "$base/orgs/bench/.well-known/openid-configuration" | report discovery
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
