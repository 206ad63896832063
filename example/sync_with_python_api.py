"""Sync config/llm_nodes.yaml into a SQLite database through the Python API.

    python sync_with_python_api.py [DATABASE_URL]

What a prestart script without Alembic would do.  The Alembic way is
`alembic upgrade head` (see alembic.ini and migrations/env.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import sqlalchemy as sa
from app.models import Base

from alembic_datasync import Dataset, DatasyncError, sync

HERE = Path(__file__).parent
DATASETS = [Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DATABASE_URL", "sqlite:///app.db")
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            report = sync(connection, DATASETS, base_dir=HERE)
    except DatasyncError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(report.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
