#!/usr/bin/env bash
# Installs what is missing (Python packages, chromium + chromium-driver, PostgreSQL) and runs
# every test. Extra arguments go to pytest.
set -euo pipefail
KC_EXTRA_APT=("chromium:chromium" "chromedriver:chromium-driver")
[ -x /usr/lib/postgresql/15/bin/initdb ] || [ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || KC_EXTRA_APT+=("kc-no-such-cmd-postgres:postgresql")
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
say "Running the test suite"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then echo "pytest collected no tests: that is a failure here." >&2; exit 1; fi
exit "$status"
