#!/usr/bin/env bash
# POST /v1/admin/users/import of a CSV file of users (release build), on SQLite
# and on PostgreSQL: the file is imported twice, so the first run creates every
# profile and the second merges into existing ones. Rows/s is rows over the
# request's wall time (upload, parse and writes overlap: the body is read as it
# arrives). Each user has five attributes (text, number, boolean, a date as
# text, a plan).
# Usage: bench/import.sh [rows, default 1000000] [stores, default "sqlite postgres"]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
stores=${2:-sqlite postgres}
if [ -n "${SPOTLIGHT_BIN:-}" ]; then
  bin=$SPOTLIGHT_BIN
else
  cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
  bin=${CARGO_TARGET_DIR:-target}/release/spotlight
fi
python3 - "$bin" "$rows" "$stores" <<'PY'
import http.client, json, os, socket, subprocess, sys, tempfile, time

bin, rows, stores = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
PG = "postgres://postgres@127.0.0.1:5432"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def make_csv(path, n):
    plans = ["free", "team", "pro", "enterprise"]
    with open(path, "w") as f:
        f.write("user_id,plan,seats,beta,signed_up,company\n")
        for i in range(n):
            f.write(f"user-{i},{plans[i % 4]},{i % 500},{'true' if i % 3 else 'false'},2026-{1 + i % 12:02d}-{1 + i % 28:02d},Company {i % 10000}\n")

def run(store, csv_path):
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
            out = []
            for _ in range(2):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
                size = os.path.getsize(csv_path)
                with open(csv_path, "rb") as f:
                    start = time.perf_counter()
                    c.request("POST", "/v1/admin/users/import", body=f, headers={
                        "Authorization": f"Bearer {sk}", "Content-Type": "text/csv", "Content-Length": str(size)})
                    r = c.getresponse(); data = r.read()
                    secs = time.perf_counter() - start
                assert r.status == 200, (r.status, data[:500])
                rep = json.loads(data)
                assert rep["imported"] == rows and rep["failed"] == 0, rep
                out.append((secs, rep["created"], rep["updated"]))
            return {"store": store, "runs": out}
        finally:
            server.terminate(); server.wait()
            if store == "postgres":
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {db}"])

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "users.csv")
    make_csv(path, rows)
    size = os.path.getsize(path)
    results = [run(s, path) for s in stores]
print(f"\n{rows:,} users in one CSV file ({size / 1e6:.0f} MB), imported twice, release build\n")
print("| store | first import: rows/s (s) | created | second import: rows/s (s) | updated |")
print("|---|---:|---:|---:|---:|")
for r in results:
    (s1, c1, _), (s2, _, u2) = r["runs"]
    print(f"| {r['store']} | {rows / s1:,.0f} ({s1:.1f}) | {c1:,} | {rows / s2:,.0f} ({s2:.1f}) | {u2:,} |")
PY
