"""The one transaction rule (alembic_datasync.transaction), as the database sees it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import ApplyFailed, Dataset, plan, sync

from conftest import StatementLog

metadata = sa.MetaData()
flags = sa.Table(
    "flags",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("level", sa.Integer),
    sa.CheckConstraint("level < 10", name="level_small"),
)
FLAGS = Dataset("flags.yaml", table="flags", key="name")


@pytest.fixture
def folder(engine: sa.Engine, tmp_path: Path) -> Path:
    metadata.create_all(engine)
    (tmp_path / "flags.yaml").write_text("dark_mode: {enabled: true}\n")
    return tmp_path


def control(log: StatementLog) -> list[str]:
    """The transaction-control statements sent: SAVEPOINT, RELEASE, ROLLBACK TO, BEGIN."""
    words = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")
    return [s.split()[0].upper() for s in log.statements if s.split()[0].upper() in words]


def rows(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(flags.c.name, flags.c.enabled))]


def test_sync_on_a_fresh_connection_is_one_transaction_without_savepoint(
    engine: sa.Engine, folder: Path, statements: StatementLog
) -> None:
    with engine.connect() as connection:
        report = sync(connection, [FLAGS], base_dir=folder)
        assert not connection.in_transaction()  # committed, not left open
    assert report.applied
    assert control(statements) == []
    assert len(statements.writes) == 1
    assert rows(engine) == [("dark_mode", True)]


def test_sync_in_the_callers_transaction_is_one_savepoint_the_caller_commits(
    engine: sa.Engine, folder: Path, statements: StatementLog
) -> None:
    with engine.connect() as connection:
        with connection.begin():
            sync(connection, [FLAGS], base_dir=folder)
            assert connection.in_transaction()
        assert control(statements).count("SAVEPOINT") == 1
        assert "ROLLBACK" not in control(statements)
    assert rows(engine) == [("dark_mode", True)]


def test_a_refused_sync_in_the_callers_transaction_undoes_only_the_sync(
    engine: sa.Engine, folder: Path
) -> None:
    (folder / "flags.yaml").write_text("dark_mode: {enabled: true, level: 99}\n")
    with engine.connect() as connection, connection.begin():
        connection.execute(flags.insert().values(name="kept", enabled=False))
        with pytest.raises(ApplyFailed):
            sync(connection, [FLAGS], base_dir=folder)
        # The caller's own write survives, and its transaction goes on.
        connection.execute(flags.insert().values(name="after", enabled=True))
    assert sorted(rows(engine)) == [("after", True), ("kept", False)]


def test_a_dry_run_is_rolled_back(
    engine: sa.Engine, folder: Path, statements: StatementLog
) -> None:
    with engine.connect() as connection:
        report = sync(connection, [FLAGS], base_dir=folder, dry_run=True)
        assert not connection.in_transaction()
    assert len(report.datasets[0].creates) == 1
    assert statements.writes == []
    assert rows(engine) == []


@pytest.mark.parametrize("in_begin", [False, True], ids=["own", "in-callers-begin"])
def test_a_refused_sync_on_an_autocommit_connection_writes_nothing(
    engine: sa.Engine, folder: Path, in_begin: bool
) -> None:
    """A driver that commits each statement on its own has no transaction to join: the
    sync begins its own in SQL, so a refused row still leaves nothing written."""
    (folder / "flags.yaml").write_text("a: {enabled: true}\nb: {enabled: true, level: 99}\n")
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection, pytest.raises(ApplyFailed) as caught:
        if in_begin:
            with connection.begin():
                sync(connection, [FLAGS], base_dir=folder)
        else:
            sync(connection, [FLAGS], base_dir=folder)
    message = str(caught.value)
    assert message.startswith("flags.yaml:2:1: the database refused to insert row 'b' of 'flags'")
    assert message.endswith("nothing was written")
    assert rows(engine) == []


def test_plan_dry_run_and_sync_on_an_autocommit_connection(engine: sa.Engine, folder: Path) -> None:
    (folder / "flags.yaml").write_text("a: {enabled: true}\nb: {enabled: false, level: 3}\n")
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        assert len(plan(connection, [FLAGS], base_dir=folder).datasets[0].creates) == 2
        dry_run = sync(connection, [FLAGS], base_dir=folder, dry_run=True)
        assert len(dry_run.datasets[0].creates) == 2
        assert rows(engine) == []
        assert sync(connection, [FLAGS], base_dir=folder).applied
        assert plan(connection, [FLAGS], base_dir=folder).has_changes is False
    assert sorted(rows(engine)) == [("a", True), ("b", False)]
