#!/usr/bin/env bash
# The production topology of deploy/compose.yaml, started from this machine's
# own services instead of images: PostgreSQL and NATS (already running here),
# two Spotlight nodes, and HAProxy (Debian's) in front. The tests use it, and it
# is the procedure an operator follows on hosts without containers.
#
#   deploy/cluster/cluster.sh up                  migrate once, start nodes a and b and the balancer
#   deploy/cluster/cluster.sh upgrade NEW_BINARY  rolling upgrade: drain and restart a, then b
#   deploy/cluster/cluster.sh stop-node a|b       SIGTERM: readiness 503, drain, exit
#   deploy/cluster/cluster.sh start-node a|b [BINARY]
#   deploy/cluster/cluster.sh down
#
# Settings (environment): SPOTLIGHT_BIN (default target/release/spotlight),
# SPOTLIGHT_CLUSTER_DIR (state: secrets, data, logs, pids; default ./cluster-run),
# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/spotlight),
# NATS_URL (default nats://127.0.0.1:4222; empty for none), LB_PORT (8080),
# STATS_PORT (8404), NODE_A_PORT (8081), NODE_B_PORT (8082), DRAIN_SECS (3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SPOTLIGHT_BIN:-target/release/spotlight}
dir=${SPOTLIGHT_CLUSTER_DIR:-./cluster-run}
db=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/spotlight}
nats=${NATS_URL-nats://127.0.0.1:4222}
lb_port=${LB_PORT:-8080}
stats_port=${STATS_PORT:-8404}
drain=${DRAIN_SECS:-3}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

port_of() { case $1 in a) echo "${NODE_A_PORT:-8081}" ;; b) echo "${NODE_B_PORT:-8082}" ;; *) echo "no node $1" >&2; exit 2 ;; esac; }

secrets() {
  mkdir -p "$dir/secrets"
  chmod 700 "$dir/secrets"
  [ -s "$dir/secrets/operator_token" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secrets/operator_token"
  [ -s "$dir/secrets/master_key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secrets/master_key"
  printf '%s' "$db" >"$dir/secrets/database_url"
  chmod 600 "$dir/secrets/"*
}

# Every node gets the same settings; secrets are read from files.
node_env() {
  local name=$1
  export SPOTLIGHT_MODE=production
  export SPOTLIGHT_LISTEN="127.0.0.1:$(port_of "$name")"
  export SPOTLIGHT_DATA_DIR="$dir/$name"
  export SPOTLIGHT_DATABASE_URL_FILE="$dir/secrets/database_url"
  export SPOTLIGHT_OPERATOR_TOKEN_FILE="$dir/secrets/operator_token"
  export SPOTLIGHT_MASTER_KEY_FILE="$dir/secrets/master_key"
  export SPOTLIGHT_MIGRATE_ON_START=false
  export SPOTLIGHT_TRUST_PROXY=true
  export SPOTLIGHT_SHUTDOWN_DRAIN_SECS="$drain"
  if [ -n "$nats" ]; then export SPOTLIGHT_NATS_URL="$nats"; fi
}

wait_ready() { # URL [seconds]
  local deadline=$((SECONDS + ${2:-30}))
  until curl -fsS -o /dev/null "$1/readyz"; do
    [ $SECONDS -lt $deadline ] || { echo "not ready: $1" >&2; return 1; }
    sleep 0.2
  done
}

# The balancer's view of a node (its stats CSV): UP, DOWN, …
lb_status() { curl -fsS "http://127.0.0.1:$stats_port/stats;csv" | awk -F, -v s="$1" '$1 == "nodes" && $2 == s { print $18 }'; }

wait_lb() { # NODE STATUS
  local deadline=$((SECONDS + 30))
  until [ "$(lb_status "$1")" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || { echo "the balancer never saw node $1 $2" >&2; return 1; }
    sleep 0.2
  done
}

start_node() { # NAME [BINARY]
  local name=$1 binary=${2:-$bin}
  mkdir -p "$dir/$name"
  ( node_env "$name"; exec "$binary" serve ) >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
  wait_ready "http://127.0.0.1:$(port_of "$name")"
}

stop_node() { # NAME: SIGTERM, then wait for the drain to finish
  local name=$1 pid
  pid=$(cat "$dir/$name.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$dir/$name.pid"
}

case ${1:-} in
  up)
    secrets
    ( node_env a; "$bin" migrate )
    start_node a
    start_node b
    SPOTLIGHT_LB_BIND="127.0.0.1:$lb_port" SPOTLIGHT_LB_STATS_BIND="127.0.0.1:$stats_port" \
      SPOTLIGHT_NODE_A="127.0.0.1:$(port_of a)" SPOTLIGHT_NODE_B="127.0.0.1:$(port_of b)" \
      haproxy -W -f "$here/../haproxy/haproxy.cfg" -p "$dir/haproxy.pid" >>"$dir/haproxy.log" 2>&1 &
    wait_lb a UP
    wait_lb b UP
    echo "cluster up: http://127.0.0.1:$lb_port (operator token in $dir/secrets/operator_token)"
    ;;
  upgrade)
    new=${2:?usage: cluster.sh upgrade NEW_BINARY}
    # Expand first: the new release's migrations only add, so the old nodes keep working.
    ( node_env a; "$new" migrate )
    for name in a b; do
      stop_node "$name"
      start_node "$name" "$new"
      wait_lb "$name" UP
      echo "node $name upgraded"
    done
    ;;
  stop-node) stop_node "${2:?node}" ;;
  start-node) start_node "${2:?node}" "${3:-$bin}"; wait_lb "$2" UP ;;
  status) for n in a b; do echo "$n $(lb_status "$n")"; done ;;
  down)
    for n in a b; do stop_node "$n"; done
    if [ -f "$dir/haproxy.pid" ]; then kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true; rm -f "$dir/haproxy.pid"; fi
    ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
