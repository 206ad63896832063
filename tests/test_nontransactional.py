"""Issue 9, class 3: a sync is all or nothing, also where the table cannot roll back.

MariaDB's MyISAM and Aria tables ignore transactions: a row refused half-way
leaves the rows before it written.  The sync must never end with some of the
file's rows in such a table and a message saying that nothing was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import ApplyFailed, Dataset, DatasyncError, sync

ITEMS = Dataset("items.yaml", table="items", key="code")
OTHER = Dataset("other.yaml", table="other", key="code")


def execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())


def checked_table(engine: sa.Engine, name: str, storage: str) -> None:
    execute(
        engine,
        f"CREATE TABLE {name} (code VARCHAR(20) PRIMARY KEY, amount INTEGER NOT NULL, "
        f"CONSTRAINT {name}_positive CHECK (amount > 0)) ENGINE={storage}",
    )


# Row 3 breaks the CHECK, which only the database knows about.
THREE_ROWS = "a: {amount: 1}\nb: {amount: 2}\nc: {amount: -3}\n"


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
@pytest.mark.parametrize("storage", ["MyISAM", "Aria"])
def test_a_row_refused_half_way_into_a_non_transactional_table_leaves_it_unchanged(
    engine: sa.Engine, tmp_path: Path, storage: str
) -> None:
    checked_table(engine, "items", storage)
    (tmp_path / "items.yaml").write_text(THREE_ROWS)
    with engine.connect() as connection, pytest.raises(DatasyncError) as caught:
        sync(connection, [ITEMS], base_dir=tmp_path)
    message = str(caught.value)
    assert "'items'" in message
    # All or nothing: either refused before writing (naming why), or nothing left behind.
    assert count(engine, "items") == 0, message


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
@pytest.mark.parametrize("storage", ["MyISAM", "Aria"])
def test_a_failed_sync_never_claims_nothing_was_written_when_a_table_kept_rows(
    engine: sa.Engine, tmp_path: Path, storage: str
) -> None:
    """Two datasets: the non-transactional one first, the one that fails second."""
    execute(engine, f"CREATE TABLE other (code VARCHAR(20) PRIMARY KEY) ENGINE={storage}")
    checked_table(engine, "items", "InnoDB")
    (tmp_path / "other.yaml").write_text("x: {}\ny: {}\n")
    (tmp_path / "items.yaml").write_text(THREE_ROWS)
    with engine.connect() as connection, pytest.raises(DatasyncError) as caught:
        sync(connection, [OTHER, ITEMS], base_dir=tmp_path)
    message = str(caught.value)
    kept = count(engine, "other") + count(engine, "items")
    if kept:
        assert "nothing was written" not in message
        assert "'other'" in message  # says which table kept rows
    else:
        assert "'other'" in message and storage in message  # refused, saying why


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_syncing_into_a_myisam_table_is_refused_naming_the_table_and_its_engine(
    engine: sa.Engine, tmp_path: Path
) -> None:
    checked_table(engine, "items", "MyISAM")
    (tmp_path / "items.yaml").write_text("a: {amount: 1}\n")
    with engine.connect() as connection, pytest.raises(DatasyncError) as caught:
        sync(connection, [ITEMS], base_dir=tmp_path)
    message = str(caught.value)
    assert not isinstance(caught.value, ApplyFailed)  # refused up front, not half-way
    assert "'items'" in message and "MyISAM" in message and "InnoDB" in message
    assert count(engine, "items") == 0
