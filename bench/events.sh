#!/usr/bin/env bash
# POST /v1/sdk/events under sustained load (wrk, 64 connections, batches of 20,
# release build), on SQLite and on PostgreSQL, with a webhook to a local receiver
# so the relay runs during the load: ingest events/s and latency, events the
# receiver got during the run, and how long the outbox took to drain after it.
# Every batch is new (fresh UUIDv7 event ids, as the SDK makes them; v4 ids work
# too, but land on random index pages) and realistic: a tour start, five step
# views and a completion of a published tour, then custom events, for one of
# 10,000 users.
# With ACCOUNTS=1, every batch names the user's account (1,000 accounts): the
# account's counts, members, what it was shown and its daily rollups are written too.
# Usage: [ACCOUNTS=1] bench/events.sh [seconds, default 30] [stores, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
stores=${2:-sqlite postgres}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# SPOTLIGHT_BIN: a release binary built earlier (e.g. another commit's, to compare in one session).
if [ -n "${SPOTLIGHT_BIN:-}" ]; then
  bin=$SPOTLIGHT_BIN
else
  cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
  bin=${CARGO_TARGET_DIR:-target}/release/spotlight
fi
python3 - "$bin" "$secs" "$stores" <<'PY'
import http.client, http.server, json, os, re, socket, subprocess, sys, tempfile, threading, time

