"""The Python API: plan datasets against a database, apply the plan, sync, validate.

    from alembic_datasync import Dataset, sync

    datasets = [Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]
    with engine.connect() as connection:
        report = sync(connection, datasets, base_dir="backend")
    print(report.render())

`plan` reads and never writes; `apply` writes a plan in one transaction;
`sync` does both; `validate_datasets` checks the files against the project's
``target_metadata`` with no database at all; `sync_history` and
`sync_record` read the history of syncs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table

from .applied import LastApplied
from .collector import collector_paused
from .dataset import Dataset, table_of
from .display import redact_problems
from .errors import InvalidDatasets, Position, Problem, in_file_order
from .files import DEFAULT_MAX_FILE_SIZE, read_files
from .keys import describe_key
from .model import Metadata, carry_model_defaults, model_in_metadata
from .notify import send as send_notification
from .origin import SyncOrigin
from .overlays import (
    added_row_problems,
    checked_environment,
    display_overlay,
    environment_warnings,
    found_environments,
    mark_origins,
    note_overlays,
)
from .plans import DatasetPlan
from .report import SyncReport
from .rows import LoadedFile
from .state import Observation, Replay, last_applied, record_states, replay_unchanged
from .storage import (
    StateTables,
    create_missing_tables,
    creates_before_the_sync,
    tables_exist,
)
from .transaction import unit_of_work

if TYPE_CHECKING:
    from .chunked import Streamed
    from .column_types import ValueRule
    from .history import SyncRecord
    from .references import ResolvedReference

# The engine proper (`check`, `planner`, `writer`, `readback`, and the type
# rules under them) is imported where it is used: a deploy whose files and
# tables are as the last sync left them (`state.replay_unchanged`) never
# parses, plans nor writes, and imports none of it (about 150 ms of every
# `alembic upgrade head`); nor the history, which only a sync that writes
# records in.

#: Alembic's own logger, so the stock logging setup of alembic.ini shows it.
log = logging.getLogger("alembic.datasync")


def plan(
    connection: Connection,
    datasets: Sequence[Dataset],
    *,
    metadata: Metadata | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    audit: bool = False,
    state: StateTables | None = None,
    environment: str | None = None,
) -> SyncReport:
    """Plan syncing ``datasets`` into the database of ``connection``; reads, never writes.

    ``metadata`` is the project's model (``target_metadata``): new rows get
    its column defaults and updated rows its ``onupdate`` values, as the
    application would give them (a dataset declared with its model,
    ``Dataset(path, Model)``, needs none).  ``audit`` also reports what the
    sync leaves alone: rows the file does not list, values in columns it
    does not write (see `DatasetPlan`).

    Raises `InvalidDatasets` with every problem of every file when any file
    cannot be synced.  A missing file is a warning in the report (its table is
    left alone) unless ``strict``, where it is a problem too.  ``state`` names
    the tables where the last sync's state is read from (the defaults:
    `StateTables()`).  ``environment`` names the environment whose overlay
    files (``config/llm_nodes.staging.yaml`` next to ``config/llm_nodes.yaml``)
    are merged into the dataset files; None, the default, reads the files
    alone.
    """
    tables = state or StateTables()
    environment = checked_environment(environment)
    memory = _memory(connection, tables, datasets) if tables_exist(connection, tables) else {}
    report = _plan(
        connection, datasets, metadata, base_dir, strict, max_file_size, audit, memory, environment
    )
    report.warnings[:0] = environment_warnings(datasets, base_dir, environment)
    note_overlays(report.datasets, base_dir, environment)
    return report


def _memory(
    connection: Connection, tables: StateTables, datasets: Sequence[Dataset]
) -> dict[int, LastApplied | None]:
    """What the state remembers of each dataset, by the dataset's id()."""
    remembered = last_applied(connection, tables, datasets)
    return {id(dataset): last for dataset, last in zip(datasets, remembered, strict=True)}


