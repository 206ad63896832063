"""What users read: `SyncReport`, the summary line per dataset and the plan as a reviewable diff."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .display import REDACTED, SECRET, show_value
from .errors import Position, Problem
from .keys import key_label
from .plans import KEPT_CHANGES, ColumnChange, DatasetPlan, RowChange

#: How the plan shows a value the model's defaults make up as a new row is written.
GENERATED = "(generated)"


@dataclass
class SyncReport:
    """The plan of a sync and, once applied, its result.

    ``datasets`` holds one `DatasetPlan` per dataset that was synced, in
    declaration order; ``warnings`` what was skipped and why (a missing file
    outside strict mode); ``applied`` whether the plan has been written.
    """

    datasets: list[DatasetPlan]
    warnings: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def has_changes(self) -> bool:
        """True when syncing would write (or wrote) at least one row."""
        return any(plan.has_changes for plan in self.datasets)

    def summary_lines(self) -> list[str]:
        """One line per dataset: ``datasync: <dataset> (<file>): 8 total, 1 created, ...``."""
        return [summary_line(plan, self.applied) for plan in self.datasets]

    def plan_lines(self) -> list[str]:
        """The row changes of every dataset, as a diff a reviewer can read."""
        lines: list[str] = []
        for plan in self.datasets:
            lines.extend(plan_lines(plan))
        return lines

    def changed_keys(self) -> dict[str, dict[str, list[list[Any]]]]:
        """Per dataset with changes: the keys it created, updated and deleted.

        What an application needs to drop its cached copies of exactly those
        rows; keys are lists (one value per key column), values as stored.
        """
        return {
            plan.dataset.label: {
                "created": [list(change.key) for change in plan.creates],
                "updated": [list(change.key) for change in plan.updates],
                "deleted": [list(change.key) for change in plan.deletes],
            }
            for plan in self.datasets
            if plan.has_changes
        }

    def __repr__(self) -> str:
        # What a plan holds stays out of sight (secrets): the summary says enough.
        state = "applied" if self.applied else "planned"
        return f"<SyncReport {state}: {'; '.join(self.summary_lines()) or 'no datasets'}>"

    def __str__(self) -> str:
        return self.render()

    def render(self, max_rows: int | None = None) -> str:
        """Summary lines, each followed by its dataset's changes (at most ``max_rows`` each).

        A plan made with ``audit`` also lists what the sync leaves alone.
        """
        lines = [f"datasync: warning: {warning}" for warning in self.warnings]
        for plan in self.datasets:
            lines.append(summary_line(plan, self.applied))
            lines.extend(f"  note: {note}" for note in plan.notes)
            lines.extend(f"  {line}" for line in plan_lines(plan, max_rows))
            lines.extend(f"  {line}" for line in audit_lines(plan))
        return "\n".join(lines)

    def counts(self) -> str:
        """What the sync writes, over every dataset: ``1 to create, 2 to update``."""
        found = {
            "to create": sum(plan.create_count for plan in self.datasets),
            "to update": sum(plan.update_count for plan in self.datasets),
            "to delete": sum(plan.delete_count for plan in self.datasets),
        }
        return ", ".join(f"{count} {what}" for what, count in found.items() if count)


def summary_line(plan: DatasetPlan, applied: bool) -> str:
    """``datasync: <dataset> (<file>): 8 total, 1 created, 1 updated, 6 unchanged``."""
    created, updated, deleted = (
        ("created", "updated", "deleted") if applied else ("to create", "to update", "to delete")
    )
    parts = [
        f"{plan.total} total",
        f"{plan.create_count} {created}",
        f"{plan.update_count} {updated}",
        f"{plan.unchanged} unchanged",
    ]
    if plan.dataset.prune or plan.delete_count:
        parts.append(f"{plan.delete_count} {deleted}")
    if plan.dataset.insert_only:
        parts[3] += " (insert-only: rows that exist are not compared)"
    files = plan.dataset.display_path + (f" + {plan.overlay}" if plan.overlay else "")
    return f"datasync: {plan.dataset.label} ({files}): {', '.join(parts)}"


def change_lines(
    change: RowChange, key_columns: tuple[str, ...], secret: frozenset[str] = frozenset()
) -> list[str]:
    """The lines of the plan for one row change; ``secret`` columns' values are hidden."""

    def shown(column: str, value: Any) -> str:
        return SECRET if column in secret else show_value(value)

    origins = change.origins
    if change.action == "create":
        # A row an overlay adds says so once, on its first line.
        added = bool(origins) and all(column in origins for column in key_columns)
        written = "  ".join(
            [
                f"{column}: {shown(column, value)}"
                + ("" if added else origin_note(origins.get(column)))
                for column, value in change.values.items()
                if column not in key_columns
            ]
            + [f"{column}: {GENERATED}" for column in change.generated]
        )
        head = f"+ {change.label}" + (origin_note(change.position) if added else "")
        return [head] + ([f"    {written}"] if written else [])
    if change.action == "update":
        return [f"~ {change.label}"] + [
            f"    {column_change_line(c, secret)}{origin_note(origins.get(c.column))}"
            for c in change.changes
        ]
    if origins:
        where = next(iter(origins.values()))
        return [f"- {change.label} (removed in {where.path}:{where.line})"]
    return [f"- {change.label}"]


