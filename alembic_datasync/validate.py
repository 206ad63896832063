"""Check a file's rows against the table before anything is written.

Every problem in every row is collected, so one run reports them all.
"""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import Table

from .compare import ValueRule
from .errors import Problem
from .load import LoadedFile, Row


def missing_table_problem(loaded: LoadedFile, where: str) -> Problem:
    """The problem reported when a dataset's table does not exist."""
    dataset = loaded.dataset
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} does not exist {where}; the migration that creates it has "
        f"probably not run (alembic upgrade head) or has not been written",
    )


def validate_rows(loaded: LoadedFile, table: Table, rules: dict[str, ValueRule]) -> list[Problem]:
    """Every problem of ``loaded``'s rows against ``table``; empty when the rows can be synced."""
    dataset = loaded.dataset
    problems: list[Problem] = []
    for column in dataset.key_columns:
        if column not in table.c:
            problems.append(
                Problem(
                    dataset.display_path,
                    f"key column {column!r} is not a column of table {dataset.label!r}"
                    f"{_did_you_mean(column, table)}; fix the Dataset(...) key",
                )
            )
    if problems:
        return problems
    first_row_of_key: dict[tuple[Any, ...], Row] = {}
    for row in loaded.rows:
        for column in row.values:
            if column not in table.c:
                problems.append(
                    Problem(
                        row.position_of(column),
                        f"unknown column {column!r} for table {dataset.label!r}"
                        f"{_did_you_mean(column, table)}",
                    )
                )
        key = key_of(row, dataset.key_columns, rules)
        if key is None:
            missing = [c for c in dataset.key_columns if row.values.get(c) is None]
            problems.append(
                Problem(
                    row.position,
                    f"row has no value for key column {', '.join(missing)}; every row must "
                    f"name its key",
                )
            )
            continue
        first = first_row_of_key.get(key)
        if first is not None:
            problems.append(
                Problem(
                    row.position,
                    f"duplicate key {describe_key(row, dataset.key_columns)!r}: first at line "
                    f"{first.position.line}, again at line {row.position.line}; remove one",
                )
            )
        else:
            first_row_of_key[key] = row
    return problems


def key_of(
    row: Row, key_columns: tuple[str, ...], rules: dict[str, ValueRule]
) -> tuple[Any, ...] | None:
    """The row's key in canonical form, or None when a key column is missing or null."""
    key = []
    for column in key_columns:
        value = row.values.get(column)
        if value is None:
            return None
        key.append(rules[column].canonical(rules[column].to_db(value)))
    return tuple(key)


def describe_key(row: Row, key_columns: tuple[str, ...]) -> str:
    """The row's key as users read it: the value, or ``a, b`` for a composite key."""
    return key_label(tuple(row.values.get(c) for c in key_columns))


def key_label(key: tuple[Any, ...]) -> str:
    """A key as the plan shows it: ``intent_classification``, or ``acme, dark_mode``."""
    return ", ".join(str(value) for value in key)


def _did_you_mean(column: str, table: Table) -> str:
    close = difflib.get_close_matches(column, [c.name for c in table.c], n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
