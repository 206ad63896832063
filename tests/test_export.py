"""Export: a table's rows as a dataset file that reads back exactly (the sync then plans nothing)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, plan
from alembic_datasync.exporter import exported_columns, read_rows, reexport, render
from alembic_datasync.loader import parse_file
from alembic_datasync.tables import column_rules, reflect_table

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
    sa.Column("count", sa.Integer),
    sa.Column("big", sa.BigInteger),
    sa.Column("price", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("flag", sa.Boolean),
    sa.Column("label", sa.String(60)),
    sa.Column("body", sa.Text),
    sa.Column("day", sa.Date),
    sa.Column("moment", sa.DateTime),
    sa.Column("moment_tz", sa.DateTime(timezone=True)),
    sa.Column("at", sa.Time),
    sa.Column("doc", sa.JSON),
    sa.Column("ref", sa.Uuid),
)
THINGS = Dataset("things.yaml", table="things", key="name")

#: Text YAML 1.1 would read as something else, and text an editor would hide.
TRICKY_TEXT = [
    "NO",
    "yes",
    "1.10",
    "0755",
    "12:30",
    "~",
    "",
    " leading space",
    "trailing space ",
    "a: b",
    "- dash",
    "# hash",
    "quote ' and \" both",
    "line\u2028separator",
    "tab\there",
    "ünïcødé ✓",
    "null",
    "1e3",
]

ROWS: list[dict[str, Any]] = [
    {
        "name": "all",
        "count": -7,
        "big": 9_007_199_254_740_993,
        "price": decimal.Decimal("12.50"),
        "ratio": 0.1,
        "flag": True,
        "label": "NO",
        "body": "first line\nsecond line\n",
        "day": dt.date(2024, 2, 29),
        "moment": dt.datetime(2024, 5, 1, 10, 30, 15),
        "moment_tz": dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.timezone.utc),
        "at": dt.time(12, 30),
        "doc": {"list": [1, 2.5, None, "x"], "nested": {"yes": "no"}, "empty": {}},
        "ref": uuid.UUID("6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718"),
    },
    {"name": "sparse", "flag": False, "ratio": -1.5e-3},
    *({"name": f"text {i}", "label": text} for i, text in enumerate(TRICKY_TEXT)),
    {"name": "NO", "count": 0},
    {"name": "1.10", "count": 1},
]


@pytest.fixture
def filled(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    with engine.begin() as connection:
        for row in ROWS:
            connection.execute(things.insert().values(**row))
    return engine


def export_text(engine: sa.Engine, key: tuple[str, ...] = ("name",)) -> str:
    dataset = Dataset("things.yaml", table="things", key=key)
    with engine.connect() as connection:
        table = reflect_table(connection, dataset)
        assert table is not None
        columns = exported_columns(table, key)
        rules = column_rules(table, connection.dialect.name)
        rows, _ = read_rows(connection, table, columns, key, rules=rules)
        return render(rows, key)


def test_an_exported_table_reads_back_in_sync(filled: sa.Engine, tmp_path: Path) -> None:
    text = export_text(filled)
    (tmp_path / "things.yaml").write_text(text, encoding="utf-8")
    with filled.connect() as connection:
        report = plan(connection, [THINGS], base_dir=tmp_path)
    assert report.summary_lines() == [
        f"datasync: things (things.yaml): {len(ROWS)} total, 0 to create, 0 to update, "
        f"{len(ROWS)} unchanged"
    ]
    assert "id:" not in text  # the surrogate key is the database's
    assert "'NO':\n  count: 0\n" in text  # a key YAML would misread is quoted
    assert "  label: 'NO'\n" in text
    assert "line\\Lseparator" in text  # escaped, not an invisible line break
    assert "sparse:\n  ratio: -0.0015\n  flag: false\n" in text  # NULLs left out


def test_an_export_with_a_composite_key_is_a_list_of_rows(
    filled: sa.Engine, tmp_path: Path
) -> None:
    text = export_text(filled, key=("name", "count"))
    assert text.startswith("- name: ")
    (tmp_path / "things.yaml").write_text(text, encoding="utf-8")
    dataset = Dataset("things.yaml", table="things", key=("name", "count"))
    with filled.connect() as connection:
        report = plan(connection, [dataset], base_dir=tmp_path)
    # Rows with a NULL in the key (count) cannot be named: left out, and left alone.
    assert report.summary_lines() == [
        "datasync: things (things.yaml): 3 total, 0 to create, 0 to update, 3 unchanged"
    ]


def test_reexport_keeps_the_comments_of_rows_the_table_did_not_change(
    filled: sa.Engine, tmp_path: Path
) -> None:
    source = (
        "# LLM-node style header comment\n"
        "all:\n  count: -7  # kept with its row\n  ratio: 0.1\n  flag: true\n"
        "# about sparse\n"
        "sparse:\n  ratio: -0.0015\n  flag: false\n"
        "gone:\n  count: 3\n"
        "# trailing comment\n"
    )
    with filled.begin() as connection:
        connection.execute(things.update().where(things.c.name == "sparse").values(flag=True))
    with filled.connect() as connection:
        table = reflect_table(connection, THINGS)
        assert table is not None
        loaded = parse_file(source, THINGS)
        written = ["name", "count", "ratio", "flag"]
        rules = column_rules(table, connection.dialect.name)
        where = "name IN ('all', 'sparse')"
        rows, _ = read_rows(connection, table, written, ("name",), where, rules)
        text, kept = reexport(loaded, source, rows, rules)
    assert kept == 1
    assert text == (
        "# LLM-node style header comment\n"
        "all:\n  count: -7  # kept with its row\n  ratio: 0.1\n  flag: true\n"
        "# about sparse\n"
        "sparse:\n  ratio: -0.0015\n  flag: true\n"
        "# trailing comment\n"
    )
