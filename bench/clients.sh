#!/usr/bin/env bash
# The client registry at scale: N clients (default 10,000) in one organization, then the
# latency of listing and searching pages of 50 over HTTP on loopback.
# Budget (issue: client registry): under 50 ms per page.
# Usage: bench/clients.sh [N] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
n="${1:-10000}"
repeats="${2:-20}"
cargo build --release -q
bin=target/release/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export TESSERA_LOG=warn
"$bin" --data-dir "$dir" org create bench >/dev/null 2>&1
key=$("$bin" --data-dir "$dir" api-key create --org bench --name bench --role owner 2>/dev/null)
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready

echo "cores: $(nproc); creating $n clients"
cfg="$dir/create.curl"
for i in $(seq 1 "$n"); do
  printf 'url = "%s/orgs/bench/api/v1/admin/oauth-clients"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"name\\":\\"Client %s\\",\\"redirectUris\\":[\\"https://app%s.example.com/cb\\"],\\"allowedScopes\\":[\\"openid\\",\\"admin.read\\"]}"\noutput = "/dev/null"\nnext\n' \
    "$base" "$key" "$i" "$i"
done > "$cfg"
sed -i '$ d' "$cfg" # no "next" after the last request
start=$(date +%s%N)
curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg"
secs=$(( ($(date +%s%N) - start) / 1000000 ))
total=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $key" "$base/orgs/bench/api/v1/admin/oauth-clients?limit=1" | awk 'tolower($1)=="x-total-count:" {print $2}' | tr -d '\r')
echo "created $total clients in ${secs} ms"

measure() {
  local label="$1" path="$2"
  local times
  times=$(for _ in $(seq 1 "$repeats"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $key" "$base$path"
  done | sort -n)
  local p50 max
  p50=$(echo "$times" | awk -v n="$repeats" 'NR==int((n+1)/2) {printf "%.1f", $1*1000}')
  max=$(echo "$times" | tail -n 1 | awk '{printf "%.1f", $1*1000}')
  printf '%-40s p50 %6s ms   max %6s ms\n' "$label" "$p50" "$max"
}
p=/orgs/bench/api/v1/admin/oauth-clients
measure "first page (limit 50)" "$p?limit=50"
measure "middle page (offset $((n / 2)))" "$p?limit=50&offset=$((n / 2))"
measure "last page (offset $((n - 50)))" "$p?limit=50&offset=$((n - 50))"
measure "search by name (q=Client 9999)" "$p?limit=50&q=Client%209999"
measure "search, many hits (q=client 1)" "$p?limit=50&q=client%201"
measure "search by id fragment (q=-4)" "$p?limit=50&q=-4"
measure "search, no hit (q=nothing)" "$p?limit=50&q=nothing"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "server RSS after the run: $(( rss / 1024 )) MiB"
