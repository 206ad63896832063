"""Issue 9, class 5: a value already in the table that the driver cannot read.

A value in the table is never the user's input error: the row is reported as
differing (or unreadable) and the file's value written over it, with no
traceback, and a default-mode ``alembic upgrade head`` never fails for it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, plan, sync

from alembic_project import copy_example

VALUES = Dataset("values.yaml", table="t", key="name")

# (database, column type, the value already in the table as SQL, the file's value)
UNREADABLE = [
    pytest.param(
        "postgresql",
        "TIMESTAMP",
        "'infinity'",
        "2024-05-01 10:30:00",
        id="pg-infinity",
    ),
    pytest.param(
        "postgresql",
        "TIMESTAMPTZ",
        "'-infinity'",
        "2024-05-01 10:30:00+00:00",
        id="pg-minus-inf",
    ),
    pytest.param("postgresql", "DATE", "'infinity'", "2024-05-01", id="pg-date-infinity"),
    pytest.param(
        "sqlite",
        "DATETIME",
        "1714559400",
        "2024-05-01 10:30:00",
        id="sqlite-epoch",
    ),
    pytest.param(
        "sqlite",
        "DATETIME",
        "'05/01/2024 10:30'",
        "2024-05-01 10:30:00",
        id="sqlite-non-iso",
    ),
    pytest.param("sqlite", "DATE", "'yesterday'", "2024-05-01", id="sqlite-date-text"),
    pytest.param("sqlite", "NUMERIC(10, 2)", "'abc'", "1.5", id="sqlite-text-in-numeric"),
    pytest.param("sqlite", "JSON", "'{not json'", "{a: 1}", id="sqlite-invalid-json"),
    pytest.param("sqlite", "TIME", "'25:99'", "'10:30:00'", id="sqlite-bad-time"),
    pytest.param(
        "mysql", "DATETIME", "'0000-00-00 00:00:00'", "2024-05-01 10:30:00", id="mariadb-zero-date"
    ),
]


def value_table(connection: sa.Connection, column_type: str) -> None:
    """The table ``t`` (name, v), on MySQL in a session that lets a zero date in."""
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql("SET SESSION sql_mode = ''")
    connection.exec_driver_sql(f"CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, v {column_type})")


@pytest.mark.parametrize(
    ("database_url", "column_type", "in_table", "in_file"), UNREADABLE, indirect=["database_url"]
)
def test_a_value_the_driver_cannot_read_is_reported_and_overwritten_without_a_traceback(
    database_url: sa.URL, tmp_path: Path, column_type: str, in_table: str, in_file: str
) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            value_table(connection, column_type)
            connection.exec_driver_sql(f"INSERT INTO t (name, v) VALUES ('r1', {in_table})")
        (tmp_path / "values.yaml").write_text(f"r1:\n  v: {in_file}\n")
        with engine.connect() as connection:
            planned = plan(connection, [VALUES], base_dir=tmp_path)
        assert planned.plan_lines()[0] == "~ r1"
        assert planned.plan_lines()[1].startswith("    v: ")
        with engine.connect() as connection:
            report = sync(connection, [VALUES], base_dir=tmp_path)
        assert report.summary_lines() == [
            "datasync: t (values.yaml): 1 total, 0 created, 1 updated, 0 unchanged"
        ]
        with engine.connect() as connection:
            assert plan(connection, [VALUES], base_dir=tmp_path).has_changes is False
    finally:
        engine.dispose()


VALID_UNTIL = '''\
"""valid_until, open-ended for intent_classification

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("llm_node_configuration", sa.Column("valid_until", sa.DateTime))
    op.execute(
        "UPDATE llm_node_configuration SET valid_until = 'infinity' "
        "WHERE node_name = 'intent_classification'"
    )


def downgrade() -> None:
    op.drop_column("llm_node_configuration", "valid_until")