def origin_note(position: Position | None) -> str:
    """`` (config/llm_nodes.staging.yaml:12)``: where an overlay wrote a value; "" for none."""
    return f" ({position.path}:{position.line})" if position is not None else ""


#: What a plan line adds to a value the file no longer writes, going back to its default.
REMOVED = "(removed from the file)"


def column_change_line(change: ColumnChange, secret: frozenset[str] = frozenset()) -> str:
    """``column: old -> new`` for one changed column; a reverted value says it was removed."""
    if change.column in secret:
        line = f"{change.column}: {SECRET} changed"
    elif change.removed and change.new is None:
        line = f"{change.column}: {show_value(change.old)} -> NULL"
    else:
        line = f"{change.column}: {show_value(change.old)} -> {show_value(change.new)}"
    return f"{line} {REMOVED}" if change.removed else line


def plan_lines(plan: DatasetPlan, max_rows: int | None = None) -> list[str]:
    """The plan of one dataset: each changed row, creates and updates in file order.

    With ``max_rows``, the rows after that many are summed up in one line.
    """
    dataset = plan.dataset
    changes = plan.changes
    lines: list[str] = []
    for change in changes[:max_rows]:
        lines.extend(change_lines(change, dataset.key_columns, dataset.secret_columns))
    let_go = sum(plan.let_go)
    if max_rows is not None and len(changes) > max_rows:
        lines.append(
            f"... and {len(changes) - max_rows + let_go:,} more changed rows "
            + (
                "(`alembic datasync --dry-run` lists them all)"
                if not let_go
                else f"(a CSV dataset planned in chunks lists its first {KEPT_CHANGES:,})"
            )
        )
    elif let_go:
        lines.append(
            f"... and {let_go:,} more changed rows (a CSV dataset planned in chunks lists its "
            f"first {KEPT_CHANGES:,})"
        )
    return lines


#: Rows or values an audit lists by name, per dataset; the JSON output lists them all.
AUDIT_LISTED = 20


def audit_lines(plan: DatasetPlan) -> list[str]:
    """What the sync leaves alone, for ``--check`` and ``--dry-run``; never a reason to fail.

    Rows of the table the file does not list (kept: the dataset does not
    prune), and values set in columns the file does not write for that row.
    """
    if not plan.audited:
        return []
    lines: list[str] = []
    if plan.unlisted:
        count = len(plan.unlisted)
        lines.append(
            f"{_rows(count)} in the table but not in the file, kept (the dataset does not "
            f"prune; prune='all' would delete {'it' if count == 1 else 'them'}):"
        )
        lines.extend(
            f"    {key_label(key)}" + _removed_note(plan.removed_by.get(key))
            for key in plan.unlisted[:AUDIT_LISTED]
        )
        lines.extend(_more(count))
    if plan.unmanaged:
        count = len(plan.unmanaged)
        lines.append(
            f"{count} {'value' if count == 1 else 'values'} set in the table in columns the "
            f"file does not write for that row, left as they are:"
        )
        secret = plan.dataset.secret_columns
        lines.extend(
            f"    {found.label}: {found.column} = "
            f"{SECRET if found.column in secret else show_value(found.value)}"
            for found in plan.unmanaged[:AUDIT_LISTED]
        )
        lines.extend(_more(count))
    lines.extend(owned_lines(plan))
    return lines


#: How ``--check`` and ``--dry-run`` name what the application owns.
OWNED = "owned by the application, not compared"


def owned_lines(plan: DatasetPlan) -> list[str]:
    """What the application owns (``insert_only``, ``create_only``), and where it differs."""
    dataset = plan.dataset
    lines: list[str] = []
    if dataset.insert_only:
        lines.append(f"rows that exist: {OWNED} (insert_only=True)")
    elif dataset.create_only_columns:
        columns = ", ".join(sorted(dataset.create_only_columns))
        lines.append(f"{columns}: {OWNED} (create_only: written only when a row is created)")
    if plan.owned:
        count = len(plan.owned)
        lines.append(
            f"{count} {'value' if count == 1 else 'values'} in the table "
            f"{'differs' if count == 1 else 'differ'} from the file, "
            f"left as the application set {'it' if count == 1 else 'them'}:"
        )
        secret = dataset.secret_columns
        lines.extend(
            f"    {found.label}: {found.column} = "
            + (
                f"{SECRET}"
                if found.column in secret
                else f"{show_value(found.value)} (the file writes {show_value(found.file_value)})"
            )
            for found in plan.owned[:AUDIT_LISTED]
        )
        lines.extend(_more(count))
    return lines


