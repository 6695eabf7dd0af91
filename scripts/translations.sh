#!/usr/bin/env bash
# Extract the console's strings and merge them into each catalogue. Then translate the
# new entries in src/shopops/console/locales/<locale>/LC_MESSAGES/messages.po
# (tests/console/test_translations.py fails while any string is untranslated or fuzzy).
set -euo pipefail
cd "$(dirname "$0")/../src/shopops/console"
BIN=../../../.venv/bin
$BIN/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 --no-location \
  --sort-output --project shopops -o locales/messages.pot . >/dev/null
for locale in zh_CN; do
  if [ -f "locales/$locale/LC_MESSAGES/messages.po" ]; then
    $BIN/pybabel update -i locales/messages.pot -d locales -l "$locale" --no-fuzzy-matching --ignore-obsolete
  else
    $BIN/pybabel init -i locales/messages.pot -d locales -l "$locale"
  fi
done
