"""What users read: `SyncReport`, the summary line per dataset and the plan as a reviewable diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .display import SECRET, show_value
from .plans import DatasetPlan, RowChange


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
        """Summary lines, each followed by its dataset's changes (at most ``max_rows`` each)."""
        lines = [f"datasync: warning: {warning}" for warning in self.warnings]
        for plan in self.datasets:
            lines.append(summary_line(plan, self.applied))
            lines.extend(f"  note: {note}" for note in plan.notes)
            lines.extend(f"  {line}" for line in plan_lines(plan, max_rows))
        return "\n".join(lines)


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
