"""The file's values as the database reads them, for column types no Python rule compares.

PostgreSQL has types `column_types` has no rule for (``inet``, ``cidr``,
``macaddr``, ``interval``, ranges, ``money``, ``tsvector``...): the driver
returns ``IPv4Address('10.0.0.1')`` for a file's ``10.0.0.1``, a timedelta
for ``'1 day 02:00:00'``, ``'$12.50'`` for ``12.5``, so comparing the file's
value with the table's in Python would plan the same update forever.  For such
a column (``ValueRule.by_database``), the distinct values the file writes are
read by the database itself, ``SELECT CAST(:value AS <column type>)``, and
converted back by the same driver and SQLAlchemy type as the table's own
values; the comparison then uses that form.  One query per column and
hundreds of values, and none at all for a file that writes no such column.

A value the database cannot read as the column's type is a problem at its
position, found before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Table, bindparam, cast, select
from sqlalchemy import exc as sa_exc

from .column_types import Convert, ValueRule
from .display import show
from .errors import Problem
from .rows import LoadedFile, Row
from .transaction import unit_of_work

#: Values read in one SELECT (PostgreSQL allows 1,664 columns).
_CHUNK = 500

_MISSING = object()


def with_database_forms(
    connection: Connection, table: Table, loaded: LoadedFile, rules: dict[str, ValueRule]
) -> tuple[dict[str, ValueRule], list[Problem]]:
    """``rules`` where each column compared by the database compares the database's form.

    Also returns a problem for each value the database cannot read as its
    column's type.
    """
    by_database = {name for name, rule in rules.items() if rule.by_database}
    if not by_database:
        return rules, []
    columns = [
        name
        for name in dict.fromkeys(c for row in loaded.rows for c in row.values)
        if name in by_database
    ]
    if not columns:
        return rules, []
    compared = dict(rules)
    problems: list[Problem] = []
    for name in columns:
        rule = rules[name]
        firsts: dict[Any, tuple[Any, Row]] = {}
        for row in loaded.rows:
            value = row.values.get(name)
            if value is not None:
                written = rule.to_db(value)
                firsts.setdefault(rule.canonical(written), (written, row))
        forms = _read_by_database(connection, table, name, rule.canonical, firsts, problems)
        compared[name] = replace(rule, canonical=_in_form(forms, rule.canonical))
    return compared, problems


def _read_by_database(
    connection: Connection,
    table: Table,
    name: str,
    canonical: Convert,
    firsts: dict[Any, tuple[Any, Row]],
    problems: list[Problem],
) -> dict[Any, Any]:
    """Canonical file value -> canonical form of the database's reading of it."""
    column_type = table.c[name].type
    forms: dict[Any, Any] = {}
    items = list(firsts.items())
    for chunk in _chunks(items):
        read = _cast_values(connection, column_type, [written for _, (written, _) in chunk])
        if read is None:
            # One value the database refuses: find which, one at a time.
            for key, (written, row) in chunk:
                single = _cast_values(connection, column_type, [written])
                if isinstance(single, str):
                    problems.append(_refused(name, column_type, connection, written, row, single))
                elif single is not None:
                    forms[key] = canonical(single[0])
            continue
        if isinstance(read, str):
            for _, (written, row) in chunk:
                problems.append(_refused(name, column_type, connection, written, row, read))
            continue
        for (key, _), value in zip(chunk, read, strict=True):
            forms[key] = canonical(value)
    return forms


def _cast_values(connection: Connection, column_type: Any, values: list[Any]) -> Any:
    """The database's reading of ``values`` as ``column_type``.

    None when it refuses one of several values; the reason when it refuses
    the only one.
    """
    query = select(
        *(cast(bindparam(None, value, type_=column_type), column_type) for value in values)
    )
    try:
        with unit_of_work(connection, nested=True, keep=False):
            return list(connection.execute(query).one())
    except sa_exc.StatementError as error:
        if len(values) > 1:
            return None
        original = error.orig if error.orig is not None else error
        return str(original).strip().splitlines()[0]


def _refused(
    name: str, column_type: Any, connection: Connection, written: Any, row: Row, reason: str
) -> Problem:
    type_name = column_type.compile(dialect=connection.dialect)
    return Problem(
        row.position_of(name),
        f"{name} expects a value the database reads as {type_name}, got {show(written)}, "
        f"which it refuses ({reason}); write it as {type_name} takes it",
    )


def _in_form(forms: dict[Any, Any], canonical: Convert) -> Convert:
    """``canonical``, then the database's form where the value is one the file writes."""

    def convert(value: Any) -> Any:
        key = canonical(value)
        try:
            form = forms.get(key, _MISSING)
        except TypeError:  # an unhashable value from the table: no file value is one
            return key
        return key if form is _MISSING else form

    return convert


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
