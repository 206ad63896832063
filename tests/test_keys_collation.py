"""Issue 9, keys: equal as the database says, unique however the table makes them unique.

Class 1: keys a collation treats as equal (MariaDB's default collation, a
PostgreSQL nondeterministic collation or ``citext``, SQLite ``COLLATE NOCASE``).
Class 9: a key unique through a partial index, a DEFERRABLE constraint, or not
unique at all.  Class 11: NULL keys in the table.  Class 12: two datasets on one
table.  Class 13: duplicate key rows already in the table.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import (
    Dataset,
    DatasyncError,
    InvalidDatasets,
    SyncReport,
    plan,
    sync,
    validate_datasets,
)

ITEMS = Dataset("items.yaml", table="items", key="code")


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def query(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def run_sync(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder)


def run_plan(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return plan(connection, datasets, base_dir=folder)


# -- class 1: keys the database treats as equal ---------------------------------


def case_insensitive_key(engine: sa.Engine, flavour: str = "collation") -> str:
    """The DDL of a text key column that compares case-insensitively on this database."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        return "VARCHAR(50) COLLATE NOCASE"
    if dialect == "postgresql":
        if flavour == "citext":
            with engine.begin() as connection:
                # One citext per database: installed once, in public, under a lock.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(90901)")
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS citext SCHEMA public")
            return "public.citext"
        execute(
            engine,
            "CREATE COLLATION case_insensitive "
            "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
        )
        return 'VARCHAR(50) COLLATE "case_insensitive"'
    return "VARCHAR(50)"  # MariaDB's default collation, utf8mb4_general_ci


def items_table(engine: sa.Engine, flavour: str = "collation", unique: str = "PRIMARY KEY") -> None:
    key = case_insensitive_key(engine, flavour)
    execute(engine, f"CREATE TABLE items (code {key} {unique}, label VARCHAR(50))")


# Every database folds case; only MariaDB's default collation also ignores
# trailing spaces (PAD SPACE) and accents (utf8mb4_general_ci).
EQUAL_KEYS = [
    pytest.param("collation", "Foo", "foo", id="case"),
    pytest.param("citext", "Foo", "foo", id="citext-case"),
    pytest.param("collation", "foo", "foo ", id="trailing-space"),
    pytest.param("collation", "café", "cafe", id="accent"),
]


def equal_key_cases() -> list[Any]:
    """(database, flavour, first, second) for every database where the two keys are equal."""
    cases = []
    for param in EQUAL_KEYS:
        flavour, first, second = param.values
        case_id = param.id
        databases = ["postgresql"] if flavour == "citext" else ["sqlite", "postgresql", "mysql"]
        if case_id in ("trailing-space", "accent"):
            databases = ["mysql"]
        for database in databases:
            cases.append(pytest.param(database, flavour, first, second, id=f"{database}-{case_id}"))
    return cases


@pytest.mark.parametrize(
    ("database_url", "flavour", "first", "second"), equal_key_cases(), indirect=["database_url"]
)
def test_two_file_keys_the_database_treats_as_equal_are_a_validation_error(
    engine: sa.Engine, tmp_path: Path, flavour: str, first: str, second: str
) -> None:
    items_table(engine, flavour)
    write(tmp_path, "items.yaml", f'"{first}": {{label: one}}\n"{second}": {{label: two}}\n')
    with pytest.raises(InvalidDatasets) as caught:
        run_sync(engine, [ITEMS], tmp_path)
    message = str(caught.value)
    # Both lines are named, on the problem of the second one.
    assert "items.yaml:2:1: " in message
    assert "line 1" in message
    assert repr(first) in message and repr(second) in message
    assert query(engine, "SELECT code FROM items") == []


