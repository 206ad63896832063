"""After writing, what the table kept: the values the database changed, named at once.

The type rules refuse, before anything is written, what they know a column
would not keep (`column_types`).  Some changes only the database knows of: a
trigger rewriting a value, a column type storing less than it is given.  Left
alone, each would plan the same update on every deploy.  So, in the same
transaction, right after the writes, the written columns of the created and
updated rows are read back by key (one SELECT per dataset, in chunks, or of
the whole table when the writes are most of it) and compared, a batch at a
time, with what was written by the same rules the plan used; each value the
table did not keep becomes a warning naming the row, the column, the value
written and the value kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table

from .column_types import Convert
from .display import SECRET, show_value
from .planner import PLAIN_TYPES
from .plans import DatasetPlan, RowChange
from .reading import by_keys, rows_in_batches
from .references import read_names, with_natural_keys, with_own_rules
from .reverts import DatabaseDefault
from .tables import column_rules


def values_not_kept(connection: Connection, plans: Sequence[DatasetPlan]) -> list[str]:
    """A warning for each value just written that the table does not hold as written."""
    warnings: list[str] = []
    for plan in plans:
        written = plan.creates + plan.updates
        if written:
            warnings.extend(_plan_values_not_kept(connection, plan, written))
    return warnings


def _written_values(change: RowChange) -> dict[str, Any]:
    if change.action == "create":
        return change.values
    # A default the database computes (a removed value going back to now()) has
    # no value to compare with.
    return {c.column: c.new for c in change.changes if not isinstance(c.new, DatabaseDefault)}


def _plan_values_not_kept(
    connection: Connection, plan: DatasetPlan, written: list[RowChange]
) -> list[str]:
    table, dataset = plan.table, plan.dataset
    key_columns = dataset.key_columns
    rules = plan.rules or column_rules(table, connection.dialect.name)
    names: dict[str, Any] = {}
    for change in written:
        names.update(_written_values(change))
    columns = [c for c in names if c not in key_columns]
    if not columns:
        return []
    width = len(key_columns)
    key_of = _key_reader([rules[c].canonical for c in key_columns])
    # Referencing columns are read back as the names they now point to.
    references = [
        replace(r, names=read_names(connection, r)) for r in plan.references if r.column in columns
    ]
    reading = with_own_rules(rules, references)
    selected = [*key_columns, *columns]
    # Per written column: where the SELECT put it, and how it compares.
    how = {column: (width + i, rules[column].canonical) for i, column in enumerate(columns)}
    # The written rows by key, each dropped once its row is read back: the
    # rows read are compared as they come, a batch at a time, never all held
    # (a first sync reads back its whole table).
    waiting: dict[Any, int] = {}
    also: dict[Any, list[int]] = {}  # keys written twice (never, as planned)
    for index, change in enumerate(written):
        key = key_of(change.key)
        if waiting.setdefault(key, index) != index:
            also.setdefault(key, []).append(index)
    found: list[tuple[int, str]] = []
    for condition in _conditions(connection, table, key_columns, written, plan):
        for batch in rows_in_batches(connection, table, selected, reading, condition):
            for row in with_natural_keys(batch, selected, references):
                key = key_of(row)
                index = waiting.pop(key, -1)
                if index < 0:
                    continue  # a row no write touched, or one read already
                for number in (index, *also.pop(key, ())):
                    found.extend(
                        (number, warning)
                        for warning in _row_not_kept(written[number], row, plan, how)
                    )
    for key, index in waiting.items():
        for number in (index, *also.get(key, ())):
            change = written[number]
            found.append(
                (
                    number,
                    f"{_where(change, plan)}: row {change.label!r} of {dataset.label!r} is not "
                    f"in the table after writing it (a trigger, or a key the database changes); "
                    f"every sync will write it again",
                )
            )
    found.sort(key=lambda item: item[0])  # in the order of the writes
    return [warning for _, warning in found]


def _row_not_kept(
    change: RowChange,
    row: Sequence[Any],
    plan: DatasetPlan,
    how: dict[str, tuple[int, Convert]],
) -> Iterator[str]:
    """A warning for each value of ``change`` that ``row``, as read back, does not hold."""
    for column, value in _written_values(change).items():
        steps = how.get(column)
        if steps is None:
            continue  # a key column
        stored = row[steps[0]]
        kind = type(value)
        if value is stored or (kind is type(stored) and kind in PLAIN_TYPES and value == stored):
            continue
        if steps[1](value) != steps[1](stored):
            yield _not_kept(change, plan, column, value, stored)


def _conditions(
    connection: Connection,
    table: Table,
    key_columns: tuple[str, ...],
    written: list[RowChange],
    plan: DatasetPlan,
) -> Iterator[ColumnElement[bool] | None]:
    """The WHERE of each SELECT that reads ``written`` back: by key, or none at all.

    When the written rows are most of the table (a first sync), one SELECT of
    the whole table reads them in a fraction of the time the chunks of keys
    take; the rows no write touched are simply not looked at.
    """
    if 2 * len(written) >= plan.table_rows + len(plan.creates):
        yield None
        return
    yield from by_keys(connection, table, key_columns, [change.key for change in written])


def _key_reader(canonicals: list[Convert]) -> Callable[[Sequence[Any]], Any]:
    """A row's (or a key's) canonical key, from its leading values."""
    if len(canonicals) == 1:
        (canonical,) = canonicals
        return lambda row: canonical(row[0])
    return lambda row: tuple(c(v) for c, v in zip(canonicals, row, strict=False))


def _where(change: RowChange, plan: DatasetPlan) -> str:
    return str(change.position if change.position is not None else plan.dataset.display_path)


def _not_kept(change: RowChange, plan: DatasetPlan, column: str, value: Any, stored: Any) -> str:
    dataset = plan.dataset
    secret = column in dataset.secret_columns
    return (
        f"{_where(change, plan)}: row {change.label!r} of {dataset.label!r}: {column} was "
        f"written as {SECRET if secret else show_value(value)} but the table kept "
        f"{SECRET if secret else show_value(stored)} (a trigger, or a column that changes what "
        f"it is given); every sync will write it again"
    )
