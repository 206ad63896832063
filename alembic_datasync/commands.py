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
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, Table
from sqlalchemy import exc as sa_exc

from .alembic_internals import upgrade_steps
from .api import every_environment, sync_history, sync_record, validate_datasets
from .database_errors import ATTRIBUTE
from .dataset import Dataset
from .editor_schema import dataset_schema
from .environment import (
    ENVIRONMENT_ATTRIBUTE,
    WRITES_ATTRIBUTE,
    DataSync,
    PreviewRolledBack,
    report_lines,
)
from .errors import (
    DatasetsOutOfSync,
    DatasyncError,
    InvalidDatasets,
    Problem,
    database_error_message,
)
from .exporter import exported_columns, read_rows, reexport, render, secret_columns
from .history import SyncRecord, history_lines, record_json, sync_lines
from .loader import parse_file
from .overlays import display_overlay, found_environments
from .references import (
    database_tables,
    name_rows,
    resolve_references,
    with_natural_rules,
)
from .report import SyncReport, json_document
from .tables import (
    column_rules,
    not_in_metadata_problem,
    reflect_table,
    required_columns,
    table_in_metadata,
)
from .transaction import unit_of_work

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")


def declared_datasync(config: Config) -> DataSync:
    """The `DataSync` env.py declared; `DatasyncError` when it declared none."""
    declared = config.attributes.get(ATTRIBUTE)
    if not isinstance(declared, DataSync):
        raise DatasyncError(
            "env.py declares no datasets: add `datasync = DataSync(context, [Dataset(...)])` "
            "to env.py (see the README, section 'Use it in your project')"
        )
    return declared


