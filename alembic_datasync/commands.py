"""``alembic datasync``: sync, plan (``--dry-run``) or check for drift (``--check``) now.

A command in Alembic's style: a plain function of the `Config`, its first
docstring paragraph the help text, its output through ``config.print_stdout``
(silent under ``alembic -q``).  It runs env.py the way ``alembic current``
does, migrating nothing, and syncs the datasets env.py declares.
"""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc

from .api import validate_datasets
from .environment import ATTRIBUTE, WRITES_ATTRIBUTE, DataSync, report_lines
from .errors import (
    DatasetsOutOfSync,
    DatasyncError,
    InvalidDatasets,
    Problem,
    database_error_message,
)
from .report import SyncReport, json_document

if TYPE_CHECKING:
    from alembic.config import Config


def declared_datasync(config: Config) -> DataSync:
    """The `DataSync` env.py declared; `DatasyncError` when it declared none."""
    declared = config.attributes.get(ATTRIBUTE)
    if not isinstance(declared, DataSync):
        raise DatasyncError(
            "env.py declares no datasets: add `datasync = DataSync(context, [Dataset(...)])` "
            "to env.py (see the README, section 'Use it in your project')"
        )
    return declared


#: What ``--format`` takes: text for people, json for CI bots (see `report.json_document`).
FORMATS = ("text", "json")


def datasync(
    config: Config,
    dry_run: bool = False,
    check: bool = False,
    strict: bool = False,
    validate: bool = False,
    format: str = "text",
) -> SyncReport | None:
    """Sync the datasets declared in env.py into the database now.

    ``dry_run`` prints the plan and writes nothing: it runs in a transaction
    that is always rolled back (read-only on PostgreSQL).  ``check`` does the
    same and raises `DatasetsOutOfSync` when syncing would write anything:
    rows to create, update or delete, including manual edits (drift) of values
    the files write.  Both also list what the sync leaves alone: rows the
    files do not list, values in columns they do not write.  ``strict`` makes
    a missing dataset file an error; for ``check`` and ``validate``, which
    exist to catch it, it always is.  An invalid file always fails this
    command, with every problem listed.  ``validate`` checks the files
    against env.py's ``target_metadata`` instead, with no database connection
    at all (env.py runs in offline mode), and returns None.  ``format="json"``
    prints one JSON document instead of text, errors included (see the README).
    """
    if format not in FORMATS:
        raise DatasyncError(f"--format takes {' or '.join(FORMATS)}, not {format!r}")
    if format == "json":
        return _datasync_json(
            config, dry_run=dry_run, check=check, strict=strict, validate=validate
        )
    if validate:
        count = validate_offline(config)
        config.print_stdout("%s", valid_line(count))
        return None
    report = plan_or_sync(config, dry_run=dry_run, check=check, strict=strict)
    for line in report_lines(report):
        config.print_stdout("%s", line)
    if check and report.has_changes:
        raise DatasetsOutOfSync(report, report.counts())
    return report


def _datasync_json(
    config: Config, *, dry_run: bool, check: bool, strict: bool, validate: bool
) -> SyncReport | None:
    """`datasync` with ``format="json"``: one document on stdout, whatever happens.

    The exception that decides the exit status is raised after the document
    is printed: `DatasetsOutOfSync` (1) or the error itself (255).
    """
    command = "validate" if validate else "check" if check else "dry-run" if dry_run else "sync"
    report: SyncReport | None = None
    raised: Exception | None = None
    problems: list[Problem] = []
    error: str | None = None
    try:
        if validate:
            validate_offline(config)
            status, exit_status = "valid", 0
        else:
            report = plan_or_sync(config, dry_run=dry_run, check=check, strict=strict)
            if check and report.has_changes:
                status, exit_status = "out_of_sync", 1
                raised = DatasetsOutOfSync(report, report.counts())
            elif check:
                status, exit_status = "in_sync", 0
            else:
                status, exit_status = ("planned" if dry_run else "applied"), 0
    except InvalidDatasets as exc:
        status, exit_status, raised = "failed", 255, exc
        problems = exc.problems
        error = str(exc).splitlines()[0].rstrip(":")
    except CommandError as exc:
        status, exit_status, raised, error = "failed", 255, exc, str(exc)
    except sa_exc.SQLAlchemyError as exc:
        status, exit_status, raised = "failed", 255, exc
        error = database_error_message(exc)
    document = json_document(command, status, exit_status, report, problems=problems, error=error)
    config.print_stdout("%s", json.dumps(document, indent=2, ensure_ascii=False))
    if raised is not None:
        raise raised
    return report


def plan_or_sync(config: Config, *, dry_run: bool, check: bool, strict: bool) -> SyncReport:
    """Run env.py the way ``alembic current`` does and sync (or plan) on its connection."""
    script = ScriptDirectory.from_config(config)
    outcome: list[SyncReport] = []

    def sync_now(heads: object, migration_context: MigrationContext) -> list[object]:
        declared = declared_datasync(config)
        current = set(migration_context.get_current_heads())
        report = declared.sync(
            migration_context,
            # --check exists to catch a missing file: it fails there.
            strict=strict or declared.strict or check,
            dry_run=dry_run or check,
            audit=dry_run or check,
        )
        if current != set(script.get_heads()):
            report.warnings.insert(
                0,
                "the database is not at head ({}); run `alembic upgrade head`, which also "
                "syncs".format(", ".join(sorted(current)) or "no revision"),
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
    return outcome[0]


def valid_line(count: int) -> str:
    """What ``--validate`` prints when every file is valid."""
    files = "1 dataset file is" if count == 1 else f"{count} dataset files are"
    return f"datasync: {files} valid against target_metadata (no database used)"


class _QuietMigrationContext(logging.Filter):
    """Drops Alembic's migration-context lines (``Generating static SQL``...) in --validate.

    ``--validate`` runs env.py offline only to read its ``target_metadata``:
    no SQL is generated and no database is used, so those lines would mislead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def validate_offline(config: Config) -> int:
    """``datasync --validate``: the files against ``target_metadata``, with no database.

    Runs env.py in offline mode, as ``alembic upgrade --sql`` does (so env.py
    opens no connection), captures its ``target_metadata``, and checks every
    dataset file against the tables it declares (a dataset declared with its
    model, against that model).  A missing file is a problem: this check
    exists to catch it.  Returns how many files were checked.
    """
    script = ScriptDirectory.from_config(config)
    found: list[MetaData] = []

    def capture_metadata(heads: object, migration_context: MigrationContext) -> list[object]:
        found.append(combined_metadata(migration_context.opts.get("target_metadata")))
        return []

    quiet = _QuietMigrationContext()
    migration_log = logging.getLogger("alembic.runtime.migration")
    migration_log.addFilter(quiet)
    try:
        with EnvironmentContext(
            config, script, fn=capture_metadata, as_sql=True, output_buffer=io.StringIO()
        ):
            script.run_env()
    finally:
        migration_log.removeFilter(quiet)
    declared = declared_datasync(config)
    if not found:
        raise DatasyncError(
            "env.py did not configure an offline migration context, so there is no "
            "target_metadata to validate against"
        )
    if not found[0].tables and any(d.model is None for d in declared.datasets):
        raise DatasyncError(
            "env.py passes no target_metadata to context.configure() in offline mode: "
            "--validate checks the files against it (set target_metadata = Base.metadata, "
            "or SQLModel.metadata)"
        )
    validate_datasets(
        declared.datasets,
        found[0],
        base_dir=declared.base_dir,
        strict=True,
        max_file_size=declared.max_file_size,
    )
    return len(declared.datasets)


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
