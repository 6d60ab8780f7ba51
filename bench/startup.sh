#!/usr/bin/env bash
# Start-up time to ready and idle memory of `spotlight serve` on SQLite.
# Usage: bench/startup.sh [runs]   (release build; each run gets a fresh data dir)
# Start-up is measured from process spawn to the first 200 from /readyz, polled
# every 2 ms; RSS is read from /proc after ready and 100 warm requests.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
cargo build --release --locked -p spotlight-cli >/dev/null 2>&1
bin=${CARGO_TARGET_DIR:-target}/release/spotlight
python3 - "$bin" "$runs" <<'PY'
import os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

bin, runs = sys.argv[1], int(sys.argv[2])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def get(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status
    except Exception:
        return None

times, rss = [], []
for i in range(runs):
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTLIGHT_")}
        env.update(SPOTLIGHT_LISTEN=f"127.0.0.1:{port}", SPOTLIGHT_DATA_DIR=d, SPOTLIGHT_LOG="warn")
        t0 = time.perf_counter()
        p = subprocess.Popen([bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/readyz"
        while get(url) != 200:
            if time.perf_counter() - t0 > 30:
                p.kill(); sys.exit("server did not become ready")
            time.sleep(0.002)
        times.append((time.perf_counter() - t0) * 1000)
        for _ in range(100):
            get(f"http://127.0.0.1:{port}/healthz")
        with open(f"/proc/{p.pid}/status") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        rss.append(kb / 1024)
        p.terminate(); p.wait(timeout=10)

print(f"runs: {runs}")
print(f"start-up to ready (ms): median {statistics.median(times):.1f}, min {min(times):.1f}, max {max(times):.1f}")
print(f"idle RSS after ready + 100 requests (MiB): median {statistics.median(rss):.1f}")
PY
