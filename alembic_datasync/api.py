"""The Python API: plan datasets against a database, apply the plan, sync, validate.

    from alembic_datasync import Dataset, sync

    datasets = [Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]
    with engine.connect() as connection:
        report = sync(connection, datasets, base_dir="backend")
    print(report.render())

`plan` reads and never writes; `apply` writes a plan in one transaction;
`sync` does both; `validate_datasets` checks the files against the project's
``target_metadata`` with no database at all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from sqlalchemy import Connection, Table

from .check import check_file, shared_rows
from .column_types import ValueRule
from .dataset import Dataset
from .display import redact_problems
from .errors import InvalidDatasets, Problem, in_file_order
from .files import DEFAULT_MAX_FILE_SIZE, read_files
from .keys import describe_key
from .model import Metadata, carry_model_defaults, model_in_metadata
from .notify import send as send_notification
from .planner import plan_dataset
from .readback import values_not_kept
from .report import SyncReport
from .rows import LoadedFile
from .tables import (
    column_rules,
    missing_required_problem,
    missing_table_problem,
    non_transactional_problem,
    not_in_metadata_problem,
    reflect_table,
    table_in_metadata,
    unique_keys,
)
from .transaction import unit_of_work
from .writer import refusals_explained, write_plans

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
    left alone) unless ``strict``, where it is a problem too.
    """
    read = read_files(datasets, base_dir, max_file_size)
    problems: list[Problem] = []
    warnings: list[str] = []
    dialect = connection.dialect.name
    ready: list[tuple[LoadedFile, Table, dict[str, ValueRule], bool]] = []
    files = read.usable(
        problems,
        strict=strict,
        warn=lambda missing: warnings.append(
            f"{missing}; table {missing.dataset!r} left unchanged"
        ),
    )
    reflected: dict[tuple[str | None, str], Table | None] = {}
    for file in files:
        where = (file.dataset.schema, file.dataset.table)
        if where not in reflected:
            reflected[where] = reflect_table(connection, file.dataset)
        table = reflected[where]
        if table is None:
            problems.append(missing_table_problem(file.dataset, "in the database"))
            problems.extend(file.problems)
            continue
        dataset = file.dataset
        model = dataset.model
        if model is None:
            model = model_in_metadata(metadata, dataset.table, dataset.schema)
        if model is not None:
            carry_model_defaults(table, model, connection.dialect)
        rules = column_rules(table, dialect)
        checked = check_file(file, table, rules)
        problems.extend(checked.problems)
        # The valid rows are planned even when there are problems: what only
        # planning finds (a new row leaving out a NOT NULL column) joins the report.
        ready.append((checked.valid, table, rules, model is not None))
    plans = []
    for number, (valid, table, rules, model_known) in enumerate(ready):
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
        )
        plans.append(dataset_plan)
        problems.extend(plan_problems)
        if dataset_plan.has_changes:
            refused = non_transactional_problem(valid.dataset, table)
            problems.extend([refused] if refused else [])
    if problems:
        ordered = in_file_order(problems, [d.display_path for d in datasets])
        raise InvalidDatasets(redact_problems(ordered, read.secret_values()))
    return SyncReport(plans, warnings)


def apply(connection: Connection, report: SyncReport) -> SyncReport:
    """Write the plan in ``report``: all datasets in one transaction, all or nothing.

    When ``connection`` is already in a transaction, the writes join it (inside
    a SAVEPOINT) and the caller commits; otherwise they run in a transaction
    of their own, committed here.  Sends no statement when nothing changes.
    Raises `ApplyFailed` when the database refuses a row.
    """
    if report.has_changes:
        with refusals_explained(connection), unit_of_work(connection):
            write_plans(connection, report.datasets)
            report.warnings.extend(values_not_kept(connection, report.datasets))
    report.applied = True
    return report


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
) -> SyncReport:
    """Plan ``datasets`` and, unless ``dry_run``, apply the plan; the report either way.

    ``metadata`` and ``audit`` are `plan`'s.

    Reads and writes in one unit of work (`transaction.unit_of_work`): a
    SAVEPOINT in the caller's transaction when ``connection`` is in one (the
    caller commits), else a transaction of its own, committed before
    returning.  A dry run is always rolled back, and read-only on PostgreSQL.
    ``nested`` overrides whether an open transaction is someone else's to
    commit (the env.py integration knows; the default guesses yes).
    ``notify`` names a PostgreSQL channel told of the changed keys when the
    sync commits (`alembic_datasync.notify`).
    """
    with (
        refusals_explained(connection),
        unit_of_work(connection, nested=nested, keep=not dry_run, read_only=dry_run),
    ):
        report = plan(
            connection,
            datasets,
            metadata=metadata,
            base_dir=base_dir,
            strict=strict,
            max_file_size=max_file_size,
            audit=audit,
        )
        if not dry_run:
            write_plans(connection, report.datasets)
            report.warnings.extend(values_not_kept(connection, report.datasets))
            report.applied = True
            if notify:
                send_notification(connection, notify, report)
    return report


def validate_datasets(
    datasets: Sequence[Dataset],
    metadata: Metadata | None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
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
    """
    read = read_files(datasets, base_dir, max_file_size)
    problems: list[Problem] = []
    files = read.usable(
        problems,
        strict=strict,
        warn=lambda missing: log.warning("datasync: warning: %s; not validated", missing),
    )
    checked: list[tuple[LoadedFile, Table, dict[str, ValueRule]]] = []
    for file in files:
        dataset = file.dataset
        table = table_in_metadata(metadata, dataset)
        if table is None:
            problems.append(not_in_metadata_problem(dataset, metadata))
            problems.extend(file.problems)
            continue
        # No dialect: each type's rules as declared, the same on every database.
        rules = column_rules(table, "")
        result = check_file(file, table, rules)
        found = list(result.problems)
        for row in result.valid.rows:
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
    problems.extend(shared_rows(checked))
    if problems:
        raise InvalidDatasets(redact_problems(problems, read.secret_values()), writes=False)
