#!/usr/bin/env bash
# The schema has one migration while no release exists: regenerate it from the
# models (autogenerate against an empty SQLite database). After the first
# release, add new revisions with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=src/shopops/migrations/versions
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$VERSIONS"/0001_initial_schema.py
.venv/bin/python - "$work/empty.db" <<'PY'
import sys
from alembic import command
from sqlalchemy import create_engine
from shopops.db.migrate import alembic_config

url = f"sqlite:///{sys.argv[1]}"
engine = create_engine(url)
config = alembic_config(url)
with engine.begin() as connection:
    config.attributes["connection"] = connection
    command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i 's/astext_type=Text()/astext_type=sa.Text()/g' "$VERSIONS"/0001_initial_schema.py
echo "regenerated $VERSIONS/0001_initial_schema.py"
