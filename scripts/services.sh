# Sourced by scripts/test: makes sure the services the suites use are up on this
# kind of machine (PostgreSQL on 127.0.0.1:5432 with trust auth, NATS on 4222),
# starting them with the machine's own commands when they are down.

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "error: $name is not reachable on 127.0.0.1:$port" >&2
  return 1
}

ensure_postgres() {
  if ! port_open 5432; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  wait_port 5432 PostgreSQL
}

ensure_nats() {
  if ! port_open 4222; then
    echo "starting NATS"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  fi
  wait_port 4222 NATS
}

# Test databases are named spotlight_test_*; drop what earlier runs left behind.
# Best effort: clean-up never fails the run.
drop_test_databases() {
  command -v psql >/dev/null 2>&1 || return 0
  local dbs
  dbs=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "SELECT datname FROM pg_database WHERE datname LIKE 'spotlight_test_%' OR datname LIKE 'spotlight_bench_%'" 2>/dev/null) || return 0
  for db in $dbs; do
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
  done
}
