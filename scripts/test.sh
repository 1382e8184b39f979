#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: on SQLite, then on PostgreSQL when it answers
# (MEDIENWERK_TEST_POSTGRES_URI, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
# MEDIENWERK_REQUIRE_POSTGRES=1 (set by CI) makes a missing PostgreSQL an error. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# Debian's packages the tests drive: Chromium (browser tests) and nginx (the deployment test)
missing=()
[ -x "${MEDIENWERK_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's ${missing[*]} for the tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # the tests start nginx themselves on loopback ports; the package's own service is not needed
    if command -v systemctl >/dev/null; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
    pkill -x nginx 2>/dev/null || true
  else
    echo "Missing: ${missing[*]}. Install Debian's packages (as root: apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
fi

echo "== lint: ruff, formatting, the import contracts (pyproject.toml), types"
.venv/bin/ruff check lms lti tests bench
.venv/bin/ruff format --check --quiet lms lti tests bench
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/mypy

PG_URI=${MEDIENWERK_TEST_POSTGRES_URI:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
pg_answers() {
  .venv/bin/python - "$PG_URI" <<'PY' >/dev/null 2>&1
import sys
import sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1], connect_args={"connect_timeout": 3})
with engine.connect() as conn:
    conn.execute(sqlalchemy.text("SELECT 1"))
PY
}

# three processes share the tests (pytest-xdist): many tests wait on servers and subprocesses, so a third keeps
# both cores busy; an idle process takes tests queued for another (worksteal). MEDIENWERK_TEST_WORKERS=0 runs
# them in this one.
WORKERS=(-n "${MEDIENWERK_TEST_WORKERS:-3}" --dist worksteal)
[ "${MEDIENWERK_TEST_WORKERS:-3}" = 0 ] && WORKERS=()
WORKERS+=(--durations=8)  # each pass names its slowest tests, for the next look at the suite's time

PG=0
if pg_answers; then
  PG=1
elif [ "${MEDIENWERK_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL does not answer at $PG_URI, and MEDIENWERK_REQUIRE_POSTGRES=1." >&2
  exit 1
fi

echo "== tests on SQLite"
if [ "$PG" = 1 ]; then
  # the shipped deployment (systemd units, nginx) runs against PostgreSQL, in the pass below
  MEDIENWERK_TEST_DATABASE_URI="" .venv/bin/python -m pytest "${WORKERS[@]}" -m "not production" "$@"
else
  MEDIENWERK_TEST_DATABASE_URI="" .venv/bin/python -m pytest "${WORKERS[@]}" "$@"
fi

if [ "$PG" = 1 ]; then
  # the browser tests ran on SQLite already: what they check (pages, accessibility) does not depend on the database
  echo "== tests on PostgreSQL (those that reach the database; tests/conftest.py leaves out the others)"
  MEDIENWERK_TEST_DATABASE_URI="$PG_URI" .venv/bin/python -m pytest "${WORKERS[@]}" -m "not browser" "$@"
else
  echo "== PostgreSQL does not answer at $PG_URI: the PostgreSQL run was skipped"
fi
