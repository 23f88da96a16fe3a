# Shared by scripts/test and bench/cluster.sh (sourced, not run): Debian's PostgreSQL, and a
# throw-away cluster of it on a free loopback port.

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# Sets PG_BIN, installing Debian's postgresql when it is missing and we are root.
ensure_postgres() {
  PG_BIN="$(pg_bin || true)"
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      printf '\n==> %s\n' "installing PostgreSQL (Debian package postgresql)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      PG_BIN="$(pg_bin)"
    else
      echo "error: PostgreSQL is not installed and cannot be (needs root and apt-get): install Debian's postgresql" >&2
      exit 1
    fi
  fi
}

# Starts a throw-away cluster (trust auth, fsync off) and sets PGTMP and PG_PORT; the caller
# stops it with stop_throwaway_pg (in its EXIT trap).
start_throwaway_pg() {
  PGTMP="$(mktemp -d /tmp/tessera-pg.XXXXXX)"
  as_pg() { "$@"; }
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGTMP" postgres
    chown postgres "$PGTMP"
    as_pg() { runuser -u postgres -- "$@"; }
  fi
  as_pg "$PG_BIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  PG_PORT=""
  for _ in $(seq 1 20); do
    local port=$(( 20000 + RANDOM % 30000 ))
    if as_pg "$PG_BIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 30 \
        -o "-p $port -h 127.0.0.1 -k $PGTMP -F -c max_connections=400" start >/dev/null; then
      PG_PORT=$port
      break
    fi
  done
  if [ -z "$PG_PORT" ]; then
    echo "error: could not start PostgreSQL; its log follows" >&2
    cat "$PGTMP/server.log" >&2 || true
    exit 1
  fi
}

stop_throwaway_pg() {
  if [ -n "${PGTMP:-}" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
}
