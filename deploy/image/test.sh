#!/usr/bin/env bash
# Builds Spotlight's image from deploy/Containerfile without a registry and
# checks it as an operator would: a locally made distroless-style base
# (deploy/image/base.sh) and an already built binary stand in for the two
# public images. Then, on SQLite (read-only root filesystem, data in a volume)
# and on this machine's PostgreSQL: /readyz answers, the process is not root,
# the health check passes, SIGTERM stops it cleanly within the grace period;
# the labels and the SBOM are in the image; its size is reported.
#
# Usage: deploy/image/test.sh [BINARY]   (default: the release build in the cargo target dir)
# Environment: SPOTLIGHT_TEST_DATABASE_URL (PostgreSQL server to create a database on),
#              SPOTLIGHT_SBOM (a CycloneDX file to put in the image; else one is made with cargo-cyclonedx)
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
binary=${1:-$target/release/spotlight}
pg=${SPOTLIGHT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
tag=localhost/spotlight-test:$$
base=localhost/spotlight-runtime-base:$$
work=$(mktemp -d)
containers=()
cleanup() {
  for c in "${containers[@]}"; do "${podman[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
  "${podman[@]}" volume rm -f "spotlight-test-$$" >/dev/null 2>&1 || true
  "${podman[@]}" rmi -f "$tag" "$base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "image test: $*" >&2; exit 1; }

[ -x "$binary" ] || fail "no binary at $binary (cargo build --release -p spotlight-cli)"
command -v podman >/dev/null || fail "podman is not installed (apt-get install podman runc)"

# The build stage's output, as `--build-context build=…` replaces that stage.
mkdir -p "$work/ctx/out/data" "$work/empty"
cp "$binary" "$work/ctx/out/spotlight"
# Debug builds carry hundreds of MB of DWARF; the image never needs it.
objcopy --strip-debug "$work/ctx/out/spotlight"
if [ -n "${SPOTLIGHT_SBOM:-}" ]; then
  cp "$SPOTLIGHT_SBOM" "$work/ctx/out/sbom.cdx.json"
else
  scripts/sbom "$work/ctx/out/sbom.cdx.json" >/dev/null
fi

deploy/image/base.sh "$work/ctx/out/spotlight" "$base" >/dev/null
started=$(date +%s%N)
"${podman[@]}" build -q --format docker -f deploy/Containerfile --target runtime \
  --build-context build="$work/ctx" --build-arg RUNTIME="$base" \
  --build-arg VERSION="$(sed -nE 's/^version = "(.*)"/\1/p' Cargo.toml | head -1)" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$tag" "$work/empty" >/dev/null
build_ms=$(( ($(date +%s%N) - started) / 1000000 ))
size=$("${podman[@]}" image inspect "$tag" --format '{{.Size}}')
echo "image built in ${build_ms} ms: $(( size / 1024 / 1024 )) MiB ($size bytes)"

inspect() { "${podman[@]}" image inspect "$tag" --format "$1"; }
[ "$(inspect '{{.Config.User}}')" = "65532:65532" ] || fail "the image's user is not 65532"
[ "$(inspect '{{.Config.StopSignal}}')" = "SIGTERM" ] || fail "no STOPSIGNAL SIGTERM"
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.licenses"}}')" = "Apache-2.0" ] || fail "no licence label"
[ -n "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" ] || fail "no revision label"
inspect '{{json .Config.Healthcheck}}' | grep -q '"check"' || fail "no health check"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One run: start, wait for /readyz, health check, uid, SIGTERM within the grace period.
check_run() { # NAME EXTRA-ARGS...
  local name=$1; shift
  local port; port=$(free_port)
  local c="spotlight-test-$name-$$"
  containers+=("$c")
  "${podman[@]}" run -d --name "$c" --network host --read-only \
    --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    -e SPOTLIGHT_LISTEN="127.0.0.1:$port" -e SPOTLIGHT_SHUTDOWN_GRACE_SECS=10 "$@" "$tag" >/dev/null
  local deadline=$((SECONDS + 30))
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
    if [ $SECONDS -ge $deadline ]; then
      "${podman[@]}" logs "$c" >&2 || true
      fail "$name: /readyz never answered 200"
    fi
    sleep 0.2
  done
  "${podman[@]}" healthcheck run "$c" >/dev/null || fail "$name: the health check failed"
  local pid uid
  pid=$("${podman[@]}" inspect "$c" --format '{{.State.Pid}}')
  uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
  [ "$uid" != 0 ] || fail "$name: the server runs as root"
  local t0; t0=$(date +%s%N)
  "${podman[@]}" stop -t 15 "$c" >/dev/null
  local stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local code; code=$("${podman[@]}" inspect "$c" --format '{{.State.ExitCode}}')
  [ "$code" = 0 ] || { "${podman[@]}" logs "$c" >&2; fail "$name: exit status $code after SIGTERM"; }
  [ "$stop_ms" -lt 10000 ] || fail "$name: SIGTERM took ${stop_ms} ms (was it killed?)"
  "${podman[@]}" logs "$c" 2>&1 | grep -q '"all connections closed"' || fail "$name: no clean shutdown in the log"
  echo "$name: ready, uid $uid, healthy, stopped by SIGTERM in ${stop_ms} ms, exit 0"
}

# SQLite: read-only root, the store in a named volume owned by the image's user.
check_run sqlite -v "spotlight-test-$$:/data"
# PostgreSQL: a database of its own on this machine's server.
db="spotlight_test_image_$$"
psql "$pg" -qtAc "CREATE DATABASE $db" >/dev/null
trap 'cleanup; psql "$pg" -qtAc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
check_run postgres -e SPOTLIGHT_DATABASE_URL="${pg%/*}/$db"
# The SBOM travels in the image.
c="spotlight-test-sbom-$$"
containers+=("$c")
"${podman[@]}" create --name "$c" "$tag" >/dev/null
"${podman[@]}" cp "$c:/usr/share/spotlight/sbom.cdx.json" "$work/sbom.json"
python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["bomFormat"]=="CycloneDX" and len(b["components"])>100, "not a full SBOM"; print("SBOM in the image: CycloneDX", b["specVersion"], len(b["components"]), "components")' "$work/sbom.json"
echo "image test passed"
