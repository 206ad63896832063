#!/usr/bin/env bash
# The LLM-node configuration workflow end to end, on a scratch copy of this project and a new
# SQLite file: deploy, deploy again, edit the YAML, see the plan, deploy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/datasync-example.XXXXXX")"
cp -r "$here/alembic.ini" "$here/app" "$here/config" "$here/migrations" "$here/scripts" "$work"
cd "$work"
unset DATABASE_URL

step() { printf '\n$ %s\n' "$*"; "$@" 2>&1; }

echo "# scratch copy of example/ in $work"
echo "# first deploy: the migration creates the table, the sync creates the 8 nodes"
step alembic upgrade head
echo
echo "# next deploy, YAML unchanged: nothing is written"
step alembic upgrade head
echo
echo "# a pull request switches intent_classification to qwen-32b (scenario 1 of the README)"
python - <<'PY'
from pathlib import Path
path = Path("config/llm_nodes.yaml")
path.write_text(path.read_text().replace(
    'intent_classification:\n  default_model: "gpt-4o"',
    'intent_classification:\n  default_model: "qwen-32b"  # Changed from "gpt-4o"',
))
PY
step alembic datasync --dry-run
echo
echo "# deploy: prestart runs alembic upgrade head"
step bash scripts/prestart.sh
echo
echo "# a later pull request (example/pull_request/): an llm_provider table that each node names,"
echo "# and default_temperature handed to the admin page once a node exists"
python "$here/pull_request/apply.py" .
step alembic upgrade head
echo
echo "# support tunes reply_drafting's temperature in the admin page; the deploy keeps it"
python - <<'PY'
import sqlite3
with sqlite3.connect("app.db") as db:
    db.execute("UPDATE llm_node_configuration SET default_temperature = 0.9 WHERE node_name = 'reply_drafting'")
PY
step alembic datasync --check
echo
echo "# staging: the same files and a staging overlay (cheaper models, one node out, a canary)"
cp "$here/pull_request/config/llm_nodes.staging.yaml" config/
step alembic -x datasync_env=staging datasync --dry-run
