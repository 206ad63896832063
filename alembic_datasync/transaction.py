"""Who opens, commits and rolls back a sync's transaction: the one rule, in one place.

A sync is one unit of work on one connection, all datasets or none:

- When someone else will commit what is open on the connection (a caller's
  ``engine.begin()``, Alembic's transaction around the migrations), the unit
  is a SAVEPOINT inside it: released when the sync succeeds, rolled back to
  when it fails, so only the sync is undone and the owner decides the rest.
- Otherwise the unit is a transaction of its own: committed when the sync
  succeeds, rolled back when it fails.

A unit that only looks (a dry run, ``--check``, the search for a refused row)
is always rolled back, and ``read_only`` makes PostgreSQL refuse any write
in it.  Nothing else in the package begins, commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Transaction


@contextmanager
def unit_of_work(
    connection: Connection,
    *,
    nested: bool | None = None,
    keep: bool = True,
    read_only: bool = False,
) -> Iterator[None]:
    """Run the block as one unit of work on ``connection`` (see the module's rule).

    ``nested``: whether someone else commits the transaction already open;
    by default, whether one is open at all.  ``keep=False`` rolls the unit
    back even when the block succeeds.  The unit is rolled back whenever the
    block raises, and the exception goes on.
    """
    if nested is None:
        nested = connection.in_transaction()
    transaction: Transaction
    if nested:
        _begin_for_savepoints(connection)
        transaction = connection.begin_nested()
    else:
        if connection.in_transaction():
            # What is open holds only reads nobody will commit (Alembic's look
            # at its version table): end it, so that ours is the one committed.
            connection.commit()
        transaction = connection.begin()
    try:
        if read_only and connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield
    except BaseException:
        transaction.rollback()
        raise
    if keep:
        transaction.commit()
    else:
        transaction.rollback()


def _begin_for_savepoints(connection: Connection) -> None:
    """On SQLite, make the driver's transaction real before a SAVEPOINT is taken.

    pysqlite opens its transaction only at the first INSERT, UPDATE or DELETE,
    so after mere SELECTs a SAVEPOINT would start a transaction of its own, and
    its RELEASE would commit.  An explicit BEGIN gives the SAVEPOINT a
    transaction to nest in (the driver sees it, and commits or rolls it back).
    """
    if connection.dialect.name != "sqlite":
        return
    driver_connection: Any = connection.connection.dbapi_connection
    if getattr(driver_connection, "in_transaction", True) is False:
        connection.exec_driver_sql("BEGIN")
