#!/usr/bin/env bash
# The servers the whole test suite uses beside the embedded default, both on 127.0.0.1:
# PostgreSQL (the shared store) and Redis (the broker of FIELDROUTE_JOBS=celery).
#   scripts/services.sh start          install PostgreSQL and Redis from Debian's packages when
#                                      missing (as root), start a throwaway PostgreSQL cluster
#                                      and a throwaway redis-server and wait until both answer
#   scripts/services.sh url            print the SQLAlchemy URL of that cluster (for
#                                      FIELDROUTE_TEST_POSTGRES_URL or DATABASE_URL); also
#                                      `postgres-url`
#   scripts/services.sh redis-url      print the Redis URL (for FIELDROUTE_TEST_REDIS_URL or
#                                      FIELDROUTE_BROKER_URL)
#   scripts/services.sh stop           stop both and delete their data
#   scripts/services.sh start-postgres|start-redis|stop-postgres|stop-redis   one of them
# FIELDROUTE_PG_PORT (default 54329) and FIELDROUTE_PG_DIR (default /tmp/fieldroute-pg) move
# PostgreSQL; FIELDROUTE_REDIS_PORT (default 56379) and FIELDROUTE_REDIS_DIR (default
# /tmp/fieldroute-redis) move Redis. Redis keeps nothing on disk (no snapshot, no append-only
# file): a test's queue is gone when it stops.
set -euo pipefail

port="${FIELDROUTE_PG_PORT:-54329}"
data="${FIELDROUTE_PG_DIR:-/tmp/fieldroute-pg}"
url="postgresql+psycopg://fieldroute@127.0.0.1:${port}/fieldroute"

redis_port="${FIELDROUTE_REDIS_PORT:-56379}"
redis_dir="${FIELDROUTE_REDIS_DIR:-/tmp/fieldroute-redis}"
redis_url="redis://127.0.0.1:${redis_port}/0"

# Install Debian's package $1 (providing command $2) when $2 is missing: as root only.
need_package() {
  local package="$1" what="$2"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${package} from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  else
    echo "${what} is not installed: apt-get install ${package} (as root), then retry" >&2
    exit 1
  fi
}

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null; then dir="$(dirname "$(command -v pg_ctl)")"; fi
  echo "$dir"
}

# PostgreSQL refuses to run as root: run its tools as the 'postgres' user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  if [ -z "$bin" ]; then
    need_package postgresql PostgreSQL
    bin="$(pg_bin)"
  fi
  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "PostgreSQL already running on 127.0.0.1:${port}" >&2
    return
  fi
  rm -rf "$data"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
  as_owner "$bin/initdb" -D "$data" -U fieldroute --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-h 127.0.0.1 -p ${port} -k ${data} -c fsync=off -c max_connections=200" start >/dev/null
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U fieldroute fieldroute
  echo "PostgreSQL running on 127.0.0.1:${port} (${url})" >&2
}

stop_postgres() {
  local bin
  bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -d "$data" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
}

redis_answers() {
  [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = PONG ]
}

start_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
    || need_package redis-server Redis
  if [ -f "$redis_dir/redis.pid" ] && kill -0 "$(cat "$redis_dir/redis.pid")" 2>/dev/null \
    && redis_answers; then
    echo "Redis already running on 127.0.0.1:${redis_port}" >&2
    return
  fi
  rm -rf "$redis_dir"
  mkdir -p "$redis_dir"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$redis_dir" --daemonize yes --pidfile "$redis_dir/redis.pid" \
    --logfile "$redis_dir/redis.log"
  local waited=0
  until redis_answers; do
    if [ "$waited" -ge 100 ]; then
      echo "redis-server did not answer on 127.0.0.1:${redis_port}; see $redis_dir/redis.log" >&2
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "Redis running on 127.0.0.1:${redis_port} (${redis_url})" >&2
}

stop_redis() {
  if [ -f "$redis_dir/redis.pid" ]; then
    local pid
    pid="$(cat "$redis_dir/redis.pid")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$redis_dir"
}

case "${1:-}" in
  start) start_postgres; start_redis ;;
  stop) stop_redis; stop_postgres ;;
  url | postgres-url) echo "$url" ;;
  redis-url) echo "$redis_url" ;;
  start-postgres) start_postgres ;;
  start-redis) start_redis ;;
  stop-postgres) stop_postgres ;;
  stop-redis) stop_redis ;;
  *)
    echo "usage: scripts/services.sh start|stop|url|postgres-url|redis-url|start-postgres|start-redis|stop-postgres|stop-redis" >&2
    exit 2
    ;;
esac