'''


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_infinity_timestamp_in_the_table_never_fails_a_default_mode_upgrade(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    (project.folder / "migrations/versions/0002_valid_until.py").write_text(VALID_UNTIL)
    project.edit(
        "config/llm_nodes.yaml",
        'intent_classification:\n  default_model: "gpt-4o"\n',
        'intent_classification:\n  default_model: "gpt-4o"\n  valid_until: 2030-01-01 00:00:00\n',
    )
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert "Traceback" not in run.output
    assert project.version() == ["0002"]  # the migration is kept
    summary = "datasync: llm_node_configuration (config/llm_nodes.yaml): "
    assert run.datasync_lines()[:2] == [
        summary + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ intent_classification",
    ]
    assert run.datasync_lines()[2].startswith("      valid_until: ")
    assert project.query(
        "SELECT valid_until FROM llm_node_configuration WHERE node_name = 'intent_classification'"
    ) == [(dt.datetime(2030, 1, 1),)]
    again = project.run("upgrade", "head")
    assert again.datasync_lines() == [summary + "8 total, 0 created, 0 updated, 8 unchanged"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_row_whose_key_the_driver_cannot_read_is_left_alone_with_a_note(
    engine: sa.Engine, tmp_path: Path
) -> None:
    unreadable = "'yesterday'" if engine.dialect.name == "sqlite" else "'infinity'"
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (day DATE PRIMARY KEY, label VARCHAR(20))")
        connection.exec_driver_sql(f"INSERT INTO t (day, label) VALUES ({unreadable}, 'old')")
    (tmp_path / "days.yaml").write_text("2024-05-01:\n  label: new\n")
    days = [Dataset("days.yaml", table="t", key="day", prune=True)]
    with engine.connect() as connection:
        report = sync(connection, days, base_dir=tmp_path)
    assert report.render().splitlines() == [
        "datasync: t (days.yaml): 1 total, 1 created, 0 updated, 0 unchanged, 0 deleted",
        "  note: 1 row of the table has a key the database driver cannot read, which no "
        "dataset file can name: left alone",
        "  + 2024-05-01",
        "      label: 'new'",
    ]
    with engine.connect() as connection:
        labels = connection.exec_driver_sql("SELECT label FROM t ORDER BY label").scalars().all()
        assert labels == ["new", "old"]
        assert plan(connection, days, base_dir=tmp_path).has_changes is False


# (database, column type, an unreadable value as SQL, a readable one, the file's value)
BESIDE_THE_WRITES = [
    pytest.param(
        "sqlite", "DATETIME", "1714559400", "'2020-01-01 00:00:00'", "2024-05-01 10:30:00"
    ),
    pytest.param("postgresql", "TIMESTAMP", "'infinity'", "'2020-01-01'", "2024-05-01 10:30:00"),
    pytest.param(
        "mysql", "DATETIME", "'0000-00-00 00:00:00'", "'2020-01-01'", "2024-05-01 10:30:00"
    ),
]


@pytest.mark.parametrize(
    ("database_url", "column_type", "unreadable", "readable", "in_file"),
    BESIDE_THE_WRITES,
    indirect=["database_url"],
)
def test_an_unreadable_value_in_a_row_the_sync_leaves_alone_never_fails_the_check_after_writing(
    database_url: sa.URL,
    tmp_path: Path,
    column_type: str,
    unreadable: str,
    readable: str,
    in_file: str,
) -> None:
    """The check after writing reads most of a table back a batch at a time: a value the
    driver cannot read, after more than a batch of rows, is read around like the plan's."""
    engine = sa.create_engine(database_url)
    rows = 5_000  # more than one batch of the read (4,096 rows) before the unreadable row
    try:
        with engine.begin() as connection:
            value_table(connection, column_type)
            connection.execute(
                sa.text(f"INSERT INTO t (name, v) VALUES (:name, {readable})"),
                [{"name": f"r{number:05}"} for number in range(rows)],
            )
            connection.exec_driver_sql(f"INSERT INTO t (name, v) VALUES ('zz', {unreadable})")
        (tmp_path / "values.yaml").write_text(
            "".join(f"r{number:05}: {{v: {in_file}}}\n" for number in range(rows))
        )
        with warnings.catch_warnings(record=True) as warned, engine.connect() as connection:
            warnings.simplefilter("always")
            report = sync(connection, [VALUES], base_dir=tmp_path)
        assert [str(warning.message) for warning in warned] == []
        assert report.summary_lines() == [
            f"datasync: t (values.yaml): {rows} total, 0 created, {rows} updated, 0 unchanged"
        ]
        assert report.warnings == []
        with engine.connect() as connection:
            left = f"SELECT count(*) FROM t WHERE v = {readable}"
            assert connection.exec_driver_sql(left).scalar() == 0
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == rows + 1
            assert plan(connection, [VALUES], base_dir=tmp_path).has_changes is False
    finally:
        engine.dispose()
