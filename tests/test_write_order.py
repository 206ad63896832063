"""Issue 9, class 10: foreign keys decide the order of writes.

Inserts parents first, deletes children first, between datasets and within one
(a self-referencing table), whatever the order of declaration or of the rows in
the file.  A cycle that cannot be ordered is a clear error naming its rows, or
is written anyway (deferred constraints, or insert then update).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, DatasyncError, SyncReport, plan, sync

CATEGORIES = Dataset("categories.yaml", table="categories", key="code")


@pytest.fixture
def fk_engine(engine: sa.Engine) -> sa.Engine:
    """``engine``, with SQLite enforcing foreign keys as the servers do."""
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def enforce_foreign_keys(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

    return engine


def execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def query(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def run_sync(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder)


def in_sync(engine: sa.Engine, datasets: list[Dataset], folder: Path) -> bool:
    with engine.connect() as connection:
        return not plan(connection, datasets, base_dir=folder).has_changes


def categories_table(engine: sa.Engine) -> None:
    execute(
        engine,
        "CREATE TABLE categories (code VARCHAR(20) PRIMARY KEY, "
        "parent VARCHAR(20) REFERENCES categories (code), label VARCHAR(20))",
    )


def parents_and_children(engine: sa.Engine) -> None:
    execute(
        engine,
        "CREATE TABLE parents (code VARCHAR(20) PRIMARY KEY)",
        "CREATE TABLE children (code VARCHAR(20) PRIMARY KEY, "
        "parent VARCHAR(20) NOT NULL REFERENCES parents (code))",
    )


def test_a_row_moves_under_a_parent_created_in_the_same_sync(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    categories_table(fk_engine)
    write(tmp_path, "categories.yaml", "a: {parent: null}\nb: {parent: a}\n")
    run_sync(fk_engine, [CATEGORIES], tmp_path)
    write(tmp_path, "categories.yaml", "a: {parent: null}\nb: {parent: c}\nc: {parent: null}\n")
    report = run_sync(fk_engine, [CATEGORIES], tmp_path)
    assert report.summary_lines() == [
        "datasync: categories (categories.yaml): 3 total, 1 created, 1 updated, 1 unchanged"
    ]
    assert query(fk_engine, "SELECT code, parent FROM categories ORDER BY code") == [
        ("a", None),
        ("b", "c"),
        ("c", None),
    ]
    assert in_sync(fk_engine, [CATEGORIES], tmp_path)


def test_a_child_listed_before_its_new_parent_in_one_file_is_created(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    categories_table(fk_engine)
    write(tmp_path, "categories.yaml", "c: {parent: b}\nb: {parent: a}\na: {parent: null}\n")
    run_sync(fk_engine, [CATEGORIES], tmp_path)
    assert query(fk_engine, "SELECT code, parent FROM categories ORDER BY code") == [
        ("a", None),
        ("b", "a"),
        ("c", "b"),
    ]
    assert in_sync(fk_engine, [CATEGORIES], tmp_path)


def test_a_child_dataset_declared_before_its_parent_dataset_syncs(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    parents_and_children(fk_engine)
    write(tmp_path, "children.yaml", "c1: {parent: p1}\nc2: {parent: p2}\n")
    write(tmp_path, "parents.yaml", "p1: {}\np2: {}\n")
    datasets = [
        Dataset("children.yaml", table="children", key="code"),
        Dataset("parents.yaml", table="parents", key="code"),
    ]
    run_sync(fk_engine, datasets, tmp_path)
    assert query(fk_engine, "SELECT code, parent FROM children ORDER BY code") == [
        ("c1", "p1"),
        ("c2", "p2"),
    ]
    assert in_sync(fk_engine, datasets, tmp_path)


@pytest.mark.parametrize(
    "children_first",
    [
        pytest.param(False, id="parents-declared-first"),
        pytest.param(True, id="children-declared-first"),
    ],
)
def test_pruned_children_are_deleted_before_their_pruned_parents(
    fk_engine: sa.Engine, tmp_path: Path, children_first: bool
) -> None:
    parents_and_children(fk_engine)
    datasets = [
        Dataset("parents.yaml", table="parents", key="code", prune=True),
        Dataset("children.yaml", table="children", key="code", prune=True),
    ]
    if children_first:
        datasets.reverse()
        with fk_engine.begin() as connection:  # the inserts are another test's business
            connection.exec_driver_sql("INSERT INTO parents (code) VALUES ('p1'), ('p2')")
    write(tmp_path, "parents.yaml", "p1: {}\np2: {}\n")
    write(tmp_path, "children.yaml", "c1: {parent: p1}\nc2: {parent: p2}\n")
    run_sync(fk_engine, datasets, tmp_path)
    write(tmp_path, "parents.yaml", "p1: {}\n")
    write(tmp_path, "children.yaml", "c1: {parent: p1}\n")
    report = run_sync(fk_engine, datasets, tmp_path)
    assert [len(p.deletes) for p in report.datasets] == [1, 1]
    assert query(fk_engine, "SELECT code FROM parents") == [("p1",)]
    assert query(fk_engine, "SELECT code FROM children") == [("c1",)]


def test_a_parent_and_its_child_pruned_from_one_table_are_deleted_children_first(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    categories_table(fk_engine)
    pruning = [Dataset("categories.yaml", table="categories", key="code", prune=True)]
    with fk_engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO categories (code, parent) VALUES ('a', NULL), ('c', 'a'), ('b', 'c')"
        )
    write(tmp_path, "categories.yaml", "a: {parent: null}\nc: {parent: a}\nb: {parent: c}\n")
    run_sync(fk_engine, pruning, tmp_path)  # the file now manages the three rows
    write(tmp_path, "categories.yaml", "z: {parent: null}\n")
    report = run_sync(fk_engine, pruning, tmp_path)
    assert len(report.datasets[0].deletes) == 3
    assert query(fk_engine, "SELECT code FROM categories") == [("z",)]


def test_a_cycle_of_new_rows_is_written_or_refused_naming_every_row_of_it(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    categories_table(fk_engine)
    write(tmp_path, "categories.yaml", "x: {parent: y}\ny: {parent: x}\nz: {parent: null}\n")
    try:
        run_sync(fk_engine, [CATEGORIES], tmp_path)
    except DatasyncError as refused:
        message = str(refused)
        assert "categories.yaml:1:1" in message and "categories.yaml:2:1" in message, message
        assert "cycle" in message
        assert query(fk_engine, "SELECT code FROM categories") == []
        return
    assert query(fk_engine, "SELECT code, parent FROM categories ORDER BY code") == [
        ("x", "y"),
        ("y", "x"),
        ("z", None),
    ]
    assert in_sync(fk_engine, [CATEGORIES], tmp_path)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cycle_under_a_deferred_foreign_key_is_written(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    execute(
        fk_engine,
        "CREATE TABLE categories (code VARCHAR(20) PRIMARY KEY, parent VARCHAR(20) "
        "REFERENCES categories (code) DEFERRABLE INITIALLY DEFERRED, label VARCHAR(20))",
    )
    write(tmp_path, "categories.yaml", "x: {parent: y}\ny: {parent: x}\n")
    run_sync(fk_engine, [CATEGORIES], tmp_path)
    assert query(fk_engine, "SELECT code, parent FROM categories ORDER BY code") == [
        ("x", "y"),
        ("y", "x"),
    ]
