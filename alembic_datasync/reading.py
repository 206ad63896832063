"""Reading a table's rows by the column rules: through the driver, or around a value it cannot read.

The plan reads the key and the written columns of every row in one SELECT,
each column as its rule selects it (`ValueRule.selection`).  A value already
in the table that the driver, or SQLAlchemy's conversion of it, cannot turn
into a Python value fails that SELECT: PostgreSQL's ``'infinity'``
timestamp, an epoch number or a non-ISO date in a SQLite ``DATETIME``, text
in a ``NUMERIC`` column, invalid JSON, a MySQL ``ENUM``'s ``''``.  A value in
the table is never the user's input error, so the table is then read again
with those columns taken as the driver gives them raw (SQLite, MySQL) or as
text (PostgreSQL, whose driver converts by type), each read by its rule
(`ValueRule.from_raw`).  A value the rule cannot read either is `Unreadable`:
it equals nothing a file writes, so the sync writes the file's value over it,
and the plan shows its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sqltypes
from sqlalchemy.types import NullType

from .column_types import ValueRule
from .errors import DatasyncError
from .tables import as_stored
from .transaction import driver_autocommits

#: What a driver or SQLAlchemy's result processing raises for a value it cannot convert.
_VALUE_ERRORS = (sa_exc.DataError, ValueError, TypeError, LookupError, ArithmeticError)


def selected(table: Table, columns: Sequence[str], rules: dict[str, ValueRule]) -> list[Any]:
    """The SELECT list of ``columns``, each as its rule reads it."""
    expressions = []
    for name in columns:
        selection = rules[name].selection
        column = table.c[name]
        expressions.append(column if selection is None else selection(column))
    return expressions


def _select(
    table: Table,
    columns: Sequence[str],
    rules: dict[str, ValueRule],
    where: ColumnElement[bool] | None,
) -> Select[Any]:
    """The SELECT of ``columns`` of the rows ``where`` selects (all: None)."""
    query = select(*selected(table, columns, rules))
    return query if where is None else query.where(where)


#: Keys in one ``WHERE key IN (...)``: well under every database's limit of bound values.
KEYS_PER_SELECT = 2_000

#: Key column types whose values PostgreSQL reads from one array parameter as
#: executemany would bind them one by one (no bind processing of their own).
_ARRAY_KEY_TYPES = (
    sqltypes.String,
    sqltypes.Integer,
    sqltypes.Numeric,
    sqltypes.Date,
    sqltypes.DateTime,
    sqltypes.Uuid,
)


def by_keys(
    connection: Connection,
    table: Table,
    key_columns: Sequence[str],
    keys: Sequence[Sequence[Any]],
) -> list[ColumnElement[bool]]:
    """The WHERE of each SELECT that reads the rows of ``keys`` (as the table stores them).

    On PostgreSQL, a key of one column of a plain type is one ``= ANY(:keys)``
    with one array parameter, whatever the number of keys: compiled once and
    sent as one value, not 2,000 placeholders a statement.  Elsewhere, IN
    lists of `KEYS_PER_SELECT` keys.
    """
    if not keys:
        return []
    dialect = connection.dialect.name
    if len(key_columns) == 1:
        column = table.c[key_columns[0]]
        values = [key[0] for key in keys]
        if (
            dialect == "postgresql"
            and isinstance(column.type, _ARRAY_KEY_TYPES)
            # A REAL is compared cast (below); SQLAlchemy 2.0's Float is a Numeric.
            and not isinstance(column.type, sqltypes.Float)
        ):
            from sqlalchemy.dialects.postgresql import ARRAY

            return [column == any_(bindparam("keys", values, type_=ARRAY(column.type)))]
    columns = [table.c[name] for name in key_columns]
    if any(as_stored(dialect, column, column) is not column for column in columns):
        # Values the database compares only once cast to the column's type (REAL).
        return [
            or_(
                *(
                    and_(
                        *(
                            column == as_stored(dialect, column, literal(part, column.type))
                            for column, part in zip(columns, key, strict=True)
                        )
                    )
                    for key in keys[start : start + KEYS_PER_SELECT]
                )
            )
            for start in range(0, len(keys), KEYS_PER_SELECT)
        ]
    if len(columns) == 1:
        return [
            columns[0].in_([key[0] for key in keys[start : start + KEYS_PER_SELECT]])
            for start in range(0, len(keys), KEYS_PER_SELECT)
        ]
    return [
        tuple_(*columns).in_([tuple(key) for key in keys[start : start + KEYS_PER_SELECT]])
        for start in range(0, len(keys), KEYS_PER_SELECT)
    ]


def read_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rules: dict[str, ValueRule],
    where: ColumnElement[bool] | None = None,
) -> Sequence[Sequence[Any]]:
    """Every row of ``table`` (that ``where`` selects): the values of ``columns``, in order.

    A value the driver cannot read comes as `column_types.Unreadable`, never
    as an exception.
    """
    query = _select(table, columns, rules, where)
    try:
        return _plain_rows(connection, query)
    except _VALUE_ERRORS:
        pass  # a value the driver cannot read: read around it
    raw = [name for name in columns if rules[name].from_raw is not None]
    text = connection.dialect.name == "postgresql"
    expressions = [
        (cast(table.c[name], Text) if text else type_coerce(table.c[name], NullType()))
        if name in raw
        else expression
        for name, expression in zip(columns, selected(table, columns, rules), strict=True)
    ]
    query = select(*expressions)
    if where is not None:
        query = query.where(where)
    try:
        rows = _plain_rows(connection, query)
    except _VALUE_ERRORS:
        raise DatasyncError(
            f"the table {table.name!r} holds a value the database driver cannot read, in one "
            f"of the columns {', '.join(columns)}; correct or delete it with SQL, then sync "
            f"again"
        ) from None
    readers = [rules[name].from_raw if name in raw else None for name in columns]
    return [
        tuple(
            value if read is None else read(value) for read, value in zip(readers, row, strict=True)
        )
        for row in rows
    ]


def rows_in_batches(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rules: dict[str, ValueRule],
    where: ColumnElement[bool] | None = None,
    *,
    again: Callable[[], None] | None = None,
) -> Iterator[Sequence[Sequence[Any]]]:
    """`read_rows` a batch at a time, so that the table's rows are never all held.

    Where the driver cannot read a value, every row is read again around it
    (`read_rows`) and comes as one more batch: rows of earlier batches come
    twice, which a reader matching rows by key ignores, and a reader counting
    them is told by ``again``, called before that batch.
    """
    try:
        yield from _batches(connection, _select(table, columns, rules, where))
    except _VALUE_ERRORS:
        if again is not None:
            again()
        yield read_rows(connection, table, columns, rules, where)


#: Rows fetched from the driver at a time.
_BATCH = 4_096


def _batches(connection: Connection, query: Select[Any]) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of ``query``, a batch at a time, streamed from the server.

    The driver holds one batch at a time (a server-side cursor on PostgreSQL,
    outside autocommit; an unbuffered one on MySQL).  The result is closed
    however the reading ends, so that the connection can read again (MySQL
    refuses a query while an unbuffered result is unread).
    """
    if connection.dialect.name != "postgresql" or not driver_autocommits(connection):
        # PostgreSQL's server-side cursors need a transaction block.
        query = query.execution_options(stream_results=True, yield_per=_BATCH)
    result = connection.execute(query)
    try:
        yield from result.partitions(_BATCH)
    finally:
        result.close()


