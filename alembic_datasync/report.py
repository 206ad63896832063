"""What users read: the summary line per dataset and the plan as a reviewable diff."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from .plan import DatasetPlan, RowChange


def show_value(value: Any) -> str:
    """A value as the plan shows it: strings quoted, YAML spelling for null and booleans."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return repr(value)


def summary_line(plan: DatasetPlan, applied: bool) -> str:
    """``datasync: <dataset> (<file>): 8 total, 1 created, 1 updated, 6 unchanged``."""
    created, updated, deleted = (
        ("created", "updated", "deleted") if applied else ("to create", "to update", "to delete")
    )
    parts = [
        f"{plan.total} total",
        f"{len(plan.creates)} {created}",
        f"{len(plan.updates)} {updated}",
        f"{plan.unchanged} unchanged",
    ]
    if plan.dataset.prune or plan.deletes:
        parts.append(f"{len(plan.deletes)} {deleted}")
    return f"datasync: {plan.dataset.label} ({plan.dataset.display_path}): {', '.join(parts)}"


#: How a secret column's value is shown.
SECRET = "(secret)"


def change_lines(
    change: RowChange, key_columns: tuple[str, ...], secret: frozenset[str] = frozenset()
) -> list[str]:
    """The lines of the plan for one row change; ``secret`` columns' values are hidden."""

    def shown(column: str, value: Any) -> str:
        return SECRET if column in secret else show_value(value)

    if change.action == "create":
        written = "  ".join(
            f"{column}: {shown(column, value)}"
            for column, value in change.values.items()
            if column not in key_columns
        )
        return [f"+ {change.label}"] + ([f"    {written}"] if written else [])
    if change.action == "update":
        return [f"~ {change.label}"] + [
            f"    {c.column}: {SECRET} changed"
            if c.column in secret
            else f"    {c.column}: {show_value(c.old)} -> {show_value(c.new)}"
            for c in change.changes
        ]
    return [f"- {change.label}"]


def plan_lines(plan: DatasetPlan, max_rows: int | None = None) -> list[str]:
    """The plan of one dataset: each changed row, creates and updates in file order.

    With ``max_rows``, the rows after that many are summed up in one line.
    """
    dataset = plan.dataset
    changes = plan.changes
    lines: list[str] = []
    for change in changes[:max_rows]:
        lines.extend(change_lines(change, dataset.key_columns, dataset.secret_columns))
    if max_rows is not None and len(changes) > max_rows:
        lines.append(
            f"... and {len(changes) - max_rows:,} more changed rows "
            f"(`alembic datasync --dry-run` lists them all)"
        )
    return lines
