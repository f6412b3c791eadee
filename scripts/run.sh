#!/usr/bin/env bash
# Installs what is missing, loads demo data and runs KernelCamp on loopback until Ctrl-C:
# the web site (gunicorn) and the grading worker (django-tasks db_worker).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
HOST="${KC_HOST:-127.0.0.1}"
PORT="${KC_PORT:-8000}"
export KC_DEBUG="${KC_DEBUG:-1}"

say "Migrating the database"
.venv/bin/python manage.py migrate --no-input -v 0
say "Loading demo data"
.venv/bin/python manage.py load_demo

pids=()
cleanup() {
  trap - INT TERM EXIT
  say "Stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

say "Starting the grading worker"
.venv/bin/python manage.py grading_worker &
pids+=($!)
say "Starting the web site on http://$HOST:$PORT/"
.venv/bin/gunicorn --chdir platform kernelcamp.wsgi:application --bind "$HOST:$PORT" --workers 2 --timeout 120 --access-logfile - &
pids+=($!)
say "KernelCamp is running: open http://$HOST:$PORT/ (Ctrl-C stops everything)"
wait -n "${pids[@]}"
