"""The sync remembers what it applied (issue 13): removed lines revert, prune deletes only
owned rows, a history of syncs, no re-parse of an unchanged file.  Through the Python API,
on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_keys_collation import case_insensitive_key

from alembic_datasync import (
    ApplyFailed,
    Dataset,
    InvalidDatasets,
    StateTables,
    SyncOrigin,
    SyncReport,
    apply,
    plan,
    sync,
    sync_history,
    sync_record,
)
from alembic_datasync.column_types import rule_for
from alembic_datasync.encoding import pack_lists, unpack
from alembic_datasync.history import record_json, sync_lines
from alembic_datasync.reverts import DatabaseDefault, revert_target

from conftest import StatementLog, python_lines
from databases import isolated_database
from example_project import example_model

metadata = sa.MetaData()
llm_nodes = example_model("LLMNodeConfiguration").__table__.to_metadata(metadata)
items = sa.Table(
    "items",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, unique=True),
    # A default the database computes: reverted by SET label = <its SQL>.
    sa.Column("label", sa.String(50), server_default=sa.text("(lower('ABC'))")),
    sa.Column("rank", sa.Integer, server_default="5"),
    sa.Column("note", sa.String(50)),
    sa.Column("token", sa.String(50)),
)

NODES = Dataset("llm_nodes.yaml", table="llm_node_configuration", key="node_name")
ITEMS = Dataset("items.yaml", table="items", key="code")

REPLY = """\
reply_drafting:
  default_model: "gpt-4o"
  default_temperature: 0.7
  azure_model: "gpt-4o-eu"
  azure_temperature: 0.6
intent_classification:
  default_model: "gpt-4o"
  default_temperature: 0.2
