"""The tables datasets write to: reflected from the database, or declared in target_metadata."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    UUID,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Table,
    UniqueConstraint,
    cast,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sqltypes
from sqlalchemy.types import NullType

from .column_types import ValueRule, rule_for
from .dataset import Dataset
from .display import did_you_mean, listing
from .errors import Position, Problem
from .model import Metadata, fills_itself, metadata_tables, model_in_metadata


def reflect_table(connection: Connection, dataset: Dataset) -> Table | None:
    """The dataset's table as the database has it, or None when it does not exist.

    SQLAlchemy's warnings while it reflects (a type it does not know, such as
    ``citext``; an index on an expression) are not the user's concern at
    every deploy: a type with no rule is compared as the database reads it
    (`database_forms`), and indexes are not ours to read.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa_exc.SAWarning)
            table = Table(
                dataset.table, MetaData(), schema=dataset.schema, autoload_with=connection
            )
    except sa_exc.NoSuchTableError:
        return None
    if getattr(connection.dialect, "is_mariadb", False):
        for name in _mariadb_json_columns(connection, table):
            table.c[name].type = JSON()
        for name in _mariadb_uuid_columns(connection, table):
            table.c[name].type = UUID()
    if connection.dialect.name in ("mysql", "mariadb"):
        _note_character_sets(connection, table)
    for column in table.columns:
        if isinstance(column.type, JSON):
            # `null` in the file means SQL NULL, not the JSON value null.
            column.type.none_as_null = True
    return table


def _mariadb_json_columns(connection: Connection, table: Table) -> list[str]:
    """Columns MariaDB declares JSON: it stores them as LONGTEXT CHECK (json_valid(col))."""
    query = text(
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        " AND LEVEL = 'Column'"
    )
    names = []
    for name, clause in connection.execute(query, {"schema": table.schema, "table": table.name}):
        if name in table.c and clause.replace(" ", "").lower() == f"json_valid(`{name.lower()}`)":
            names.append(name)
    return names


def _mariadb_uuid_columns(connection: Connection, table: Table) -> list[str]:
    """MariaDB's UUID columns that reflection left untyped (early SQLAlchemy 2.0 releases
    do not know the type): typed as later releases type them."""
    untyped = [column.name for column in table.columns if isinstance(column.type, NullType)]
    if not untyped:
        return []
    query = text(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        " AND DATA_TYPE = 'uuid'"
    )
    found = connection.execute(query, {"schema": table.schema, "table": table.name})
    return [name for (name,) in found if name in untyped]


def _note_character_sets(connection: Connection, table: Table) -> None:
    """Give each MySQL text column its character set, which reflection leaves out when it is
    the table's default: the type rules refuse what it cannot store (utf8mb3 and an emoji)."""
    query = text(
        "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        " AND CHARACTER_SET_NAME IS NOT NULL"
    )
    for name, charset in connection.execute(query, {"schema": table.schema, "table": table.name}):
        column = table.c.get(name)
        if column is not None and hasattr(column.type, "charset"):
            column.type.charset = charset


def table_in_metadata(metadata: Metadata | None, dataset: Dataset) -> Table | None:
    """The dataset's table as the project's model declares it, or None.

    The model the dataset was declared with (``Dataset(path, Model)``) comes
    first, then the table of that name in ``metadata`` (``target_metadata``).
    """
    if dataset.model is not None:
        return dataset.model
    return model_in_metadata(metadata, dataset.table, dataset.schema)


def required_columns(table: Table) -> list[str]:
    """The columns a new row must write: NOT NULL, and nothing fills them in.

    Filled in are columns with a default of the model (carried onto a
    reflected table by `model.carry_model_defaults`), a server default, an
    identity, or an integer primary key the database numbers.
    """
    return [
        column.name for column in table.columns if not column.nullable and not fills_itself(column)
    ]


