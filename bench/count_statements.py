"""What a no-op sync of the example sends: every statement, and how many write.

    python bench/count_statements.py sqlite:////tmp/count.db
    python bench/count_statements.py postgresql+psycopg://postgres@127.0.0.1/test

Creates the example's table in the database at the URL (dropping it after),
syncs example/config/llm_nodes.yaml twice, then counts what a third, no-op
sync sends (the no-parse shortcut of the state: no SELECT of the rows either).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
sys.path.insert(0, str(EXAMPLE))

from alembic_datasync import Dataset, StateTables, sync  # noqa: E402
from alembic_datasync.storage import state_table  # noqa: E402

from app.models import Base  # noqa: E402

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def main(url: str) -> None:
    engine = sa.create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    datasets = [Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]
    try:
        # The first sync writes the rows; the second, finding nothing to do,
        # verifies the state (its own table only); the third is every deploy after.
        for _ in range(2):
            with engine.connect() as connection:
                sync(connection, datasets, base_dir=EXAMPLE)
        sent: list[str] = []

        def record(*args: Any) -> None:
            sent.append(args[2])

        sa.event.listen(engine, "before_cursor_execute", record)
        with engine.connect() as connection:
            report = sync(connection, datasets, base_dir=EXAMPLE)
        print(report.summary_lines()[0])
        print(
            f"{engine.dialect.name}: {len(sent)} statements, "
            f"{sum(1 for s in sent if WRITE.match(s))} writes"
        )
        for statement in sent:
            print("   ", " ".join(statement.split())[:110])
    finally:
        Base.metadata.drop_all(engine)
        state_table(StateTables()).metadata.drop_all(engine)  # the sync's own tables
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite:///:memory:")
