"""Type-aware comparison: a file that matches the table plans no update, on every database."""

from __future__ import annotations

import datetime as dt
import decimal
import textwrap
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, sync

from conftest import StatementLog

metadata = sa.MetaData()
typed = sa.Table(
    "typed",
    metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("price", sa.Numeric(8, 2)),
    sa.Column("flag", sa.Boolean),
    sa.Column("count", sa.Integer),
    sa.Column("ratio", sa.Float),
    sa.Column("single", sa.REAL),
    sa.Column("day", sa.Date),
    sa.Column("moment", sa.DateTime),
    sa.Column("moment_tz", sa.DateTime(timezone=True)),
    sa.Column("at", sa.Time),
    sa.Column("doc", sa.JSON),
    sa.Column("code", sa.CHAR(8)),
    # SQLAlchemy 2.0 stores Uuid on MySQL/MariaDB as CHAR(32) hex digits (2.1
    # uses MariaDB's native UUID); CHAR(36) keeps the text form on every version.
    sa.Column("ident", sa.Uuid().with_variant(sa.CHAR(36), "mysql", "mariadb")),
    sa.Column("size", sa.Enum("small", "large", name="size_enum")),
)

# Each case: the YAML value, and the column it goes into.  Every value here
# is stored by the database in a form that differs from what YAML reads
# (Decimal('0.20'), 1 for true, padded CHAR, UTC-converted datetimes...).
CASES = {
    "numeric_from_float": ("price", "0.2"),
    "numeric_from_int": ("price", "3"),
    "numeric_scale": ("price", "12.50"),
    "boolean_true": ("flag", "true"),
    "boolean_false": ("flag", "false"),
    "integer_from_float": ("count", "2000.0"),
    "float_from_int": ("ratio", "3"),
    "float_fraction": ("ratio", "0.1"),
    "real_fraction": ("single", "0.1"),
    "date": ("day", "2024-02-29"),
    "date_from_text": ("day", "'2024-02-29'"),
    "datetime_naive": ("moment", "2024-02-29 13:45:00"),
    "datetime_aware_into_naive": ("moment", "2024-02-29T13:45:00+02:00"),
    "datetime_naive_into_aware": ("moment_tz", "2024-02-29 13:45:00"),
    "datetime_aware": ("moment_tz", "2024-02-29T13:45:00-05:00"),
    "time": ("at", "'12:30:00'"),
    "json_nested": ("doc", "{b: [1, 2.5, true, null], a: {x: 'y'}}"),
    "json_scalar": ("doc", "7"),
    "char_padding": ("code", "ab"),
    "uuid": ("ident", "'6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718'"),
    "enum": ("size", "large"),
}


@pytest.fixture
def typed_table(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


@pytest.mark.parametrize("case", sorted(CASES))
def test_matching_value_plans_no_update(
    typed_table: sa.Engine, tmp_path: Path, statements: StatementLog, case: str
) -> None:
    column, value = CASES[case]
    (tmp_path / "typed.yaml").write_text(f"row:\n  {column}: {value}\n")
    dataset = [Dataset("typed.yaml", table="typed", key="name")]
    with typed_table.connect() as connection:
        first = sync(connection, dataset, base_dir=tmp_path)
    assert first.summary_lines()[0].endswith("1 total, 1 created, 0 updated, 0 unchanged")
    statements.clear()
    with typed_table.connect() as connection:
        again = sync(connection, dataset, base_dir=tmp_path)
    assert again.plan_lines() == []
    assert again.summary_lines()[0].endswith("1 total, 0 created, 0 updated, 1 unchanged")
    assert statements.writes == []


def test_a_real_change_of_each_kind_is_planned(typed_table: sa.Engine, tmp_path: Path) -> None:
    dataset = [Dataset("typed.yaml", table="typed", key="name")]
    before = """\
        row:
          price: 0.2
          flag: true
          count: 1
          day: 2024-02-29
          moment_tz: 2024-02-29T13:45:00+00:00
          doc: {a: 1}
          code: ab
        """
    after = """\
        row:
          price: 0.21
          flag: false
          count: 2
          day: 2024-03-01
          moment_tz: 2024-02-29T13:45:00+01:00
          doc: {a: true}
          code: abc
        """
    (tmp_path / "typed.yaml").write_text(textwrap.dedent(before))
    with typed_table.connect() as connection:
        sync(connection, dataset, base_dir=tmp_path)
    (tmp_path / "typed.yaml").write_text(textwrap.dedent(after))
    with typed_table.connect() as connection:
        report = sync(connection, dataset, base_dir=tmp_path)
    changed = [line.split(":")[0].strip() for line in report.plan_lines()[1:]]
    assert changed == ["price", "flag", "count", "day", "moment_tz", "doc", "code"]
    with typed_table.connect() as connection:
        stored = connection.execute(sa.select(typed)).one()._mapping
    assert stored["price"] == decimal.Decimal("0.21")
    assert stored["flag"] is False
    assert stored["day"] == dt.date(2024, 3, 1)
    assert stored["doc"] == {"a": True}
    assert stored["code"].rstrip() == "abc"


def test_uuid_column_round_trips(typed_table: sa.Engine, tmp_path: Path) -> None:
    value = uuid.UUID("6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718")
    (tmp_path / "typed.yaml").write_text(f"row: {{ident: '{value}'}}\n")
    with typed_table.connect() as connection:
        sync(connection, [Dataset("typed.yaml", table="typed", key="name")], base_dir=tmp_path)
        stored = connection.execute(sa.select(typed.c.ident)).scalar_one()
    assert uuid.UUID(str(stored)) == value
