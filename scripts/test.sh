#!/usr/bin/env bash
# Everything CI runs: ruff, mypy (strict on src/), import-linter, then pytest on
# SQLite and on PostgreSQL. PostgreSQL is started when it is not running; the
# PostgreSQL suite never silently skips.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${SHOPOPS_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}
export SHOPOPS_TEST_PG_URL=$PG_URL

step() { printf '\n==> %s\n' "$*"; }

lint() {
  step "ruff"
  $BIN/ruff check src tests bench
  $BIN/ruff format --check src tests bench
  step "mypy (strict on src/)"
  $BIN/mypy
  step "import-linter contracts"
  $BIN/lint-imports
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  step "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
    sleep 1
  done
  echo "PostgreSQL is not reachable at 127.0.0.1:5432; the PostgreSQL suite cannot run" >&2
  exit 1
}

ensure_chromium() {
  # Browser tests drive Debian's chromium through Playwright (never a downloaded browser);
  # fonts-noto-cjk renders the Chinese interface in screenshots.
  if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ]; then return 0; fi
  step "installing chromium (Debian package) for the browser tests"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk >/dev/null
}

suite() {
  local db=$1; shift
  step "pytest on $db"
  $BIN/pytest -q -p no:cacheprovider --db "$db" -n 2 --dist loadgroup "$@"
}

case "${1:-all}" in
  lint) lint ;;
  sqlite) ensure_chromium; suite sqlite "${@:2}" ;;
  postgresql) ensure_chromium; ensure_postgres; suite postgresql "${@:2}" ;;
  all)
    lint
    ensure_chromium
    suite sqlite
    ensure_postgres
    suite postgresql
    ;;
  *) echo "usage: scripts/test.sh [all|lint|sqlite|postgresql] [pytest args]" >&2; exit 2 ;;
esac
