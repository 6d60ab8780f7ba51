#!/usr/bin/env bash
# GET /v1/sdk/config under load (wrk, 64 connections, release build, SQLite):
# a tenant with 50 published tours and 20 audiences, 10,000 end users with
# progress and event counts. Three runs against the same server, in one go:
#   (a) full evaluation, a random user and page per request
#   (b) the 304 path (If-None-Match with the current ETag)
#   (c) /healthz, the same server's ceiling on this machine
# With TRACES=1, instead: (a) on three servers over the same store, rounds
# interleaved — traces off; on, exported over OTLP to a local collector, with
# none, 10% and every request sampled (parentbased_traceidratio).
# With ACCOUNTS=1, instead: 10 of the tours target accounts
# (`account.plan = "team" and account.event("sso_connected") = 0`), the users
# belong to 1,000 accounts, and (a) runs beside (d), the same requests naming
# the user's account, so account rules are evaluated against its state.
# Usage: [TRACES=1|ACCOUNTS=1] bench/delivery.sh [seconds per run, default 10] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# SPOTLIGHT_BIN: a release binary built earlier (e.g. another commit's, to compare in one session).
if [ -n "${SPOTLIGHT_BIN:-}" ]; then
  bin=$SPOTLIGHT_BIN
else
  cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
  bin=${CARGO_TARGET_DIR:-target}/release/spotlight
fi
python3 - "$bin" "$secs" "$rounds" <<'PY'
import http.client, http.server, json, os, random, re, socket, sqlite3, subprocess, sys, tempfile, threading, time, uuid

bin, secs, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ACCOUNTS = bool(os.environ.get("ACCOUNTS"))
ORIGIN = "https://app.bench.test"
PAGES = ["/app/dashboard", "/app/reports", "/app/1/settings", "/app/2/settings", "/billing",
         "/app/projects/7", "/app/projects/8/board", "/onboarding", "/home", "/app/team"]
random.seed(7)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wrk(url, script, duration):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{duration}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def ms(label):
        v, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "errors": int(non2xx.group(1)) if non2xx else 0}

