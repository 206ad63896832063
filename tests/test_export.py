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


# -- through the real command, every column type the comparison supports ----------------

every_type = sa.MetaData()
sa.Table(
    "every_type",
    every_type,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("small", sa.SmallInteger),
    sa.Column("count", sa.Integer),
    sa.Column("big", sa.BigInteger),
    sa.Column("price", sa.Numeric(12, 4)),
    sa.Column("ratio", sa.Float),
    sa.Column("flag", sa.Boolean),
    sa.Column("label", sa.String(60)),
    sa.Column("code", sa.CHAR(3)),
    sa.Column("body", sa.Text),
    sa.Column("day", sa.Date),
    sa.Column("moment", sa.DateTime),
    sa.Column("moment_tz", sa.DateTime(timezone=True)),
    sa.Column("at", sa.Time),
    sa.Column("doc", sa.JSON),
    sa.Column("ref", sa.Uuid),
    sa.Column("blob", sa.LargeBinary),
    sa.Column("size", sa.Enum("small", "large", name="size_kind")),
)

EVERY_TYPE_ROWS: list[dict[str, Any]] = [
    {
        "name": "full",
        "small": -32768,
        "count": 2147483647,
        "big": -9_007_199_254_740_991,
        "price": decimal.Decimal("12345678.1234"),
        "ratio": 1e-7,
        "flag": False,
        "label": "yes",
        "code": "NO",
        "body": "line one\nline two: with colon\n",
        "day": dt.date(1999, 12, 31),
        "moment": dt.datetime(2024, 2, 29, 23, 59, 59),
        "moment_tz": dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc),
        "at": dt.time(0, 0, 1),
        "doc": {"a": [1, "two", {"three": None}], "b": True, "n": 0.5},
        "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "blob": b"\x00\xffbinary\n",
        "size": "large",
    },
    {"name": "1.10", "label": "0755", "code": "~", "doc": [], "size": "small"},
    {"name": "on", "label": "12:30", "body": "null", "doc": "text in json"},
]


def test_export_then_check_is_in_sync_for_every_column_type(
    database_url: sa.URL, tmp_path: Path
) -> None:
    from alembic_project import copy_example

    project = copy_example(tmp_path / "project", database_url)
    engine = project.engine()
    try:
        every_type.create_all(engine)
        with engine.begin() as connection:
            for row in EVERY_TYPE_ROWS:
                connection.execute(every_type.tables["every_type"].insert().values(**row))
    finally:
        engine.dispose()
    project.edit(
        "migrations/env.py",
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]',
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name"),'
        ' Dataset("config/every_type.yaml", table="every_type", key="name")]',
    )
    assert project.run("upgrade", "head").returncode == 0
    exported = project.run("datasync", "export", "every_type", "--key", "name")
    assert exported.returncode == 0, exported.output
    (project.folder / "config" / "every_type.yaml").write_text(exported.stdout)
    check = project.run("datasync", "--check")
    assert check.returncode == 0, exported.stdout + check.output
    assert (
        "datasync: every_type (config/every_type.yaml): 3 total, 0 to create, 0 to update, "
        "3 unchanged" in check.stdout
    )
    # The file, synced into an empty copy of the table, writes the same rows back.
    project.execute("DELETE FROM every_type")
    sync = project.run("datasync")
    assert sync.returncode == 0, sync.output
    again = project.run("datasync", "export", "every_type", "--key", "name")
    assert again.stdout == exported.stdout


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_export_then_check_is_in_sync_for_postgresql_types(
    database_url: sa.URL, tmp_path: Path
) -> None:
    from alembic_project import copy_example

    project = copy_example(tmp_path / "project", database_url)
    project.execute(
        "CREATE TABLE pg_types (name TEXT PRIMARY KEY, tags INTEGER[], grid NUMERIC[][],"
        " doc JSONB, addr INET, net CIDR, span INTERVAL, exact NUMERIC(38, 18), stamp TIMESTAMPTZ(3))"
    )
    project.execute(
        "INSERT INTO pg_types VALUES ('a', '{1,2,3}', '{{1.5,2},{3,4.25}}', "
        "'{\"x\": [1, 2.5, null], \"y\": {\"z\": false}}', '192.168.0.1', '10.0.0.0/8', "
        "'1 day 02:00:00', 1.000000000000000001, '2024-05-01 10:30:00.123+00')"
    )
    project.edit(
        "migrations/env.py",
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]',
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name"),'
        ' Dataset("config/pg_types.yaml", table="pg_types", key="name")]',
    )
    assert project.run("upgrade", "head").returncode == 0
    exported = project.run("datasync", "export", "pg_types", "--key", "name")
    assert exported.returncode == 0, exported.output
    assert "exact: 1.000000000000000001" in exported.stdout
    (project.folder / "config" / "pg_types.yaml").write_text(exported.stdout)
    check = project.run("datasync", "--check")
    assert check.returncode == 0, exported.stdout + check.output


@pytest.mark.parametrize(
    ("args", "failed"),
    [
        (
            ("export", "no_such_table", "--key", "name"),
            "FAILED: table 'no_such_table' does not exist in the database",
        ),
        (
            ("export", "llm_node_configuration", "--key", "nodename"),
            "FAILED: table 'llm_node_configuration' has no column 'nodename'; its columns: id, "
            "node_name, default_model, default_temperature, default_max_tokens, "
            "langsmith_tracing, description, azure_model, azure_temperature, azure_max_tokens",
        ),
        (
            ("export", "llm_node_configuration"),
            "FAILED: export llm_node_configuration: say which column names the rows with --key "
            "(a comma-separated list for a composite key), e.g. --key node_name",
        ),
        (
            ("export", "llm_node_configuration", "--key", "node_name", "--where", "nonsense ("),
            "FAILED: the database refused a statement: ",
        ),
        (
            ("export", "--dataset", "nodes"),
            "FAILED: env.py declares no dataset 'nodes'; it declares: llm_node_configuration",
        ),
    ],
)
def test_an_export_that_cannot_be_done_is_one_failed_line(
    database_url: sa.URL, tmp_path: Path, args: tuple[str, ...], failed: str
) -> None:
    from alembic_project import copy_example

    project = copy_example(tmp_path / "project", database_url)
    assert project.run("upgrade", "head").returncode == 0
    run = project.run("datasync", *args)
    assert run.returncode == 255, run.output
    assert "Traceback" not in run.output
    [line] = run.lines("FAILED: ")
    assert line.startswith(failed), line


def test_reexport_of_a_declared_dataset_after_an_emergency_edit(
    database_url: sa.URL, tmp_path: Path
) -> None:
    from alembic_project import copy_example

    project = copy_example(tmp_path / "project", database_url)
    assert project.run("upgrade", "head").returncode == 0
    # The FAQ's emergency: production changed by hand.
    project.execute(
        "UPDATE llm_node_configuration SET default_model = 'gpt-4o-mini' "
        "WHERE node_name = 'translation'"
    )
    before = (project.folder / "config" / "llm_nodes.yaml").read_text()
    run = project.run("datasync", "export", "--dataset", "llm_node_configuration")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines() == [
        "datasync: config/llm_nodes.yaml rewritten from llm_node_configuration: 8 rows, "
        "7 kept as written (with their comments), 1 written anew"
    ]
    after = (project.folder / "config" / "llm_nodes.yaml").read_text()
    assert before.startswith("#") and after.startswith(before.split("\n", 1)[0])
    assert "default_model: gpt-4o-mini" in after
    check = project.run("datasync", "--check")
    assert check.returncode == 0, after + check.output
