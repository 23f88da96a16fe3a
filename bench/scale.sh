#!/usr/bin/env bash
# Tessera at scale: ORGS organizations with CLIENTS clients each (10,000 × 100 = 1,000,000 by
# default), bulk-loaded by copying one real organization and client row by row in SQL, on
# SQLite or on PostgreSQL. Measures start-up on the big database, the client list and search
# pages of random organizations, client_credentials over random clients of random
# organizations against one client, introspection likewise, what the caches hold, and the
# server's peak RSS.
# Usage: [PIN=1] [ROUNDS=3] [LAST_USED_SECS=60] bench/scale.sh [sqlite|postgres] [ORGS] [CLIENTS] [WARM_ORGS] [SECONDS] [CONNECTIONS]
#   WARM_ORGS: how many organizations the token and introspection scenarios spread over
#   (default 1,000). Each organization makes its signing keys on its first token (an RSA-2048
#   key among them, tens of milliseconds), so the scenario first asks each of them for one
#   token; then every client of those organizations for one (the cold figure), and measures
#   the steady state.
#   PostgreSQL: TESSERA_BENCH_PG_URL, or a throw-away cluster (scripts/pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
orgs="${2:-10000}"
per_org="${3:-100}"
warm="${4:-1000}"
secs="${5:-10}"
conns="${6:-50}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
ensure_oha_and_build
cargo build --release -q -p tessera-testkit --example pairbench
bin="$PWD/target/release/tessera"
pairbench="$PWD/target/release/examples/pairbench"
dir="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  stop_throwaway_pg
  if [ -n "${SCALE_KEEP:-}" ]; then printf "kept: %s\nsecret=%s key=%s TESSERA_MASTER_KEY=%s\n" "$dir" "${secret:-}" "${key:-}" "$TESSERA_MASTER_KEY"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
export TESSERA_LOG=warn
export TESSERA_DATA_DIR="$dir"
# LAST_USED_SECS=N: write a key's or secret's lastUsedAt at most every N seconds (the
# configuration's [server] last_used_interval_secs; 60 by default).
if [ -n "${LAST_USED_SECS:-}" ]; then
  printf '[server]\nlast_used_interval_secs = %s\n' "$LAST_USED_SECS" > "$dir/tessera.toml"
  export TESSERA_CONFIG="$dir/tessera.toml"
fi
if [ "$backend" = postgres ]; then
  use_postgres_database "$bin"
else
  TESSERA_MASTER_KEY="$("$bin" vault generate-key)"
  export TESSERA_MASTER_KEY
fi

