"""What a value removed from a dataset file goes back to: the column's default.

A line deleted from a row in a pull request ("rollback: edit the YAML and
redeploy") must undo what it did.  The value goes back to what the row would
hold had the file never written it, in this order:

1. the model's default (``Column(default=...)``, a callable, an SQL
   expression), where the project's model gave the column one (the planner
   reads ``column.default`` of the table it plans against, which is where the
   model's defaults are attached);
2. the database's own default (``server_default``): a literal one (``0.7``,
   ``'gpt-4o'``) is read back as its value, so the plan shows it and a row
   already holding it is left alone; any other (``now()``, a sequence) is
   written as ``SET column = <its SQL>``, the same on every database;
3. NULL.

Identity and generated columns are never reverted (the database fills them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnDefault,
    Computed,
    Connection,
    DefaultClause,
    Identity,
    Sequence,
    literal_column,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import ClauseElement, ColumnElement, TextClause
from sqlalchemy.sql.schema import Column

from .transaction import unit_of_work

if TYPE_CHECKING:
    from .column_types import ValueRule


@dataclass(frozen=True)
class DatabaseDefault:
    """A default the database computes (``now()``, a sequence): written as SQL, never bound.

    Shown in plans as ``DEFAULT <sql>``.
    """

    sql: str
    expression: Any = None

    def clause(self) -> ColumnElement[Any]:
        """The SQL that sets the column to this default in an UPDATE."""
        if isinstance(self.expression, ColumnElement):
            return self.expression
        return literal_column(self.sql)

    def __repr__(self) -> str:
        return f"DEFAULT {self.sql}"

    __str__ = __repr__


@dataclass(frozen=True)
class RevertTarget:
    """How one column's removed values are reverted.

    ``value`` is the same for every row (None: NULL; a `DatabaseDefault`);
    ``per_row``, when set, computes a fresh value for each row (a model's
    callable default, such as ``uuid4``).
    """

    value: Any = None
    per_row: Callable[[], Any] | None = None

    def for_row(self) -> Any:
        return self.per_row() if self.per_row is not None else self.value

    @property
    def is_null(self) -> bool:
        return self.per_row is None and self.value is None


class _DefaultContext:
    """What a context-sensitive model default sees when a revert computes it: no parameters."""

    def __init__(self, connection: Connection, column: Column[Any]) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.current_column = column
        self.current_parameters: dict[str, Any] = {}

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


def revertible(column: Column[Any]) -> bool:
    """False for identity and generated columns, which the database fills itself."""
    return not (
        column.identity is not None
        or isinstance(column.server_default, Computed | Identity)
        or column.computed is not None
    )


def revert_target(connection: Connection, column: Column[Any], rule: ValueRule) -> RevertTarget:
    """What ``column``'s values go back to when the file stops writing them (see the module)."""
    found = _model_default(connection, column, rule)
    if found is not None:
        return found
    server = column.server_default
    if isinstance(server, DefaultClause):
        return _server_default(connection, server.arg, rule)
    if server is None and connection.dialect.name in ("mysql", "mariadb"):
        catalog = _mysql_default(connection, column)
        if catalog is not None:
            return _server_default(connection, catalog, rule)
    return RevertTarget(None)


def _mysql_default(connection: Connection, column: Column[Any]) -> str | None:
    """The column's default as MySQL's catalog says it, where reflection found none.

    SQLAlchemy does not reflect MariaDB's expression defaults, which SHOW
    CREATE TABLE writes without parentheses (``DEFAULT lcase('ABC')``).
    """
    found = connection.execute(
        text(
            "SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
            " AND COLUMN_NAME = :column"
        ),
        {"schema": column.table.schema, "table": column.table.name, "column": column.name},
    ).scalar()
    if found is None or str(found).upper() == "NULL":
        return None
    return str(found)


def _model_default(
    connection: Connection, column: Column[Any], rule: ValueRule
) -> RevertTarget | None:
    default = column.default
    if isinstance(default, Sequence):
        expression = default.next_value()
        return RevertTarget(DatabaseDefault(_sql_of(connection, expression), expression))
    if not isinstance(default, ColumnDefault):
        return None
    if default.is_scalar:
        return RevertTarget(rule.to_db(default.arg))
    if default.is_callable:
        generate: Any = default.arg
        context = _DefaultContext(connection, column)
        return RevertTarget(per_row=lambda: rule.to_db(generate(context)))
    if default.is_clause_element:
        expression = default.arg
        return RevertTarget(DatabaseDefault(_sql_of(connection, expression), expression))
    return None


def _sql_of(connection: Connection, expression: Any) -> str:
    return str(expression.compile(dialect=connection.dialect))


#: A server default that is a plain literal: a number, a quoted text, true,
#: false or null, possibly in parentheses and cast (PostgreSQL's ``'a'::text``).
_LITERAL = re.compile(
    r"""^\s*\(*\s*
    (?:'(?:[^']|'')*'|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|true|false|null)
    \s*\)*\s*
    (?:::\s*[a-z][a-z0-9_ ]*(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])?\s*\)*\s*)*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _server_default(connection: Connection, argument: Any, rule: ValueRule) -> RevertTarget:
    if isinstance(argument, str):
        sql = argument
    elif isinstance(argument, TextClause):
        sql = argument.text
    elif isinstance(argument, ClauseElement):
        sql = _sql_of(connection, argument)
    else:
        sql = str(argument)
    database_default = RevertTarget(DatabaseDefault(sql, text(sql)))
    if not _LITERAL.match(sql):
        return database_default
    try:
        with unit_of_work(connection, nested=True):
            value = connection.execute(select(literal_column(sql))).scalar()
    except sa_exc.DBAPIError:
        return database_default
    value = _typed(value, rule)
    if value is not None and rule.judge(value) is not None:
        return database_default
    return RevertTarget(value)


def _typed(value: Any, rule: ValueRule) -> Any:
    """A literal default read back as text ('0.7' on MySQL), made the column's kind of value."""
    if isinstance(value, str) and rule.judge(value) is not None:
        for parse in (int, float):
            try:
                parsed = parse(value)
            except ValueError:
                continue
            if rule.judge(parsed) is None:
                return rule.to_db(parsed)
    return rule.to_db(value)