# Reading, checking and planning build many containers and no cycles: one pause
# of the collector for all of it, not a rescan of every row each time a stage
# allocates (`collector.collector_paused`).
@collector_paused()
def _plan(
    connection: Connection,
    datasets: Sequence[Dataset],
    metadata: Metadata | None,
    base_dir: str | os.PathLike[str] | None,
    strict: bool,
    max_file_size: int,
    audit: bool,
    memory: dict[int, LastApplied | None],
    environment: str | None = None,
    *,
    stream: bool = False,
    write: bool = False,
) -> SyncReport:
    """Plan ``datasets``; raises `InvalidDatasets` with every problem.

    With ``stream``, the CSV datasets `chunked` can take are planned a chunk
    at a time instead, and with ``write`` each chunk is written as it is
    planned (the caller's unit of work rolls them back if a problem is
    found): their plans come ``written``.
    """
    if not datasets:
        return SyncReport([], [])  # each was replayed from the state
    from .check import check_file
    from .planner import plan_dataset
    from .references import load_names
    from .tables import (
        missing_table_problem,
        non_transactional_problem,
        reflect_table,
        unique_keys,
    )

    reflected: dict[tuple[str | None, str], Table | None] = {}
    streamed = _streamed(connection, datasets, reflected, base_dir, max_file_size) if stream else []
    read = read_files(
        [d for d in datasets if not any(d is s for s in streamed)],
        base_dir,
        max_file_size,
        environment,
    )
    problems: list[Problem] = []
    warnings: list[str] = []
    ready: list[tuple[LoadedFile, Table, dict[str, ValueRule], bool, list[ResolvedReference]]] = []
    remembered: list[LastApplied | None] = []
    files = read.usable(
        problems,
        strict=strict,
        warn=lambda missing: warnings.append(
            f"{missing}; table {missing.dataset!r} left unchanged"
        ),
    )
    for file in files:
        where = table_of(file.dataset)
        if where not in reflected:
            reflected[where] = reflect_table(connection, file.dataset)
        table = reflected[where]
        if table is None:
            problems.append(missing_table_problem(file.dataset, "in the database"))
            problems.extend(file.problems)
            continue
        model_known, references, unresolved, rules = _as_written(
            connection, file.dataset, table, metadata
        )
        problems.extend(unresolved)
        checked = check_file(file, table, rules)
        problems.extend(checked.problems)
        added = added_row_problems(checked.valid, table, environment)
        if added:
            problems.extend(added)
            # Reported here, as an overlay's row: not again by the planner.
            flagged = {problem.position for problem in added}
            checked.valid.rows = [r for r in checked.valid.rows if r.position not in flagged]
        # The valid rows are planned even when there are problems: what only
        # planning finds (a new row leaving out a NOT NULL column) joins the report.
        ready.append((checked.valid, table, rules, model_known, references))
        remembered.append(memory.get(id(file.dataset)))
    plans = []
    load_names(connection, [r for *_, references in ready for r in references])
    for number, (valid, table, rules, model_known, references) in enumerate(ready):
        # Other datasets of the same table: their rows are theirs (never pruned
        # here), and a row written by two files is a problem.
        dataset_plan, plan_problems = plan_dataset(
            connection,
            valid,
            table,
            rules,
            unique=unique_keys(table, connection),
            earlier=[other for other, same, *_ in ready[:number] if same is table],
            later=[other for other, same, *_ in ready[number + 1 :] if same is table],
            model_known=model_known,
            audit=audit,
            last=remembered[number],
            references=references,
        )
        if dataset_plan.applied is not None:
            dataset_plan.applied.source_digest = valid.source_digest
        mark_origins(dataset_plan, valid)
        plans.append(dataset_plan)
        problems.extend(plan_problems)
        if dataset_plan.has_changes:
            refused = non_transactional_problem(valid.dataset, table)
            problems.extend([refused] if refused else [])
    problems.extend(_unknown_references(ready, plans))
    secrets: set[str] = set()
    for dataset in streamed:
        # Planned and, unless a problem was found already, written a chunk at a time.
        table = reflected[table_of(dataset)]
        assert table is not None
        done = _sync_in_chunks(
            connection,
            dataset,
            table,
            metadata,
            memory.get(id(dataset)),
            base_dir=base_dir,
            max_file_size=max_file_size,
            environment=environment,
            strict=strict,
            write=write and not problems,
            audit=audit,
        )
        problems.extend(done.problems)
        warnings.extend(done.warnings)
        secrets |= done.secrets
        if done.plan is not None:
            plans.append(done.plan)
    if problems:
        # Each file's problems, then those of its overlay.
        paths = [
            path
            for d in datasets
            for path in (d.display_path, display_overlay(d, environment) if environment else "")
        ]
        ordered = in_file_order(problems, paths)
        raise InvalidDatasets(redact_problems(ordered, read.secret_values() | secrets))
    return SyncReport(plans, warnings)


