"""Row keys: the canonical key a row is matched on, and the label users read."""

from __future__ import annotations

from typing import Any

from .column_types import ValueRule
from .rows import Row


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