def datasync(
    config: Config,
    dry_run: bool = False,
    check: bool = False,
    strict: bool = False,
    validate: bool = False,
    format: str = "text",
    environment: str | None = None,
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
    ``environment`` chooses the environment whose overlay files are merged
    into the dataset files, as ``-x datasync_env=NAME`` does; ``validate``
    checks every environment's overlays whatever is chosen.
    """
    if environment is None:
        return _datasync(config, dry_run, check, strict, validate, format)
    config.attributes[ENVIRONMENT_ATTRIBUTE] = environment
    try:
        return _datasync(config, dry_run, check, strict, validate, format)
    finally:
        config.attributes.pop(ENVIRONMENT_ATTRIBUTE, None)


def _datasync(
    config: Config, dry_run: bool, check: bool, strict: bool, validate: bool, format: str
) -> SyncReport | None:
    if format == "json":
        return _datasync_json(
            config, dry_run=dry_run, check=check, strict=strict, validate=validate
        )
    if validate:
        count = validate_offline(config)
        config.print_stdout("%s", valid_line(count, config.attributes.get(_VALIDATED_ENVIRONMENTS)))
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
        # --check exists to catch a missing file: it fails there.
        options = {"strict": strict or declared.strict or check, "audit": dry_run or check}
        pending = ", ".join(sorted(current)) or "no revision"
        unable = ""
        if current != set(script.get_heads()) and (dry_run or check):
            steps = upgrade_steps(script, heads)
            unable = _cannot_preview(migration_context, steps)
            if not unable:
                # The plan the next `alembic upgrade head` writes: after the pending
                # migrations, run here and rolled back with everything else.
                declared.preview_after_migrations(outcome, **options)
                outcome_note.append(
                    f"the database is at {pending}, not at head: this plan is previewed after "
                    f"the pending migrations, which were run and rolled back; `alembic upgrade "
                    f"head` runs them and then writes this plan"
                )
                return list(steps or [])
        behind = ""
        if current != set(script.get_heads()):
            against = f" ({unable}, so this plan is against the current schema)" if unable else ""
            behind = (
                f"the database is not at head ({pending}); run `alembic upgrade head`, which "
                f"also syncs{against}"
            )
        try:
            report = declared.sync(
                migration_context, dry_run=dry_run or check, command="datasync", **options
            )
        except InvalidDatasets as exc:
            if not behind:
                raise
            # A column a pending migration adds is unknown until it runs: say why.
            raise InvalidDatasets([*exc.problems, Problem(None, behind)]) from None
        if behind:
            report.warnings.insert(0, behind)
        outcome.append(report)
        return []

    config.attributes[WRITES_ATTRIBUTE] = not (dry_run or check)
    outcome_note: list[str] = []
    try:
        with EnvironmentContext(config, script, fn=sync_now, dont_mutate=True):
            script.run_env()
    except PreviewRolledBack:
        pass  # the preview's migrations and plan, rolled back on purpose
    finally:
        config.attributes.pop(WRITES_ATTRIBUTE, None)
    if not outcome:
        raise DatasyncError(
            "env.py did not run the migrations online, so nothing was synced: "
            "`alembic datasync` needs a database connection"
        )
    report = outcome[0]
    report.warnings[:0] = outcome_note
    return report


def _cannot_preview(migration_context: MigrationContext, steps: list[object] | None) -> str:
    """Why the pending migrations cannot run in a transaction rolled back after; "" if they can."""
    dialect = migration_context.dialect.name
    if steps is None:
        return "this Alembic does not say which migrations are pending"
    if not migration_context.impl.transactional_ddl:
        return f"{dialect} cannot roll back the migrations' DDL, so they cannot be previewed"
    if migration_context.opts.get("transaction_per_migration"):
        return "env.py commits each migration on its own (transaction_per_migration=True)"
    return ""


def datasync_history(
    config: Config,
    sync_id: int | None = None,
    dataset: str | None = None,
    limit: int = 20,
    format: str = "text",
) -> list[SyncRecord]:
    """List the syncs that wrote to the database, newest first, or show one with its changes.

    ``sync_id`` shows that sync with every row change, old and new values
    (secret columns masked); otherwise the last ``limit`` syncs are listed,
    only those that changed ``dataset`` when it is given.  ``format`` is
    "text" or "json".  Reads, never writes.
    """
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
    if format == "json":
        shown: object = (
            record_json(records[0]) if sync_id is not None else [record_json(r) for r in records]
        )
        config.print_stdout("%s", json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        lines = sync_lines(records[0]) if sync_id is not None else history_lines(records, dataset)
        for line in lines:
            config.print_stdout("%s", line)
    return records


def valid_line(count: int, environments: Sequence[str] | None = None) -> str:
    """What ``--validate`` prints when every file is valid (and each environment's merge)."""
    files = "1 dataset file is" if count == 1 else f"{count} dataset files are"
    merged = ""
    if environments:
        named = ", ".join(environments)
        merged = f", alone and merged with the overlays of {named}"
    return f"datasync: {files} valid against target_metadata{merged} (no database used)"


#: Where `validate_offline` leaves the environments it checked, for `valid_line`.
_VALIDATED_ENVIRONMENTS = "alembic_datasync.validated_environments"


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
    metadata, declared = _offline_metadata(config)
    environments = every_environment(declared.datasets, declared.base_dir)
    validate_datasets(
        declared.datasets,
        metadata,
        base_dir=declared.base_dir,
        strict=True,
        max_file_size=declared.max_file_size,
        environments=environments,
    )
    config.attributes[_VALIDATED_ENVIRONMENTS] = environments
    return len(declared.datasets)


def _offline_metadata(config: Config) -> tuple[MetaData, DataSync]:
    """env.py's ``target_metadata`` and declarations, env.py run offline (no connection)."""
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
    return found[0], declared


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


def _online(config: Config, work: Callable[[Connection, DataSync], T]) -> T:
    """Run env.py online, as `alembic current` does, and ``work`` on its connection.

    ``work`` runs in a unit of work that is rolled back (read-only on
    PostgreSQL): these commands read the database, never write it.
    """
    script = ScriptDirectory.from_config(config)
    outcome: list[T] = []

    def run(heads: object, migration_context: MigrationContext) -> list[object]:
        declared = declared_datasync(config)
        connection = migration_context.connection
        assert connection is not None
        with unit_of_work(connection, keep=False, read_only=True):
            outcome.append(work(connection, declared))
        return []

    with EnvironmentContext(config, script, fn=run, dont_mutate=True):
        script.run_env()
    if not outcome:
        raise DatasyncError(
            "env.py did not run the migrations online: this command needs a database connection"
        )
    return outcome[0]


def export(
    config: Config,
    table: str | None = None,
    key: str | None = None,
    columns: str | None = None,
    where: str | None = None,
    dataset: str | None = None,
    schema: str | None = None,
    include_secrets: bool = False,
) -> str:
    """Export a table's rows as a dataset file (YAML) that reads back exactly.

    ``table`` with ``key`` (comma-separated for a composite key) prints the
    file; ``columns`` (comma-separated) limits the columns, ``where`` (SQL)
    the rows.  ``dataset`` instead rewrites that declared dataset's file in
    place from its table, keeping the text (and comments) of every row the
    table did not change.  Columns a declared dataset keeps secret are left
    out unless ``include_secrets``.  Returns the text written.
    """
    if (table is None) == (dataset is None):
        raise DatasyncError(
            "export needs a table and its --key, or --dataset NAME to rewrite a declared "
            "dataset's file; not both"
        )
    if table is not None and not key:
        raise DatasyncError(
            f"export {table}: say which column names the rows with --key (a comma-separated "
            f"list for a composite key), e.g. --key node_name"
        )

    def read(connection: Connection, declared: DataSync) -> str:
        if dataset is not None:
            return _reexport(config, connection, declared, dataset, include_secrets)
        assert table is not None and key is not None
        return _export_table(
            connection, declared, table, schema, _names(key), columns, where, include_secrets
        )

    written = _online(config, read)
    if dataset is None:
        config.print_stdout("%s", written.rstrip("\n"))
    return written


def _names(listed: str | None) -> list[str]:
    return [name.strip() for name in (listed or "").split(",") if name.strip()]


def _table_or_fail(connection: Connection, dataset: Dataset) -> Table:
    table = reflect_table(connection, dataset)
    if table is None:
        raise DatasyncError(f"table {dataset.label!r} does not exist in the database")
    return table


def _export_table(
    connection: Connection,
    declared: DataSync,
    table_name: str,
    schema: str | None,
    key_columns: list[str],
    columns: str | None,
    where: str | None,
    include_secrets: bool,
) -> str:
    dataset = Dataset("-", table=table_name, key=key_columns, schema=schema)
    table = _table_or_fail(connection, dataset)
    unknown = [c for c in [*key_columns, *_names(columns)] if c not in table.c]
    if unknown:
        raise DatasyncError(
            f"table {dataset.label!r} has no column {', '.join(map(repr, unknown))}; its "
            f"columns: {', '.join(c.name for c in table.columns)}"
        )
    chosen = exported_columns(table, key_columns, _names(columns) or None)
    hidden = secret_columns(declared.datasets, table_name, schema) - set(key_columns)
    if not include_secrets:
        chosen = [c for c in chosen if c not in hidden]
    rules = column_rules(table, connection.dialect.name)
    rows, unnamed = read_rows(connection, table, chosen, key_columns, where, rules)
    header = f"# exported from {dataset.label} by `alembic datasync export`\n"
    if hidden and not include_secrets:
        header += f"# secret columns left out: {', '.join(sorted(hidden))}\n"
    if unnamed:
        header += f"# {unnamed} rows with a NULL key left out: a dataset file cannot name them\n"
    return render(rows, key_columns, header)


def _reexport(
    config: Config,
    connection: Connection,
    declared: DataSync,
    name: str,
    include_secrets: bool,
) -> str:
    dataset = _declared_dataset(declared, name)
    table = _table_or_fail(connection, dataset)
    path = dataset.resolve(declared.base_dir)
    source = path.read_text(encoding="utf-8") if path.exists() else ""
    loaded = parse_file(source, dataset)
    written = list(dict.fromkeys(c for row in loaded.rows for c in row.values))
    chosen = exported_columns(table, dataset.key_columns, written or None)
    if not include_secrets:
        chosen = [c for c in chosen if c not in dataset.secret_columns]
    dialect = connection.dialect.name
    references, _ = resolve_references(
        dataset, table, database_tables(connection, table.metadata), dialect
    )
    rules = column_rules(table, dialect)
    rows, _ = read_rows(connection, table, chosen, dataset.key_columns, rules=rules)
    # A reference is exported as the name the file writes (`references`).
    name_rows(connection, rows, references)
    text, kept = reexport(loaded, source, rows, with_natural_rules(rules, references))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DatasyncError(
            f"{dataset.display_path}: cannot write the file: {exc.strerror}"
        ) from None
    config.print_stdout(
        "datasync: %s rewritten from %s: %d rows, %d kept as written (with their comments), "
        "%d written anew",
        dataset.display_path,
        dataset.label,
        len(rows),
        kept,
        len(rows) - kept,
    )
    taken = {d.resolve(declared.base_dir).resolve() for d in declared.datasets}
    overlays = [display_overlay(dataset, env) for env in found_environments(path, taken)]
    if overlays:
        config.print_stdout(
            "datasync: note: export writes the base file only, from the table's values; "
            "not rewritten: %s (if this database was synced with an environment, its values "
            "are now in the base file: review the diff)",
            ", ".join(overlays),
        )
    return text


def schema(config: Config, dataset: str | None = None, output: str | None = None) -> dict[str, Any]:
    """Print a JSON Schema of a dataset file, for editors (yaml-language-server).

    Made from the table as env.py's ``target_metadata`` declares it, with no
    database connection (env.py runs offline, as for ``--validate``).
    ``dataset`` names the dataset when env.py declares several; ``output``
    writes the schema to that file instead of printing it.
    """
    metadata, declared = _offline_metadata(config)
    chosen = _declared_dataset(declared, dataset)
    table = table_in_metadata(metadata, chosen)
    if table is None:
        raise DatasyncError(str(not_in_metadata_problem(chosen, metadata)))
    document = dataset_schema(chosen, table, required_columns(table))
    text = json.dumps(document, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        config.print_stdout("datasync: JSON Schema of %s written to %s", chosen.label, output)
    else:
        config.print_stdout("%s", text)
    return document


def _declared_dataset(declared: DataSync, name: str | None) -> Dataset:
    """The dataset ``name`` (its name, table or path), or the only one declared."""
    datasets = declared.datasets
    if name is None:
        if len(datasets) == 1:
            return datasets[0]
        raise DatasyncError(
            f"env.py declares {len(datasets)} datasets: name one with --dataset "
            f"({', '.join(d.label for d in datasets)})"
        )
    for candidate in datasets:
        if name in (candidate.label, candidate.name, candidate.table, candidate.display_path):
            return candidate
    known = ", ".join(d.label for d in datasets)
    raise DatasyncError(f"env.py declares no dataset {name!r}; it declares: {known}")