def missing_required_problem(
    table: Table,
    written: Iterable[str],
    position: Position,
    label: str,
    dataset: Dataset,
    *,
    known_new: bool,
    model_known: bool,
) -> Problem | None:
    """The problem of a row that cannot be created as written, or None when it can.

    ``known_new``: the sync knows the row is new; validation (no database)
    checks every row as if it were, as on a database that does not have it yet.
    ``model_known``: whether the model's defaults were taken into account.
    """
    written = set(written)
    missing = [name for name in required_columns(table) if name not in written]
    if not missing:
        return None
    names = listing(missing)
    one = len(missing) == 1
    where = "in the model or the database" if model_known else "in the database"
    advice: list[str] = []
    keys = [name for name in missing if table.c[name].primary_key]
    others = [name for name in missing if name not in keys]
    if keys:
        advice.append(
            f"a generated key needs a default, not a value in the file: give "
            f"{listing(keys)} one in the model (default=uuid.uuid4, or "
            f"default_factory= in SQLModel) or in the database (server_default=, an identity)"
        )
    if others:
        advice.append(
            f"add {'it' if len(others) == 1 else 'them'} to the row, or give "
            f"{'the column' if len(others) == 1 else 'the columns'} a default"
        )
    if not model_known:
        advice.append(
            f"if the model has a default for {'it' if one else 'them'}, pass the model: "
            f"target_metadata to context.configure() in env.py, metadata= in the Python API"
        )
    head = (
        f"new row {label!r} of {dataset.label!r} cannot be created"
        if known_new
        else f"row {label!r} of {dataset.label!r} cannot be created where it is new"
    )
    return Problem(
        position,
        f"{head}: it leaves out {names}, which cannot be NULL and {'has' if one else 'have'} "
        f"no default {where}; {'; '.join(advice)}",
    )


def column_rules(table: Table, dialect: str) -> dict[str, ValueRule]:
    """The `ValueRule` of every column of ``table`` (``dialect`` empty: as declared)."""
    return {column.name: rule_for(column.type, dialect) for column in table.columns}


def missing_table_problem(dataset: Dataset, where: str) -> Problem:
    """The problem reported when a dataset's table does not exist in the database."""
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} does not exist {where}; the migration that creates it has "
        f"probably not run (alembic upgrade head) or has not been written",
    )


def not_in_metadata_problem(dataset: Dataset, metadata: Metadata | None) -> Problem:
    """The problem reported when ``target_metadata`` declares no table of the dataset's name."""
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} is not in the metadata (target_metadata)"
        f"{did_you_mean(dataset.table, (t.name for t in metadata_tables(metadata)))}; "
        f"define its model, import the module that does in env.py, or fix the table name "
        f"in Dataset(...)",
    )


@dataclass(frozen=True, slots=True)
class UniqueKey:
    """A set of columns the table holds unique: its primary key, a constraint or an index.

    ``partial``: enforced only on the rows a WHERE selects (a partial index);
    ``deferrable``: a constraint checked at commit, which ON CONFLICT cannot use.
    """

    columns: frozenset[str]
    partial: bool = False
    deferrable: bool = False


def unique_keys(table: Table, connection: Connection | None = None) -> list[UniqueKey]:
    """Every unique key of ``table``; with ``connection``, PostgreSQL's deferrable ones marked."""
    deferrable = _deferrable_constraints(connection, table) if connection is not None else set()
    keys = [UniqueKey(frozenset(table.primary_key.columns.keys()))]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append(
                UniqueKey(
                    frozenset(constraint.columns.keys()),
                    deferrable=bool(constraint.deferrable) or constraint.name in deferrable,
                )
            )
    for index in table.indexes:
        if index.unique:
            partial = any(
                options.get("where") is not None
                for name, options in index.dialect_options.items()
                if name in ("postgresql", "sqlite")
            )
            keys.append(UniqueKey(frozenset(index.columns.keys()), partial=partial))
    return [key for key in keys if key.columns]