"""


@pytest.fixture
def tables(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text))


def run_sync(
    engine: sa.Engine, datasets: list[Dataset], folder: Path, **options: Any
) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder, **options)


def run_plan(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return plan(connection, datasets, base_dir=folder)


def select(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def execute(engine: sa.Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql))


def has_table(engine: sa.Engine, name: str) -> bool:
    return sa.inspect(engine).has_table(name)


# -- 1. a line removed from the file goes back to its default ----------------------------


def test_a_removed_line_goes_back_to_null_and_says_so(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "llm_nodes.yaml", REPLY)
    run_sync(tables, [NODES], tmp_path)
    write(tmp_path, "llm_nodes.yaml", REPLY.replace('  azure_model: "gpt-4o-eu"\n', ""))
    planned = run_plan(tables, [NODES], tmp_path)
    assert planned.plan_lines() == [
        "~ reply_drafting",
        "    azure_model: 'gpt-4o-eu' -> NULL (removed from the file)",
    ]
    statements.clear()
    report = run_sync(tables, [NODES], tmp_path)
    assert report.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): 2 total, 0 created, 1 updated, "
        "1 unchanged"
    ]
    assert len(statements.writes) == 1
    assert select(
        tables,
        "SELECT azure_model, azure_temperature FROM llm_node_configuration "
        "WHERE node_name = 'reply_drafting'",
    ) == [(None, 0.6)]
    # Reverted once: the state no longer says the file writes it.
    assert run_plan(tables, [NODES], tmp_path).plan_lines() == []


def test_a_removed_line_goes_back_to_the_database_default(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "items.yaml", "a: {name: A, label: mine, rank: 7}\nb: {name: B, rank: 5}\n")
    run_sync(tables, [ITEMS], tmp_path)
    write(tmp_path, "items.yaml", "a: {name: A}\nb: {name: B}\n")
    report = run_sync(tables, [ITEMS], tmp_path)
    lines = report.plan_lines()
    # A literal default is read back as its value; b already holds it: nothing to do.
    assert lines[0] == "~ a"
    assert lines[1].startswith("    label: 'mine' -> DEFAULT ")
    assert ("lower(" in lines[1] or "lcase(" in lines[1]) and lines[1].endswith(
        " (removed from the file)"
    )
    assert lines[2:] == ["    rank: 7 -> 5 (removed from the file)"]
    assert select(tables, "SELECT code, label, rank FROM items ORDER BY code") == [
        ("a", "abc", 5),
        ("b", "abc", 5),
    ]
    assert run_plan(tables, [ITEMS], tmp_path).plan_lines() == []


def test_columns_the_file_never_wrote_stay_untouched(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "items.yaml", "a: {name: A, rank: 7}\n")
    run_sync(tables, [ITEMS], tmp_path)
    execute(tables, "UPDATE items SET note = 'set by the application', label = 'app'")
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    report = run_sync(tables, [ITEMS], tmp_path)
    assert report.plan_lines() == ["~ a", "    rank: 7 -> 5 (removed from the file)"]
    assert select(tables, "SELECT note, label, rank FROM items") == [
        ("set by the application", "app", 5)
    ]


def test_a_removed_value_without_a_default_for_a_not_null_column_is_a_problem(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    run_sync(tables, [ITEMS], tmp_path)
    write(tmp_path, "items.yaml", "a: {rank: 1}\n")
    with pytest.raises(InvalidDatasets) as caught:
        run_sync(tables, [ITEMS], tmp_path)
    assert str(caught.value) == (
        "1 problem in dataset files, nothing written:\n"
        "  items.yaml:1:1: row 'a' of 'items' no longer writes 'name', which cannot be NULL "
        "and has no default to go back to; write its value in the row again"
    )
    assert select(tables, "SELECT name, rank FROM items") == [("A", 5)]


def test_a_removed_value_goes_back_to_the_models_default(tables: sa.Engine) -> None:
    """Where a model default is attached to the column (target_metadata), it wins."""
    with_default = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("a", sa.Integer, default=3, server_default="5"),
        sa.Column("b", sa.String(10), default=lambda: "made"),
        sa.Column("c", sa.DateTime, default=sa.func.now()),
        sa.Column("d", sa.Integer, server_default="5"),
        sa.Column("e", sa.Integer),
    )
    dialect = tables.dialect.name
    with tables.connect() as connection:
        targets = {
            column.name: revert_target(connection, column, rule_for(column.type, dialect))
            for column in with_default.columns
        }
    assert targets["a"].for_row() == 3
    assert targets["b"].for_row() == "made"
    assert isinstance(targets["c"].value, DatabaseDefault)
    assert targets["d"].for_row() == 5
    assert targets["e"].is_null


# -- 2. prune deletes only the rows the file owns -------------------------------------


def codes(prune: Any = True, path: str = "items.yaml") -> Dataset:
    return Dataset(path, table="items", key="code", prune=prune)


def test_prune_deletes_rows_the_file_wrote_never_rows_the_application_inserted(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "items.yaml", "a: {name: A}\nb: {name: B}\n")
    run_sync(tables, [codes()], tmp_path)
    execute(tables, "INSERT INTO items (code, name) VALUES ('app', 'inserted by the app')")
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    report = run_sync(tables, [codes()], tmp_path)
    assert report.plan_lines() == ["- b"]
    assert report.summary_lines() == [
        "datasync: items (items.yaml): 1 total, 0 created, 0 updated, 1 unchanged, 1 deleted"
    ]
    assert select(tables, "SELECT code FROM items ORDER BY code") == [("a",), ("app",)]


def test_prune_all_deletes_every_row_the_file_does_not_list(
    tables: sa.Engine, tmp_path: Path
) -> None:
    execute(tables, "INSERT INTO items (code, name) VALUES ('app', 'inserted by the app')")
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    report = run_sync(tables, [codes("all")], tmp_path)
    assert report.plan_lines() == ["+ a", "    name: 'A'", "- app"]
    assert select(tables, "SELECT code FROM items") == [("a",)]


def test_a_first_sync_without_state_adopts_the_rows_it_lists(
    tables: sa.Engine, tmp_path: Path
) -> None:
    # Rows already in the table (a restored dump, a library upgrade): nothing says
    # the file wrote them, so this sync deletes none; the listed ones become its own.
    execute(
        tables,
        "INSERT INTO items (code, name) VALUES ('a', 'A'), ('b', 'B'), ('app', 'by the app')",
    )
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    report = run_sync(tables, [codes()], tmp_path)
    assert report.plan_lines() == []
    assert report.datasets[0].notes == [
        "2 rows of the table not in the file left alone: no state of an earlier sync says the "
        "file wrote them (prune=True deletes only rows the file wrote, from this sync on; "
        "prune='all' deletes every row it does not list)"
    ]
    assert select(tables, "SELECT code FROM items ORDER BY code") == [("a",), ("app",), ("b",)]
    write(tmp_path, "items.yaml", "c: {name: C}\n")
    report = run_sync(tables, [codes()], tmp_path)
    assert report.plan_lines() == ["+ c", "    name: 'C'", "- a"]
    assert select(tables, "SELECT code FROM items ORDER BY code") == [("app",), ("b",), ("c",)]


def test_a_renamed_key_is_a_new_row_and_the_old_one_goes_only_when_pruning(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "items.yaml", "old: {name: A, rank: 1}\n")
    run_sync(tables, [codes(False)], tmp_path)
    write(tmp_path, "items.yaml", "new: {name: B, rank: 1}\n")
    run_sync(tables, [codes(False)], tmp_path)
    # Without prune the old row stays, as it is, and is no longer the file's.
    assert select(tables, "SELECT code, rank FROM items ORDER BY code") == [
        ("new", 1),
        ("old", 1),
    ]
    write(tmp_path, "items.yaml", "newer: {name: C}\n")
    report = run_sync(tables, [codes()], tmp_path)
    assert report.plan_lines() == ["+ newer", "    name: 'C'", "- new"]
    assert select(tables, "SELECT code FROM items ORDER BY code") == [("newer",), ("old",)]


def test_a_row_moved_to_another_dataset_of_its_table_is_never_pruned(
    tables: sa.Engine, tmp_path: Path
) -> None:
    first, second = codes(path="first.yaml"), codes(path="second.yaml")
    write(tmp_path, "first.yaml", "a: {name: A}\nshared: {name: S}\n")
    write(tmp_path, "second.yaml", "b: {name: B}\n")
    run_sync(tables, [first, second], tmp_path)
    # The row moves, in one sync: the second file lists it, the first no longer does.
    write(tmp_path, "first.yaml", "a: {name: A}\n")
    write(tmp_path, "second.yaml", "b: {name: B}\nshared: {name: S}\n")
    report = run_sync(tables, [first, second], tmp_path)
    assert report.plan_lines() == []
    # And back, one dataset synced at a time: the other's state still claims the row.
    write(tmp_path, "second.yaml", "b: {name: B}\n")
    write(tmp_path, "first.yaml", "a: {name: A}\nshared: {name: S}\n")
    assert run_sync(tables, [first], tmp_path).plan_lines() == []
    assert run_sync(tables, [second], tmp_path).plan_lines() == []
    assert select(tables, "SELECT code FROM items ORDER BY code") == [("a",), ("b",), ("shared",)]


def test_keys_the_database_calls_equal_are_one_owned_row(engine: sa.Engine, tmp_path: Path) -> None:
    key = case_insensitive_key(engine)
    execute(engine, f"CREATE TABLE tags (code {key} PRIMARY KEY, note VARCHAR(50))")
    tags = Dataset("tags.yaml", table="tags", key="code", prune=True)
    write(tmp_path, "tags.yaml", "Foo: {note: kept}\nBar: {note: x}\n")
    run_sync(engine, [tags], tmp_path)
    # The file now spells the key otherwise and drops the note: the same row to the
    # database, so its note goes back to NULL, and it is neither deleted nor created.
    write(tmp_path, "tags.yaml", "FOO: {}\nBar: {note: x}\n")
    report = run_sync(engine, [tags], tmp_path)
    assert report.plan_lines() == ["~ FOO", "    note: 'kept' -> NULL (removed from the file)"]
    assert select(engine, "SELECT code, note FROM tags ORDER BY code") == [
        ("Bar", "x"),
        ("Foo", None),
    ]


# -- the state: written with the sync, never by a dry run -------------------------------


def test_a_dry_run_and_a_plan_never_create_or_write_the_state(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    run_plan(tables, [ITEMS], tmp_path)
    run_sync(tables, [ITEMS], tmp_path, dry_run=True)
    assert not has_table(tables, "alembic_datasync_state")
    assert not has_table(tables, "alembic_datasync_history")
    run_sync(tables, [ITEMS], tmp_path)
    assert select(tables, "SELECT dataset, path, row_count FROM alembic_datasync_state") == [
        ("items", "items.yaml", 1)
    ]
    write(tmp_path, "items.yaml", "a: {name: A2}\n")
    statements.clear()
    run_sync(tables, [ITEMS], tmp_path, dry_run=True)
    run_plan(tables, [ITEMS], tmp_path)
    assert statements.own_writes == []


def test_a_refused_sync_leaves_neither_state_nor_history(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "items.yaml", "a: {name: A}\nb: {name: A}\n")  # name is unique
    with pytest.raises(ApplyFailed):
        run_sync(tables, [ITEMS], tmp_path)
    assert select(tables, "SELECT count(*) FROM items") == [(0,)]
    for name in ("alembic_datasync_state", "alembic_datasync_history"):
        # Created in the sync's transaction (MySQL: before it, and left empty).
        if has_table(tables, name):
            assert select(tables, f"SELECT count(*) FROM {name}") == [(0,)]


def test_a_plan_applied_later_records_the_state_and_history_too(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "items.yaml", "a: {name: A, rank: 7}\n")
    planned = run_plan(tables, [ITEMS], tmp_path)
    with tables.connect() as connection:
        apply(connection, planned)
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    assert run_plan(tables, [ITEMS], tmp_path).plan_lines() == [
        "~ a",
        "    rank: 7 -> 5 (removed from the file)",
    ]
    with tables.connect() as connection:
        assert [r.change_count for r in sync_history(connection)] == [1]


def test_the_tables_can_be_named_and_placed(tables: sa.Engine, tmp_path: Path) -> None:
    names = StateTables(state="my_state", history="my_history")
    write(tmp_path, "items.yaml", "a: {name: A, rank: 7}\n")
    run_sync(tables, [ITEMS], tmp_path, state=names)
    write(tmp_path, "items.yaml", "a: {name: A}\n")
    report = run_sync(tables, [ITEMS], tmp_path, state=names)
    assert report.plan_lines() == ["~ a", "    rank: 7 -> 5 (removed from the file)"]
    assert not has_table(tables, "alembic_datasync_state")
    assert select(tables, "SELECT count(*) FROM my_history") == [(2,)]


# -- 3. the history -----------------------------------------------------------------


def test_every_sync_that_writes_is_in_the_history_with_its_changes(
    tables: sa.Engine, tmp_path: Path
) -> None:
    origin = SyncOrigin(("0001",), "upgrade")
    write(tmp_path, "items.yaml", "a: {name: A, rank: 7}\n")
    run_sync(tables, [ITEMS], tmp_path, origin=origin, strict=True)
    run_sync(tables, [ITEMS], tmp_path, origin=origin)  # writes nothing: no record
    write(tmp_path, "items.yaml", "a: {name: A2}\nb: {name: B}\n")
    run_sync(tables, [ITEMS], tmp_path, origin=origin)
    with tables.connect() as connection:
        records = sync_history(connection)
        newest = sync_record(connection, records[0].id)
        assert sync_record(connection, 999) is None
    assert [(r.revisions, r.strict, r.change_count) for r in records] == [
        (("0001",), False, 2),
        (("0001",), True, 1),
    ]
    assert records[0].command is not None and records[0].command.endswith(" upgrade")
    assert records[0].pid is not None and records[0].host
    assert newest is not None
    assert sync_lines(newest)[1:] == [
        "datasync: items (items.yaml): 2 total, 1 created, 1 updated, 0 unchanged",
        "  ~ a",
        "      name: 'A' -> 'A2'",
        "      rank: 7 -> 5 (removed from the file)",
        "  + b",
        "      name: 'B'",
    ]
    shown = record_json(newest)["datasets"][0]["changes"][0]
    assert shown == {
        "action": "update",
        "key": {"code": "a"},
        "label": "a",
        "changes": [
            {"column": "name", "old": "A", "new": "A2", "removed": False},
            {"column": "rank", "old": 7, "new": 5, "removed": True},
        ],
    }


def test_the_history_gives_back_each_created_and_deleted_value_with_its_type(
    engine: sa.Engine, tmp_path: Path
) -> None:
    typed = sa.Table(
        "typed",
        sa.MetaData(),
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("flag", sa.Boolean),
        sa.Column("ratio", sa.Float),
        sa.Column("count", sa.Integer),
        sa.Column("price", sa.Numeric(8, 2)),
        sa.Column("day", sa.Date),
        sa.Column("note", sa.String(20)),
    )
    typed.metadata.create_all(engine)
    dataset = Dataset("typed.yaml", table="typed", key="code", prune="all")
    write(
        tmp_path,
        "typed.yaml",
        "a: {flag: true, ratio: 0.25, count: 3, price: 1.50, day: 2024-01-02, note: null}\n"
        "b: {flag: false, ratio: 2, count: 0, price: '7', note: x}\n",
    )
    run_sync(engine, [dataset], tmp_path)
    write(tmp_path, "typed.yaml", "b: {flag: false, ratio: 2, count: 0, price: '7', note: x}\n")
    run_sync(engine, [dataset], tmp_path)
    with engine.connect() as connection:
        deleted, created = [sync_record(connection, r.id) for r in sync_history(connection)]
    assert created is not None and deleted is not None
    values = [(c.label, c.values) for c in created.datasets[0].changes]
    assert values == [
        (
            "a",
            {
                "flag": True,
                "ratio": 0.25,
                "count": 3,
                "price": decimal.Decimal("1.50"),
                "day": dt.date(2024, 1, 2),
                "note": None,
            },
        ),
        (
            "b",
            {"flag": False, "ratio": 2.0, "count": 0, "price": decimal.Decimal("7"), "note": "x"},
        ),
    ]
    assert [type(v) for v in values[0][1].values()] == [
        bool,
        float,
        int,
        decimal.Decimal,
        dt.date,
        type(None),
    ]
    (gone,) = deleted.datasets[0].changes
    assert (gone.action, gone.values["flag"], gone.values["day"]) == (
        "delete",
        True,
        dt.date(2024, 1, 2),
    )


def test_the_history_lists_the_newest_first_by_dataset_and_count(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "llm_nodes.yaml", REPLY)
    for number in range(3):
        write(tmp_path, "items.yaml", f"a: {{name: A, rank: {number}}}\n")
        run_sync(tables, [ITEMS, NODES], tmp_path)
    with tables.connect() as connection:
        everything = sync_history(connection)
        nodes = sync_history(connection, dataset="llm_node_configuration")
        last_two = sync_history(connection, dataset="items", limit=2)
    assert [len(r.datasets) for r in everything] == [1, 1, 2]
    assert [r.id for r in nodes] == [everything[2].id]
    assert [r.id for r in last_two] == [everything[0].id, everything[1].id]


def test_secret_values_are_never_stored_in_the_state_or_the_history(
    tables: sa.Engine, tmp_path: Path
) -> None:
    hidden = Dataset("items.yaml", table="items", key="code", secret=["token"], prune=True)
    token, rotated = "tok-9f8e7d6c5b4a", "tok-0a1b2c3d4e5f"
    write(tmp_path, "items.yaml", f"a: {{name: A, token: {token}}}\nb: {{name: B, token: x1}}\n")
    run_sync(tables, [hidden], tmp_path)
    write(tmp_path, "items.yaml", f"a: {{name: A, token: {rotated}}}\n")
    run_sync(tables, [hidden], tmp_path)
    stored = [
        zlib.decompress(base64.b64decode(packed)).decode()
        for (packed,) in select(tables, "SELECT applied_rows FROM alembic_datasync_state")
        + select(tables, "SELECT changes FROM alembic_datasync_history")
    ]
    stored += [text for (text,) in select(tables, "SELECT datasets FROM alembic_datasync_history")]
    for value in (token, rotated, "x1"):
        assert not any(value in text for text in stored), value
    with tables.connect() as connection:
        newest = sync_record(connection, sync_history(connection)[0].id)
    assert newest is not None
    assert sync_lines(newest)[2:] == ["  ~ a", "      token: (secret) changed", "  - b"]
    change = record_json(newest)["datasets"][0]["changes"][0]["changes"][0]
    assert change == {"column": "token", "secret": True, "removed": False}


@pytest.mark.parametrize("secret_first", [True, False], ids=["secret-first", "secret-last"])
def test_each_dataset_of_one_sync_keeps_its_own_secrets_out_of_the_history(
    tables: sa.Engine, tmp_path: Path, secret_first: bool
) -> None:
    """The history is packed after the plans are made: each dataset's changes are still
    encoded with its own secret columns, not those of another dataset of the sync."""
    items.to_metadata(sa.MetaData(), name="items_too").create(tables)
    hidden = Dataset("items.yaml", table="items", key="code", secret=["token"])
    plain = Dataset("items_too.yaml", table="items_too", key="code")
    write(tmp_path, "items.yaml", "a: {name: A, token: tok-9f8e7d6c5b4a}\n")
    write(tmp_path, "items_too.yaml", "a: {name: A, token: shown-1a2b3c}\n")
    run_sync(tables, [hidden, plain] if secret_first else [plain, hidden], tmp_path)
    (packed,) = [text for (text,) in select(tables, "SELECT changes FROM alembic_datasync_history")]
    assert "tok-9f8e7d6c5b4a" not in zlib.decompress(base64.b64decode(packed)).decode()
    with tables.connect() as connection:
        record = sync_record(connection, sync_history(connection)[0].id)
    assert record is not None
    created = {d.dataset: d.changes[0].values for d in record.datasets if d.changes}
    assert created == {
        "items": {"name": "A", "token": None},
        "items_too": {"name": "A", "token": "shown-1a2b3c"},
    }


# -- 4. no re-parse when nothing changed ------------------------------------------------


def test_an_unchanged_file_and_table_are_not_parsed_again(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "llm_nodes.yaml", REPLY)
    first = run_sync(tables, [NODES], tmp_path)
    # The first sync that finds nothing to do verifies the state once (its own
    # table only); from then on the file is not parsed while nothing changes.
    statements.clear()
    second = run_sync(tables, [NODES], tmp_path)
    assert not second.datasets[0].from_state
    assert [w.split()[0] for w in statements.own_writes] in (["INSERT"], ["UPDATE"])
    assert statements.writes == []
    statements.clear()
    third = run_sync(tables, [NODES], tmp_path)
    assert third.datasets[0].from_state
    assert third.render() == second.render()
    assert statements.writes == statements.own_writes == []
    assert not any("llm_node_configuration.node_name" in s for s in statements.statements)
    # Any change (here a manual edit) goes back to the full plan, which repairs it.
    execute(tables, "UPDATE llm_node_configuration SET default_model = 'edited'")
    fourth = run_sync(tables, [NODES], tmp_path)
    assert not fourth.datasets[0].from_state
    assert fourth.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): 2 total, 0 created, 2 updated, "
        "0 unchanged"
    ]
    assert first.datasets[0].total == 2


def test_a_sync_with_nothing_to_do_imports_neither_the_parser_nor_the_planner(
    tables: sa.Engine, tmp_path: Path
) -> None:
    """The deploy that finds its files and tables as the last sync left them (most deploys)
    pays for the state's check only: the engine proper is imported when it is needed, the
    history when a sync writes, and no SQLAlchemy dialect but the database's own."""
    write(tmp_path, "llm_nodes.yaml", REPLY)
    run_sync(tables, [NODES], tmp_path)
    run_sync(tables, [NODES], tmp_path)  # verifies the state once
    program = textwrap.dedent(
        f"""
        import sys
        import alembic.context  # what env.py has imported when the sync runs
        import sqlalchemy as sa
        engine = sa.create_engine({tables.url.render_as_string(hide_password=False)!r})
        before = set(sys.modules)
        from alembic_datasync import Dataset, sync
        dataset = Dataset("llm_nodes.yaml", table="llm_node_configuration", key="node_name")
        with engine.connect() as connection:
            report = sync(connection, [dataset], base_dir={str(tmp_path)!r})
        print(report.datasets[0].from_state)
        engine_modules = ("loader", "fastload", "csvload", "check", "column_types", "planner",
                          "writer", "readback", "offline", "history")
        print(sorted(m for m in engine_modules if f"alembic_datasync.{{m}}" in sys.modules))
        print("yaml" in sys.modules)
        print(sorted(m for m in set(sys.modules) - before if m.startswith("sqlalchemy.dialects")))
        """
    )
    assert python_lines(program) == ["True", "[]", "False", "[]"]


