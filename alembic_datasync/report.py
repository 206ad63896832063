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


def change_lines(change: RowChange, key_columns: tuple[str, ...]) -> list[str]:
    """The lines of the plan for one row change."""
    if change.action == "create":
        shown = "  ".join(
            f"{column}: {show_value(value)}"
            for column, value in change.values.items()
            if column not in key_columns
        )
        return [f"+ {change.label}"] + ([f"    {shown}"] if shown else [])
    if change.action == "update":
        return [f"~ {change.label}"] + [
            f"    {c.column}: {show_value(c.old)} -> {show_value(c.new)}" for c in change.changes
        ]
    return [f"- {change.label}"]


def plan_lines(plan: DatasetPlan) -> list[str]:
    """The plan of one dataset: each changed row, creates and updates in file order."""
    lines: list[str] = []
    for change in plan.changes:
        lines.extend(change_lines(change, plan.dataset.key_columns))
    return lines
