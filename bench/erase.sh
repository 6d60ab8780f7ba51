#!/usr/bin/env bash
# DELETE /v1/admin/users/{id} for a person with 100,000 events (release build),
# on SQLite and on PostgreSQL: the environment also holds 100,000 events of
# 1,000 other users, every event went to a webhook (so the erasure also takes
# the person's events out of 2,000 stored delivery payloads shared with
# others), and the person has progress, counts, rollups and a profile. Each
# round erases a different person; the median is reported.
# Usage: bench/erase.sh [rounds, default 3] [stores, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
stores=${2:-sqlite postgres}
if [ -n "${SPOTLIGHT_BIN:-}" ]; then
  bin=$SPOTLIGHT_BIN
else
  cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
  bin=${CARGO_TARGET_DIR:-target}/release/spotlight
fi
python3 - "$bin" "$rounds" "$stores" <<'PY'
import http.client, http.server, json, os, socket, statistics, subprocess, sys, tempfile, threading, time, uuid

bin, rounds, stores = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
PG = "postgres://postgres@127.0.0.1:5432"
PERSON_EVENTS, OTHER_EVENTS, BATCH = 100_000, 100_000, 100

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
        t = json.loads(subprocess.check_output([bin, "tenant", "create", "--name", "Bench", "--json"], env=env))
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
            H = {"Authorization": f"Bearer {sk}", "Content-Type": "application/json"}
            local = threading.local()
            def call(method, path, body=None):
                if not hasattr(local, "c"): local.c = http.client.HTTPConnection("127.0.0.1", port)
                local.c.request(method, path, json.dumps(body) if body is not None else None, H)
                r = local.c.getresponse(); data = r.read()
                assert r.status < 300, (path, r.status, data)
                return json.loads(data) if data else None
            call("PATCH", "/v1/admin/settings", {"rate_limits": {"sdk_per_minute": 10_000_000, "admin_per_minute": 1_000_000}})
            steps = [{"kind": "modal", "title": f"Step {i}"} for i in range(5)]
            tour = call("POST", "/v1/admin/tours", {"name": "Bench tour", "steps": steps})["id"]
            call("POST", f"/v1/admin/tours/{tour}/publish", {"environment": "production"})
            call("POST", "/v1/admin/webhooks", {"url": f"http://127.0.0.1:{rx.server_port}/hook"})
            def batch(users):
                now = int(time.time() * 1000)
                evs = []
                for i, u in enumerate(users):
                    name, props = ("tour_started", {"tour_id": tour}) if i % 10 == 0 else ("page_view", {"page": f"/app/{i % 50}"})
                    evs.append({"event_id": str(uuid.uuid4()), "schema_version": 1, "name": name,
                                "timestamp": now, "user_id": u, "properties": props})
                call("POST", "/v1/admin/events", {"events": evs})
            def seed(person):
                # Half of each batch the person's, half the others': payloads shared.
                half = BATCH // 2
                jobs = [[person] * half + [f"other-{(n * half + k) % 1000}" for k in range(half)]
                        for n in range(PERSON_EVENTS // half)]
                from concurrent.futures import ThreadPoolExecutor
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(batch, jobs))
            times, erased = [], []
            for r in range(rounds):
                person = f"person-{r}"
                seed(person)
                # Deliveries sent: the payloads stay stored (outbox retention).
                t0 = time.time()
                while Receiver.received < (r + 1) * PERSON_EVENTS * 2 and time.time() - t0 < 300:
                    time.sleep(0.1)
                start = time.perf_counter()
                report = call("DELETE", f"/v1/admin/users/{person}")
                times.append(time.perf_counter() - start)
                p = report["environments"]["production"]
                erased.append((p["events"], p["deliveries_scrubbed"]))
            return {"store": store, "median": statistics.median(times), "times": times, "erased": erased}
        finally:
            server.terminate(); server.wait()
            if store == "postgres":
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"])

results = [run(s) for s in stores]
print(f"\nDELETE /v1/admin/users/{{id}}: a person with {PERSON_EVENTS:,} events among {OTHER_EVENTS:,} of others (per round), release build\n")
print("| store | median s | rounds s | events erased, payloads scrubbed (per round) |")
print("|---|---:|---|---|")
for r in results:
    print(f"| {r['store']} | {r['median']:.2f} | {', '.join(f'{t:.2f}' for t in r['times'])} | "
          f"{', '.join(f'{e:,} / {s:,}' for e, s in r['erased'])} |")
PY
