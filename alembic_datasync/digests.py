"""Digests that tell, without parsing a file or reading a table, that nothing changed.

The no-parse shortcut (`state`) compares four things with what they were
when a full plan last found nothing to do:

- the file's bytes: a SHA-256 (`files.source_digest`);
- the table's values in the columns the plan reads: `table_digest`, computed
  by the database itself, so that 100,000 rows never cross the wire;
- the table's definition: `schema_digest`, from one cheap catalog query;
- the library and the dataset's declaration: `fingerprint`.

A digest is None where it cannot be computed exactly (an SQLite driver that
cannot take an aggregate function, a PostgreSQL session that prints floats
rounded): the shortcut is then not taken.  A digest may differ for equal
contents (another row order, another session time zone): that costs a full
plan, never a wrong answer.  Equal digests for different contents would be
wrong answers, so every value is serialized without loss and unambiguously.
"""

from __future__ import annotations

import hashlib
import marshal
import re
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, text


def _sha256(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _qualified(connection: Connection, table: str, schema: str | None) -> str:
    quote = connection.dialect.identifier_preparer.quote
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


# -- the table's definition ----------------------------------------------------


def schema_description(connection: Connection, table: str, schema: str | None) -> str | None:
    """The table's definition as the catalog tells it (columns, types, defaults, keys, indexes).

    None when the table does not exist.  MySQL's AUTO_INCREMENT counter, which
    moves with every insert, is left out.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return _postgresql_definition(connection, table, schema)
    if dialect in ("mysql", "mariadb"):
        found = connection.execute(
            text(f"SHOW CREATE TABLE {_qualified(connection, table, schema)}")
        ).first()
        return re.sub(r" AUTO_INCREMENT=\d+", "", str(found[1])) if found else None
    if dialect == "sqlite":
        master = _qualified(connection, "sqlite_master", schema)
        rows = connection.execute(
            text(
                f"SELECT type, name, sql FROM {master} WHERE tbl_name = :table ORDER BY type, name"
            ),
            {"table": table},
        ).all()
        return "\n".join(f"{kind} {name} {sql}" for kind, name, sql in rows) if rows else None
    return None


def _postgresql_definition(connection: Connection, table: str, schema: str | None) -> str | None:
    found = connection.execute(
        text(
            "SELECT c.oid, c.relkind, c.relpersistence FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = :table AND n.nspname = COALESCE(:schema, current_schema())"
        ),
        {"table": table, "schema": schema},
    ).first()
    if found is None:
        return None
    oid = found[0]
    lines = connection.execute(
        text(
            "SELECT 'c ' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, "
            "a.atttypmod) || ' ' || a.attnotnull || ' ' || COALESCE(co.collname, '') || ' ' || "
            "a.attidentity::text || a.attgenerated::text || ' ' ||"
            " COALESCE(pg_get_expr(d.adbin, d.adrelid), '')"
            " FROM pg_attribute a LEFT JOIN pg_attrdef d"
            " ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE a.attrelid = :oid AND a.attnum > 0 AND NOT a.attisdropped"
            " UNION ALL SELECT 'k ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' ||"
            " condeferrable::text || condeferred::text FROM pg_constraint WHERE conrelid = :oid"
            " UNION ALL SELECT 'i ' || pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = :oid"
            " UNION ALL SELECT 't ' || tgname || ' ' || tgenabled::text FROM pg_trigger"
            " WHERE tgrelid = :oid"
            " ORDER BY 1"
        ),
        {"oid": oid},
    ).scalars()
    return "\n".join([f"{oid} {found[1]} {found[2]}", *lines])


def schema_digest(
    connection: Connection, table: str, schema: str | None, revisions: Sequence[str] = ()
) -> str | None:
    """A digest of the table's definition and the Alembic revisions; None: no such table."""
    description = schema_description(connection, table, schema)
    if description is None:
        return None
    return _sha256(description, " ".join(sorted(revisions)))


# -- the table's values --------------------------------------------------------


def table_digest(
    connection: Connection, table: str, schema: str | None, columns: Sequence[str]
) -> str | None:
    """A digest of every row of the table in ``columns``, computed by the database.

    None when it cannot be computed exactly here.
    """
    dialect = connection.dialect.name
    if not columns:
        return None
    if dialect == "postgresql":
        return _postgresql_values(connection, table, schema, columns)
    if dialect in ("mysql", "mariadb"):
        return _mysql_values(connection, table, schema, columns)
    if dialect == "sqlite":
        return _sqlite_values(connection, table, schema, columns)
    return None


#: PostgreSQL types whose hash function tells apart exactly the values the
#: planner tells apart (text types only under a deterministic collation).
_EXACT_HASHES = frozenset(
    (
        "int2", "int4", "int8", "float4", "float8", "numeric", "bool", "date", "time",
        "timestamp", "timestamptz", "uuid", "bytea", "text", "varchar", "bpchar",
    )
)  # fmt: skip
_TEXT_TYPES = frozenset(("text", "varchar", "bpchar"))


def _postgresql_values(
    connection: Connection, table: str, schema: str | None, columns: Sequence[str]
) -> str | None:
    # Each row's columns hashed by their types' own hash functions
    # (hash_record_extended, PostgreSQL 14+), summed: no sort, no text.  A
    # column whose type's hash is looser than the planner's comparison (citext,
    # a nondeterministic collation, json, anything unknown) is hashed as its
    # text instead.  Two seeds make the sums 128 bits.
    version = getattr(connection.dialect, "server_version_info", None) or (0,)
    if version < (14,):
        return _postgresql_text_values(connection, table, schema, columns)
    types: dict[str, str] = dict(
        connection.execute(
            text(
                "SELECT a.attname, t.typname || ' ' || COALESCE(co.collisdeterministic, true)"
                " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN pg_type t ON t.oid = a.atttypid"
                " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
                " WHERE c.relname = :table AND n.nspname = COALESCE(:schema, current_schema())"
                " AND a.attnum > 0 AND NOT a.attisdropped"
            ),
            {"table": table, "schema": schema},
        ).all()
    )
    quote = connection.dialect.identifier_preparer.quote
    parts = []
    for column in columns:
        type_name, deterministic = str(types.get(column, "? true")).split(" ")
        exact = type_name in _EXACT_HASHES and (
            type_name not in _TEXT_TYPES or deterministic == "true"
        )
        parts.append(quote(column) if exact else f'({quote(column)}::text COLLATE "C")')
    found = connection.execute(
        text(
            "SELECT count(*), sum(hash_record_extended(r, 0)), sum(hash_record_extended(r, 1)),"
            " current_setting('extra_float_digits'), current_setting('DateStyle'),"
            " current_setting('IntervalStyle'), current_setting('TimeZone')"
            f" FROM (SELECT ROW({', '.join(parts)}) AS r"
            f" FROM {_qualified(connection, table, schema)}) AS rows"
        )
    ).one()
    if int(found[3]) < 1:
        return None  # floats cast to text print rounded: two values could print alike
    return _sha256("postgresql", " ".join(parts), *found)


def _postgresql_text_values(
    connection: Connection, table: str, schema: str | None, columns: Sequence[str]
) -> str | None:
    # Before PostgreSQL 14: each row's text form (ROW(...)::text), which tells
    # NULL from '' and quotes every separator, sorted and hashed.
    quote = connection.dialect.identifier_preparer.quote
    row = f"ROW({', '.join(quote(c) for c in columns)})::text"
    found = connection.execute(
        text(
            "SELECT count(*), md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")),"
            " current_setting('extra_float_digits'), current_setting('DateStyle'),"
            " current_setting('IntervalStyle'), current_setting('TimeZone'),"
            " current_setting('bytea_output')"
            f" FROM (SELECT {row} AS r FROM {_qualified(connection, table, schema)}) AS rows"
        )
    ).one()
    if int(found[2]) < 1:
        return None
    return _sha256("postgresql", *found)


