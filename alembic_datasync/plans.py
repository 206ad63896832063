"""What a plan is: the rows a sync creates, updates and deletes, per dataset.

`planner` makes plans, `order` and `writer` write them, `report` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table

from .column_types import ValueRule
from .dataset import Dataset
from .errors import Position
from .tables import UniqueKey

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
    inserts (for a delete, the row's references to other rows of its table,
    which decide the order of deletes); ``changes`` the columns an update sets.
    ``position`` is where the row is written in the file (None for a delete).
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
    #: What the plan leaves alone and why, for the report (not a problem).
    notes: list[str] = field(default_factory=list)
    #: The table's unique keys, which decide how new rows are inserted.
    unique_keys: list[UniqueKey] = field(default_factory=list)
    #: How each column's values were compared; the check after writing uses the same.
    rules: dict[str, ValueRule] = field(default_factory=dict, repr=False, compare=False)

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
