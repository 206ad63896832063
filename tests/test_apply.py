"""Large plans: COPY into a temporary table on PostgreSQL, executemany elsewhere, same rows.

`apply.COPY_THRESHOLD` is lowered here so that a few rows take the path that
thousands take in production.
"""

from __future__ import annotations

import datetime as dt
import decimal
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic_datasync import ApplyFailed, Dataset, sync
from alembic_datasync import writer as apply_module

from conftest import StatementLog

metadata = sa.MetaData()
readings = sa.Table(
    "readings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
    sa.Column("label", sa.Text),
    sa.Column("amount", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("active", sa.Boolean),
    # Microseconds everywhere: MySQL's DATETIME keeps whole seconds unless told.
    sa.Column(
        "taken_at",
        sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
    ),
    sa.Column("day", sa.Date),
    sa.Column("ref", sa.Uuid),
    sa.Column("serial", sa.String(20), unique=True),
)
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("body", sa.JSON),
)

READINGS = Dataset("readings.yaml", table="readings", key="code")

ROWS = """\
r1:
  label: "tab\\there, newline\\nthere, back\\\\slash, quote \\" and comma,"
  amount: 12.50
  ratio: 0.1
  active: true
  taken_at: 2024-05-01 10:30:00+02:00
  day: 2024-05-01
  ref: 0b9a3f5e8a534f4c9d1e1f0b2c3d4e5f
  serial: s1
r2:
  label: null
  amount: 0
  ratio: -1.5e-3
  active: false
  taken_at: 2024-05-02 00:00:00
  day: 2024-05-02
  ref: null
  serial: s2
r3:
  label: "\\\\N is not null"
  amount: 99999999.99
  ratio: 2.5
  active: no
  taken_at: null
  day: null
  ref: 2c1b7a9e000040008000000000000000
  serial: s3
r4:
  label: "ünïcødé ✓"
  amount: -0.01
  ratio: 1.5e+30
  active: null
  taken_at: 1999-12-31 23:59:59.999999+00:00
  day: 1999-12-31
  ref: 2c1b7a9e000040008000000000000001
  serial: s4
"""


@pytest.fixture(autouse=True)
def copy_from_three_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply_module, "COPY_THRESHOLD", 3)


@pytest.fixture
def tables(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text))


def run_sync(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> Any:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder)


def table_rows(engine: sa.Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    columns = [c for c in table.c if c.name != "id"]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*columns).order_by(columns[0]))]


def test_large_group_of_new_rows_is_written_by_one_statement(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "readings.yaml", ROWS)
    report = run_sync(tables, [READINGS], tmp_path)
    assert len(report.datasets[0].creates) == 4
    (insert,) = statements.writes
    if tables.dialect.name == "postgresql":
        # COPY into a temporary table (not an INSERT), then one INSERT ... SELECT.
        assert insert.startswith("INSERT INTO readings (code, label, amount")
        assert "SELECT" in insert
    else:
        assert insert.startswith("INSERT INTO readings")


def test_copied_rows_hold_what_executemany_would_write(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "readings.yaml", ROWS)
    run_sync(tables, [READINGS], tmp_path)
    copied = table_rows(tables, readings)
    with tables.begin() as connection:
        connection.execute(readings.delete())
    monkeypatch.setattr(apply_module, "COPY_THRESHOLD", 1_000_000)
    run_sync(tables, [READINGS], tmp_path)
    assert table_rows(tables, readings) == copied
    assert copied[0][:3] == (
        "r1",
        'tab\there, newline\nthere, back\\slash, quote " and comma,',
        decimal.Decimal("12.50"),
    )
    assert copied[2][1] == "\\N is not null"
    assert copied[1][1] is None
    # A UUID object where the column is UUID; its 32 hex digits where it is CHAR(32)
    # (MariaDB under SQLAlchemy 2.0 creates sa.Uuid so), which is why the file writes those.
    assert uuid.UUID(str(copied[3][7])) == uuid.UUID("2c1b7a9e-0000-4000-8000-000000000001")
    assert copied[3][6] == dt.date(1999, 12, 31)
    # What was copied reads back as unchanged: nothing to write on the next sync.
    statements.clear()
    report = run_sync(tables, [READINGS], tmp_path)
    assert statements.writes == []
    assert report.datasets[0].unchanged == 4


def test_large_group_of_changed_rows_is_one_update(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "readings.yaml", ROWS)
    run_sync(tables, [READINGS], tmp_path)
    before = table_rows(tables, readings)
    write(tmp_path, "readings.yaml", ROWS.replace("  active:", "  active: true #"))
    statements.clear()
    report = run_sync(tables, [READINGS], tmp_path)
    assert [c.label for c in report.datasets[0].updates] == ["r2", "r3", "r4"]
    (update,) = statements.writes
    assert update.startswith("UPDATE readings SET active=")
    after = table_rows(tables, readings)
    assert [row[4] for row in after] == [True, True, True, True]
    assert [row[:4] + row[5:] for row in after] == [row[:4] + row[5:] for row in before]


def test_refused_copied_rows_fail_the_sync_and_write_nothing(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "readings.yaml", ROWS.replace("serial: s4", "serial: s1"))
    with pytest.raises(ApplyFailed) as caught:
        run_sync(tables, [READINGS], tmp_path)
    assert "the database refused to insert" in str(caught.value)
    assert "of 'readings'" in str(caught.value)
    assert table_rows(tables, readings) == []


def test_columns_copy_cannot_write_exactly_keep_to_executemany(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(
        tmp_path,
        "documents.yaml",
        "".join(f"d{i}: {{body: {{n: {i}, tags: [a, b]}}}}\n" for i in range(5)),
    )
    run_sync(tables, [Dataset("documents.yaml", table="documents", key="code")], tmp_path)
    (insert,) = statements.writes
    assert "SELECT" not in insert
    with tables.connect() as connection:
        bodies = connection.execute(sa.select(documents.c.body).order_by("code")).scalars()
        assert list(bodies) == [{"n": i, "tags": ["a", "b"]} for i in range(5)]