# One real organization and client (the rows every copy is made from), and a system key.
"$bin" org create template >/dev/null 2>&1
secret=$("$bin" client create --org template --name "Scale client" --client-id c00 \
  --grant-type client_credentials --auth-method client_secret_post \
  --scope api.read 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
key=$("$bin" api-key create --system --name scale 2>/dev/null)

# The copies, in SQL: organizations s00000…, each with clients c00…, every client with the
# template's secret (a keyed hash of the secret alone, so it verifies for every copy).
load_start=$(date +%s.%N)
if [ "$backend" = postgres ]; then
  cols() { "$psql" -At "$TESSERA_DATABASE_URL" -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$1'"; }
  client_cols=$(cols oauth_clients)
  secret_cols=$(cols oauth_client_secrets)
  python3 - "$client_cols" "$secret_cols" "$orgs" "$per_org" > "$dir/load.sql" <<'PY'
import sys
ccols, scols, orgs, per = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
def pick(cols, repl): return ", ".join(repl.get(c, "t." + c) for c in cols)
print("BEGIN;")
print(f"""INSERT INTO organizations (id, slug, name, created_at, updated_at)
SELECT format('%s-0000-4000-8000-%s', lpad(to_hex(i), 8, '0'), lpad(to_hex(i), 12, '0')),
       's' || lpad(i::text, 5, '0'), 'Scale ' || i, t.created_at, t.updated_at
FROM generate_series(0, {orgs - 1}) i, organizations t WHERE t.slug = 'template';""")
print(f"""INSERT INTO oauth_clients ({", ".join(ccols)})
SELECT {pick(ccols, {"org_id": "o.id", "id": "'c' || lpad(k::text, 2, '0')"})}
FROM organizations o, generate_series(0, {per - 1}) k,
     (SELECT c.* FROM oauth_clients c JOIN organizations x ON x.id = c.org_id WHERE x.slug = 'template' AND c.id = 'c00') t
WHERE o.slug LIKE 's%';""")
print(f"""INSERT INTO oauth_client_secrets ({", ".join(scols)})
SELECT {pick(scols, {"id": "md5(c.org_id || c.id)", "org_id": "c.org_id", "client_id": "c.id", "last_used_at": "NULL"})}
FROM oauth_clients c JOIN organizations o ON o.id = c.org_id AND o.slug LIKE 's%',
     (SELECT s.* FROM oauth_client_secrets s JOIN organizations x ON x.id = s.org_id WHERE x.slug = 'template') t;""")
print("COMMIT; ANALYZE;")
PY
  "$psql" -q "$TESSERA_DATABASE_URL" -f "$dir/load.sql" >/dev/null
else
  python3 - "$dir/tessera.db" "$orgs" "$per_org" <<'PY'
import sqlite3, sys
db, orgs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
cols = lambda t: [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
def pick(cs, repl): return ", ".join(repl.get(x, "t." + x) for x in cs)
ccols, scols = cols("oauth_clients"), cols("oauth_client_secrets")
c.execute("BEGIN")
c.execute(f"""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {orgs - 1})
INSERT INTO organizations (id, slug, name, created_at, updated_at)
SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('s%05d', i), 'Scale ' || i, t.created_at, t.updated_at
FROM n, organizations t WHERE t.slug = 'template'""")
c.execute(f"""WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {per - 1})
INSERT INTO oauth_clients ({", ".join(ccols)})
SELECT {pick(ccols, {"org_id": "o.id", "id": "printf('c%02d', j)"})}
FROM organizations o, k,
     (SELECT c.* FROM oauth_clients c JOIN organizations x ON x.id = c.org_id WHERE x.slug = 'template' AND c.id = 'c00') t
WHERE o.slug LIKE 's%'""")
c.execute(f"""INSERT INTO oauth_client_secrets ({", ".join(scols)})
SELECT {pick(scols, {"id": "lower(hex(randomblob(16)))", "org_id": "c.org_id", "client_id": "c.id", "last_used_at": "NULL"})}
FROM oauth_clients c JOIN organizations o ON o.id = c.org_id AND o.slug LIKE 's%',
     (SELECT s.* FROM oauth_client_secrets s JOIN organizations x ON x.id = s.org_id WHERE x.slug = 'template') t""")
c.execute("COMMIT")
c.execute("ANALYZE")
c.close()
PY
fi
load_secs=$(python3 -c "import time,sys; print('%.0f' % (time.time() - float(sys.argv[1])))" "$load_start")

port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
start=$(date +%s.%N)
# With PIN=1 (and two cores or more) the server runs on core 0 and the load generator on
# core 1, so that the generator's own work (40,000 different requests instead of one) does not
# take the server's CPU; the figures then compare the server alone.
server_cpu=""; load_cpu=""
if [ "${PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu="taskset -c 0"; load_cpu="taskset -c 1"
fi
$server_cpu "$bin" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fs "$base/readyz" >/dev/null 2>&1; do sleep 0.005; done
startup_ms=$(python3 -c "import time,sys; print('%.0f' % ((time.time() - float(sys.argv[1])) * 1000))" "$start")

# The list and search pages of 20 random organizations each.
pages() {
  for _ in $(seq 1 20); do
    o=$(printf 's%05d' $(( RANDOM % orgs )))
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $key" \
      "$base/orgs/$o/api/v1/admin/oauth-clients?$1"
  done | python3 -c '
import sys
t = sorted(float(x) * 1000 for x in sys.stdin)
print("%-28s p50 %6.2f ms   max %6.2f ms" % (sys.argv[1], t[len(t) // 2], t[-1]))' "$2"
}

echo "cores: $(nproc); $backend; $orgs organizations × $per_org clients = $(( orgs * per_org )) clients, bulk-loaded in ${load_secs}s"
echo "start-up to ready on that database: ${startup_ms} ms"
pages "limit=50" "client list (50 a page)"
pages "q=c4&limit=50" "client search (q=c4)"

# One token from each organization of the token scenario: its keys are made on the way.
for i in $(seq 0 $(( warm - 1 ))); do printf 's%05d\n' "$i"; done |
  xargs -P 8 -I{} curl -s -o /dev/null -d "grant_type=client_credentials&client_id=c00&client_secret=$secret" \
    "$base/orgs/{}/api/v1/oauth/token"
# Every client of the scenario's organizations once (the first request of each: a cold
# cache), keeping one token of each for introspection.
python3 - "$base" "$warm" "$per_org" "$secret" > "$dir/pairs.txt" <<'PY'
import sys
base, warm, per, secret = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for i in range(warm):
    for j in range(per):
        print(f"{base}/orgs/s{i:05d}/api/v1/oauth/token\tgrant_type=client_credentials&client_id=c{j:02d}&client_secret={secret}")
PY
echo -n "first token of each of the $(( warm * per_org )) clients (cold): "
$load_cpu "$pairbench" each "$dir/pairs.txt" 32 access_token 2>&1 >"$dir/tokens.txt" | sed 's/.*answered with access_token, //'
# Introspection lines: each token introspected by the client it was issued to, at its
# organization; and the same with the first token only.
python3 - "$dir/tokens.txt" > "$dir/introspect_many.txt" <<'PY'
import sys, urllib.parse
for line in open(sys.argv[1]):
    url, body, token = line.rstrip("\n").split("\t")
    form = dict(urllib.parse.parse_qsl(body))
    print(url.replace("/oauth/token", "/oauth/introspect") + "\t" + urllib.parse.urlencode(
        {"token": token, "client_id": form["client_id"], "client_secret": form["client_secret"]}))
PY
grep -m1 '/orgs/s00000/.*client_id=c00&' "$dir/introspect_many.txt" > "$dir/introspect_one.txt"
# The caches: entries, approximate MiB of their budget, and the database reads they caused.
caches() {
  curl -s "$base/metrics" | python3 -c '
import re, sys
v = {}
for l in sys.stdin:
    m = re.match(r"tessera_cache_(entries|bytes|budget_bytes|loads_total)\{cache=\"(\w+)\"\} (\d+)", l)
    if m: v.setdefault(m[2], {})[m[1]] = int(m[3])
print("caches " + sys.argv[1] + ": " + "; ".join("%s %d entries %.1f/%.0f MiB %d loads" % (k, c["entries"], c["bytes"] / 2**20, c["budget_bytes"] / 2**20, c["loads_total"]) for k, c in v.items()))' "$1"
}
caches "after the cold pass"
# Steady state, with the same load generator for both figures (it shares the machine with
# the server, so a heavier one would lower the second figure by itself): one client, then
# every client of the scenario's organizations in random order. This shared machine's speed
# drifts by 10-20% within minutes, more than the difference measured, so the two are
# interleaved ROUNDS times (default 3) and compared by their medians.
grep -m1 '/orgs/s00000/.*client_id=c00&' "$dir/pairs.txt" > "$dir/pairs_one.txt"
rounds="${ROUNDS:-3}"
for r in $(seq 1 "$rounds"); do
  for sc in "cc_one:$dir/pairs_one.txt" "cc_many:$dir/pairs.txt" "in_one:$dir/introspect_one.txt" "in_many:$dir/introspect_many.txt"; do
    name="${sc%%:*}"; file="${sc#*:}"
    line=$($load_cpu "$pairbench" run "$file" "$secs" "$conns")
    printf 'round %s %-8s %s\n' "$r" "$name" "$line"
    echo "$name $line" >> "$dir/rounds.txt"
  done
done
python3 - "$dir/rounds.txt" "$(( warm * per_org ))" "$warm" <<'PY'
import re, statistics, sys
runs = {}
for l in open(sys.argv[1]):
    name, rest = l.split(" ", 1)
    m = re.search(r"([\d.]+) req/s\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms", rest)
    runs.setdefault(name, []).append(tuple(float(x) for x in m.groups()))
med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in runs.items()}
n, w = sys.argv[2], sys.argv[3]
labels = {"cc_one": "client_credentials, one client", "cc_many": f"client_credentials, {n} clients of {w} orgs",
          "in_one": "introspection, one token", "in_many": f"introspection, {n} tokens of {w} orgs"}
for k in ["cc_one", "cc_many", "in_one", "in_many"]:
    rps, p50, p99 = med[k]
    print("%-46s median %6.0f req/s   p50 %.2f ms   p99 %.2f ms" % (labels[k], rps, p50, p99))
print("random / one, medians: client_credentials %.0f%%, introspection %.0f%%" % (
    100 * med["cc_many"][0] / med["cc_one"][0], 100 * med["in_many"][0] / med["in_one"][0]))
PY
caches "after the runs"
echo "server peak RSS: $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )) MiB"
