"""Plan one dataset: the file's rows against the table's -> create / update / unchanged / delete.

One SELECT per dataset reads the key and the columns the file writes; every
comparison then happens in memory through the column's `ValueRule`, skipped
where the table already returns the file's value with the file's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, Connection, Integer, Select, Table, select

from .collector import collector_paused
from .column_types import Convert, ValueRule
from .dataset import Dataset
from .errors import Position, Problem
from .keys import describe_key, key_label, key_of
from .rows import LoadedFile

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class ColumnChange:
    """One column of one row changing from ``old`` (in the table) to ``new`` (in the file)."""

    column: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class RowChange:
    """A row the sync writes.

    ``key`` holds the key as the table stores it (for an update or delete) or
    as the file writes it (for a create).  ``values`` are the values a create
    inserts; ``changes`` the columns an update sets.  ``position`` is where the
    row is written in the file (None for a delete).
    """

    action: Action
    key: tuple[Any, ...]
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    changes: tuple[ColumnChange, ...] = ()
    position: Position | None = None


@dataclass(slots=True)
class DatasetPlan:
    """What syncing one dataset does."""

    dataset: Dataset
    table: Table
    total: int
    unchanged: int = 0
    creates: list[RowChange] = field(default_factory=list)
    updates: list[RowChange] = field(default_factory=list)
    deletes: list[RowChange] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates or self.deletes)

    @property
    def changes(self) -> list[RowChange]:
        """Every row change, in the order a reviewer reads them: file order, deletes last."""
        in_file = sorted(
            self.creates + self.updates,
            key=lambda change: change.position.line if change.position else 0,
        )
        return in_file + self.deletes


def plan_dataset(
    connection: Connection,
    loaded: LoadedFile,
    table: Table,
    rules: dict[str, ValueRule],
) -> tuple[DatasetPlan, list[Problem]]:
    """Plan ``loaded`` (already validated) against ``table``.

    Also returns the problems of new rows that could not be inserted as written.
    """
    dataset = loaded.dataset
    key_columns = dataset.key_columns
    managed = list(dict.fromkeys(c for row in loaded.rows for c in row.values))
    compared = [c for c in managed if c not in key_columns]
    selected = list(key_columns) + compared
    query = select(*(table.c[c] for c in selected))

    width = len(key_columns)
    key_rules = [rules[c] for c in key_columns]
    with collector_paused():
        existing = _existing_rows(connection, query, key_rules)
        plan = DatasetPlan(dataset, table, total=len(loaded.rows))
        problems: list[Problem] = []
        seen: set[tuple[Any, ...]] = set()
        required = _required_columns(table)
        # Per written column: its rule's two steps and where the SELECT put it.
        how: dict[str, tuple[Convert, Convert, int]] = {
            column: (rules[column].to_db, rules[column].canonical, width + i)
            for i, column in enumerate(compared)
        }
        for row in loaded.rows:
            row_key = key_of(row, key_columns, rules)
            assert row_key is not None  # validated
            seen.add(row_key)
            db_row = existing.get(row_key)
            if db_row is None:
                label = describe_key(row, key_columns)
                values = {c: rules[c].to_db(v) for c, v in row.values.items()}
                if any(c not in values for c in required):
                    problems.extend(_missing_required(table, values, row.position, label, dataset))
                plan.creates.append(
                    RowChange(
                        "create",
                        tuple(values[c] for c in key_columns),
                        label,
                        values,
                        position=row.position,
                    )
                )
                continue
            changes = _changed_columns(row.values, db_row, how)
            if changes:
                plan.updates.append(
                    RowChange(
                        "update",
                        tuple(db_row[:width]),
                        describe_key(row, key_columns),
                        changes=tuple(changes),
                        position=row.position,
                    )
                )
            else:
                plan.unchanged += 1

    if dataset.prune:
        if loaded.rows or dataset.allow_empty:
            for existing_key, existing_row in existing.items():
                if existing_key not in seen:
                    db_key = tuple(existing_row[:width])
                    plan.deletes.append(RowChange("delete", db_key, key_label(db_key)))
        elif existing:
            problems.append(
                Problem(
                    dataset.display_path,
                    f"the file has no rows, and pruning would delete all {len(existing)} rows of "
                    f"{dataset.label!r}; if that is what you want, declare the dataset with "
                    f"allow_empty=True",
                )
            )
    return plan, problems


def _existing_rows(
    connection: Connection, query: Select[Any], key_rules: list[ValueRule]
) -> dict[tuple[Any, ...], Any]:
    """The table's rows (key and written columns), by canonical key."""
    result = connection.execute(query)
    if len(key_rules) == 1:
        canonical = key_rules[0].canonical
        return {(canonical(found[0]),): found for found in result}
    return {
        tuple(rule.canonical(value) for rule, value in zip(key_rules, found, strict=False)): found
        for found in result
    }


#: Types whose equal values are equal under every column's rule: a value that
#: comes back from the table with the file's type and value needs no rule.
_PLAIN_TYPES = frozenset((str, int, bool, float))


def _changed_columns(
    values: dict[str, Any], db_row: Any, how: dict[str, tuple[Convert, Convert, int]]
) -> list[ColumnChange]:
    """The columns of one row whose file value differs from the table's."""
    changes: list[ColumnChange] = []
    for column, value in values.items():
        steps = how.get(column)
        if steps is None:
            continue  # a key column
        to_db, canonical, index = steps
        new = to_db(value)
        old = db_row[index]
        if new is old or (type(new) is type(old) and type(new) in _PLAIN_TYPES and new == old):
            continue
        if canonical(new) != canonical(old):
            # to_db shows the old value the way the file would write it
            # (MySQL's TINYINT(1) 0 as false).
            changes.append(ColumnChange(column, to_db(old), new))
    return changes


def _generates_its_own_key(table: Table, column: Column[Any]) -> bool:
    """True for a single-column integer primary key the database numbers itself."""
    return (
        column.primary_key
        and len(table.primary_key.columns) == 1
        and isinstance(column.type, Integer)
        and column.autoincrement in (True, "auto")
    )


def _required_columns(table: Table) -> list[str]:
    """The columns a new row must write: NOT NULL, and nothing fills them in."""
    return [
        column.name
        for column in table.columns
        if not column.nullable
        and column.server_default is None
        and column.default is None
        and column.identity is None
        and not _generates_its_own_key(table, column)
    ]


def _missing_required(
    table: Table, values: dict[str, Any], position: Position, label: str, dataset: Dataset
) -> list[Problem]:
    missing = [name for name in _required_columns(table) if name not in values]
    if not missing:
        return []
    return [
        Problem(
            position,
            f"new row {label!r} of {dataset.label!r} leaves out {', '.join(map(repr, missing))}, "
            f"which cannot be NULL and has no default; add "
            f"{'it' if len(missing) == 1 else 'them'} to the row",
        )
    ]
