#!/usr/bin/env bash
# Latency of authoring calls through the real HTTP API: create a tour, then
# publish it, N times in sequence over one keep-alive connection, on SQLite and
# on this machine's PostgreSQL. Reports p50/p90/p99 per call.
# Usage: bench/authoring.sh [iterations]   (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
bin=${CARGO_TARGET_DIR:-target}/release/spotlight
pg_base=${SPOTLIGHT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
python3 - "$bin" "$n" "$pg_base" <<'PY'
import http.client, json, os, socket, statistics, subprocess, sys, tempfile, time, uuid

bin, n, pg_base = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(len(xs) * p))]

TOUR = {"name": "Bench tour", "steps": [
    {"kind": "modal", "title": "Welcome", "body": "<p>Hello <b>there</b></p>", "buttons": [{"action": "next", "label": "Go"}]},
    {"kind": "tooltip", "title": "Export", "body": "<p>Export here</p>", "target": {"selectors": ["#export", "[data-testid=export]"]}},
    {"kind": "highlight", "title": "Reports", "target": {"selectors": ["#reports"]}}],
    "audience": "plan in [\"pro\", \"team\"] and event(\"export\") >= 1",
    "pages": [{"match": "glob", "pattern": "/app/*"}]}

def run(store, db_url):
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTLIGHT_")}
        env.update(SPOTLIGHT_DATA_DIR=d, SPOTLIGHT_LOG="warn")
        if db_url:
            env["SPOTLIGHT_DATABASE_URL"] = db_url
        t = json.loads(subprocess.check_output([bin, "tenant", "create", "--name", "Bench", "--json"], env=env))
        sk = t["environments"]["production"]["secret_key"]
        port = free_port()
        env["SPOTLIGHT_LISTEN"] = f"127.0.0.1:{port}"
        p = subprocess.Popen([bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
            h = {"Authorization": f"Bearer {sk}", "Content-Type": "application/json"}
            body = json.dumps(TOUR)
            create, publish = [], []
            for i in range(n):
                t0 = time.perf_counter()
                c.request("POST", "/v1/admin/tours", body, h); r = c.getresponse(); data = r.read()
                create.append((time.perf_counter() - t0) * 1000)
                assert r.status == 201, data
                oid = json.loads(data)["id"]
                t0 = time.perf_counter()
                c.request("POST", f"/v1/admin/tours/{oid}/publish", '{"environment":"staging"}', h); r = c.getresponse(); data = r.read()
                publish.append((time.perf_counter() - t0) * 1000)
                assert r.status == 200, data
            for name, xs in (("create", create), ("publish", publish)):
                print(f"{store:9} {name:8} n={n}  p50 {statistics.median(xs):6.2f} ms  p90 {pct(xs, .9):6.2f} ms  p99 {pct(xs, .99):6.2f} ms")
        finally:
            p.terminate(); p.wait(timeout=10)

run("sqlite", None)
db = "spotlight_bench_" + uuid.uuid4().hex[:12]
subprocess.check_call(["psql", pg_base + "/postgres", "-qc", f"CREATE DATABASE {db}"])
try:
    run("postgres", f"{pg_base}/{db}")
finally:
    subprocess.call(["psql", pg_base + "/postgres", "-qc", f"DROP DATABASE {db}"])
PY