bin, secs, stores = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
PG = "postgres://postgres@127.0.0.1:5432"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Receiver(http.server.BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
        with Receiver.lock:
            Receiver.received += int(self.headers.get("Spotlight-Event-Count", 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass

rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=rx.serve_forever, daemon=True).start()

LUA = r'''
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000003)
local tour = os.getenv("BENCH_TOUR")
-- UUIDv7, as the Spotlight SDK makes them: time first, so new ids land at the
-- end of the idempotency index instead of on a random page.
local seq = 0
local function uuid()
  seq = seq + 1
  local ms = os.time() * 1000 + seq % 1000
  local t = string.format("%012x", ms)
  local r = string.gsub("7xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    return string.format("%x", c == "x" and math.random(0, 15) or math.random(8, 11)) end)
  return string.format("%s-%s-%s", t:sub(1, 8), t:sub(9, 12), r)
end
local headers = {["Content-Type"] = "application/json", ["X-Spotlight-Key"] = os.getenv("BENCH_PK")}
local custom = {"page_view", "click", "export", "search", "invite"}
request = function()
  local now = os.time() * 1000
  local ev = {}
  local function add(name, props)
    ev[#ev + 1] = string.format('{"event_id":"%s","schema_version":1,"name":"%s","timestamp":%d,"properties":%s}',
      uuid(), name, now, props)
  end
  add("tour_started", string.format('{"tour_id":"%s"}', tour))
  for s = 0, 4 do add("step_viewed", string.format('{"tour_id":"%s","step":%d}', tour, s)) end
  add("tour_completed", string.format('{"tour_id":"%s"}', tour))
  for i = 1, 13 do add(custom[math.random(1, #custom)], string.format('{"n":%d,"page":"/app/%d"}', i, math.random(1, 50))) end
  local u = math.random(1, 10000)
  local account = ""
  if (os.getenv("ACCOUNTS") or "") ~= "" then account = string.format(',"account_id":"acct-%d"', u % 1000) end
  local body = string.format('{"user_id":"user-%d"%s,"events":[%s]}', u, account, table.concat(ev, ","))
  return wrk.format("POST", "/v1/sdk/events", headers, body)
end
'''

def wrk(url, script, duration, env):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{duration}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def ms(label):
        v, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "errors": int(non2xx.group(1)) if non2xx else 0}

def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    m = re.search(rf"^{re.escape(name)} ([\d.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0

def run(store):
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTLIGHT_")}
        port = free_port()
        env.update(SPOTLIGHT_DATA_DIR=d, SPOTLIGHT_LOG="warn", SPOTLIGHT_LISTEN=f"127.0.0.1:{port}")
        if store == "postgres":
            db = f"spotlight_bench_{os.getpid()}"
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"], check=True)
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
            env["SPOTLIGHT_DATABASE_URL"] = f"{PG}/{db}"
            env["SPOTLIGHT_DB_MAX_CONNECTIONS"] = "16"
        t = json.loads(subprocess.check_output([bin, "tenant", "create", "--name", "Bench", "--json"], env=env))
        pk = t["environments"]["production"]["publishable_key"]
        sk = t["environments"]["production"]["secret_key"]
        server = subprocess.Popen([bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/readyz")
                    if c.getresponse().status == 200: break
                except OSError:
                    pass
                if time.time() > deadline: sys.exit("server did not start")
                time.sleep(0.01)
            c = http.client.HTTPConnection("127.0.0.1", port)
            H = {"Authorization": f"Bearer {sk}", "Content-Type": "application/json"}
            def call(method, path, body):
                c.request(method, path, json.dumps(body), H); r = c.getresponse(); data = r.read()
                assert r.status < 300, (path, r.status, data)
                return json.loads(data) if data else None
            call("PATCH", "/v1/admin/settings", {"rate_limits": {"sdk_per_minute": 10_000_000, "admin_per_minute": 100_000}})
            steps = [{"kind": "modal", "title": f"Step {i}"} for i in range(5)]
            tour = call("POST", "/v1/admin/tours", {"name": "Bench tour", "steps": steps})["id"]
            call("POST", f"/v1/admin/tours/{tour}/publish", {"environment": "production"})
            call("POST", "/v1/admin/webhooks", {"url": f"http://127.0.0.1:{rx.server_port}/hook"})
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
                f.write(LUA); script = f.name
            wenv = dict(os.environ, BENCH_PK=pk, BENCH_TOUR=tour)
            wrk(f"http://127.0.0.1:{port}", script, 3, wenv)  # warm-up
            time.sleep(1)
            Receiver.received = 0
            before = metric(port, 'spotlight_events_ingested_total{result="accepted"}')
            r = wrk(f"http://127.0.0.1:{port}", script, secs, wenv)
            after = metric(port, 'spotlight_events_ingested_total{result="accepted"}')
            during = Receiver.received
            ingested = after - before
            t_end = time.time()
            while Receiver.received < ingested and time.time() - t_end < 300:
                time.sleep(0.05)
            drain = time.time() - t_end
            # What the store holds per event (events table with its indexes; SQLite: the whole file).
            if store == "postgres":
                stored = float(subprocess.check_output(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc",
                    "SELECT pg_total_relation_size('events')::float8 / GREATEST(count(*), 1) FROM events"], text=True).strip())
            else:
                size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("spotlight.db"))
                stored = size / max(after, 1)
            groups = metric(port, "spotlight_ingest_group_events_count")
            grouped = metric(port, "spotlight_ingest_group_events_sum")
            return {"store": store, "events_s": ingested / secs, "rps": r["rps"], "p50": r["p50"], "p99": r["p99"],
                    "errors": r["errors"], "relayed_s": during / secs, "drain": drain,
                    "complete": Receiver.received >= ingested, "group": grouped / max(groups, 1), "stored": stored,
                    # Only meaningful with a real backlog to drain.
                    "drain_rate": (ingested - during) / drain if ingested - during > 10_000 else None}
        finally:
            server.terminate(); server.wait()
            if store == "postgres":
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"])

results = [run(s) for s in stores]
print(f"\n{secs} s per store, 64 connections, wrk -t2, batches of 20 events, release build, webhook to a local receiver\n")
print("| store | events/s | requests/s | p50 ms | p99 ms | non-2xx | relayed during run, events/s | backlog drained after run | relay alone, events/s | events per commit | bytes stored per event |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in results:
    print(f"| {r['store']} | {r['events_s']:,.0f} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | "
          f"{r['relayed_s']:,.0f} | {r['drain']:.1f} s{'' if r['complete'] else ' (incomplete)'} | "
          f"{'—' if r['drain_rate'] is None else format(r['drain_rate'], ',.0f')} | {r['group']:.0f} | {r['stored']:,.0f} |")
PY
