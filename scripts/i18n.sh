#!/usr/bin/env bash
# Extract UI strings (German msgids), update the English catalogue and compile it:
#   ./scripts/i18n.sh           then translate the empty msgstr entries in lms/translations/en/LC_MESSAGES/messages.po
#   ./scripts/i18n.sh           again to compile
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location -o lms/translations/messages.pot .
.venv/bin/pybabel -q update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching --width 120
.venv/bin/pybabel -q compile -d lms/translations
