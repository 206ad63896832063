"""Row keys: the canonical key a row is matched on, and the label users read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .dataset import Dataset
from .errors import Problem
from .rows import Row

if TYPE_CHECKING:
    from .column_types import ValueRule


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


def key_reader(
    key_columns: tuple[str, ...], rules: dict[str, ValueRule]
) -> Callable[[Row], tuple[Any, ...] | None]:
    """`key_of` for many rows of one dataset: the rules looked up once, not once a row."""
    if len(key_columns) != 1:
        return lambda row: key_of(row, key_columns, rules)
    (column,) = key_columns
    to_db, canonical = rules[column].to_db, rules[column].canonical

    def read(row: Row) -> tuple[Any, ...] | None:
        value = row.values.get(column)
        return None if value is None else (canonical(to_db(value)),)

    return read


def describe_key(row: Row, key_columns: tuple[str, ...]) -> str:
    """The row's key as users read it: the value, or ``a, b`` for a composite key."""
    return key_label(tuple(row.values.get(c) for c in key_columns))


def key_label(key: tuple[Any, ...]) -> str:
    """A key as the plan shows it: ``intent_classification``, or ``acme, dark_mode``."""
    return ", ".join("null" if value is None else str(value) for value in key)


def same_key_problem(row: Row, first: Row, dataset: Dataset) -> Problem:
    """Two rows, of one file or of two datasets of one table, whose keys are one key."""
    label = describe_key(row, dataset.key_columns)
    other = describe_key(first, dataset.key_columns)
    if first.position.path != row.position.path:
        spelled = "" if label == other else f" as {other!r}"
        return Problem(
            row.position,
            f"row {label!r} is also written by another dataset of table {dataset.label!r}, "
            f"at {first.position}{spelled}; a row belongs to one dataset file: remove it from "
            f"one of them",
        )
    return Problem(
        row.position,
        f"key {label!r} is the same key to the database as {other!r} at line "
        f"{first.position.line} (the key column compares them as equal, e.g. ignoring case, "
        f"accents or trailing spaces); remove one of the rows",
    )