def _plain_rows(connection: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``query`` as plain tuples (`_batches`), repeated values held once.

    A tuple holds a row in less memory than SQLAlchemy's `Row`.  And the
    driver makes a new object of every value it reads: a column of a few
    model names, 100,000 rows long, is 100,000 strings.  Each column of texts
    (or of integers) whose values repeat holds one copy of each (`_Shared`):
    about 10 MiB less for a table of 100,000 rows.
    """
    rows: list[tuple[Any, ...]] = []
    shared = _Shared()
    for batch in _batches(connection, query):
        rows.extend(shared.rows(batch))
    return rows


#: Distinct values a column may have in one batch and still be held once a value.
_SHARED_PER_BATCH = 512


class _Shared:
    """One copy of each repeated value, column by column, over the batches of one read.

    Only columns of one kind, texts or integers (and NULL), where equal
    values are interchangeable; a column whose batch has many distinct
    values (a key, a description) is left as read from then on.
    """

    __slots__ = ("copies",)

    def __init__(self) -> None:
        self.copies: list[dict[Any, Any] | None] | None = None

    def rows(self, batch: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The batch's rows as tuples, each repeated value of a column its one copy."""
        if self.copies is None:
            self.copies = [{} for _ in batch[0]] if batch else []
        copies = self.copies
        if not any(copy is not None for copy in copies):
            return list(map(tuple, batch))
        columns = list(zip(*batch, strict=True))
        for index, column in enumerate(columns):
            copy = copies[index]
            if copy is None:
                continue
            kinds = set(map(type, column))
            kinds.discard(type(None))
            if not kinds:
                continue  # NULL all through this batch: nothing to hold once
            if len(kinds) != 1 or not (kinds <= {str} or kinds <= {int}):
                copies[index] = None
                continue
            columns[index] = tuple(map(copy.setdefault, column, column))
            if len(copy) > _SHARED_PER_BATCH:
                copies[index] = None  # too many distinct values to be worth it
            else:
                copy.clear()  # the copies live in the rows; the next batch finds them again
        return list(zip(*columns, strict=True))
