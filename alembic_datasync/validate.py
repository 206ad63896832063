"""Check a file's rows against the table before anything is written.

Every problem in every row is collected, so one run reports them all: unknown
columns, values their column's type cannot hold (the rules are `compare`'s,
next to how each type is compared), null in a NOT NULL column, missing and
duplicate keys.  The table is the database's (reflected) when syncing, or the
project's ``target_metadata`` with `validate_datasets`, which needs no
database at all.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Column, MetaData, Table

from .compare import ValueRule, rule_for
from .dataset import Dataset
from .errors import DatasetFileMissing, InvalidDatasets, Problem, in_file_order
from .load import DEFAULT_MAX_FILE_SIZE, FileProblem, LoadedFile, Row, load_dataset
from .redaction import redact_problems, secret_values

#: Alembic's own logger, so the stock logging setup of alembic.ini shows it.
log = logging.getLogger("alembic.datasync")


def missing_table_problem(loaded: LoadedFile, where: str) -> Problem:
    """The problem reported when a dataset's table does not exist."""
    dataset = loaded.dataset
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} does not exist {where}; the migration that creates it has "
        f"probably not run (alembic upgrade head) or has not been written",
    )


@dataclass(slots=True)
class CheckedFile:
    """A file checked against its table: every problem, and the rows that have none."""

    problems: list[Problem]
    valid: LoadedFile


def validate_rows(loaded: LoadedFile, table: Table, rules: dict[str, ValueRule]) -> list[Problem]:
    """Every problem of ``loaded``'s rows against ``table``; empty when the rows can be synced.

    Includes the problems found while loading the file, all in file order.
    """
    return check_file(loaded, table, rules).problems


def check_file(loaded: LoadedFile, table: Table, rules: dict[str, ValueRule]) -> CheckedFile:
    """Every problem of ``loaded`` against ``table``, and the rows that have none.

    The valid rows let the planner look for what only it can find (a new row
    leaving out a NOT NULL column) in a file that has other problems too, so
    the report has them all.  They are never written: a file with problems is
    not synced.  Pruning is off for them, since the rows left out would look
    deleted.
    """
    dataset = loaded.dataset
    problems: list[Problem] = list(loaded.problems)
    for column in dataset.key_columns:
        if column not in table.c:
            problems.append(
                Problem(
                    dataset.display_path,
                    f"key column {column!r} is not a column of table {dataset.label!r}"
                    f"{_did_you_mean(column, (c.name for c in table.c))}; fix the Dataset(...) key",
                )
            )
    if len(problems) > len(loaded.problems):
        return CheckedFile(in_file_order(problems), LoadedFile(_without_prune(dataset), []))
    valid: list[Row] = []
    first_row_of_key: dict[tuple[Any, ...], Row] = {}
    for row in loaded.rows:
        unusable = _value_problems(row, table, rules, dataset.label, problems)
        missing = [c for c in dataset.key_columns if row.values.get(c) is None]
        if missing:
            problems.append(
                Problem(
                    row.position,
                    f"row has no value for key column {', '.join(missing)}; every row must "
                    f"name its key",
                )
            )
            continue
        if unusable.intersection(dataset.key_columns):
            continue  # a key of the wrong type cannot be compared with the others
        key = key_of(row, dataset.key_columns, rules)
        assert key is not None  # no key column is missing
        first = first_row_of_key.get(key)
        if first is not None:
            problems.append(
                Problem(
                    row.position,
                    f"duplicate key {describe_key(row, dataset.key_columns)!r}: first at line "
                    f"{first.position.line}, again at line {row.position.line}; remove one",
                )
            )
            continue
        first_row_of_key[key] = row
        if not unusable:
            valid.append(row)
    if not problems:
        return CheckedFile([], loaded)
    return CheckedFile(in_file_order(problems), LoadedFile(_without_prune(dataset), valid))


def _without_prune(dataset: Dataset) -> Dataset:
    return replace(dataset, prune=False, allow_empty=False)


