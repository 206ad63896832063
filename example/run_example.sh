#!/usr/bin/env bash
# The example end to end on a fresh SQLite file: first sync, then a no-op resync.
set -euo pipefail
cd "$(dirname "$0")"
rm -f app.db
echo "\$ python sync_with_python_api.py   # first deploy: creates the 8 nodes"
python sync_with_python_api.py
echo
echo "\$ python sync_with_python_api.py   # next deploy, file unchanged: writes nothing"
python sync_with_python_api.py
