#!/usr/bin/env bash
# Runs a command against a private, throw-away PostgreSQL server on loopback:
#   scripts/with-postgres.sh <command...>     (DATABASE_URL is set for the command)
set -euo pipefail
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
port="${KC_PG_PORT:-54329}"
dir="$(mktemp -d /tmp/kernelcamp-pg.XXXXXX)"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" --auth=trust --username=kernelcamp -E UTF8 >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c max_connections=200" start >/dev/null
stop() { "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${as_owner[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U kernelcamp kernelcamp
export DATABASE_URL="postgres://kernelcamp@127.0.0.1:$port/kernelcamp"
"$@"