with tempfile.TemporaryDirectory() as d:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTLIGHT_")}
    port = free_port()
    env.update(SPOTLIGHT_DATA_DIR=d, SPOTLIGHT_LOG="warn", SPOTLIGHT_LISTEN=f"127.0.0.1:{port}")
    t = json.loads(subprocess.check_output([bin, "tenant", "create", "--name", "Bench", "--origin", ORIGIN, "--json"], env=env))
    pk = t["environments"]["production"]["publishable_key"]
    sk = t["environments"]["production"]["secret_key"]
    def wait_ready(port):
        deadline = time.time() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/readyz")
                if c.getresponse().status == 200: return
            except OSError:
                pass
            if time.time() > deadline: sys.exit("server did not start")
            time.sleep(0.01)
    server = subprocess.Popen([bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers = [server]
    try:
        wait_ready(port)
        c = http.client.HTTPConnection("127.0.0.1", port)
        H = {"Authorization": f"Bearer {sk}", "Content-Type": "application/json"}
        def call(method, path, body):
            c.request(method, path, json.dumps(body), H); r = c.getresponse(); data = r.read()
            assert r.status < 300, (path, r.status, data)
            return json.loads(data) if data else None
        call("PATCH", "/v1/admin/settings", {"rate_limits": {"sdk_per_minute": 10_000_000, "admin_per_minute": 100_000}})
        plans = ["free", "pro", "team", "enterprise"]
        audiences = []
        for i in range(20):
            rule = [f'plan = "{plans[i % 4]}"', f"seats >= {i}", f'event("export") >= {i % 5}',
                    f'plan in ["pro", "team"] and seats < {10 + i}', f'signed_up_days_ago < {7 * (i + 1)}'][i % 5]
            audiences.append(call("POST", "/v1/admin/audiences", {"name": f"Audience {i}", "rule": rule})["id"])
        tours = []
        for i in range(50):
            doc = {"name": f"Tour {i}", "priority": i % 7,
                   "frequency": [{"type": "once"}, {"type": "until_completed"}, {"type": "every_session"}][i % 3],
                   "steps": [{"kind": "modal", "title": f"Welcome {i}", "body": "<p>Hello <b>there</b>, this is step one.</p>",
                              "buttons": [{"action": "next", "label": "Next"}]},
                             {"kind": "tooltip", "title": "Export", "body": "<p>Export your data here.</p>",
                              "target": {"selectors": ["#export", "[data-testid=export]"], "text": "Export"}},
                             {"kind": "highlight", "title": "Reports", "body": "<p>All your reports.</p>",
                              "target": {"selectors": ["#reports"]}}],
                   "locales": {"fr": [{"title": f"Bienvenue {i}"}, {"title": "Exporter"}, {"title": "Rapports"}]}}
            # As tenants target them: most tours belong to one page or one
            # area of the app; a few run everywhere.
            if i % 5 == 1: doc["pages"] = [{"match": "glob", "pattern": ["/app/*", "/app/*/settings", "/app/projects/**"][i % 3]}]
            if i % 5 in (2, 3, 4): doc["pages"] = [{"match": "exact", "pattern": PAGES[i % len(PAGES)]}]
            if i % 2 == 0: doc["audience_id"] = audiences[i % 20]
            else: doc["audience"] = f'plan != "{plans[i % 4]}"'
            if ACCOUNTS and i % 5 == 0:
                doc.pop("audience_id", None)
                doc["audience"] = 'account.plan = "team" and account.event("sso_connected") = 0'
            tid = call("POST", "/v1/admin/tours", doc)["id"]
            call("POST", f"/v1/admin/tours/{tid}/publish", {"environment": "production"})
            tours.append(tid)
        # 10,000 end users with attributes, progress and event counts, written
        # straight into the store (event ingest will write them the same way).
        db = sqlite3.connect(os.path.join(d, "spotlight.db"), timeout=30)
        tenant_id, env_id = db.execute("SELECT tenant_id, id FROM environments WHERE name = 'production'").fetchone()
        now = int(time.time() * 1000)
        users = [f"user-{n}" for n in range(10_000)]
        db.executemany("INSERT INTO end_users VALUES (?, ?, ?, ?, 0, ?, ?)",
            [(env_id, u, tenant_id, json.dumps({"plan": plans[n % 4], "seats": n % 40, "signed_up_at": now - (n % 90) * 86_400_000}), now, now)
             for n, u in enumerate(users)])
        db.executemany("INSERT INTO user_progress (environment_id, user_id, object_id, tenant_id, times_shown, last_shown_at, step_reached, completed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(env_id, u, tours[(n + k) % 50], tenant_id, 1, now - 3_600_000, 1, now if k == 0 else None, now)
             for n, u in enumerate(users) for k in range(3)])
        db.executemany("INSERT INTO user_event_counts VALUES (?, ?, ?, ?, ?, ?)",
            [(env_id, u, "export", tenant_id, n % 6, now) for n, u in enumerate(users)])
        if ACCOUNTS:
            accounts = [f"acct-{n}" for n in range(1_000)]
            db.executemany("INSERT INTO account_profiles VALUES (?, ?, ?, ?, ?, ?)",
                [(env_id, a, tenant_id, json.dumps({"plan": plans[n % 4], "seats": 5 + n % 200}), now, now)
                 for n, a in enumerate(accounts)])
            db.executemany("INSERT INTO account_members VALUES (?, ?, ?, ?, ?, ?)",
                [(env_id, f"acct-{n % 1000}", u, tenant_id, now, now) for n, u in enumerate(users)])
            db.executemany("INSERT INTO account_event_counts VALUES (?, ?, ?, ?, ?, ?)",
                [(env_id, a, e, tenant_id, 1 + n % 9, now) for n, a in enumerate(accounts)
                 for e in (["export", "sso_connected"] if n % 3 == 0 else ["export"])])
        db.commit(); db.close()

        base = f"http://127.0.0.1:{port}"
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as full:
            full.write(f'''
local pages = {{{", ".join('"' + p + '"' for p in PAGES)}}}
local locales = {{"", "&locale=fr", "&locale=en-US"}}
wrk.headers["X-Spotlight-Key"] = "{pk}"
wrk.headers["Origin"] = "{ORIGIN}"
request = function()
  local u = math.random(0, 9999)
  local path = "/v1/sdk/config?user_id=user-" .. u .. "&url=https://app.bench.test" .. pages[math.random(1, #pages)] .. locales[math.random(1, 3)]
  return wrk.format("GET", path)
end
''')
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as named:
            named.write(f'''
local pages = {{{", ".join('"' + p + '"' for p in PAGES)}}}
local locales = {{"", "&locale=fr", "&locale=en-US"}}
wrk.headers["X-Spotlight-Key"] = "{pk}"
wrk.headers["Origin"] = "{ORIGIN}"
request = function()
  local u = math.random(0, 9999)
  local path = "/v1/sdk/config?user_id=user-" .. u .. "&account_id=acct-" .. (u % 1000) .. "&url=https://app.bench.test" .. pages[math.random(1, #pages)] .. locales[math.random(1, 3)]
  return wrk.format("GET", path)
end
''')
        probe = http.client.HTTPConnection("127.0.0.1", port)
        q = "/v1/sdk/config?user_id=user-42&url=https://app.bench.test/app/dashboard"
        probe.request("GET", q, headers={"X-Spotlight-Key": pk, "Origin": ORIGIN}); r = probe.getresponse(); body = json.loads(r.read())
        etag = r.getheader("ETag")
        probe.request("GET", q, headers={"X-Spotlight-Key": pk, "Origin": ORIGIN, "If-None-Match": etag}); r = probe.getresponse(); r.read()
        assert r.status == 304, r.status
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as nm:
            nm.write(f'''
wrk.headers["X-Spotlight-Key"] = "{pk}"
wrk.headers["Origin"] = "{ORIGIN}"
wrk.headers["If-None-Match"] = '{etag}'
wrk.path = "{q}"
''')
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as bare:
            bare.write('wrk.path = "/healthz"\n')
        sizes = []
        for n in range(200):
            pq = f"/v1/sdk/config?user_id=user-{random.randrange(10_000)}&url=https://app.bench.test{random.choice(PAGES)}"
            probe.request("GET", pq, headers={"X-Spotlight-Key": pk, "Origin": ORIGIN}); r = probe.getresponse()
            raw = r.read(); sizes.append((len(json.loads(raw)["tours"]), len(raw)))
        print(f"seeded: {len(tours)} published tours, {len(audiences)} audiences, {len(users)} end users with progress; "
              f"a config for a random user and page carries {sum(t for t, _ in sizes) / len(sizes):.1f} tours, "
              f"{sum(b for _, b in sizes) / len(sizes) / 1024:.1f} KiB on average", flush=True)
        # Rounds of every run back to back; the median of each, so that the
        # machine's noise hits them alike.
        if os.environ.get("TRACES"):
            # An OTLP/HTTP collector that reads and counts what it is sent.
            received = {"posts": 0, "bytes": 0}
            class Collector(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
                    received["posts"] += 1; received["bytes"] += n
                    self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
                def log_message(self, *a): pass
            collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
            threading.Thread(target=collector.serve_forever, daemon=True).start()
            bases = {}
            for name, ratio in (("none sampled", "0.0"), ("10% sampled", "0.1"), ("every request sampled", "1.0")):
                p = free_port()
                e = dict(env, SPOTLIGHT_LISTEN=f"127.0.0.1:{p}",
                         SPOTLIGHT_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_address[1]}",
                         OTEL_TRACES_SAMPLER="parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG=ratio)
                servers.append(subprocess.Popen([bin, "serve"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                wait_ready(p); bases[name] = f"http://127.0.0.1:{p}"
            runs = {"(a) traces off": (base, full.name, []),
                    "(a) traces on, none sampled": (bases["none sampled"], full.name, []),
                    "(a) traces on, 10% sampled": (bases["10% sampled"], full.name, []),
                    "(a) traces on, every request sampled": (bases["every request sampled"], full.name, [])}
            ceiling_run, ceiling_label = "(a) traces off", "off"
        elif ACCOUNTS:
            runs = {"(a) full evaluation": (base, full.name, []),
                    "(d) full evaluation naming the account": (base, named.name, []),
                    "(c) bare /healthz": (base, bare.name, [])}
            ceiling_run, ceiling_label = "(a) full evaluation", "(a)"
        else:
            runs = {"(a) full evaluation": (base, full.name, []), "(b) 304 Not Modified": (base, nm.name, []),
                    "(c) bare /healthz": (base, bare.name, [])}
            ceiling_run, ceiling_label = "(c) bare /healthz", "(c)"
        for url in dict.fromkeys(u for u, _, _ in runs.values()):
            wrk(url, full.name, 5)  # warm-up: every cache in its steady state
        for _ in range(rounds):
            for url, script, got in runs.values():
                got.append(wrk(url, script, secs))
        med = lambda xs: sorted(xs)[len(xs) // 2]
        results = {name: {k: med([g[k] for g in got]) for k in ("rps", "p50", "p99", "errors")}
                   for name, (_, _, got) in runs.items()}
        ceiling = results[ceiling_run]["rps"]
        print(f"\nmedians of {rounds} rounds of {secs} s per run, 64 connections, wrk -t2, release build, SQLite\n")
        print(f"| run | req/s | p50 ms | p99 ms | of {ceiling_label} | non-2xx/3xx |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in results.items():
            print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['rps'] / ceiling:.0%} | {r['errors']} |")
        if os.environ.get("TRACES"):
            time.sleep(6)  # the last batches
            print(f"\ncollector: {received['posts']} OTLP posts, {received['bytes'] / 1e6:.1f} MB of spans")
        m = http.client.HTTPConnection("127.0.0.1", port); m.request("GET", "/metrics")
        lines = [l for l in m.getresponse().read().decode().splitlines()
                 if l.startswith(("spotlight_cache_lookups_total", "spotlight_sdk_config_served_total", "spotlight_end_user_profile_writes_total"))]
        print("\ncache lookups and answers over the whole run (warm-up included):")
        for l in lines: print("  " + l)
    finally:
        for s in servers: s.terminate()
        for s in servers: s.wait()
PY
