"""The state of each dataset: what its file applied at the last sync, and the no-parse shortcut.

After every sync that is not a dry run, each planned dataset's state row
(`storage`) holds what its file applied: each row's key and the columns the
file wrote (`applied.AppliedRows`), the SHA-256 of the file's bytes and a
fingerprint of the library and the declaration.  The next plan reads it
back (`last_applied`) to revert removed values and to prune only owned rows.

The no-parse shortcut (`replay_unchanged`): a sync whose full plan found
nothing to do, and wrote nothing at all, also records digests of the
table's definition and values.  A later sync that finds the same file bytes,
fingerprint, definition and values knows, without parsing, that its plan is
again empty: it replays the recorded counts and notes instead.  Every digest
is taken twice when recorded, before the plan read the table and after,
and must agree: a row changed while the plan was reading leaves the state
unverified.  Any difference, any doubt, means a full plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, select, tuple_

from .applied import AppliedRows, LastApplied
from .dataset import Dataset
from .digests import fingerprint, schema_digest, table_digest
from .encoding import PACKING, compress, unpack_text
from .errors import DatasetFileMissing
from .files import files_digest
from .plans import DatasetPlan
from .rows import FileProblem
from .storage import StateTables, state_table

#: A dataset's identity in the state: its name and its file's path.
StateKey = tuple[str, str]


def state_key(dataset: Dataset) -> StateKey:
    """The state row of ``dataset``: renaming the dataset or moving its file starts a new one."""
    return (dataset.label, dataset.display_path)


def table_name(dataset: Dataset) -> str:
    """The dataset's table as the state names it: ``schema.table`` or ``table``."""
    return f"{dataset.schema}.{dataset.table}" if dataset.schema else dataset.table


@dataclass(slots=True)
class StoredState:
    """One state row, as read back (``applied`` only when asked for)."""

    table_name: str
    row_count: int
    rows_digest: str
    file_digest: str
    fingerprint: str | None
    schema_digest: str | None
    table_digest: str | None
    digest_columns: tuple[str, ...]
    notes: list[str]
    applied: AppliedRows | None = None

    @property
    def verified(self) -> bool:
        """True when a full plan found nothing to do against what the digests describe."""
        return bool(self.schema_digest and self.table_digest)


def read_states(
    connection: Connection,
    tables: StateTables,
    datasets: Sequence[Dataset],
    *,
    with_rows: bool = False,
    same_tables: bool = False,
) -> dict[StateKey, StoredState]:
    """The state rows of ``datasets`` (``same_tables``: of every dataset of their tables)."""
    table = state_table(tables)
    columns = [c for c in table.columns if with_rows or c.name != "applied_rows"]
    query = select(*columns)
    if same_tables:
        query = query.where(table.c.table_name.in_({table_name(d) for d in datasets}))
    else:
        query = query.where(table.c.dataset.in_({d.label for d in datasets}))
    found: dict[StateKey, StoredState] = {}
    for row in connection.execute(query).mappings():
        applied = None
        if with_rows:
            try:
                applied = _applied(row["applied_rows"], row["rows_digest"])
            except (ValueError, KeyError, IndexError):
                continue  # a state another version wrote: as if there were none
        found[(row["dataset"], row["path"])] = StoredState(
            table_name=row["table_name"],
            row_count=row["row_count"],
            rows_digest=row["rows_digest"],
            file_digest=row["file_digest"],
            fingerprint=row["fingerprint"],
            schema_digest=row["schema_digest"],
            table_digest=row["table_digest"],
            digest_columns=tuple(json.loads(row["digest_columns"] or "[]")),
            notes=list(json.loads(row["notes"] or "[]")),
            applied=applied,
        )
    return found


def _applied(stored: Any, rows_digest: str) -> AppliedRows:
    """The rows a state row stores.

    A document whose text has the digest recorded with it is the text this
    version wrote: its rows are read when first used, one at a time where
    the reader can (a million rows are not all held as objects).  Any other
    is parsed now, whole, and refused with `ValueError` when unreadable.
    """
    text = unpack_text(stored)
    if hashlib.sha256(f"{PACKING} {text}".encode()).hexdigest() == rows_digest:
        return AppliedRows.from_text(text)
    return AppliedRows.from_document(json.loads(text))


