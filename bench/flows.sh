#!/usr/bin/env bash
# Complete authorization-code flows (authorize → code → token, PKCE, public client, consent
# remembered) against a release build on a fresh SQLite data dir: once with an existing login
# session, once with a fresh password login every flow (argon2id with the default parameters).
# Usage: [BACKEND=sqlite|postgres] [HALT_POLL_NS=200000] bench/flows.sh [SECONDS] [SESSION_WORKERS] [LOGIN_WORKERS] [ID_TOKEN_ALG]
#   ID_TOKEN_ALG: RS256 (the default of every client), ES256 or EdDSA.
#   BACKEND=postgres: TESSERA_BENCH_PG_URL, or a throw-away cluster (scripts/pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
session_workers="${2:-32}"
login_workers="${3:-8}"
alg="${4:-RS256}"
cargo build --release -q -p tessera
cargo build --release -q -p tessera-testkit --example flowbench
bin=target/release/tessera
bench=target/release/examples/flowbench
dir="$(mktemp -d "${BENCH_TMP:-/tmp}/tessera-bench.XXXXXX")"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; stop_throwaway_pg; restore_halt_poll; rm -rf "$dir"' EXIT
# shellcheck source=bench/lib.sh
. bench/lib.sh
set_halt_poll
if [ "${BACKEND:-sqlite}" = postgres ]; then
  use_postgres_database "$bin"
fi
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
redirect="http://127.0.0.1:9/cb"
export TESSERA_LOG=warn
# The load comes from one address and one user, far above the production login limits.
cat > "$dir/tessera.toml" <<TOML
[security]
login_attempts_per_user_per_minute = 1000000
login_attempts_per_address_per_minute = 1000000
TOML
export TESSERA_CONFIG="$dir/tessera.toml"
"$bin" --data-dir "$dir" org create bench >/dev/null 2>&1
printf 'bench-password-123\n' | "$bin" --data-dir "$dir" user create --org bench --username alice --password-stdin >/dev/null 2>&1
client=$("$bin" --data-dir "$dir" client create --org bench --name flows --public --redirect-uri "$redirect" \
  --grant-type authorization_code --grant-type refresh_token --scope openid --scope profile \
  --id-token-alg "$alg" 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.01; done
verifier="bench-verifier-0123456789-0123456789-0123456789"
challenge=$(python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())' "$verifier")

echo "cores: $(nproc); id_token $alg; argon2id m=19456 KiB, t=2, p=1 (the argon2 crate's defaults); ${secs}s per scenario; $halt_poll"
"$bench" "$base" bench "$client" "$redirect" alice bench-password-123 "$verifier" "$challenge" session "$secs" "$session_workers"
"$bench" "$base" bench "$client" "$redirect" alice bench-password-123 "$verifier" "$challenge" login "$secs" "$login_workers"
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
