#!/usr/bin/env bash
# Installs whatever is missing for KernelCamp; safe to run again (it skips what is done).
# Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }

# What each needed Debian package provides: a command on PATH or a file path.
apt_needs=("msgfmt:gettext" "node:nodejs" "npm:npm" "bwrap:bubblewrap" ${KC_EXTRA_APT[@]+"${KC_EXTRA_APT[@]}"})
missing=()
for pair in "${apt_needs[@]}"; do
  probe="${pair%%:*}" package="${pair#*:}"
  if [[ "$probe" == /* ]]; then compgen -G "$probe" >/dev/null && continue
  else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "Run as root, or install: ${missing[*]}" >&2; exit 1; fi
  if [ ! -f /tmp/.kc-apt-updated ]; then apt-get update -q && touch /tmp/.kc-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

PYTHON="${KC_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.11 or newer is needed." >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.kernelcamp-installed"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "Installing Python packages (first time: a few minutes)"
  .venv/bin/pip install -q --upgrade pip
  # The CPU wheel of torch lies on this disk; an unpinned torch would pull a multi-GB CUDA build.
  .venv/bin/pip install -q "torch==2.13.0"
  .venv/bin/pip install -q -e ".[test]"
  echo "$want" > "$stamp"
else
  say "Python packages are installed"
fi

if [ ! -f node_modules/htmx.org/dist/htmx.min.js ] || [ ! -f node_modules/katex/dist/katex.min.js ]; then
  say "Installing front-end assets from npm (served locally, no CDN)"
  npm install --no-audit --no-fund --loglevel=error
fi

say "Compiling translations"
(cd platform && ../.venv/bin/python ../manage.py compilemessages --ignore=.venv -v 0)
mkdir -p var/static
chmod 700 var