def _streamed(
    connection: Connection,
    datasets: Sequence[Dataset],
    reflected: dict[tuple[str | None, str], Table | None],
    base_dir: str | os.PathLike[str] | None,
    max_file_size: int,
) -> list[Dataset]:
    """The datasets synced a chunk at a time (`chunked.streamable`): large CSV files."""
    from .files import is_csv

    if not any(is_csv(dataset.resolve(base_dir)) for dataset in datasets):
        return []
    from .chunked import streamable
    from .tables import reflect_table

    run = []
    for dataset in datasets:
        where = table_of(dataset)
        if where not in reflected:
            reflected[where] = reflect_table(connection, dataset)
        run.append((dataset, reflected[where]))
    return [
        dataset
        for dataset, table in run
        if streamable(
            connection, dataset, table, run, base_dir=base_dir, max_file_size=max_file_size
        )
    ]


def _sync_in_chunks(
    connection: Connection,
    dataset: Dataset,
    table: Table,
    metadata: Metadata | None,
    last: LastApplied | None,
    **options: Any,
) -> Streamed:
    """`chunked.sync_in_chunks` of ``dataset``, its rules and references found as `_plan` does."""
    from .chunked import Streamed, sync_in_chunks
    from .references import load_names
    from .tables import unique_keys

    model_known, references, unresolved, rules = _as_written(connection, dataset, table, metadata)
    if unresolved:
        return Streamed(None, list(unresolved))
    load_names(connection, references)
    return sync_in_chunks(
        connection,
        dataset,
        table,
        rules,
        references,
        unique=unique_keys(table, connection),
        model_known=model_known,
        last=last,
        **options,
    )


def _as_written(
    connection: Connection, dataset: Dataset, table: Table, metadata: Metadata | None
) -> tuple[bool, list[ResolvedReference], list[Problem], dict[str, ValueRule]]:
    """``table`` as ``dataset`` writes it: the model's defaults carried onto it (True: a model
    was found), its references by natural key (and the problems of those not found), and
    each column's rule."""
    from .references import database_tables, resolve_references, with_natural_rules
    from .tables import column_rules

    dialect = connection.dialect.name
    model = dataset.model
    if model is None:
        model = model_in_metadata(metadata, dataset.table, dataset.schema)
    if model is not None:
        carry_model_defaults(table, model, connection.dialect)
    references, unresolved = resolve_references(
        dataset, table, database_tables(connection, table.metadata), dialect
    )
    return (
        model is not None,
        references,
        list(unresolved),
        with_natural_rules(column_rules(table, dialect), references),
    )


def _unknown_references(
    ready: Sequence[tuple[LoadedFile, Table, Any, Any, list[ResolvedReference]]],
    plans: Sequence[DatasetPlan],
) -> list[Problem]:
    """References to natural keys that neither the table (less the rows pruned) nor a file has."""
    from .references import known_names, unknown_references

    problems: list[Problem] = []
    for valid, _, _, _, references in ready:

        def known(reference: ResolvedReference) -> dict[Any, Any]:
            where = (reference.declared.schema, reference.declared.table)
            files = [file for file, *_ in ready if table_of(file.dataset) == where]
            leaving = [
                change.key[0]
                for plan in plans
                if table_of(plan.dataset) == where
                and plan.dataset.key_columns == (reference.natural_key,)
                for change in plan.deletes
            ]
            found = known_names(reference, files, in_table=True, leaving=leaving)
            assert found is not None
            return found

        problems.extend(unknown_references(valid, references, known))
    return problems