def last_applied(
    connection: Connection, tables: StateTables, datasets: Sequence[Dataset]
) -> list[LastApplied | None]:
    """What the state remembers of each of ``datasets`` (None: no state), in their order.

    A dataset that prunes also learns the rows other datasets of its table
    applied at their last sync: those are theirs.
    """
    stored = read_states(connection, tables, datasets, with_rows=True, same_tables=True)
    remembered: list[LastApplied | None] = []
    for dataset in datasets:
        own = stored.get(state_key(dataset))
        if own is None or own.applied is None:
            remembered.append(None)
            continue
        shared: list[tuple[Any, ...]] = []
        if dataset.prune and dataset.prune != "all":
            for key, other in stored.items():
                if (
                    key != state_key(dataset)
                    and other.table_name == table_name(dataset)
                    and other.applied is not None
                    and other.applied.key_columns == dataset.key_columns
                ):
                    shared.extend(row_key for row_key, _ in other.applied.rows)
        remembered.append(LastApplied(own.applied, shared))
    return remembered


# -- the no-parse shortcut --------------------------------------------------------


@dataclass(slots=True)
class Observation:
    """What the shortcut measured of a dataset before any plan read its table."""

    file_digest: str
    schema_digest: str | None
    table_digest: str | None
    columns: tuple[str, ...]


@dataclass(slots=True)
class Replay:
    """The outcome of `replay_unchanged`: plans replayed from the state, measurements taken."""

    plans: dict[int, DatasetPlan] = field(default_factory=dict)
    observed: dict[int, Observation] = field(default_factory=dict)


def groups_by_table(datasets: Sequence[Dataset]) -> dict[tuple[str | None, str], list[int]]:
    """The datasets' positions, by table: a table's datasets are planned together."""
    groups: dict[tuple[str | None, str], list[int]] = {}
    for index, dataset in enumerate(datasets):
        groups.setdefault((dataset.schema, dataset.table), []).append(index)
    return groups


def declaration(datasets: Sequence[Dataset], index: int) -> list[Any]:
    """What of a dataset's declaration shapes its plan, with the other datasets of its table."""
    dataset = datasets[index]
    others = sorted(
        state_key(other)
        for other in datasets
        if other is not dataset and (other.schema, other.table) == (dataset.schema, dataset.table)
    )
    shape: list[Any] = [
        dataset.table,
        dataset.schema,
        dataset.key_columns,
        dataset.prune,
        dataset.allow_empty,
        sorted(dataset.secret_columns),
        state_key(dataset),
        others,
    ]
    # Ownership is part of the declaration (left out when unused, so that
    # states recorded before it existed stay valid).
    if dataset.insert_only or dataset.create_only_columns:
        shape.append(["owned", dataset.insert_only, sorted(dataset.create_only_columns)])
    return shape


def replay_unchanged(
    connection: Connection,
    tables: StateTables,
    datasets: Sequence[Dataset],
    *,
    base_dir: str | os.PathLike[str] | None,
    max_file_size: int,
    revisions: Sequence[str] = (),
    environment: str | None = None,
) -> Replay:
    """The plans that need no parsing: every dataset of their table is as a verified sync left it.

    Reads each file's bytes (not parsing them) and those of its overlay for
    ``environment`` (the digest covers both, and the environment's name), the
    state, one catalog query per table and one digest query per dataset, and
    writes nothing.
    """
    replay = Replay()
    stored = read_states(connection, tables, datasets)
    for (schema, name), members in groups_by_table(datasets).items():
        definition: str | None = None
        unchanged = True
        for index in members:
            dataset = datasets[index]
            own = stored.get(state_key(dataset))
            if own is None or dataset.reference_list:
                # A reference's names live in another table, which the
                # digests do not cover: such a dataset is always planned.
                unchanged = False
                continue
            try:
                digest = files_digest(dataset, base_dir, max_file_size, environment)
            except (DatasetFileMissing, FileProblem):
                unchanged = False
                continue
            if digest != own.file_digest or own.fingerprint != fingerprint(
                connection, declaration(datasets, index)
            ):
                unchanged = False
                continue
            if definition is None:
                definition = schema_digest(connection, name, schema, revisions)
            measured = table_digest(connection, name, schema, own.digest_columns)
            replay.observed[index] = Observation(digest, definition, measured, own.digest_columns)
            if not (
                own.verified
                and definition == own.schema_digest
                and measured is not None
                and measured == own.table_digest
            ):
                unchanged = False
        if not unchanged:
            continue
        for index in members:
            dataset = datasets[index]
            own = stored[state_key(dataset)]
            replay.plans[index] = DatasetPlan(
                dataset,
                Table(name, MetaData(), schema=schema),
                total=own.row_count,
                unchanged=own.row_count,
                notes=list(own.notes),
                from_state=True,
            )
    return replay


