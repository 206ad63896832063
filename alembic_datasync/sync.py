"""The Python API: plan datasets against a database, apply the plan, report.

    from alembic_datasync import Dataset, sync

    datasets = [Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]
    with engine.connect() as connection:
        report = sync(connection, datasets, base_dir="backend")
    print(report.render())

`plan` reads and never writes; `apply` writes a plan in one transaction;
`sync` does both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import JSON, Connection, MetaData, Table, text
from sqlalchemy import exc as sa_exc

from .apply import apply_plans
from .compare import ValueRule, rule_for
from .dataset import Dataset
from .errors import DatasetFileMissing, InvalidDatasets, Problem, in_file_order
from .load import DEFAULT_MAX_FILE_SIZE, FileProblem, LoadedFile, load_dataset
from .plan import DatasetPlan, plan_dataset
from .redaction import redact_problems, secret_values
from .report import plan_lines, summary_line
from .validate import check_file, missing_table_problem


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

    def render(self, max_rows: int | None = None) -> str:
        """Summary lines, each followed by its dataset's changes (at most ``max_rows`` each)."""
        lines = [f"datasync: warning: {warning}" for warning in self.warnings]
        for plan in self.datasets:
            lines.append(summary_line(plan, self.applied))
            lines.extend(f"  {line}" for line in plan_lines(plan, max_rows))
        return "\n".join(lines)


def reflect_table(connection: Connection, dataset: Dataset) -> Table | None:
    """The dataset's table as the database has it, or None when it does not exist."""
    try:
        table = Table(dataset.table, MetaData(), schema=dataset.schema, autoload_with=connection)
    except sa_exc.NoSuchTableError:
        return None
    if getattr(connection.dialect, "is_mariadb", False):
        for name in _mariadb_json_columns(connection, table):
            table.c[name].type = JSON()
    for column in table.columns:
        if isinstance(column.type, JSON):
            # `null` in the file means SQL NULL, not the JSON value null.
            column.type.none_as_null = True
    return table


def _mariadb_json_columns(connection: Connection, table: Table) -> list[str]:
    """Columns MariaDB declares JSON: it stores them as LONGTEXT CHECK (json_valid(col))."""
    query = text(
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        " AND LEVEL = 'Column'"
    )
    names = []
    for name, clause in connection.execute(query, {"schema": table.schema, "table": table.name}):
        if name in table.c and clause.replace(" ", "").lower() == f"json_valid(`{name.lower()}`)":
            names.append(name)
    return names


def column_rules(table: Table, dialect: str) -> dict[str, ValueRule]:
    """The `ValueRule` of every column of ``table``."""
    return {column.name: rule_for(column.type, dialect) for column in table.columns}


def load_all(
    datasets: Sequence[Dataset],
    base_dir: str | os.PathLike[str] | None,
    strict: bool,
    max_file_size: int,
) -> tuple[list[LoadedFile], list[Problem], list[str]]:
    """Every dataset file read and parsed: the loaded files, the problems, the warnings."""
    loaded: list[LoadedFile] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    base = os.fspath(base_dir) if base_dir is not None else None
    for dataset in datasets:
        try:
            loaded.append(load_dataset(dataset, base, max_file_size))
        except DatasetFileMissing as exc:
            if strict:
                problems.append(Problem(None, str(exc)))
            else:
                warnings.append(f"{exc}; table {dataset.label!r} left unchanged")
        except FileProblem as exc:
            problems.append(exc.problem)
    return loaded, problems, warnings


def plan(
    connection: Connection,
    datasets: Sequence[Dataset],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> SyncReport:
    """Plan syncing ``datasets`` into the database of ``connection``; reads, never writes.

    Raises `InvalidDatasets` with every problem of every file when any file
    cannot be synced.  A missing file is a warning in the report (its table is
    left alone) unless ``strict``, where it is a problem too.
    """
    loaded, problems, warnings = load_all(datasets, base_dir, strict, max_file_size)
    dialect = connection.dialect.name
    ready: list[tuple[LoadedFile, Table, dict[str, ValueRule]]] = []
    for file in loaded:
        table = reflect_table(connection, file.dataset)
        if table is None:
            problems.append(missing_table_problem(file, "in the database"))
            problems.extend(file.problems)
            continue
        rules = column_rules(table, dialect)
        checked = check_file(file, table, rules)
        problems.extend(checked.problems)
        # The valid rows are planned even when there are problems: what only
        # planning finds (a new row leaving out a NOT NULL column) joins the report.
        ready.append((checked.valid, table, rules))
    plans = []
    for file, table, rules in ready:
        dataset_plan, plan_problems = plan_dataset(connection, file, table, rules)
        plans.append(dataset_plan)
        problems.extend(plan_problems)
    if problems:
        ordered = in_file_order(problems, [d.display_path for d in datasets])
        raise InvalidDatasets(redact_problems(ordered, secret_values(loaded)))
    return SyncReport(plans, warnings)


def apply(connection: Connection, report: SyncReport) -> SyncReport:
    """Write the plan in ``report``: all datasets in one transaction, all or nothing.

    When ``connection`` is already in a transaction, the writes join it (inside
    a SAVEPOINT, except on SQLite) and the caller commits; otherwise they run in
    a transaction of their own, committed here.  Sends no statement when nothing
    changes.  Raises `ApplyFailed` when the database refuses a row.
    """
    apply_plans(connection, report.datasets)
    report.applied = True
    return report


def sync(
    connection: Connection,
    datasets: Sequence[Dataset],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> SyncReport:
    """Plan ``datasets`` and, unless ``dry_run``, apply the plan; the report either way.

    Reads and writes in one transaction: the caller's when ``connection`` is in
    one (the caller commits), else one of its own, committed before returning.
    """
    if not connection.in_transaction() and not dry_run:
        with connection.begin():
            return sync(
                connection,
                datasets,
                base_dir=base_dir,
                strict=strict,
                max_file_size=max_file_size,
            )
    report = plan(
        connection, datasets, base_dir=base_dir, strict=strict, max_file_size=max_file_size
    )
    if dry_run:
        return report
    return apply(connection, report)
