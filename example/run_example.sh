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