# -- recording ----------------------------------------------------------------------


def record_states(
    connection: Connection,
    tables: StateTables,
    datasets: Sequence[Dataset],
    plans: Sequence[DatasetPlan],
    *,
    observed: dict[int, Observation],
    revisions: Sequence[str] = (),
    read_back: bool = True,
) -> int:
    """Write the state of every planned dataset whose state changed; how many rows were written.

    ``plans`` are the sync's, in the order of ``datasets`` (a dataset whose
    file was missing has none).  Digests are recorded only when the whole
    sync wrote nothing, and only where they equal those `replay_unchanged`
    measured before the plan read the table.  ``read_back=False``: the state
    table was created in this run (nothing to compare with).
    """
    position = {id(dataset): index for index, dataset in enumerate(datasets)}
    quiet = not any(plan.has_changes for plan in plans)
    to_write = [plan for plan in plans if not plan.from_state and plan.applied is not None]
    if not to_write:
        return 0
    stored = read_states(connection, tables, [p.dataset for p in to_write]) if read_back else {}
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    written = 0
    for plan in to_write:
        applied = plan.applied
        assert applied is not None
        dataset = plan.dataset
        index = position[id(dataset)]
        packed: str | None = None
        if applied.stored is not None:  # made a chunk at a time (`chunked`)
            rows_digest, packed = applied.stored
        else:
            document = applied.document_text()
            rows_digest = hashlib.sha256(f"{PACKING} {document}".encode()).hexdigest()
        row: dict[str, Any] = {
            "dataset": dataset.label,
            "path": dataset.display_path,
            "table_name": table_name(dataset),
            "key_columns": json.dumps(list(dataset.key_columns)),
            "row_count": plan.total,
            "rows_digest": rows_digest,
            "file_digest": applied.source_digest,
            "synced_at": now,
            "fingerprint": fingerprint(connection, declaration(datasets, index)),
            "schema_digest": None,
            "table_digest": None,
            "digest_columns": json.dumps(list(applied.columns_read)),
            "notes": json.dumps(plan.notes),
        }
        seen = observed.get(index)
        if (
            quiet
            and seen is not None
            and seen.table_digest is not None
            and seen.columns == applied.columns_read
            and seen.file_digest == applied.source_digest
        ):
            definition = schema_digest(connection, dataset.table, dataset.schema, revisions)
            measured = table_digest(connection, dataset.table, dataset.schema, seen.columns)
            if definition == seen.schema_digest and measured == seen.table_digest:
                row["schema_digest"], row["table_digest"] = definition, measured
        before = stored.get(state_key(dataset))
        if before is not None and _same_state(before, row):
            continue
        row["applied_rows"] = packed if packed is not None else compress(document)
        _upsert(connection, state_table(tables), row)
        written += 1
    return written


def _same_state(before: StoredState, row: dict[str, Any]) -> bool:
    return bool(
        before.rows_digest == row["rows_digest"]
        and before.row_count == row["row_count"]
        and before.file_digest == row["file_digest"]
        and before.fingerprint == row["fingerprint"]
        and before.schema_digest == row["schema_digest"]
        and before.table_digest == row["table_digest"]
        and list(before.digest_columns) == json.loads(row["digest_columns"])
        and before.notes == json.loads(row["notes"])
    )


def _upsert(connection: Connection, table: Table, row: dict[str, Any]) -> None:
    """Insert the state row, or update it where another sync wrote it first."""
    key = ["dataset", "path"]
    others = {name: value for name, value in row.items() if name not in key}
    dialect = connection.dialect.name
    # Each dialect's INSERT ... ON CONFLICT, imported for the database at hand:
    # a deploy whose state is unchanged writes none and loads no other dialect.
    if dialect in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(row)
        connection.execute(insert.on_conflict_do_update(index_elements=key, set_=others))
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects import mysql

        connection.execute(mysql.insert(table).values(row).on_duplicate_key_update(others))
    else:
        connection.execute(
            table.delete().where(
                tuple_(table.c.dataset, table.c.path).in_([(row["dataset"], row["path"])])
            )
        )
        connection.execute(table.insert().values(row))
