#!/usr/bin/env bash
# Installs what is missing (Python packages, chromium + chromium-driver, PostgreSQL, strace and
# iproute2 for the offline test, nginx to check the shipped site) and runs
# every test: the whole suite on SQLite, then the site's suite again on a throw-away PostgreSQL.
# Extra arguments go to the first pytest run.
set -euo pipefail
KC_EXTRA_APT=("chromium:chromium" "chromedriver:chromium-driver" "/usr/lib/postgresql/*/bin/initdb:postgresql" "strace:strace" "ip:iproute2" "nginx:nginx-light")
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

run_pytest() {
  local status=0
  .venv/bin/python -m pytest "$@" || status=$?
  if [ "$status" -eq 5 ]; then echo "pytest collected no tests: that is a failure here." >&2; return 1; fi
  return "$status"
}

say "Running the test suite (SQLite)"
# A test that starts kernels, a hub or a browser gets one retry: on 2 shared cores one such start
# in a few hundred can run past its bound (a broken behaviour fails both times; retries are listed).
run_pytest --durations=25 --reruns 1 --reruns-delay 3 "$@"
if [ $# -eq 0 ]; then
  say "Running the site's tests again on PostgreSQL"
  scripts/with-postgres.sh bash -c "$(declare -f run_pytest); run_pytest tests/site -q"
fi
say "All tests passed"
