#!/usr/bin/env bash
# A flame graph of one endpoint under load, as in bench/ceiling.sh (server pinned to core 0
# with one runtime thread, oha on core 1): `perf record --call-graph dwarf` of the server for a
# few seconds, folded with inferno (installed with cargo when missing).
# Usage: [HALT_POLL_NS=200000] bench/profile.sh [client_credentials|introspection] [NAME] [SECONDS]
#   HALT_POLL_NS: the guest's idle polling for the run (bench/lib.sh, set_halt_poll).
# Writes bench/flamegraphs/NAME.svg (default: the scenario and today's date).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-client_credentials}"
name="${2:-$scenario-$(date +%Y-%m-%d)}"
secs="${3:-5}"
command -v perf >/dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 1; }
if ! command -v inferno-flamegraph >/dev/null 2>&1; then
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v inferno-flamegraph >/dev/null 2>&1 || cargo install inferno --locked
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
ensure_oha_and_build
# The release build with line tables, so that Rust frames unwind.
cargo build --profile profiling -q -p tessera
bin=target/profiling/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; restore_halt_poll; rm -rf "$dir"' EXIT
set_halt_poll
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export TESSERA_LOG=warn
secret=$(bench_client)
TOKIO_WORKER_THREADS=1 taskset -c 0 "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready
basic="Authorization: Basic $(printf 'bench:%s' "$secret" | base64 -w0)"
form="Content-Type: application/x-www-form-urlencoded"
case "$scenario" in
  client_credentials) args=(-d grant_type=client_credentials "$base/orgs/bench/api/v1/oauth/token") ;;
  introspection)
    token=$(bench_token "$secret")
    args=(-d "token=$token" "$base/orgs/bench/api/v1/oauth/introspect") ;;
  *) echo "unknown scenario $scenario" >&2; exit 1 ;;
esac
taskset -c 1 oha -z "$((secs + 4))s" -c 16 --no-tui -m POST -H "$basic" -H "$form" "${args[@]}" > "$dir/oha.txt" 2>&1 &
load=$!
sleep 2
perf record -F 499 --call-graph dwarf,16384 -p "$pid" -o "$dir/perf.data" -- sleep "$secs" >/dev/null 2>&1
wait "$load"
grep -E "Requests/sec" "$dir/oha.txt" || true
perf script -i "$dir/perf.data" 2>/dev/null | inferno-collapse-perf > "$dir/folded"
inferno-flamegraph --title "$scenario, one pinned core ($name; $halt_poll)" < "$dir/folded" > "bench/flamegraphs/$name.svg"
echo "bench/flamegraphs/$name.svg"
# The heaviest frames by own time, for the notes.
awk '{n=$NF; $NF=""; k=split($0, f, ";"); self[f[k]]+=n; total+=n} END {for (s in self) printf "%5.1f%%  %s\n", 100*self[s]/total, s}' "$dir/folded" | sort -rn | head -15
