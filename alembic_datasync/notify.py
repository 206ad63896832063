"""Telling the running application that a sync changed rows: PostgreSQL NOTIFY.

Applications cache configuration; after a deploy changes it, their caches
are stale until they restart.  With ``notify="channel"`` the sync sends
``NOTIFY channel, '<json>'`` in its own transaction, so PostgreSQL delivers
it to every session that ``LISTEN``\\ s on the channel exactly when the sync
commits, and never for a sync that is rolled back or writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from .report import SyncReport

#: PostgreSQL refuses a payload of 8,000 bytes or more.
MAX_PAYLOAD = 7_900


def payload(report: SyncReport) -> str:
    """The JSON sent: the changed keys per dataset, or only their counts when too long."""
    changed = report.changed_keys()
    spelled = json.dumps({"datasets": changed}, default=str, separators=(",", ":"))
    if len(spelled.encode()) <= MAX_PAYLOAD and not any(any(p.let_go) for p in report.datasets):
        return spelled
    counts: dict[str, Any] = {
        plan.dataset.label: {
            "created": plan.create_count,
            "updated": plan.update_count,
            "deleted": plan.delete_count,
        }
        for plan in report.datasets
        if plan.has_changes
    }
    return json.dumps({"datasets": counts, "keys": "left out: too many for one notification"})


def send(connection: Connection, channel: str, report: SyncReport) -> None:
    """NOTIFY ``channel`` of the report's changes, inside the current transaction (PostgreSQL).

    Nothing is sent when nothing changed, or on a database without NOTIFY.
    """
    if not report.has_changes or connection.dialect.name != "postgresql":
        return
    connection.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": channel, "payload": payload(report)},
    )
