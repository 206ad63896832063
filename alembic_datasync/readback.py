"""After writing, what the table kept: the values the database changed, named at once.

The type rules refuse, before anything is written, what they know a column
would not keep (`column_types`).  Some changes only the database knows of: a
trigger rewriting a value, a column type storing less than it is given.  Left
alone, each would plan the same update on every deploy.  So, in the same
transaction, right after the writes, the written columns of the created and
updated rows are read back by key (one SELECT per dataset, in chunks) and
compared with what was written by the same rules the plan used; each value the
table did not keep becomes a warning naming the row, the column, the value
written and the value kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, tuple_

from .display import SECRET, show_value
from .planner import DatasetPlan, RowChange
from .reading import read_rows
from .tables import column_rules

#: Keys per SELECT ... WHERE key IN (...), well under every database's limit of bound values.
_CHUNK = 2_000


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
    return {c.column: c.new for c in change.changes}


def _plan_values_not_kept(
    connection: Connection, plan: DatasetPlan, written: list[RowChange]
) -> list[str]:
    table, dataset = plan.table, plan.dataset
    key_columns = dataset.key_columns
    rules = plan.rules or column_rules(table, connection.dialect.name)
    columns = list(
        dict.fromkeys(
            c for change in written for c in _written_values(change) if c not in key_columns
        )
    )
    if not columns:
        return []
    selected = [*key_columns, *columns]
    width = len(key_columns)
    key_rules = [rules[c] for c in key_columns]
    kept: dict[tuple[Any, ...], Sequence[Any]] = {}
    for start in range(0, len(written), _CHUNK):
        keys = [change.key for change in written[start : start + _CHUNK]]
        if width == 1:
            condition = table.c[key_columns[0]].in_([key[0] for key in keys])
        else:
            condition = tuple_(*(table.c[c] for c in key_columns)).in_(keys)
        for found in read_rows(connection, table, selected, rules, condition):
            key = tuple(rule.canonical(v) for rule, v in zip(key_rules, found, strict=False))
            kept[key] = found
    warnings: list[str] = []
    for change in written:
        key = tuple(rule.canonical(v) for rule, v in zip(key_rules, change.key, strict=True))
        row = kept.get(key)
        where = change.position if change.position is not None else dataset.display_path
        if row is None:
            warnings.append(
                f"{where}: row {change.label!r} of {dataset.label!r} is not in the table after "
                f"writing it (a trigger, or a key the database changes); every sync will "
                f"write it again"
            )
            continue
        for column, value in _written_values(change).items():
            if column in key_columns:
                continue
            stored = row[width + columns.index(column)]
            canonical = rules[column].canonical
            if canonical(value) == canonical(stored):
                continue
            secret = column in dataset.secret_columns
            shown_written = SECRET if secret else show_value(value)
            shown_kept = SECRET if secret else show_value(stored)
            warnings.append(
                f"{where}: row {change.label!r} of {dataset.label!r}: {column} was written as "
                f"{shown_written} but the table kept {shown_kept} (a trigger, or a column "
                f"that changes what it is given); every sync will write it again"
            )
    return warnings