def test_the_state_and_history_documents_are_long_text_columns(
    tables: sa.Engine, tmp_path: Path
) -> None:
    """MySQL's TEXT stops at 64 KiB: there the documents are LONGTEXT; TEXT elsewhere."""
    write(tmp_path, "llm_nodes.yaml", REPLY)
    run_sync(tables, [NODES], tmp_path)
    inspector = sa.inspect(tables)
    found = {
        (table, column["name"]): str(column["type"]).split("(")[0].split(" ")[0]
        for table in ("alembic_datasync_state", "alembic_datasync_history")
        for column in inspector.get_columns(table)
        if column["name"] in ("applied_rows", "notes", "datasets", "changes")
    }
    kind = "LONGTEXT" if tables.dialect.name in ("mysql", "mariadb") else "TEXT"
    assert found == {
        ("alembic_datasync_state", "applied_rows"): kind,
        ("alembic_datasync_state", "notes"): kind,
        ("alembic_datasync_history", "datasets"): kind,
        ("alembic_datasync_history", "changes"): kind,
    }


def test_first_syncs_into_two_schemas_do_not_wait_for_each_other(tmp_path: Path) -> None:
    """The lock that makes concurrent first syncs take turns creating the state tables
    is the schema's: an open first sync in one schema never holds up another's."""
    with (
        isolated_database("postgresql", tmp_path) as first_url,
        isolated_database("postgresql", tmp_path) as second_url,
    ):
        first, second = sa.create_engine(first_url), sa.create_engine(second_url)
        try:
            metadata.create_all(first)
            metadata.create_all(second)
            write(tmp_path, "items.yaml", "a: {name: Alpha}\n")
            with first.connect() as holding, holding.begin():
                # A first sync in the caller's transaction, not yet committed.
                sync(holding, [ITEMS], base_dir=tmp_path, nested=True)
                with second.connect() as other:
                    other.exec_driver_sql("SET lock_timeout = '3s'")
                    other.commit()
                    report = sync(other, [ITEMS], base_dir=tmp_path)
            assert [len(plan.creates) for plan in report.datasets] == [1]
            assert select(second, "SELECT code, name FROM items") == [("a", "Alpha")]
            assert select(first, "SELECT code, name FROM items") == [("a", "Alpha")]
        finally:
            first.dispose()
            second.dispose()


@pytest.mark.parametrize(
    "lists",
    [[], [[]], [[1, {"a": "é"}], [], [3]], [list(range(4_500))], [[], [{"k": [1, 2]}] * 2_001]],
)
def test_the_history_packs_its_changes_a_slice_at_a_time_and_reads_them_back_whole(
    lists: list[list[Any]],
) -> None:
    # Read back by the same `unpack` as every stored document, batches joined seamlessly.
    assert unpack(pack_lists(iter(lists))) == lists
