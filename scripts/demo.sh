#!/usr/bin/env bash
# Installs medienwerk into .venv and starts the demo: SQLite in the instance folder, a demo LMS at /demo/,
# doubles for the LMS and BigBlueButton, everything on http://127.0.0.1:5000 (or --port P).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/medienwerk demo "$@"