#: MySQL types whose text form never holds a comma: written as they print.
_MYSQL_PLAIN = frozenset(
    (
        "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
        "double", "real", "date", "datetime", "timestamp", "time", "year",
    )
)  # fmt: skip
_MYSQL_BINARY = frozenset(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"))


def _mysql_values(
    connection: Connection, table: str, schema: str | None, columns: Sequence[str]
) -> str | None:
    # Each row as one text, its values separated by commas, NULL as N: numbers
    # and dates as they print (no comma in them), FLOAT as the DOUBLE it widens
    # to (it prints rounded to 6 digits), binary values in hex, anything else
    # (text) behind its length in characters, so no value can pass for two.
    # Rows come in the clustered index's order: another order only costs a
    # full plan.
    definition = schema_description(connection, table, schema) or ""
    types = {
        name.replace("``", "`"): kind.lower()
        for name, kind in re.findall(r"^\s*`((?:[^`]|``)+)` (\w+)", definition, re.M)
    }
    quote = connection.dialect.identifier_preparer.quote
    parts = []
    for column in columns:
        kind, name = types.get(column, ""), quote(column)
        if kind == "float":
            parts.append(f"IFNULL(CAST({name} AS DOUBLE), 'N')")
        elif kind in _MYSQL_PLAIN:
            parts.append(f"IFNULL({name}, 'N')")
        elif kind in _MYSQL_BINARY or kind == "bit":
            parts.append(f"IFNULL(HEX({name}), 'N')")
        else:
            parts.append(f"IFNULL(CONCAT(CHAR_LENGTH({name}), ':', {name}), 'N')")
    # GROUP_CONCAT's length limit is raised for this statement only; were the
    # result still cut (at max_allowed_packet), the statement warns.
    limit = "group_concat_max_len = 1073741824"  # 1 GiB, the largest max_allowed_packet
    select = (
        f"SELECT count(*), MD5(GROUP_CONCAT(CONCAT_WS(',', {', '.join(parts)}) SEPARATOR ',')),"
        " @@session.time_zone, @@system_time_zone"
        f" FROM {_qualified(connection, table, schema)}"
    )
    if getattr(connection.dialect, "is_mariadb", False):
        statement = f"SET STATEMENT {limit} FOR {select}"
    else:
        statement = f"SELECT /*+ SET_VAR({limit}) */ {select[len('SELECT ') :]}"
    found = connection.execute(text(statement)).one()
    if connection.execute(text("SELECT @@warning_count")).scalar():
        return None  # cut short, or a value that did not convert: no digest
    return _sha256("mysql", " ".join(parts), *found)


class _RowsDigest:
    """SQLite aggregate: a SHA-256 of every row's values, marshalled without loss.

    Marshal format 2 writes each value by its type and exact value (floats in
    binary), never by reference, so equal rows always give equal bytes.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def step(self, *values: Any) -> None:
        self.rows.append(values)

    def finalize(self) -> str:
        return f"{len(self.rows)} {hashlib.sha256(marshal.dumps(self.rows, 2)).hexdigest()}"


_SQLITE_AGGREGATE = "alembic_datasync_rows_digest"


def _sqlite_values(
    connection: Connection, table: str, schema: str | None, columns: Sequence[str]
) -> str | None:
    driver_connection: Any = connection.connection.dbapi_connection
    create = getattr(driver_connection, "create_aggregate", None)
    if create is None:
        return None  # a driver (aiosqlite) without aggregates: no shortcut
    create(_SQLITE_AGGREGATE, -1, _RowsDigest)
    quote = connection.dialect.identifier_preparer.quote
    found = connection.execute(
        text(
            f"SELECT {_SQLITE_AGGREGATE}({', '.join(quote(c) for c in columns)})"
            f" FROM {_qualified(connection, table, schema)}"
        )
    ).scalar()
    return _sha256("sqlite", found)


# -- the library and the declaration ---------------------------------------------


@cache
def library_fingerprint() -> str:
    """The package's source and the versions of Python and SQLAlchemy, as one digest.

    The source is the library (two releases differ in it, and so does an
    edited checkout of one); its installed version is not asked for, which
    parses the package's metadata (about 5 ms of every deploy).
    """
    package = Path(__file__).resolve().parent
    sources = [(path.name, path.read_bytes()) for path in sorted(package.glob("*.py"))]
    return _sha256(
        sys.version, sqlalchemy.__version__, *(part for pair in sources for part in pair)
    )


def fingerprint(connection: Connection, declaration: Iterable[Any]) -> str:
    """The library, the database server and driver, and a dataset's declaration, as one digest."""
    dialect = connection.dialect
    return _sha256(
        library_fingerprint(),
        dialect.name,
        dialect.driver,
        getattr(dialect, "server_version_info", None),
        *declaration,
    )
