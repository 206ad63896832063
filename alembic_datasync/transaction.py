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

A connection whose driver commits every statement by itself (SQLAlchemy's
``isolation_level="AUTOCOMMIT"``, or the driver's own setting) has no
transaction to join, whatever SQLAlchemy's bookkeeping says: the unit is a
transaction of its own there too, begun and ended in SQL, so that a sync is
still all or nothing.
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
    if driver_autocommits(connection):
        if not connection.info.get(_EXPLICIT):
            with _explicit_transaction(connection, keep=keep, read_only=read_only):
                yield
            return
        nested = True  # a unit inside ours: a SAVEPOINT in it
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


def driver_autocommits(connection: Connection) -> bool:
    """Whether the database driver commits each statement of ``connection`` on its own.

    Asked of the driver itself: psycopg's ``autocommit``, PyMySQL's and
    mysqlclient's ``get_autocommit()``, sqlite3's ``isolation_level`` of None.
    """
    driver: Any = connection.connection.dbapi_connection
    autocommit = getattr(driver, "autocommit", None)
    if isinstance(autocommit, bool):
        return autocommit
    ask = getattr(driver, "get_autocommit", None)
    if callable(ask):
        return bool(ask())
    if connection.dialect.name == "sqlite" and hasattr(driver, "isolation_level"):
        return driver.isolation_level is None
    return False


#: Set in ``Connection.info`` while `_explicit_transaction` is open on it.
_EXPLICIT = "alembic_datasync.explicit_transaction"


@contextmanager
def _explicit_transaction(connection: Connection, *, keep: bool, read_only: bool) -> Iterator[None]:
    """A transaction begun and ended in SQL, on a connection whose driver autocommits.

    Units of work inside it are SAVEPOINTs in it (a second BEGIN would end it).
    """
    mysql = connection.dialect.name in ("mysql", "mariadb")
    connection.exec_driver_sql("START TRANSACTION" if mysql else "BEGIN")
    connection.info[_EXPLICIT] = True
    try:
        if read_only and connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield
    except BaseException:
        connection.exec_driver_sql("ROLLBACK")
        raise
    else:
        connection.exec_driver_sql("COMMIT" if keep else "ROLLBACK")
    finally:
        connection.info.pop(_EXPLICIT, None)
