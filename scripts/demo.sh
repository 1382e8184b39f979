#!/usr/bin/env bash
# Installs medienwerk into .venv and starts the demo: SQLite in the instance folder, a demo LMS at /demo/,
# doubles for the LMS and BigBlueButton, everything on http://127.0.0.1:5000 (or --port P).
# The install runs only when pyproject.toml changed since the last one (a stamp file in .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
STAMP=.venv/.medienwerk-install-stamp
if [ ! -x .venv/bin/medienwerk ] || ! cmp -s pyproject.toml "$STAMP"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  cp pyproject.toml "$STAMP"
fi
exec .venv/bin/medienwerk demo "$@"
