"""What a plan is: the rows a sync creates, updates and deletes, per dataset.

`planner` makes plans, `order` and `writer` write them, `report` shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Table

from .applied import AppliedRows
from .dataset import Dataset
from .errors import Position

if TYPE_CHECKING:  # what a plan holds once made; the plan itself needs none of it
    from .column_types import ValueRule
    from .references import ResolvedReference
    from .tables import UniqueKey

Action = Literal["create", "update", "delete"]

#: Row changes a plan made a chunk at a time keeps, for the report and the
#: history; the rest are written and counted (`DatasetPlan.let_go`).
KEPT_CHANGES = 10_000

#: The `RowChange.origins` of a row no overlay wrote.
NO_ORIGINS: Mapping[str, Position] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ColumnChange:
    """One column of one row changing from ``old`` (in the table) to ``new`` (in the file).

    ``removed``: the file wrote this column at its last sync and no longer
    does; ``new`` is the column's default (None for NULL, or a
    `reverts.DatabaseDefault` the database computes).
    """

    column: str
    old: Any
    new: Any
    removed: bool = False


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
    #: The columns of a create whose values the model's defaults make up as the
    #: row is written (a ``default_factory=uuid.uuid4`` key, a timestamp): the
    #: plan shows them as ``(generated)``.
    generated: tuple[str, ...] = ()
    #: The values an environment's overlay file wrote (`overlays`): where, by
    #: column.  A row the overlay adds has its key columns here too.  Most
    #: rows have none: they share one empty mapping, not a dict each.
    origins: Mapping[str, Position] = field(default_factory=lambda: NO_ORIGINS)


@dataclass(frozen=True, slots=True)
class UnmanagedValue:
    """A value set in the table in a column the file does not write for that row.

    The sync never touches it; ``alembic datasync --check`` reports it.
    """

    key: tuple[Any, ...]
    label: str
    column: str
    value: Any


@dataclass(frozen=True, slots=True)
class OwnedValue:
    """A value the application owns (``insert_only``, ``create_only``) that differs from the file.

    The sync leaves it as it is; ``alembic datasync --check`` shows it and
    does not fail on it.
    """

    key: tuple[Any, ...]
    label: str
    column: str
    value: Any
    file_value: Any


@dataclass(slots=True)
class DatasetPlan:
    """What syncing one dataset does.

    When planned with ``audit`` (``--check``, ``--dry-run``), it also holds
    what the sync leaves alone: ``unlisted``, the keys of rows in the table
    that the file does not list (kept, as the dataset does not prune), and
    ``unmanaged``, values set in columns the file does not write for that row.
    """

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
    audited: bool = False
    unlisted: list[tuple[Any, ...]] = field(default_factory=list)
    unmanaged: list[UnmanagedValue] = field(default_factory=list)
    #: With ``audit``: values the application owns that differ from the file.
    owned: list[OwnedValue] = field(default_factory=list)
    #: The dataset's references by natural key, found in the tables: the
    #: writer turns the plan's natural keys into ids through them.
    references: list[ResolvedReference] = field(default_factory=list, repr=False)
    #: How each column's values were compared; the check after writing uses the same.
    rules: dict[str, ValueRule] = field(default_factory=dict, repr=False, compare=False)
    #: What the file writes, row by row: the state remembers it (`state`).
    applied: AppliedRows | None = None
    #: True when the plan comes from the state, the file unparsed (nothing changed).
    from_state: bool = False
    #: The overlay file merged into the dataset's file (`overlays`), as shown.
    overlay: str | None = None
    #: Of the ``unlisted`` rows, those an overlay removes: where it says so.
    removed_by: dict[tuple[Any, ...], Position] = field(default_factory=dict)
    #: How many rows the table held when planned: the check after writing reads
    #: the whole table, not the written rows by key, when they are most of it.
    table_rows: int = 0
    #: A plan made and written a chunk at a time (`chunked`): the changes
    #: written and let go, beyond the first `KEPT_CHANGES` the lists hold
    #: (creates, updates, deletes).  The counts say how many there were.
    let_go: tuple[int, int, int] = (0, 0, 0)
    #: True when the plan's rows are written already (`chunked`, as it planned).
    written: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates or self.deletes or any(self.let_go))

    @property
    def create_count(self) -> int:
        """How many rows the plan creates (the ``creates`` kept, and those let go)."""
        return len(self.creates) + self.let_go[0]

    @property
    def update_count(self) -> int:
        """How many rows the plan updates."""
        return len(self.updates) + self.let_go[1]

    @property
    def delete_count(self) -> int:
        """How many rows the plan deletes."""
        return len(self.deletes) + self.let_go[2]

    @property
    def changes(self) -> list[RowChange]:
        """Every row change, in the order a reviewer reads them: file order, deletes last."""
        base = self.dataset.display_path
        # The base file's rows, then those an environment's overlay adds.
        in_file = sorted(
            self.creates + self.updates,
            key=lambda change: (
                (change.position.path != base, change.position.line) if change.position else (0, 0)
            ),
        )
        return in_file + self.deletes