def _unknown_in_files(
    referring: Sequence[tuple[LoadedFile, list[ResolvedReference]]], files: Sequence[LoadedFile]
) -> list[Problem]:
    """With no database: references to natural keys no file of the referred table writes.

    A referred table no dataset of the run fills is not checked (only the
    database knows its rows).
    """
    from .references import known_names, unknown_references

    problems: list[Problem] = []
    for valid, references in referring:

        def known(reference: ResolvedReference) -> dict[Any, Any] | None:
            where = (reference.declared.schema, reference.declared.table)
            of_table = [file for file in files if table_of(file.dataset) == where]
            return known_names(reference, of_table, in_table=False)

        problems.extend(unknown_references(valid, references, known))
    return problems


def apply(
    connection: Connection,
    report: SyncReport,
    *,
    state: StateTables | None = None,
    origin: SyncOrigin | None = None,
) -> SyncReport:
    """Write the plan in ``report``: all datasets in one transaction, all or nothing.

    When ``connection`` is already in a transaction, the writes join it (inside
    a SAVEPOINT) and the caller commits; otherwise they run in a transaction
    of their own, committed here.  The state of each dataset and the history
    record go with them (`sync`'s ``state`` and ``origin``).  Sends no
    statement when nothing changes.  Raises `ApplyFailed` when the database
    refuses a row.
    """
    if report.has_changes:
        tables = state or StateTables()
        nested = connection.in_transaction()
        created = False
        if creates_before_the_sync(connection):
            created = create_missing_tables(connection, tables, nested=nested)
        with (
            collector_paused(),
            _refusals_explained(connection),
            unit_of_work(connection, nested=nested),
        ):
            if not creates_before_the_sync(connection):
                created = create_missing_tables(connection, tables, nested=nested)
            _write(connection, report)
            _record(connection, tables, report, origin or SyncOrigin(), read_back=not created)
    report.applied = True
    return report


def _write(connection: Connection, report: SyncReport) -> None:
    """Send the plan's writes, then read back what the tables kept (`readback`)."""
    # A plan made a chunk at a time was written as it was made (`chunked`).
    pending = [plan for plan in report.datasets if not plan.written]
    if not any(plan.has_changes for plan in pending):
        return
    from .readback import values_not_kept
    from .writer import write_plans

    write_plans(connection, pending)
    report.warnings.extend(values_not_kept(connection, pending))


@contextmanager
def _refusals_explained(connection: Connection) -> Iterator[None]:
    """`writer.refusals_explained`, the writer imported only once a write was refused."""
    try:
        yield
    except Exception as error:
        from .writer import RefusedWrite

        if isinstance(error, RefusedWrite):
            raise error.explained(connection) from None
        raise


def _record(
    connection: Connection,
    tables: StateTables,
    report: SyncReport,
    origin: SyncOrigin,
    *,
    read_back: bool,
    datasets: Sequence[Dataset] | None = None,
    observed: dict[int, Observation] | None = None,
    strict: bool = False,
) -> None:
    """The state of every planned dataset, and the history record of what was written."""
    record_states(
        connection,
        tables,
        datasets if datasets is not None else [plan.dataset for plan in report.datasets],
        report.datasets,
        observed=observed or {},
        revisions=origin.revisions,
        read_back=read_back,
    )
    if report.has_changes:
        from .history import record_sync

        record_sync(connection, tables, report.datasets, origin=origin, strict=strict)


