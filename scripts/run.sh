#!/usr/bin/env bash
# Installs what is missing, loads demo data and runs KernelCamp on loopback until Ctrl-C:
# the web site (gunicorn), JupyterHub, the session reconciler and the grading worker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
HOST="${KC_HOST:-127.0.0.1}"
PORT="${KC_PORT:-8000}"
# The production profile unless asked for DEBUG (KC_DEBUG=1), but plain http on loopback; the
# secret key is made once and kept in the data dir, like the hub's token (docs/operations.md).
export KC_DEBUG="${KC_DEBUG:-0}" KC_HTTPS="${KC_HTTPS:-0}"
export KC_ALLOWED_HOSTS="${KC_ALLOWED_HOSTS:-127.0.0.1,localhost,[::1],$HOST}"
SECRET_FILE="${KC_DATA_DIR:-$REPO/var}/secret-key"
mkdir -p "$(dirname "$SECRET_FILE")"
[ -s "$SECRET_FILE" ] || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$SECRET_FILE")
chmod 600 "$SECRET_FILE"
export KC_SECRET_KEY="${KC_SECRET_KEY:-$(cat "$SECRET_FILE")}"

say "Migrating the database"
.venv/bin/python manage.py migrate --no-input -v 0
say "Loading demo data"
.venv/bin/python manage.py load_demo

# GPU sessions: JupyterHub on loopback, logging in through the site (see docs/sessions.md).
HUB_PORT="${KC_HUB_PORT:-8001}"
export KC_HUB_PORT="$HUB_PORT" KC_SITE_URL="${KC_SITE_URL:-http://$HOST:$PORT}"
export KC_HUB_URL="${KC_HUB_URL:-http://$HOST:$HUB_PORT}" KC_HUB_DATA_DIR="${KC_HUB_DATA_DIR:-${KC_DATA_DIR:-$REPO/var}/hub}"
# The site talks to the hub's own API port, not through the proxy: the PyPI proxy cuts a response
# off after its timeout and passes it on only when complete, so a spawn's progress stream would
# arrive at the end, or never (docs/sessions.md).
export KC_HUB_API_URL="${KC_HUB_API_URL:-http://${KC_HUB_IP:-127.0.0.1}:${KC_HUB_INTERNAL_PORT:-8081}/hub/api}"
mkdir -p "$KC_HUB_DATA_DIR" && chmod 700 "$KC_HUB_DATA_DIR"
TOKEN_FILE="$KC_HUB_DATA_DIR/site-api-token"
[ -s "$TOKEN_FILE" ] || (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > "$TOKEN_FILE")
export KC_HUB_API_TOKEN="${KC_HUB_API_TOKEN:-$(cat "$TOKEN_FILE")}"
export KC_HUB_PROFILES="$KC_HUB_DATA_DIR/profiles.json"
export KC_HUB_OAUTH_CREDENTIALS="${KC_DATA_DIR:-$REPO/var}/hub-oauth-client.json"
say "Setting up GPU profiles and the hub's OAuth client"
.venv/bin/python manage.py seed_compute --demo
.venv/bin/python manage.py hub_oauth_app --redirect-uri "$KC_HUB_URL/hub/oauth_callback"
.venv/bin/python manage.py export_profiles --format local -o "$KC_HUB_PROFILES"

# Each service runs in a session of its own (setsid), so Ctrl-C reaches only this script, which
# then stops them in order: first the students' servers through the hub (closing their ledger
# rows), then the services themselves.
pids=()
# signal_all SIG SECONDS [group]: send SIG to every service (or its whole process group), then
# wait up to SECONDS for all of them to exit; fails if one is still alive.
signal_all() {
  local pid alive
  for pid in "${pids[@]}"; do
    if [ "${3:-}" = group ]; then kill -"$1" -- "-$pid" 2>/dev/null || true
    else kill -"$1" "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq $(( $2 * 2 ))); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.5
  done
  return 1
}
# descendants PID...: every process below these, children first listed after their parent. The hub
# starts its proxy and its services in sessions of their own, so a signal to its process group
# misses them; they are collected before anything stops, while they are still its children.
descendants() {
  local pid kids
  for pid in "$@"; do
    kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ' | tr '\n' ' ')
    if [ -n "$kids" ]; then
      echo "$kids"
      # shellcheck disable=SC2086
      descendants $kids
    fi
  done
}
cleanup() {
  local status=$?
  trap - INT TERM EXIT
  say "Stopping"
  local leftovers=()
  # shellcheck disable=SC2207
  leftovers=($(descendants "${pids[@]}"))
  timeout 90 .venv/bin/python manage.py stop_sessions || true
  # A worker finishes the task in hand on the first TERM, but scoring a challenge entry can take a
  # minute: a second TERM makes it give the task up (its lease runs out and the next start queues
  # it again, docs/challenges.md), and KILL ends whatever is still left.
  signal_all TERM 15 || { say "Waiting for workers to give up their tasks"; signal_all TERM 10; } \
    || signal_all KILL 5 group || true
  # Whatever the services started and left behind (the hub's proxy and idle culler when the hub
  # was killed mid-cleanup) would keep the ports: it goes too.
  local pid
  for pid in "${leftovers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 10); do
    alive=0
    for pid in "${leftovers[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${leftovers[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
trap cleanup INT TERM EXIT

say "Starting JupyterHub on $KC_HUB_URL"
(cd "$KC_HUB_DATA_DIR" && exec setsid "$REPO/.venv/bin/jupyterhub" -f "$REPO/deploy/jupyterhub/jupyterhub_config.py") &
pids+=($!)
for _ in $(seq 120); do  # the reconciler and the students need the hub up
  .venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "$KC_HUB_URL/hub/api/" 2>/dev/null && break
  sleep 0.5
done
say "Starting the session reconciler (every 60 s)"
setsid .venv/bin/python manage.py reconcile_sessions --every 60 >/dev/null &
pids+=($!)
# Each grading worker grades one notebook at a time in its own kernel. Two per core plus one:
# a kernel waiting out a cell timeout holds a worker but yields its core (docs/grading.md).
GRADING_WORKERS="${KC_GRADING_WORKERS:-$(( 2 * $(nproc) + 1 ))}"
say "Starting $GRADING_WORKERS grading workers"
for _ in $(seq "$GRADING_WORKERS"); do
  setsid .venv/bin/python manage.py grading_worker &
  pids+=($!)
done
# Challenge entries have their own worker (queue "contests"), so a hackathon's flood never waits
# in front of a cohort's notebooks; it serves events and teams fairly (docs/challenges.md).
say "Starting the challenge scoring worker"
setsid .venv/bin/python manage.py contest_worker &
pids+=($!)
say "Starting the web site on http://$HOST:$PORT/"
# Threaded workers, so the hub's calls back to the site are never starved (deploy/gunicorn.conf.py).
KC_HOST="$HOST" KC_PORT="$PORT" setsid .venv/bin/gunicorn -c deploy/gunicorn.conf.py &
pids+=($!)
say "KernelCamp is running: open http://$HOST:$PORT/ (Ctrl-C stops everything)"
wait -n "${pids[@]}" || true
say "A service stopped on its own (see the log above): stopping the others"
exit 1
