#!/usr/bin/env bash
# The servers the whole test suite uses beside the embedded default: PostgreSQL on 127.0.0.1.
#   scripts/services.sh start   install PostgreSQL from Debian's packages when it is missing (as
#                               root), start a throwaway cluster and wait until it answers
#   scripts/services.sh url     print the SQLAlchemy URL of that cluster (for
#                               FIELDROUTE_TEST_POSTGRES_URL or DATABASE_URL)
#   scripts/services.sh stop    stop it and delete its data
# FIELDROUTE_PG_PORT (default 54329) and FIELDROUTE_PG_DIR (default /tmp/fieldroute-pg) move it.
set -euo pipefail

port="${FIELDROUTE_PG_PORT:-54329}"
data="${FIELDROUTE_PG_DIR:-/tmp/fieldroute-pg}"
url="postgresql+psycopg://fieldroute@127.0.0.1:${port}/fieldroute"

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

start() {
  local bin
  bin="$(pg_bin)"
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing PostgreSQL from Debian's packages" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bin="$(pg_bin)"
    else
      echo "PostgreSQL is not installed: apt-get install postgresql (as root), then retry" >&2
      exit 1
    fi
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

stop() {
  local bin
  bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -d "$data" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: scripts/services.sh start|url|stop" >&2; exit 2 ;;
esac
