#!/usr/bin/env bash
# What the container runs before the app starts, as a FastAPI backend's prestart.sh does:
# schema migrations, then the YAML datasets synced into their tables, in one
# command. Run from the project folder (the one with alembic.ini).
set -euo pipefail
cd "$(dirname "$0")/.."
alembic upgrade head
