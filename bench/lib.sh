# Shared by the bench scripts (sourced, not run).

# shellcheck source=scripts/pg.sh
. scripts/pg.sh

# oha, the load generator (installed with cargo when missing), and a release build.
ensure_oha_and_build() {
  if ! command -v oha >/dev/null 2>&1; then
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v oha >/dev/null 2>&1 || cargo install oha --locked
  fi
  cargo build --release -q
}

# A new database on PostgreSQL for this run: the server of TESSERA_BENCH_PG_URL, or a
# throw-away cluster of Debian's PostgreSQL (scripts/pg.sh; the caller's EXIT trap calls
# stop_throwaway_pg). Exports TESSERA_DATABASE_URL, and a TESSERA_MASTER_KEY (no data dir
# holds one then) made with the tessera binary $1; sets psql.
use_postgres_database() {
  local admin_url db
  if [ -n "${TESSERA_BENCH_PG_URL:-}" ]; then
    admin_url="$TESSERA_BENCH_PG_URL"
    PG_BIN="$(pg_bin || true)"
  else
    ensure_postgres
    start_throwaway_pg
    admin_url="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  fi
  psql="${PG_BIN:+$PG_BIN/}psql"
  command -v "$psql" >/dev/null 2>&1 || psql="$(pg_bin)/psql"
  db="tessera_bench_$RANDOM$RANDOM"
  "$psql" -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
  export TESSERA_DATABASE_URL="${admin_url%/*}/$db"
  TESSERA_MASTER_KEY="$("$1" vault generate-key)"
  export TESSERA_MASTER_KEY
}

# wrk, the lighter load generator (one C thread; Debian's package wrk), for maximum rates on
# one core where oha's own cost would be the bound.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "needs wrk (Debian: apt-get install wrk)" >&2
    exit 1
  fi
}

# The organization `bench` and its client_credentials client `bench` (scopes api.read and
# api.write) in the database of "$bin" --data-dir "$dir" (or TESSERA_DATABASE_URL); prints
# the client's secret.
bench_client() {
  "$bin" --data-dir "$dir" org create bench >/dev/null 2>&1
  "$bin" --data-dir "$dir" client create --org bench --name bench --client-id bench \
    --grant-type client_credentials --scope api.read --scope api.write 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}

# An access token of the client `bench` (secret $1) from the server at $base.
bench_token() {
  curl -s -u "bench:$1" -d grant_type=client_credentials "$base/orgs/bench/api/v1/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Waits until the server at $base answers /readyz.
wait_ready() {
  until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.01; done
}

# The guest's idle polling for this run (HALT_POLL_NS, in ns; root). A KVM guest's idle vCPU
# halts, and waking it again costs the waker a trip through the hypervisor: on loopback every
# response the server writes to a load generator asleep in epoll_wait, about 10 µs a token on
# this VM, which boots with haltpoll.guest_halt_poll_ns=0. With HALT_POLL_NS=200000 (Linux's
# default) an idle vCPU polls that long before halting, and the wake-up is a flag it sees:
# what a client on another machine costs the server (nothing). Sets halt_poll to what the run
# has, for its header; restore_halt_poll (from the caller's EXIT trap) puts the old value back.
halt_poll_file=/sys/module/haltpoll/parameters/guest_halt_poll_ns
set_halt_poll() {
  if [ ! -r "$halt_poll_file" ]; then
    halt_poll="no guest halt polling (not a haltpoll guest)"
    return
  fi
  halt_poll_was="$(cat "$halt_poll_file")"
  if [ -n "${HALT_POLL_NS:-}" ]; then
    if ! echo "$HALT_POLL_NS" > "$halt_poll_file" 2>/dev/null; then
      echo "HALT_POLL_NS needs root (writes $halt_poll_file)" >&2
      exit 1
    fi
  fi
  halt_poll="guest halt polling $(cat "$halt_poll_file") ns"
}
restore_halt_poll() {
  if [ -n "${halt_poll_was:-}" ] && [ -n "${HALT_POLL_NS:-}" ]; then
    echo "$halt_poll_was" > "$halt_poll_file" 2>/dev/null || true
  fi
}