def _removed_note(position: Position | None) -> str:
    return f" (removed in {position.path}:{position.line})" if position is not None else ""


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"


def _more(count: int) -> list[str]:
    if count <= AUDIT_LISTED:
        return []
    return [f"    ... and {count - AUDIT_LISTED:,} more (--format json lists them all)"]


# -- the JSON document of --format json ---------------------------------------

#: Bumped whenever a field changes meaning or goes away (new fields may be added).
JSON_SCHEMA_VERSION = 1


def json_value(value: Any) -> Any:
    """A value as JSON holds it: numbers and text as they are, the rest as text.

    Decimals as their exact text, dates and times in ISO 8601, UUIDs in their
    canonical form, binary data in base64, NaN and infinities as YAML spells them.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else show_value(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def _key(plan: DatasetPlan, key: tuple[Any, ...]) -> dict[str, Any]:
    return {c: json_value(v) for c, v in zip(plan.dataset.key_columns, key, strict=False)}


def _place(position: Position | str | None) -> dict[str, Any]:
    if isinstance(position, Position):
        return {"file": position.path, "line": position.line, "column": position.column}
    return {"file": position, "line": None, "column": None}


def _change_json(plan: DatasetPlan, change: RowChange) -> dict[str, Any]:
    secret = plan.dataset.secret_columns
    columns: dict[str, Any] = {}
    if change.action == "create":
        for column, value in change.values.items():
            if column in plan.dataset.key_columns:
                continue
            columns[column] = (
                {"new": REDACTED, "secret": True}
                if column in secret
                else {"new": json_value(value)}
            )
        for column in change.generated:
            columns[column] = {"generated": True}
    for found in change.changes:
        columns[found.column] = (
            {"old": REDACTED, "new": REDACTED, "secret": True}
            if found.column in secret
            else {"old": json_value(found.old), "new": json_value(found.new)}
        )
        if found.removed:
            columns[found.column]["removed"] = True
    for column, origin in change.origins.items():
        if column in columns:
            columns[column]["from"] = _place(origin)
    place = _place(change.position) if change.position is not None else {}
    found_at: dict[str, Any] = {}
    if place and place["file"] != plan.dataset.display_path:
        found_at["file"] = place["file"]  # a row an environment's overlay adds
    return {
        "action": change.action,
        "key": _key(plan, change.key),
        "label": change.label,
        **found_at,
        "line": place.get("line"),
        "column": place.get("column"),
        "columns": columns,
    }


def dataset_json(plan: DatasetPlan) -> dict[str, Any]:
    """One dataset of the JSON document: its counts, its row changes, what it leaves alone."""
    dataset = plan.dataset
    secret = dataset.secret_columns
    document: dict[str, Any] = {
        "name": dataset.label,
        "table": dataset.table,
        "schema": dataset.schema,
        "file": dataset.display_path,
        "counts": {
            "total": plan.total,
            "create": plan.create_count,
            "update": plan.update_count,
            "delete": plan.delete_count,
            "unchanged": plan.unchanged,
        },
        "changes": [_change_json(plan, change) for change in plan.changes],
        # Changes of a plan made in chunks beyond those it lists (`KEPT_CHANGES`).
        "changes_not_listed": sum(plan.let_go),
        "notes": list(plan.notes),
    }
    if plan.audited:
        document["not_in_file"] = {
            "pruned": dataset.prune,
            "rows": [_key(plan, key) for key in plan.unlisted],
        }
        document["unmanaged_values"] = [
            {
                "key": _key(plan, found.key),
                "label": found.label,
                "column": found.column,
                **(
                    {"value": REDACTED, "secret": True}
                    if found.column in secret
                    else {"value": json_value(found.value)}
                ),
            }
            for found in plan.unmanaged
        ]
        document["owned"] = {
            "insert_only": dataset.insert_only,
            "create_only": sorted(dataset.create_only_columns),
            "note": OWNED,
            "values": [
                {
                    "key": _key(plan, found.key),
                    "label": found.label,
                    "column": found.column,
                    **(
                        {"value": REDACTED, "file": REDACTED, "secret": True}
                        if found.column in secret
                        else {
                            "value": json_value(found.value),
                            "file": json_value(found.file_value),
                        }
                    ),
                }
                for found in plan.owned
            ],
        }
    return document


def json_document(
    command: str,
    status: str,
    exit_status: int,
    report: SyncReport | None = None,
    *,
    warnings: Sequence[str] = (),
    problems: Sequence[Problem] = (),
    error: str | None = None,
) -> dict[str, Any]:
    """The document ``alembic datasync --format json`` prints (see the README, schema version 1)."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "command": command,
        "status": status,
        "exit_status": exit_status,
        "datasets": [dataset_json(plan) for plan in report.datasets] if report else [],
        "warnings": [*(report.warnings if report else []), *warnings],
        "problems": [
            {**_place(problem.position), "message": problem.message} for problem in problems
        ],
        "error": error,
    }