def sync(
    connection: Connection,
    datasets: Sequence[Dataset],
    *,
    metadata: Metadata | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    nested: bool | None = None,
    notify: str | None = None,
    audit: bool = False,
    state: StateTables | None = None,
    origin: SyncOrigin | None = None,
    environment: str | None = None,
) -> SyncReport:
    """Plan ``datasets`` and, unless ``dry_run``, apply the plan; the report either way.

    ``metadata``, ``audit`` and ``environment`` are `plan`'s.

    Reads and writes in one unit of work (`transaction.unit_of_work`): a
    SAVEPOINT in the caller's transaction when ``connection`` is in one (the
    caller commits), else a transaction of its own, committed before
    returning.  A dry run is always rolled back, and read-only on PostgreSQL.
    ``nested`` overrides whether an open transaction is someone else's to
    commit (the env.py integration knows; the default guesses yes).
    ``notify`` names a PostgreSQL channel told of the changed keys when the
    sync commits (`alembic_datasync.notify`).

    The state of each dataset and the history record are written in the same
    unit of work, to the tables ``state`` names (created on first need); a
    dry run never writes them.  ``origin`` is what the history records of
    where the sync came from (the Alembic revisions, the command).  A table
    whose datasets are exactly as a verified earlier sync left them (file
    bytes, table values and definition, library) is not parsed again; an
    audit (``audit``) always plans in full.
    """
    tables = state or StateTables()
    origin = origin or SyncOrigin()
    environment = checked_environment(environment)
    if nested is None:
        nested = connection.in_transaction()
    created = False
    if not dry_run and creates_before_the_sync(connection):
        created = create_missing_tables(connection, tables, nested=nested)
    with (
        # The rows read, planned, written and recorded form no cycles: the collector
        # waits for the end of the sync instead of rescanning them at every stage.
        collector_paused(),
        _refusals_explained(connection),
        unit_of_work(connection, nested=nested, keep=not dry_run, read_only=dry_run),
    ):
        if not dry_run and not creates_before_the_sync(connection):
            created = create_missing_tables(connection, tables, nested=nested)
        # Tables created just now hold nothing (and MySQL cannot read a table
        # another connection created after this transaction began).
        readable = not created and (not dry_run or tables_exist(connection, tables))
        replay = Replay()
        if readable and not dry_run and not audit:
            replay = replay_unchanged(
                connection,
                tables,
                datasets,
                base_dir=base_dir,
                max_file_size=max_file_size,
                revisions=origin.revisions,
                environment=environment,
            )
        rest = [d for number, d in enumerate(datasets) if number not in replay.plans]
        memory = _memory(connection, tables, rest) if readable and rest else {}
        report = _plan(
            connection,
            rest,
            metadata,
            base_dir,
            strict,
            max_file_size,
            audit,
            memory,
            environment,
            stream=True,
            write=not dry_run,
        )
        report.warnings[:0] = environment_warnings(datasets, base_dir, environment)
        planned = {id(p.dataset): p for p in report.datasets}
        report.datasets = [
            replay.plans[number] if number in replay.plans else planned[id(dataset)]
            for number, dataset in enumerate(datasets)
            if number in replay.plans or id(dataset) in planned
        ]
        note_overlays(report.datasets, base_dir, environment)
        if not dry_run:
            _write(connection, report)
            _record(
                connection,
                tables,
                report,
                origin,
                read_back=readable,
                datasets=datasets,
                observed=replay.observed,
                strict=strict,
            )
            report.applied = True
            if notify:
                send_notification(connection, notify, report)
    return report


def sync_history(
    connection: Connection,
    *,
    dataset: str | None = None,
    limit: int = 20,
    state: StateTables | None = None,
) -> list[SyncRecord]:
    """The last ``limit`` syncs that wrote something, newest first; reads, never writes.

    ``dataset`` keeps those that changed that dataset (its name, as the
    summary line shows it).  Each `SyncRecord` holds when, at which
    revision(s), by whom, and per dataset its counts; `sync_record` gives
    one with every row change.  Empty when nothing was ever recorded.
    """
    from .history import read_history

    tables = state or StateTables()
    with unit_of_work(connection, keep=False, read_only=True):
        if not tables_exist(connection, tables):
            return []
        return read_history(connection, tables, dataset=dataset, limit=limit)


def sync_record(
    connection: Connection, sync_id: int, *, state: StateTables | None = None
) -> SyncRecord | None:
    """The sync ``sync_id`` of the history, with every row change; None when there is none.

    Reads, never writes.  Values of secret columns are not in the history:
    such a change has None for both values.
    """
    from .history import read_sync

    tables = state or StateTables()
    with unit_of_work(connection, keep=False, read_only=True):
        if not tables_exist(connection, tables):
            return None
        return read_sync(connection, tables, sync_id)


