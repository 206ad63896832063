"""Plan one dataset: the file's rows against the table's -> create / update / unchanged / delete.

One SELECT per dataset reads the key and the columns the file writes; every
comparison then happens in memory through the column's `ValueRule`, skipped
where the table already returns the file's value with the file's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, ColumnDefault, Connection, Select, Table, select

from .collector import collector_paused
from .column_types import Convert, ValueRule
from .dataset import Dataset
from .errors import Position, Problem
from .keys import describe_key, key_label, key_of
from .model import generated_columns
from .rows import LoadedFile
from .tables import missing_required_problem, required_columns

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
    row is written in the file (None for a delete).  ``generated`` names the
    columns of a create whose values the model's defaults make up as the row
    is written (a ``default_factory=uuid.uuid4`` key, a timestamp): the plan
    shows them as ``(generated)``.
    """

    action: Action
    key: tuple[Any, ...]
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    changes: tuple[ColumnChange, ...] = ()
    position: Position | None = None
    generated: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnmanagedValue:
    """A value set in the table in a column the file does not write for that row.

    The sync never touches it; ``alembic datasync --check`` reports it.
    """

    key: tuple[Any, ...]
    label: str
    column: str
    value: Any


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
    audited: bool = False
    unlisted: list[tuple[Any, ...]] = field(default_factory=list)
    unmanaged: list[UnmanagedValue] = field(default_factory=list)

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
    *,
    model_known: bool = False,
    audit: bool = False,
) -> tuple[DatasetPlan, list[Problem]]:
    """Plan ``loaded`` (already validated) against ``table``.

    Also returns the problems of new rows that could not be inserted as written.
    ``table`` carries the model's defaults (``model_known``: a model was
    found).  ``audit`` also reads what the sync leaves alone (see `DatasetPlan`).
    """
    dataset = loaded.dataset
    key_columns = dataset.key_columns
    managed = list(dict.fromkeys(c for row in loaded.rows for c in row.values))
    compared = [c for c in managed if c not in key_columns]
    selected = list(key_columns) + compared
    audited = [c.name for c in table.columns if c.name not in key_columns and _auditable(c)]
    if audit:
        selected += [c for c in audited if c not in selected]
    query = select(*(table.c[c] for c in selected))

    width = len(key_columns)
    key_rules = [rules[c] for c in key_columns]
    with collector_paused():
        existing = _existing_rows(connection, query, key_rules)
        plan = DatasetPlan(dataset, table, total=len(loaded.rows), audited=audit)
        problems: list[Problem] = []
        seen: set[tuple[Any, ...]] = set()
        required = required_columns(table)
        generated: dict[frozenset[str], tuple[str, ...]] = {}
        where = {column: index for index, column in enumerate(selected)}
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
                    problem = missing_required_problem(
                        table,
                        values,
                        row.position,
                        label,
                        dataset,
                        known_new=True,
                        model_known=model_known,
                    )
                    if problem is not None:
                        problems.append(problem)
                written = frozenset(values)
                if written not in generated:
                    generated[written] = tuple(generated_columns(table, written))
                plan.creates.append(
                    RowChange(
                        "create",
                        tuple(values[c] for c in key_columns),
                        label,
                        values,
                        position=row.position,
                        generated=generated[written],
                    )
                )
                continue
            if audit:
                plan.unmanaged.extend(
                    _unmanaged_values(row.values, db_row, audited, where, table, rules, width)
                )
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

    if audit and not dataset.prune:
        plan.unlisted = sorted(
            (
                tuple(found[:width])
                for found_key, found in existing.items()
                if found_key not in seen
            ),
            key=key_label,
        )
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


def _auditable(column: Column[Any]) -> bool:
    """Whether a value set in ``column`` and not written by the file is worth reporting.

    Not the primary key, nor what the application or the database keeps up
    by itself: generated defaults (callables, SQL), ``onupdate`` columns,
    identities and computed columns.
    """
    default = column.default
    return not (
        column.primary_key
        or column.onupdate is not None
        or column.server_onupdate is not None
        or column.identity is not None
        or column.computed is not None
        or (isinstance(default, ColumnDefault) and not default.is_scalar)
    )


def _unmanaged_values(
    values: dict[str, Any],
    db_row: Any,
    audited: list[str],
    where: dict[str, int],
    table: Table,
    rules: dict[str, ValueRule],
    width: int,
) -> list[UnmanagedValue]:
    """The values set in ``db_row`` in columns the file's row does not write.

    A value equal to the model's own scalar default is what the application
    would have given the row: it is not reported.
    """
    found = []
    for column in audited:
        if column in values:
            continue
        value = db_row[where[column]]
        if value is None or _is_model_default(table.c[column], value, rules[column]):
            continue
        key = tuple(db_row[:width])
        found.append(UnmanagedValue(key, key_label(key), column, rules[column].to_db(value)))
    return found


def _is_model_default(column: Column[Any], value: Any, rule: ValueRule) -> bool:
    default = column.default
    if not isinstance(default, ColumnDefault) or not default.is_scalar:
        return False
    try:
        return bool(rule.canonical(rule.to_db(default.arg)) == rule.canonical(value))
    except Exception:  # a default the rule cannot read is simply not the value
        return False