@pytest.mark.parametrize(
    ("database_url", "flavour", "first", "second"), equal_key_cases(), indirect=["database_url"]
)
def test_an_existing_row_the_database_matches_is_updated_not_created(
    engine: sa.Engine, tmp_path: Path, flavour: str, first: str, second: str
) -> None:
    items_table(engine, flavour)
    execute(engine, f"INSERT INTO items (code, label) VALUES ('{first}', 'old')")
    write(tmp_path, "items.yaml", f'"{second}": {{label: new}}\n')
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        planned = run_plan(engine, [ITEMS], tmp_path).datasets[0]
    # A key type SQLAlchemy does not know (citext) is no warning at every deploy.
    assert [str(warning.message) for warning in warned] == []
    assert (len(planned.creates), len(planned.updates)) == (0, 1)
    report = run_sync(engine, [ITEMS], tmp_path)
    assert report.summary_lines() == [
        "datasync: items (items.yaml): 1 total, 0 created, 1 updated, 0 unchanged"
    ]
    assert [row[1] for row in query(engine, "SELECT code, label FROM items")] == ["new"]
    assert run_plan(engine, [ITEMS], tmp_path).has_changes is False


@pytest.mark.parametrize(
    ("database_url", "flavour", "first", "second"), equal_key_cases(), indirect=["database_url"]
)
def test_a_row_the_database_matches_is_updated_also_without_a_unique_key(
    engine: sa.Engine, tmp_path: Path, flavour: str, first: str, second: str
) -> None:
    """No unique key to clash on: matching by the file's spelling would add a second row."""
    items_table(engine, flavour, unique="")
    execute(engine, f"INSERT INTO items (code, label) VALUES ('{first}', 'old')")
    write(tmp_path, "items.yaml", f'"{second}": {{label: new}}\n')
    report = run_sync(engine, [ITEMS], tmp_path)
    rows = query(engine, "SELECT label FROM items")
    assert len(report.datasets[0].creates) == len(rows) - 1
    assert rows == [("new",)]
    assert run_plan(engine, [ITEMS], tmp_path).has_changes is False


# -- class 9: every way a key can be unique ------------------------------------


def soft_delete_table(engine: sa.Engine) -> None:
    """The soft-delete pattern: a code is unique among the rows not deleted."""
    execute(
        engine,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL, "
        "label VARCHAR(50), deleted_at DATE)",
        "CREATE UNIQUE INDEX items_live_code ON items (code) WHERE deleted_at IS NULL",
    )
    if engine.dialect.name == "postgresql":
        execute(engine, "CREATE SEQUENCE items_id OWNED BY items.id")
        execute(engine, "ALTER TABLE items ALTER COLUMN id SET DEFAULT nextval('items_id')")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_rows_are_created_when_the_key_is_unique_through_a_partial_index(
    engine: sa.Engine, tmp_path: Path
) -> None:
    soft_delete_table(engine)
    write(tmp_path, "items.yaml", "a: {label: first}\nb: {label: second}\n")
    report = run_sync(engine, [ITEMS], tmp_path)
    assert len(report.datasets[0].creates) == 2
    assert query(engine, "SELECT code, label FROM items ORDER BY code") == [
        ("a", "first"),
        ("b", "second"),
    ]
    write(tmp_path, "items.yaml", "a: {label: first}\nb: {label: changed}\nc: {label: third}\n")
    report = run_sync(engine, [ITEMS], tmp_path)
    assert report.summary_lines() == [
        "datasync: items (items.yaml): 3 total, 1 created, 1 updated, 1 unchanged"
    ]
    assert run_plan(engine, [ITEMS], tmp_path).has_changes is False


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("deferred", ["INITIALLY IMMEDIATE", "INITIALLY DEFERRED"])
def test_rows_are_created_when_the_key_is_a_deferrable_unique_constraint(
    engine: sa.Engine, tmp_path: Path, deferred: str
) -> None:
    execute(
        engine,
        "CREATE TABLE items (id SERIAL PRIMARY KEY, code VARCHAR(20) NOT NULL, label VARCHAR(50),"
        f" CONSTRAINT items_code UNIQUE (code) DEFERRABLE {deferred})",
    )
    write(tmp_path, "items.yaml", "a: {label: first}\nb: {label: second}\n")
    report = run_sync(engine, [ITEMS], tmp_path)
    assert len(report.datasets[0].creates) == 2
    assert query(engine, "SELECT code, label FROM items ORDER BY code") == [
        ("a", "first"),
        ("b", "second"),
    ]
    assert run_plan(engine, [ITEMS], tmp_path).has_changes is False