def _value_problems(
    row: Row, table: Table, rules: dict[str, ValueRule], label: str, problems: list[Problem]
) -> set[str]:
    """Append the problems of ``row``'s values to ``problems``; the columns that had one."""
    unusable: set[str] = set()
    for column_name, value in row.values.items():
        column = table.c.get(column_name)
        if column is None:
            unusable.add(column_name)
            problems.append(
                Problem(
                    row.position_of(column_name),
                    f"unknown column {column_name!r} for table {label!r}"
                    f"{_did_you_mean(column_name, (c.name for c in table.c))}",
                )
            )
            continue
        if value is None:
            message = _null_problem(column)
        else:
            message = rules[column_name].problem(
                column_name, value, row.scalar_texts.get(column_name)
            )
        if message is not None:
            unusable.add(column_name)
            problems.append(Problem(row.position_of(column_name), message))
    return unusable


def _null_problem(column: Column[Any]) -> str | None:
    if column.nullable or column.primary_key:
        # A null key is reported as a missing key, with the row.
        return None
    return (
        f"{column.name} cannot be null (the column is NOT NULL); write a value, or leave the "
        f"column out to keep what the table has"
    )


def key_of(
    row: Row, key_columns: tuple[str, ...], rules: dict[str, ValueRule]
) -> tuple[Any, ...] | None:
    """The row's key in canonical form, or None when a key column is missing or null."""
    key = []
    for column in key_columns:
        value = row.values.get(column)
        if value is None:
            return None
        key.append(rules[column].canonical(rules[column].to_db(value)))
    return tuple(key)


def describe_key(row: Row, key_columns: tuple[str, ...]) -> str:
    """The row's key as users read it: the value, or ``a, b`` for a composite key."""
    return key_label(tuple(row.values.get(c) for c in key_columns))


def key_label(key: tuple[Any, ...]) -> str:
    """A key as the plan shows it: ``intent_classification``, or ``acme, dark_mode``."""
    return ", ".join(str(value) for value in key)


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


# -- without a database --------------------------------------------------------


def validate_datasets(
    datasets: Sequence[Dataset],
    metadata: MetaData,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> None:
    """Check the dataset files against ``metadata`` (the project's ``target_metadata``).

    Needs no database connection, so a pull request's CI can refuse a bad file
    before it is merged.  The checks and messages are the sync's, on the
    tables as the models declare them, with one exception: whether a row
    leaving out a NOT NULL column is new is only known to the database, so
    that check waits for the sync.  Raises `InvalidDatasets` with every
    problem of every file.  A missing file is logged as a warning, or is a
    problem when ``strict``.
    """
    problems: list[Problem] = []
    loaded: list[LoadedFile] = []
    base = os.fspath(base_dir) if base_dir is not None else None
    for dataset in datasets:
        try:
            file = load_dataset(dataset, base, max_file_size)
            loaded.append(file)
        except DatasetFileMissing as exc:
            if strict:
                problems.append(Problem(None, str(exc)))
            else:
                log.warning("datasync: warning: %s; not validated", exc)
            continue
        except FileProblem as exc:
            problems.append(exc.problem)
            continue
        table = table_in_metadata(metadata, dataset)
        if table is None:
            problems.append(_not_in_metadata_problem(file, metadata))
            problems.extend(file.problems)
            continue
        # No dialect: each type's rules as declared, the same on every database.
        rules = {column.name: rule_for(column.type, "") for column in table.columns}
        problems.extend(validate_rows(file, table, rules))
    if problems:
        raise InvalidDatasets(redact_problems(problems, secret_values(loaded)))


def table_in_metadata(metadata: MetaData, dataset: Dataset) -> Table | None:
    """The dataset's table as ``metadata`` declares it, or None."""
    schema = dataset.schema if dataset.schema is not None else metadata.schema
    key = f"{schema}.{dataset.table}" if schema else dataset.table
    return metadata.tables.get(key)


def _not_in_metadata_problem(loaded: LoadedFile, metadata: MetaData) -> Problem:
    dataset = loaded.dataset
    return Problem(
        dataset.display_path,
        f"table {dataset.label!r} is not in the metadata (target_metadata)"
        f"{_did_you_mean(dataset.table, (t.name for t in metadata.tables.values()))}; "
        f"define its model, import the module that does in env.py, or fix the table name "
        f"in Dataset(...)",
    )
