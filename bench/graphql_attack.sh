#!/usr/bin/env bash
# Memory and latency under the GraphQL alias attack of the security review: a read-only key
# sends one 20+ KB query of 490 aliases of `adminAuditLog(limit: 500)`, over and over from
# several connections, against a release build on a fresh SQLite data dir whose audit log
# holds a few thousand events. Also sends the largest query that is allowed (two full pages:
# 1,000 rows with every field) the same way.
# Usage: bench/graphql_attack.sh [SECONDS] [CONNECTIONS] [EVENTS]
# Prints the server's idle RSS, its peak RSS during each scenario, what the attack got back,
# and the latency of an unrelated request (/readyz, which reads the database) meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
secs="${1:-10}"
conns="${2:-16}"
events="${3:-3000}"

cargo build --release -q
bin=target/release/tessera
dir="$(mktemp -d)"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
port=$(( 30000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
export TESSERA_LOG=warn
"$bin" --data-dir "$dir" org create bench >/dev/null 2>&1
owner=$("$bin" --data-dir "$dir" api-key create --org bench --name owner --role owner 2>/dev/null)
viewer=$("$bin" --data-dir "$dir" api-key create --org bench --name reader --role viewer 2>/dev/null)
"$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready

# Audit events to read: each client created writes one.
cfg="$dir/create.curl"
for i in $(seq 1 "$events"); do
  printf 'url = "%s/orgs/bench/api/v1/admin/oauth-clients"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"name\\":\\"Client %s with a longer name\\",\\"redirectUris\\":[],\\"grantTypes\\":[\\"client_credentials\\"]}"\noutput = "/dev/null"\nnext\n' "$base" "$owner" "$i"
done > "$cfg"
sed -i '$ d' "$cfg"
curl -s --no-progress-meter --parallel --parallel-max 8 -K "$cfg"

rss() { awk "/$1/ {print int(\$2 / 1024)}" "/proc/$pid/status"; }
sleep 1
echo "cores: $(nproc); audit events: $events; $conns connections, ${secs}s per scenario"
echo "idle RSS after seeding: $(rss VmRSS) MiB (peak so far $(rss VmHWM) MiB)"

drive() {
  BASE="$base" KEY="$viewer" SECS="$secs" CONNS="$conns" MODE="$1" python3 - <<'PY'
import http.client, json, os, threading, time, urllib.parse
base = urllib.parse.urlparse(os.environ["BASE"])
key, secs, conns, mode = os.environ["KEY"], float(os.environ["SECS"]), int(os.environ["CONNS"]), os.environ["MODE"]
fields = "id action createdAt ip requestId targetType targetId actor { type id name } before after"
if mode == "attack":
    query = "{ " + " ".join(f"a{i}: adminAuditLog(limit: 500) {{ {fields} }}" for i in range(490)) + " }"
else:
    query = "{ " + " ".join(f"a{i}: adminAuditLog(limit: 500) {{ {fields} }}" for i in range(2)) + " }"
body = json.dumps({"query": query}).encode()
stop = time.time() + secs
stats = {"requests": 0, "bytes": 0, "codes": {}, "max_ms": 0.0}
lock = threading.Lock()
def attacker():
    c = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    while time.time() < stop:
        t = time.time()
        c.request("POST", "/orgs/bench/api/v1/admin/graphql", body,
                  {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        ms = (time.time() - t) * 1000
        try:
            code = json.loads(data)["errors"][0]["extensions"]["code"]
        except Exception:
            code = "data"
        with lock:
            stats["requests"] += 1; stats["bytes"] += len(data)
            stats["codes"][code] = stats["codes"].get(code, 0) + 1
            stats["max_ms"] = max(stats["max_ms"], ms)
probe = []
def prober():
    c = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    while time.time() < stop:
        t = time.time(); c.request("GET", "/readyz"); c.getresponse().read()
        probe.append((time.time() - t) * 1000); time.sleep(0.05)
threads = [threading.Thread(target=attacker) for _ in range(conns)] + [threading.Thread(target=prober)]
for t in threads: t.start()
for t in threads: t.join()
probe.sort()
p = lambda q: probe[min(len(probe) - 1, int(q * len(probe)))] if probe else 0
print("%-8s query %6d bytes: %6d requests, %8.1f MB answered, answers %s, slowest %.0f ms; /readyz meanwhile p50 %.1f ms, p99 %.1f ms, max %.1f ms"
      % (mode, len(body), stats["requests"], stats["bytes"] / 1e6, stats["codes"], stats["max_ms"], p(0.5), p(0.99), probe[-1] if probe else 0))
PY
}

drive attack
echo "  server RSS after the attack: $(rss VmRSS) MiB, peak $(rss VmHWM) MiB"
drive allowed
echo "  server RSS after the allowed queries: $(rss VmRSS) MiB, peak $(rss VmHWM) MiB"
