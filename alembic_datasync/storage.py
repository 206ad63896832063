"""The tool's own tables in the user's database: the state of each dataset, and the history.

Like Alembic's ``alembic_version``, they live beside the user's tables (in
the schema Alembic's ``version_table_schema`` names, when env.py sets one),
are created on first need, and are written in the same transaction as the
sync, so that they can never disagree with the data:

``alembic_datasync_state``
    one row per dataset (its name and file path): what its file applied at
    the last sync (each row's key and the columns the file wrote, a
    compressed JSON document), and the digests of the no-parse shortcut.
``alembic_datasync_history``
    one row per sync that wrote something: when, at which revision, by whom,
    and every row change with its old and new values, secrets masked.

Deleting a dataset's state row (or dropping the tables) resets it: the next
sync works as a first one and builds the state again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    inspect,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import TypeEngine

from .errors import DatasyncError
from .transaction import unit_of_work

DEFAULT_STATE_TABLE = "alembic_datasync_state"
DEFAULT_HISTORY_TABLE = "alembic_datasync_history"


class _LongText(TypeDecorator[str]):
    """TEXT; LONGTEXT on MySQL and MariaDB, whose TEXT stops at 64 KiB (a large state is more).

    ``Text().with_variant(mysql.LONGTEXT(), ...)`` would import SQLAlchemy's
    MySQL dialect on every deploy on any database; this imports it on a
    MySQL connection only.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import LONGTEXT

            return LONGTEXT()
        return self.impl_instance


_LONG_TEXT = _LongText()
#: A compressed JSON document, in base64 (`encoding.pack`).
_DOCUMENT = _LONG_TEXT


@dataclass(frozen=True)
class StateTables:
    """Where the state and the history are kept: table names and schema (None: the default)."""

    state: str = DEFAULT_STATE_TABLE
    history: str = DEFAULT_HISTORY_TABLE
    schema: str | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset((self.state, self.history))


@cache
def state_table(tables: StateTables) -> Table:
    """The state table of ``tables``."""
    return _definitions(tables)[0]


@cache
def history_table(tables: StateTables) -> Table:
    """The history table of ``tables``."""
    return _definitions(tables)[1]


@cache
def _definitions(tables: StateTables) -> tuple[Table, Table]:
    metadata = MetaData(schema=tables.schema)
    state = Table(
        tables.state,
        metadata,
        # The dataset's name (Dataset(name=...) or its table) and file path.
        # 255 + 500 characters keep the key within MySQL's 3,072 bytes.
        Column("dataset", String(255), primary_key=True),
        Column("path", String(500), primary_key=True),
        Column("table_name", String(255), nullable=False),
        Column("key_columns", Text, nullable=False),
        Column("row_count", Integer, nullable=False),
        # AppliedRows.document(), compressed JSON; rows_digest its SHA-256.
        Column("applied_rows", _DOCUMENT, nullable=False),
        Column("rows_digest", String(64), nullable=False),
        Column("file_digest", String(64), nullable=False),
        Column("synced_at", DateTime, nullable=False),
        # Set when a full plan found nothing to do (the no-parse shortcut).
        Column("fingerprint", String(64)),
        Column("schema_digest", String(64)),
        Column("table_digest", String(64)),
        Column("digest_columns", Text),
        Column("notes", _LONG_TEXT),
    )
    history = Table(
        tables.history,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("synced_at", DateTime, nullable=False),
        Column("revisions", String(255)),
        Column("command", String(255)),
        Column("user_name", String(255)),
        Column("host_name", String(255)),
        Column("pid", Integer),
        Column("strict", Boolean(create_constraint=False), nullable=False),
        Column("version", String(64), nullable=False),
        Column("change_count", Integer, nullable=False),
        # JSON: per dataset its name, path, table and counts (small, readable).
        Column("datasets", _LONG_TEXT, nullable=False),
        # Compressed JSON: per dataset, every row change.
        Column("changes", _DOCUMENT, nullable=False),
    )
    return state, history


IncludeName = Callable[[str | None, str, dict[str, str | None]], bool]


def hiding_own_tables(include_name: IncludeName | None, tables: StateTables) -> IncludeName:
    """An ``include_name`` for Alembic's autogenerate that leaves the tool's tables out.

    Without it, ``alembic revision --autogenerate`` would find them in the
    database and not in the model, and propose to drop them (as it would
    ``alembic_version``, which Alembic leaves out itself).  ``include_name``
    is the project's own filter, asked about everything else.
    """

    def include(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
        if type_ == "table" and name in tables.names:
            return False
        return include_name(name, type_, parent_names) if include_name is not None else True

    return include


def tables_exist(connection: Connection, tables: StateTables) -> bool:
    """True when both tables exist (a look at the catalog, nothing else)."""
    inspector = inspect(connection)
    return all(inspector.has_table(name, schema=tables.schema) for name in tables.names)


def creates_before_the_sync(connection: Connection) -> bool:
    """True where CREATE TABLE commits the open transaction (MySQL, MariaDB).

    There the tables are created before the sync's unit of work begins;
    elsewhere inside it, so that a failed first sync leaves no trace.
    """
    return connection.dialect.name in ("mysql", "mariadb")


def create_missing_tables(connection: Connection, tables: StateTables, *, nested: bool) -> bool:
    """Create the tables when they are missing; True when this call created them.

    On PostgreSQL and SQLite, in the unit of work already open (under a
    transaction-scoped lock on PostgreSQL, so that concurrent first syncs
    take turns).  On MySQL, before it: in a transaction of its own, or, when
    the connection is in a transaction someone else commits (``nested``), on
    a connection of its own.  Raises `DatasyncError` when the database
    refuses (a role that may not create tables).
    """
    if tables_exist(connection, tables):
        return False
    try:
        if creates_before_the_sync(connection):
            if nested:
                with connection.engine.connect() as own, unit_of_work(own):
                    _create(own, tables)
            else:
                with unit_of_work(connection, nested=False):
                    _create(connection, tables)
        else:
            if connection.dialect.name == "postgresql":
                # Keyed on the schema the tables go to (the current one when
                # none is named): first syncs into other schemas do not wait.
                connection.execute(
                    text(
                        "SELECT pg_advisory_xact_lock(hashtext("
                        ":name || ' ' || COALESCE(:schema, current_schema(), '')))"
                    ),
                    {"name": f"alembic_datasync {tables.state}", "schema": tables.schema},
                )
            _create(connection, tables)
    except sa_exc.DBAPIError as error:
        said = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise DatasyncError(
            f"cannot create the table {tables.state!r} where the sync keeps the state of each "
            f"dataset: {said}; let the role that runs the sync create tables, or create them "
            f"once with a role that may (README, 'State and history')"
        ) from None
    return True


def _create(connection: Connection, tables: StateTables) -> None:
    # IF NOT EXISTS: a concurrent first sync may have created them meanwhile.
    for table in (state_table(tables), history_table(tables)):
        connection.execute(CreateTable(table, if_not_exists=True))
