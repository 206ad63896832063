"""``alembic datasync``: sync, plan (``--dry-run``) or check for drift (``--check``) now.

Commands in Alembic's style: plain functions of the `Config`, their first
docstring paragraph the help text, their output through ``config.print_stdout``
(silent under ``alembic -q``).  They run env.py the way ``alembic current``
does, migrating nothing: `datasync` syncs the datasets env.py declares,
`datasync_history` reads the history of syncs.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from .api import sync_history, sync_record, validate_datasets
from .environment import ATTRIBUTE, WRITES_ATTRIBUTE, DataSync, report_lines
from .errors import DatasetsOutOfSync, DatasyncError
from .history import SyncRecord, history_lines, record_json, sync_lines
from .report import SyncReport

if TYPE_CHECKING:
    from alembic.config import Config


def declared_datasync(config: Config) -> DataSync:
    """The `DataSync` env.py declared; `DatasyncError` when it declared none."""
    declared = config.attributes.get(ATTRIBUTE)
    if not isinstance(declared, DataSync):
        raise DatasyncError(
            "env.py declares no datasets: add `datasync = DataSync(context, [Dataset(...)])` "
            "to env.py (see the README, section 'Add it to your project')"
        )
    return declared


def datasync(
    config: Config,
    dry_run: bool = False,
    check: bool = False,
    strict: bool = False,
    validate: bool = False,
) -> SyncReport | None:
    """Sync the datasets declared in env.py into the database now.

    ``dry_run`` prints the plan and writes nothing: it runs in a transaction
    that is always rolled back (read-only on PostgreSQL).  ``check`` does the
    same and raises `DatasetsOutOfSync` when the database differs from the
    files: rows to create, update or delete, including manual edits (drift).
    ``strict`` makes a missing dataset file an error.  An invalid file always
    fails this command, with every problem listed.  ``validate`` checks the
    files against env.py's ``target_metadata`` instead, with no database
    connection at all (env.py runs in offline mode), and returns None.
    """
    if validate:
        validate_offline(config, strict=strict)
        return None
    script = ScriptDirectory.from_config(config)
    outcome: list[SyncReport] = []

    def sync_now(heads: object, migration_context: MigrationContext) -> list[object]:
        declared = declared_datasync(config)
        current = set(migration_context.get_current_heads())
        if current != set(script.get_heads()):
            config.print_stdout(
                "datasync: warning: the database is not at head (%s); run `alembic upgrade "
                "head`, which also syncs",
                ", ".join(sorted(current)) or "no revision",
            )
        report = declared.sync(
            migration_context,
            strict=strict or declared.strict,
            dry_run=dry_run or check,
            command="datasync",
        )
        outcome.append(report)
        return []

    config.attributes[WRITES_ATTRIBUTE] = not (dry_run or check)
    try:
        with EnvironmentContext(config, script, fn=sync_now, dont_mutate=True):
            script.run_env()
    finally:
        config.attributes.pop(WRITES_ATTRIBUTE, None)
    if not outcome:
        raise DatasyncError(
            "env.py did not run the migrations online, so nothing was synced: "
            "`alembic datasync` needs a database connection"
        )
    report = outcome[0]
    for line in report_lines(report):
        config.print_stdout("%s", line)
    if check and report.has_changes:
        raise DatasetsOutOfSync(report)
    return report


def datasync_history(
    config: Config,
    sync_id: int | None = None,
    dataset: str | None = None,
    limit: int = 20,
    output_format: str = "text",
) -> list[SyncRecord]:
    """List the syncs that wrote to the database, newest first, or show one with its changes.

    ``sync_id`` shows that sync with every row change, old and new values
    (secret columns masked); otherwise the last ``limit`` syncs are listed,
    only those that changed ``dataset`` when it is given.  ``output_format``
    is "text" or "json".  Reads, never writes.
    """
    if output_format not in ("text", "json"):
        raise DatasyncError(f"unknown format {output_format!r}: use text or json")
    script = ScriptDirectory.from_config(config)
    found: list[list[SyncRecord]] = []

    def read_now(heads: object, migration_context: MigrationContext) -> list[object]:
        declared = declared_datasync(config)
        connection = migration_context.connection
        assert connection is not None
        tables = declared.state_tables(migration_context)
        if sync_id is None:
            found.append(sync_history(connection, dataset=dataset, limit=limit, state=tables))
        else:
            record = sync_record(connection, sync_id, state=tables)
            found.append([record] if record is not None else [])
        return []

    with EnvironmentContext(config, script, fn=read_now, dont_mutate=True):
        script.run_env()
    if not found:
        raise DatasyncError(
            "env.py did not run the migrations online, so the history could not be read: "
            "`alembic datasync history` needs a database connection"
        )
    records = found[0]
    if sync_id is not None and not records:
        raise DatasyncError(
            f"the history has no sync {sync_id}; `alembic datasync history` lists the syncs"
        )
    if output_format == "json":
        shown: object = (
            record_json(records[0]) if sync_id is not None else [record_json(r) for r in records]
        )
        config.print_stdout("%s", json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        lines = sync_lines(records[0]) if sync_id is not None else history_lines(records, dataset)
        for line in lines:
            config.print_stdout("%s", line)
    return records


def validate_offline(config: Config, *, strict: bool) -> None:
    """``datasync --validate``: the files against ``target_metadata``, with no database.

    Runs env.py in offline mode, as ``alembic upgrade --sql`` does (so env.py
    opens no connection), captures its ``target_metadata``, and checks every
    dataset file against the tables it declares.
    """
    script = ScriptDirectory.from_config(config)
    found: list[MetaData] = []

    def capture_metadata(heads: object, migration_context: MigrationContext) -> list[object]:
        found.append(combined_metadata(migration_context.opts.get("target_metadata")))
        return []

    with EnvironmentContext(
        config, script, fn=capture_metadata, as_sql=True, output_buffer=io.StringIO()
    ):
        script.run_env()
    declared = declared_datasync(config)
    if not found:
        raise DatasyncError(
            "env.py did not configure an offline migration context, so there is no "
            "target_metadata to validate against"
        )
    if not found[0].tables:
        raise DatasyncError(
            "env.py passes no target_metadata to context.configure() in offline mode: "
            "--validate checks the files against it (set target_metadata = Base.metadata)"
        )
    validate_datasets(
        declared.datasets,
        found[0],
        base_dir=declared.base_dir,
        strict=strict or declared.strict,
        max_file_size=declared.max_file_size,
    )
    count = len(declared.datasets)
    config.print_stdout(
        "datasync: %s valid against target_metadata (no database used)",
        "1 dataset file is" if count == 1 else f"{count} dataset files are",
    )


def combined_metadata(target: object) -> MetaData:
    """One MetaData of every table in ``target`` (a MetaData, a list of them, or None)."""
    if isinstance(target, MetaData):
        return target
    combined = MetaData()
    if isinstance(target, list | tuple):
        for metadata in target:
            if isinstance(metadata, MetaData):
                for table in metadata.tables.values():
                    table.to_metadata(combined)
    return combined
