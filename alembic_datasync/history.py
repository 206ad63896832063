"""The history of syncs: who changed what, when, at which revision.

Every sync that writes a row adds one record to the history table
(`storage`), in the sync's own transaction: when (UTC), the Alembic
revision(s) the database was at, the process (user, host, pid, command),
whether it was strict, the library's version, and per dataset its counts
and every row change with its old and new values.  Values of secret columns
are never stored: only that they changed.

`read_history` lists records, newest first; `read_sync` gives one with its
changes; `history_lines` and `record_json` are what ``alembic datasync
history`` prints.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import Connection, func, select

from .encoding import KEPT_TYPES, decode, dumps, encode, pack_lists, unpack
from .errors import DatasyncError
from .origin import SyncOrigin
from .plans import ColumnChange, DatasetPlan, RowChange
from .report import change_lines, json_value
from .reverts import DatabaseDefault
from .storage import StateTables, history_table

#: Records `read_history` reads at a time while it filters by dataset.
_BATCH = 200


@dataclass
class DatasetRecord:
    """What one sync did to one dataset: its counts, and (from `read_sync`) its changes.

    ``secret`` names the dataset's secret columns, whose values the history
    does not hold.
    """

    dataset: str
    path: str
    table: str
    total: int
    created: int
    updated: int
    deleted: int
    unchanged: int
    key_columns: tuple[str, ...]
    secret: tuple[str, ...] = ()
    changes: list[RowChange] | None = None


@dataclass
class SyncRecord:
    """One sync in the history, newest first in listings."""

    id: int
    synced_at: dt.datetime
    revisions: tuple[str, ...]
    command: str | None
    user: str | None
    host: str | None
    pid: int | None
    strict: bool
    version: str
    change_count: int
    datasets: list[DatasetRecord] = field(default_factory=list)


def library_version() -> str:
    try:
        return version("alembic-datasync")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry for the uid (a container): its number
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else None


def _process_command(origin: SyncOrigin) -> str:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return f"{program} {origin.command}" if origin.command else program


def record_sync(
    connection: Connection,
    tables: StateTables,
    plans: Sequence[DatasetPlan],
    *,
    origin: SyncOrigin,
    strict: bool,
) -> int | None:
    """Add the history record of a sync that wrote ``plans``; its id (None: nothing written)."""
    changed = [plan for plan in plans if plan.has_changes]
    if not changed:
        return None
    summaries = [_summary(plan) for plan in changed]
    changes = [plan.changes for plan in changed]
    # Each change is encoded as the packing reaches it: the whole document never
    # sits in memory as Python objects, nor as JSON text.
    documents = [_changes_data(plan, listed) for plan, listed in zip(changed, changes, strict=True)]
    table = history_table(tables)
    inserted = connection.execute(
        table.insert().values(
            synced_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            revisions=" ".join(origin.revisions)[:255] or None,
            command=_process_command(origin)[:255],
            user_name=(_user() or "")[:255] or None,
            host_name=socket.gethostname()[:255] or None,
            pid=os.getpid(),
            strict=strict,
            version=library_version()[:64],
            change_count=sum(
                plan.create_count + plan.update_count + plan.delete_count for plan in changed
            ),
            datasets=dumps(summaries),
            changes=pack_lists(documents),
        )
    )
    key = inserted.inserted_primary_key
    return int(key[0]) if key else None


def _summary(plan: DatasetPlan) -> dict[str, Any]:
    dataset = plan.dataset
    return {
        "dataset": dataset.label,
        "path": dataset.display_path,
        "table": f"{dataset.schema}.{dataset.table}" if dataset.schema else dataset.table,
        "total": plan.total,
        "created": plan.create_count,
        "updated": plan.update_count,
        "deleted": plan.delete_count,
        "unchanged": plan.unchanged,
        "key": list(dataset.key_columns),
        "secret": sorted(dataset.secret_columns),
    }


def _masked(column: str, value: Any, secret: frozenset[str]) -> Any:
    return None if column in secret else encode(value)


def _changes_data(plan: DatasetPlan, changes: list[RowChange]) -> Iterator[dict[str, Any]]:
    """``plan``'s row changes as the history stores them, secrets left out, one at a time.

    Its own function, so that each dataset's secret and key columns are bound
    when its changes are encoded (later, as `pack_lists` reaches them), never
    those of the last dataset of the sync.
    """
    secret, keys = plan.dataset.secret_columns, plan.dataset.key_columns
    return (_change_data(change, secret, keys) for change in changes)


def _change_data(
    change: RowChange, secret: frozenset[str], keys: tuple[str, ...]
) -> dict[str, Any]:
    """One row change as the history stores it, secrets left out."""
    data: dict[str, Any] = {"a": change.action, "k": encode(list(change.key)), "l": change.label}
    if change.action in ("create", "delete"):
        # Most values are kept as they are (`encoding.KEPT_TYPES`): spared the call.
        data["v"] = {
            c: v
            if (type(v) in KEPT_TYPES or (type(v) is float and math.isfinite(v)))
            and c not in secret
            else _masked(c, v, secret)
            for c, v in change.values.items()
            if c not in keys
        }
    for column in change.changes:
        new = column.new
        entry = [
            column.column,
            _masked(column.column, column.old, secret),
            _masked(column.column, new, secret) if not isinstance(new, DatabaseDefault) else None,
        ]
        if column.removed:
            entry.append(new.sql if isinstance(new, DatabaseDefault) else True)
        data.setdefault("c", []).append(entry)
    return data


def _change_from(data: dict[str, Any]) -> RowChange:
    changes = []
    for entry in data.get("c", []):
        column, old, new = entry[0], decode(entry[1]), decode(entry[2])
        removed = len(entry) > 3
        if removed and isinstance(entry[3], str):
            new = DatabaseDefault(entry[3])
        changes.append(ColumnChange(column, old, new, removed=removed))
    values = {c: decode(v) for c, v in data.get("v", {}).items()}
    return RowChange(data["a"], tuple(decode(data["k"])), data["l"], values, changes=tuple(changes))


# -- reading -------------------------------------------------------------------------


def _record(row: Any) -> SyncRecord:
    datasets = [
        DatasetRecord(
            dataset=d["dataset"],
            path=d["path"],
            table=d["table"],
            total=d["total"],
            created=d["created"],
            updated=d["updated"],
            deleted=d["deleted"],
            unchanged=d["unchanged"],
            key_columns=tuple(d["key"]),
            secret=tuple(d["secret"]),
        )
        for d in decode_summaries(row.datasets)
    ]
    return SyncRecord(
        id=row.id,
        synced_at=row.synced_at.replace(tzinfo=dt.timezone.utc),
        revisions=tuple((row.revisions or "").split()),
        command=row.command,
        user=row.user_name,
        host=row.host_name,
        pid=row.pid,
        strict=bool(row.strict),
        version=row.version,
        change_count=row.change_count,
        datasets=datasets,
    )


def decode_summaries(text: str) -> list[dict[str, Any]]:
    """The per-dataset summaries of a record, as stored."""
    found: list[dict[str, Any]] = json.loads(text)
    return found


def read_history(
    connection: Connection,
    tables: StateTables,
    *,
    dataset: str | None = None,
    limit: int = 20,
) -> list[SyncRecord]:
    """The last ``limit`` syncs, newest first (``dataset``: those that changed that dataset)."""
    table = history_table(tables)
    columns = [c for c in table.columns if c.name != "changes"]
    found: list[SyncRecord] = []
    before: int | None = None
    while len(found) < limit:
        query = select(*columns).order_by(table.c.id.desc()).limit(_BATCH if dataset else limit)
        if before is not None:
            query = query.where(table.c.id < before)
        rows = connection.execute(query).all()
        for row in rows:
            record = _record(row)
            if dataset is None or any(d.dataset == dataset for d in record.datasets):
                found.append(record)
        if not rows or dataset is None:
            break
        before = rows[-1].id
    return found[:limit]


def read_sync(connection: Connection, tables: StateTables, sync_id: int) -> SyncRecord | None:
    """The sync ``sync_id`` with every row change, or None when the history has no such sync."""
    table = history_table(tables)
    row = connection.execute(select(table).where(table.c.id == sync_id)).first()
    if row is None:
        return None
    record = _record(row)
    try:
        documents = unpack(row.changes)
        for summary, changes in zip(record.datasets, documents, strict=True):
            summary.changes = [_change_from(change) for change in changes]
    except (ValueError, KeyError, IndexError):
        raise DatasyncError(
            f"the changes of sync {sync_id} cannot be read: another version of "
            f"alembic_datasync recorded them"
        ) from None
    return record


def newest_id(connection: Connection, tables: StateTables) -> int | None:
    """The id of the last sync recorded, or None."""
    table = history_table(tables)
    found = connection.execute(select(func.max(table.c.id))).scalar()
    return int(found) if found is not None else None


# -- what users read ---------------------------------------------------------------


def _when(record: SyncRecord) -> str:
    return record.synced_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _who(record: SyncRecord) -> str:
    place = "@".join(part for part in (record.user, record.host) if part) or "unknown"
    pid = f", pid {record.pid}" if record.pid is not None else ""
    command = f" ({record.command})" if record.command else ""
    return f"{place}{pid}{command}"


def _counts(summary: DatasetRecord) -> str:
    parts = [
        f"{summary.total} total",
        f"{summary.created} created",
        f"{summary.updated} updated",
        f"{summary.unchanged} unchanged",
    ]
    if summary.deleted:
        parts.append(f"{summary.deleted} deleted")
    return ", ".join(parts)


def _heading(record: SyncRecord) -> str:
    at = f"at {', '.join(record.revisions)}" if record.revisions else "at no recorded revision"
    strict = "strict" if record.strict else "not strict"
    return f"sync {record.id}: {_when(record)}, {at}, by {_who(record)}, {strict}"


def history_lines(records: Sequence[SyncRecord], dataset: str | None = None) -> list[str]:
    """``alembic datasync history``: one heading per sync, one line per dataset it changed."""
    if not records:
        if dataset is not None:
            return [f"datasync: no sync in the history changed the dataset {dataset!r}"]
        return ["datasync: no sync has written anything yet"]
    lines: list[str] = []
    for record in records:
        lines.append(_heading(record))
        for summary in record.datasets:
            lines.append(f"  {summary.dataset} ({summary.path}): {_counts(summary)}")
    return lines


def sync_lines(record: SyncRecord) -> list[str]:
    """``alembic datasync history <id>``: the sync, then its changes as a plan shows them."""
    lines = [_heading(record) + f", alembic-datasync {record.version}"]
    for summary in record.datasets:
        lines.append(f"datasync: {summary.dataset} ({summary.path}): {_counts(summary)}")
        secret = frozenset(summary.secret)
        for change in summary.changes or []:
            lines.extend(f"  {line}" for line in change_lines(change, summary.key_columns, secret))
        kept = len(summary.changes or [])
        made = summary.created + summary.updated + summary.deleted
        if summary.changes is not None and kept < made:
            lines.append(
                f"  ... and {made - kept:,} more changed rows, not kept (a CSV dataset synced in "
                f"chunks keeps its first {kept:,} changes of a sync)"
            )
    return lines


def record_json(record: SyncRecord) -> dict[str, Any]:
    """One sync as ``--format json`` prints it (with its changes when they were read)."""
    datasets = []
    for summary in record.datasets:
        entry: dict[str, Any] = {
            "dataset": summary.dataset,
            "path": summary.path,
            "table": summary.table,
            "total": summary.total,
            "created": summary.created,
            "updated": summary.updated,
            "deleted": summary.deleted,
            "unchanged": summary.unchanged,
        }
        if summary.changes is not None:
            entry["changes"] = [_change_json(c, summary) for c in summary.changes]
        datasets.append(entry)
    return {
        "id": record.id,
        "synced_at": record.synced_at.isoformat().replace("+00:00", "Z"),
        "revisions": list(record.revisions),
        "command": record.command,
        "user": record.user,
        "host": record.host,
        "pid": record.pid,
        "strict": record.strict,
        "version": record.version,
        "change_count": record.change_count,
        "datasets": datasets,
    }


def _change_json(change: RowChange, summary: DatasetRecord) -> dict[str, Any]:
    secret = set(summary.secret)
    found: dict[str, Any] = {
        "action": change.action,
        "key": dict(zip(summary.key_columns, json_value(list(change.key)), strict=False)),
        "label": change.label,
    }
    if change.action in ("create", "delete"):
        found["values"] = {
            c: {"secret": True} if c in secret else json_value(v) for c, v in change.values.items()
        }
    if change.changes:
        found["changes"] = [
            {"column": c.column, "secret": True, "removed": c.removed}
            if c.column in secret
            else {
                "column": c.column,
                "old": json_value(c.old),
                "new": json_value(c.new),
                "removed": c.removed,
            }
            for c in change.changes
        ]
    return found
