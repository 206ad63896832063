#! /usr/bin/env bash

set -e
set -x

# Run migrations, then sync the YAML datasets (alembic_datasync, from env.py)
alembic upgrade head