def validate_datasets(
    datasets: Sequence[Dataset],
    metadata: Metadata | None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    environments: Sequence[str] | None = None,
) -> None:
    """Check the dataset files against ``metadata`` (the project's ``target_metadata``).

    Needs no database connection, so a pull request's CI can refuse a bad file
    before it is merged.  The checks and messages are the sync's, on the
    tables as the models declare them (a dataset declared with its model,
    ``Dataset(path, Model)``, is checked against that model).  Whether a row
    is new is only known to the database, so every row is checked as if it
    were, as on a database that does not have it yet: a row that could not be
    created (it leaves out a NOT NULL column that nothing fills in) is a
    problem here as it is for the sync.  Raises `InvalidDatasets` with every
    problem of every file.  A missing file is logged as a warning, or is a
    problem when ``strict``.

    The base files are checked alone, and then merged with each environment's
    overlays (`overlays`): those of every environment that has an overlay
    file next to a dataset file, or those of ``environments`` when given.  A
    problem that only an environment has names it.
    """
    problems, secrets = _validated(
        datasets, metadata, base_dir, strict, max_file_size, None, warn=True
    )
    seen = set(problems)
    for environment in (
        environments if environments is not None else every_environment(datasets, base_dir)
    ):
        environment = checked_environment(environment) or ""
        if not environment:
            continue
        found, more_secrets = _validated(
            datasets, metadata, base_dir, strict, max_file_size, environment, warn=False
        )
        secrets |= more_secrets
        overlay_paths = {display_overlay(d, environment) for d in datasets}
        for problem in found:
            if problem in seen:
                continue
            seen.add(problem)
            where = problem.position
            path = where.path if isinstance(where, Position) else where
            if path in overlay_paths:
                problems.append(problem)  # the overlay's path names the environment
            else:
                problems.append(
                    Problem(where, f"in the environment {environment!r}: {problem.message}")
                )
    if problems:
        raise InvalidDatasets(redact_problems(problems, secrets), writes=False)


def every_environment(
    datasets: Sequence[Dataset], base_dir: str | os.PathLike[str] | None
) -> list[str]:
    """Every environment with an overlay file next to one of the dataset files, by name."""
    taken = {dataset.resolve(base_dir).resolve() for dataset in datasets}
    names: set[str] = set()
    for dataset in datasets:
        names.update(found_environments(dataset.resolve(base_dir), taken))
    return sorted(names)


def _validated(
    datasets: Sequence[Dataset],
    metadata: Metadata | None,
    base_dir: str | os.PathLike[str] | None,
    strict: bool,
    max_file_size: int,
    environment: str | None,
    *,
    warn: bool,
) -> tuple[list[Problem], set[str]]:
    """`validate_datasets` for one environment (None: the base files alone)."""
    from .check import check_file, shared_rows
    from .references import declared_tables, resolve_references, with_natural_rules
    from .tables import (
        column_rules,
        missing_required_problem,
        not_in_metadata_problem,
        table_in_metadata,
    )

    read = read_files(datasets, base_dir, max_file_size, environment)
    problems: list[Problem] = []
    files = read.usable(
        problems,
        strict=strict,
        warn=lambda missing: (
            log.warning("datasync: warning: %s; not validated", missing) if warn else None
        ),
    )
    checked: list[tuple[LoadedFile, Table, dict[str, ValueRule]]] = []
    referring: list[tuple[LoadedFile, list[ResolvedReference]]] = []
    for file in files:
        dataset = file.dataset
        table = table_in_metadata(metadata, dataset)
        if table is None:
            problems.append(not_in_metadata_problem(dataset, metadata))
            problems.extend(file.problems)
            continue
        references, unresolved = resolve_references(dataset, table, declared_tables(metadata), "")
        problems.extend(unresolved)
        # No dialect: each type's rules as declared, the same on every database.
        rules = with_natural_rules(column_rules(table, ""), references)
        result = check_file(file, table, rules)
        found = list(result.problems)
        added = added_row_problems(result.valid, table, environment)
        found.extend(added)
        flagged = {problem.position for problem in added}
        for row in result.valid.rows:
            if row.position in flagged:
                continue
            problem = missing_required_problem(
                table,
                row.values,
                row.position,
                describe_key(row, dataset.key_columns),
                dataset,
                known_new=False,
                model_known=True,
            )
            if problem is not None:
                found.append(problem)
        problems.extend(in_file_order(found))
        checked.append((result.valid, table, rules))
        referring.append((result.valid, references))
    problems.extend(shared_rows(checked))
    problems.extend(_unknown_in_files(referring, [file for file, _, _ in checked]))
    return problems, read.secret_values()