def test_rows_are_created_when_the_key_has_no_unique_constraint(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(engine, "CREATE TABLE items (code VARCHAR(20) NOT NULL, label VARCHAR(50))")
    write(tmp_path, "items.yaml", "a: {label: first}\nb: {label: second}\n")
    run_sync(engine, [ITEMS], tmp_path)
    write(tmp_path, "items.yaml", "a: {label: first}\nb: {label: changed}\nc: {label: third}\n")
    report = run_sync(engine, [ITEMS], tmp_path)
    assert report.summary_lines() == [
        "datasync: items (items.yaml): 3 total, 1 created, 1 updated, 1 unchanged"
    ]
    assert query(engine, "SELECT code, label FROM items ORDER BY code") == [
        ("a", "first"),
        ("b", "changed"),
        ("c", "third"),
    ]
    assert run_plan(engine, [ITEMS], tmp_path).has_changes is False


# -- class 11: NULL keys -------------------------------------------------------


def test_prune_with_a_null_key_in_the_table_reports_only_rows_it_deletes(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(
        engine,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(20) UNIQUE, label VARCHAR(50))",
        "INSERT INTO items (id, code, label) VALUES (1, 'a', 'x'), (2, NULL, 'no code')",
    )
    write(tmp_path, "items.yaml", "a: {label: x}\n")
    pruning = [Dataset("items.yaml", table="items", key="code", prune=True)]
    for _ in range(2):
        before = query(engine, "SELECT COUNT(*) FROM items")[0][0]
        report = run_sync(engine, pruning, tmp_path)
        after = query(engine, "SELECT COUNT(*) FROM items")[0][0]
        assert len(report.datasets[0].deletes) == before - after
        assert "None" not in report.render()
    assert run_plan(engine, pruning, tmp_path).has_changes is False


def test_prune_with_a_null_part_of_a_composite_key_reports_only_rows_it_deletes(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(
        engine,
        "CREATE TABLE flags (tenant VARCHAR(20), flag VARCHAR(20) NOT NULL, enabled INTEGER, "
        "UNIQUE (tenant, flag))",
        "INSERT INTO flags (tenant, flag, enabled) VALUES ('acme', 'a', 1), (NULL, 'b', 0)",
    )
    write(tmp_path, "flags.yaml", "- {tenant: acme, flag: a, enabled: 1}\n")
    pruning = [Dataset("flags.yaml", table="flags", key=("tenant", "flag"), prune=True)]
    for _ in range(2):
        before = query(engine, "SELECT COUNT(*) FROM flags")[0][0]
        report = run_sync(engine, pruning, tmp_path)
        after = query(engine, "SELECT COUNT(*) FROM flags")[0][0]
        assert len(report.datasets[0].deletes) == before - after
        assert "None" not in report.render()
    assert run_plan(engine, pruning, tmp_path).has_changes is False


def test_a_null_key_is_labelled_null_in_the_plan(engine: sa.Engine, tmp_path: Path) -> None:
    execute(
        engine,
        "CREATE TABLE flags (tenant VARCHAR(20), flag VARCHAR(20) NOT NULL, enabled INTEGER)",
        "INSERT INTO flags (tenant, flag, enabled) VALUES ('acme', 'a', 1), (NULL, 'b', 0)",
    )
    write(tmp_path, "flags.yaml", "- {tenant: acme, flag: a, enabled: 1}\n")
    pruning = [Dataset("flags.yaml", table="flags", key=("tenant", "flag"), prune=True)]
    lines = run_plan(engine, pruning, tmp_path).plan_lines()
    assert all("None" not in line for line in lines)
    if lines:  # the row with a NULL tenant is to be deleted: its label says null
        assert lines == ["- null, b"]


# -- class 12: two datasets on one table ---------------------------------------


TWO_FILES = [
    Dataset("base.yaml", table="items", key="code"),
    Dataset("extra.yaml", table="items", key="code"),
]


def write_overlapping_files(folder: Path) -> None:
    write(folder, "base.yaml", "a: {label: one}\nb: {label: two}\n")
    write(folder, "extra.yaml", "c: {label: three}\nb: {label: other}\n")


def test_two_datasets_writing_the_same_key_of_one_table_are_a_validation_error(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(engine, "CREATE TABLE items (code VARCHAR(20) PRIMARY KEY, label VARCHAR(50))")
    write_overlapping_files(tmp_path)
    for _ in range(2):  # the value flipped on every deploy
        with pytest.raises(InvalidDatasets) as caught:
            run_sync(engine, TWO_FILES, tmp_path)
    message = str(caught.value)
    assert "base.yaml:2:1" in message and "extra.yaml:2:1" in message
    assert "'b'" in message and "'items'" in message
    assert query(engine, "SELECT code FROM items") == []


def test_two_datasets_writing_the_same_key_fail_offline_validation(tmp_path: Path) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "items",
        metadata,
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("label", sa.String(50)),
    )
    write_overlapping_files(tmp_path)
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets(TWO_FILES, metadata, base_dir=tmp_path)
    message = str(caught.value)
    assert "base.yaml:2:1" in message and "extra.yaml:2:1" in message
    assert "'b'" in message


def test_two_datasets_on_one_table_with_distinct_keys_both_sync(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(engine, "CREATE TABLE items (code VARCHAR(20) PRIMARY KEY, label VARCHAR(50))")
    write(tmp_path, "base.yaml", "a: {label: one}\n")
    write(tmp_path, "extra.yaml", "c: {label: three}\n")
    run_sync(engine, TWO_FILES, tmp_path)
    assert query(engine, "SELECT code, label FROM items ORDER BY code") == [
        ("a", "one"),
        ("c", "three"),
    ]
    assert run_plan(engine, TWO_FILES, tmp_path).has_changes is False


# -- class 13: duplicate key rows already in the table -------------------------


def duplicated_table(engine: sa.Engine) -> None:
    execute(
        engine,
        "CREATE TABLE items (code VARCHAR(20) NOT NULL, label VARCHAR(50))",
        "INSERT INTO items (code, label) VALUES ('a', 'one'), ('a', 'other'), ('b', 'two')",
    )


def test_duplicate_key_rows_in_the_table_are_reported_not_compared_at_random(
    engine: sa.Engine, tmp_path: Path
) -> None:
    duplicated_table(engine)
    for label in ("one", "other"):  # whichever row a plan would have compared
        write(tmp_path, "items.yaml", f"a: {{label: {label}}}\nb: {{label: two}}\n")
        with pytest.raises(DatasyncError) as caught:
            run_plan(engine, [ITEMS], tmp_path)
        message = str(caught.value)
        assert "items.yaml:1:1: " in message
        assert "'a'" in message and "'items'" in message
        assert "2 rows" in message  # what it means: the key matches two rows
        assert "unique" in message  # what to do: remove one, or make the key unique


def test_prune_counts_every_duplicate_row_it_deletes(engine: sa.Engine, tmp_path: Path) -> None:
    execute(engine, "CREATE TABLE items (code VARCHAR(20) NOT NULL, label VARCHAR(50))")
    pruning = [Dataset("items.yaml", table="items", key="code", prune=True)]
    write(tmp_path, "items.yaml", "a: {label: one}\nb: {label: two}\n")
    run_sync(engine, pruning, tmp_path)  # the file creates, so manages, both keys
    execute(engine, "INSERT INTO items (code, label) VALUES ('a', 'other')")
    write(tmp_path, "items.yaml", "b: {label: two}\n")
    try:
        report = run_sync(engine, pruning, tmp_path)
    except DatasyncError as refused:  # reporting the duplicate is a fine answer too
        assert "'a'" in str(refused) and "2 rows" in str(refused)
        assert len(query(engine, "SELECT code FROM items")) == 3
        return
    # "1 to delete" must not remove 2 rows: the count is the rows deleted.
    assert len(report.datasets[0].deletes) == 2
    assert query(engine, "SELECT code FROM items") == [("b",)]
    assert run_plan(engine, pruning, tmp_path).has_changes is False