def _deferrable_constraints(connection: Connection, table: Table) -> set[str]:
    """Names of the table's DEFERRABLE unique and primary key constraints (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        return set()
    found = connection.execute(
        text(
            "SELECT c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE t.relname = :table AND n.nspname = COALESCE(:schema, current_schema())"
            " AND c.contype IN ('u', 'p') AND c.condeferrable"
        ),
        {"table": table.name, "schema": table.schema},
    )
    return {name for (name,) in found}


def enforces_unique(keys: list[UniqueKey], key_columns: tuple[str, ...]) -> bool:
    """True when no two rows of the table can share a key: a full unique key within it."""
    return any(not key.partial and key.columns <= set(key_columns) for key in keys)


def conflict_target(keys: list[UniqueKey], key_columns: tuple[str, ...]) -> bool:
    """True when an upsert can name the key: a full, immediate unique key on exactly it."""
    return any(
        not key.partial and not key.deferrable and key.columns == set(key_columns) for key in keys
    )


@dataclass(frozen=True, slots=True)
class SelfReference:
    """A foreign key of a table to itself: ``columns`` refer to ``referred`` of another row.

    ``deferred``: the database checks it at commit (INITIALLY DEFERRED), so
    rows may be written in any order.
    """

    columns: tuple[str, ...]
    referred: tuple[str, ...]
    deferred: bool


def self_references(table: Table) -> list[SelfReference]:
    """The foreign keys of ``table`` that refer to ``table`` itself."""
    found = []
    for constraint in table.foreign_key_constraints:
        referred = [element.column for element in constraint.elements]
        if referred and all(_same_table(column.table, table) for column in referred):
            found.append(
                SelfReference(
                    tuple(constraint.column_keys),
                    tuple(column.name for column in referred),
                    (constraint.initially or "").upper() == "DEFERRED",
                )
            )
    return found


def referred_tables(table: Table) -> set[tuple[str | None, str]]:
    """(schema, name) of every other table ``table`` has a foreign key to."""
    found = set()
    for constraint in table.foreign_key_constraints:
        for element in constraint.elements:
            other = element.column.table
            if not _same_table(other, table):
                found.add((other.schema or table.schema, other.name))
    return found


def _same_table(one: Any, other: Table) -> bool:
    return bool(one.name == other.name and (one.schema or other.schema) == other.schema)


#: MySQL/MariaDB storage engines that roll back: a sync into any other is refused.
TRANSACTIONAL_ENGINES = frozenset(("innodb", "xtradb", "rocksdb", "tokudb", "ndbcluster", "ndb"))


def non_transactional_problem(dataset: Dataset, table: Table) -> Problem | None:
    """The problem of writing to a table whose storage engine cannot roll back, or None.

    MyISAM, Aria, MEMORY... keep every row written before a refused one, so
    "all or nothing" cannot hold: such a table is refused before anything
    is written.
    """
    engine = table.kwargs.get("mysql_engine") or table.kwargs.get("mariadb_engine")
    if not engine or str(engine).lower() in TRANSACTIONAL_ENGINES:
        return None
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} uses the {engine} storage engine, which cannot roll back: a "
        f"sync refused half-way would leave part of the file written, so nothing is synced "
        f"into it; convert it in a migration (ALTER TABLE {table.name} ENGINE=InnoDB)",
    )


def as_stored(dialect: str, column: Column[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` (a bound key value) as ``column`` compares it, where the database would not.

    PostgreSQL compares a ``REAL`` column with a bound Python float as two
    doubles: the stored 0.1 (a single's 0.10000000149...) is then no row's
    0.1, and an UPDATE or DELETE by such a key finds nothing.  Cast to the
    column's type, the value is rounded as the stored one was.
    """
    if dialect == "postgresql" and isinstance(column.type, sqltypes.Float):
        return cast(value, column.type)
    return value
