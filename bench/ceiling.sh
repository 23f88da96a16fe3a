#!/usr/bin/env bash
# The token path against what the hardware allows, on one server core: the server pinned to
# core 0 with one runtime thread, the load generator pinned to core 1.
#   ceiling: the same JWS code signing in a tight loop (examples/sign_rate.rs), and /healthz
#            over HTTP (the cost of the HTTP stack alone); an endpoint that only answered and
#            signed would take 1/healthz + 1/sign per request.
#   real:    client_credentials and introspection (one token), each at its maximum rate and
#            again at 80% of it for the p99 there.
#   Maximum rates are driven by wrk (one C thread: on one core oha's own cost bounds
#   `/healthz` near 30,000 requests/s), the fixed 80% rates by oha (`-q`).
#   in process: the same requests through the whole router without the network
#            (examples/inproc.rs), the CPU a request costs the process itself.
#   rounds:  the signing loop, /healthz and client_credentials are measured in turn, ROUNDS
#            times (3 unless told): the machine's speed drifts by 10-30% within a minute here,
#            so each round's ratio compares figures taken moments apart, and the median round
#            is the result (every round is printed).
# Usage: [BACKEND=sqlite|postgres] [HALT_POLL_NS=200000] [ROUNDS=3] bench/ceiling.sh [SECONDS] [CONNECTIONS]
#   HALT_POLL_NS: the guest's idle polling for the run (bench/lib.sh, set_halt_poll).
# Prints each rate, the ratio token rate / ceiling, and the server's peak RSS. PostgreSQL:
# TESSERA_BENCH_PG_URL, or a throw-away cluster (scripts/pg.sh), on the machine's cores too.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-16}"
rounds="${ROUNDS:-3}"
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; then
  echo "needs two cores and taskset" >&2
  exit 1
fi

# shellcheck source=bench/lib.sh
. bench/lib.sh
ensure_oha_and_build
ensure_wrk
cargo build --release -q -p tessera-crypto --example sign_rate
cargo build --release -q -p tessera --example inproc
bin=target/release/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; stop_throwaway_pg; restore_halt_poll; rm -rf "$dir"' EXIT
set_halt_poll
backend="${BACKEND:-sqlite}"
if [ "$backend" = postgres ]; then
  use_postgres_database "$bin"
fi
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export TESSERA_LOG=warn

echo "$backend; cores: $(nproc); server on core 0 (one runtime thread), load on core 1; $conns connections, ${secs}s per scenario, $rounds rounds; $halt_poll"

secret=$(bench_client)
TOKIO_WORKER_THREADS=1 taskset -c 0 "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready

basic="Authorization: Basic $(printf 'bench:%s' "$secret" | base64 -w0)"
form="Content-Type: application/x-www-form-urlencoded"
token=$(bench_token "$secret")
load() { taskset -c 1 oha --no-tui --output-format json "$@"; }
# Warm the caches and the connection pool.
load -z 2s -c "$conns" -m POST -H "$basic" -H "$form" -d grant_type=client_credentials \
  "$base/orgs/bench/api/v1/oauth/token" >/dev/null

report() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2"))
total = sum(codes.values()) or 1
print("%-28s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   2xx %5.1f%%" % (sys.argv[1], s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, 100.0 * ok / total))
' "$1"
}
rate_of() { awk '{print $2}' <<<"$1"; }

# The maximum rate of one endpoint with wrk, in the same line format as `report`.
peak() {
  local name=$1 path=$2 body=${3:-} script="$dir/$1.lua"
  : > "$script"
  if [ -n "$body" ]; then
    printf 'wrk.method = "POST"\nwrk.body = "%s"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic %s"\n' \
      "$body" "$(printf 'bench:%s' "$secret" | base64 -w0)" > "$script"
  fi
  taskset -c 1 wrk -t1 -c "$conns" -d "${secs}s" --latency -s "$script" "$base$path" |
    python3 -c '
import re, sys
out = sys.stdin.read()
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
p = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
total = int(re.search(r"(\d+) requests in", out).group(1)) or 1
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
bad = int(bad.group(1)) if bad else 0
print("%-28s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   2xx %5.1f%%" % (sys.argv[1], rate, ms(p["50"]), ms(p["99"]), 100.0 * (total - bad) / total))
' "$name"
}

# Each round: the signing loop on the server's core (the server idle meanwhile), /healthz,
# client_credentials, and the ratio of that round.
rows=""
for round in $(seq 1 "$rounds"); do
  echo "round $round:"
  sign=$(taskset -c 0 target/release/examples/sign_rate "$secs" ES256)
  echo "$sign"
  sign_rate=$(echo "$sign" | awk '/^sign/ {sub("/s", "", $3); print $3}')
  healthz=$(peak healthz /healthz)
  echo "$healthz"
  cc=$(peak client_credentials /orgs/bench/api/v1/oauth/token grant_type=client_credentials)
  echo "$cc"
  rows="$rows$sign_rate $(rate_of "$healthz") $(rate_of "$cc")
"
done
# The median round by its ratio: its figures are the result; every round's ratio, in order.
read -r sign_rate healthz_rate cc_rate ratios < <(python3 -c '
import sys
rows = [tuple(map(float, l.split())) for l in sys.stdin.read().splitlines() if l.strip()]
def ratio(r):
    s, h, c = r
    return c * (1.0 / h + 1.0 / s)
ratios = ",".join("%.0f%%" % (100.0 * ratio(r)) for r in rows)
rows.sort(key=ratio)
print(*rows[len(rows) // 2], ratios)
' <<<"$rows")
intro=$(peak introspection /orgs/bench/api/v1/oauth/introspect "token=$token")
echo "$intro"
q=$(python3 -c "print(int($cc_rate * 0.8))")
load -z "${secs}s" -c "$conns" -q "$q" -m POST -H "$basic" -H "$form" -d grant_type=client_credentials \
  "$base/orgs/bench/api/v1/oauth/token" | report "client_credentials @ 80%"
in_rate=$(rate_of "$intro")
q=$(python3 -c "print(int($in_rate * 0.8))")
load -z "${secs}s" -c "$conns" -q "$q" -m POST -H "$basic" -H "$form" -d "token=$token" \
  "$base/orgs/bench/api/v1/oauth/introspect" | report "introspection @ 80%"
python3 -c '
import sys
s, h, c = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
ceiling = 1.0 / (1.0 / h + 1.0 / s)
print("ceiling (1/healthz + 1/sign), median round: %.0f tokens/s (sign %.0f/s, healthz %.0f/s); client_credentials %.0f/s, at %.0f%% of it (rounds: %s)" % (ceiling, s, h, c, 100.0 * c / ceiling, sys.argv[4].replace(",", ", ")))
' "$sign_rate" "$healthz_rate" "$cc_rate" "$ratios"
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=""
echo "in process (the whole router, no network), on core 0:"
taskset -c 0 target/release/examples/inproc "$dir" bench "$secret" 20000
