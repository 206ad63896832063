"""Check a file's rows against the table before anything is written.

Every problem in every row is collected, so one run reports them all: unknown
columns, values their column's type cannot hold (the rules are
`column_types`', next to how each type is compared), null in a NOT NULL
column, missing and duplicate keys.  The table is the database's (reflected)
when syncing, or the project's ``target_metadata`` when validating with no
database at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Column, Table

from .column_types import ValueRule
from .csvload import typed_cells
from .dataset import Dataset
from .display import did_you_mean
from .errors import Position, Problem, in_file_order
from .keys import describe_key, key_of, key_reader, same_key_problem
from .rows import LoadedFile, Row


@dataclass(slots=True)
class CheckedFile:
    """A file checked against its table: every problem, and the rows that have none."""

    problems: list[Problem]
    valid: LoadedFile
    #: The first row of each key the file names (rows whose other values have
    #: problems too): what duplicates are found against.
    keyed: dict[tuple[Any, ...], Row] = field(default_factory=dict)


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
                    f"{did_you_mean(column, (c.name for c in table.c))}; fix the Dataset(...) key",
                )
            )
    if len(problems) > len(loaded.problems):
        return CheckedFile(in_file_order(problems), LoadedFile(_without_prune(dataset), []))
    for column in sorted(dataset.create_only_columns - set(table.c.keys())):
        problems.append(
            Problem(
                dataset.display_path,
                f"create_only column {column!r} is not a column of table {dataset.label!r}"
                f"{did_you_mean(column, (c.name for c in table.c))}; fix the Dataset(...) "
                f"create_only",
            )
        )
    # A CSV header's unknown column is one problem, at the header, not one a row.
    unknown_in_header = [name for name in loaded.header if name not in table.c]
    for name in unknown_in_header:
        problems.append(
            Problem(
                Position(dataset.display_path, *loaded.header[name]),
                _unknown_column(name, table, dataset.label),
            )
        )
    valid: list[Row] = []
    referring = [reference.column for reference in dataset.reference_list]
    first_row_of_key: dict[tuple[Any, ...], Row] = {}
    checks = _column_checks(table, rules)
    key_of_row = key_reader(dataset.key_columns, rules)
    for row in loaded.rows:
        if loaded.cells_are_text:
            # A reference's cell is a natural key: typed by its own rule, not the id's type.
            names = {c: row.values[c] for c in referring if c in row.values}
            typed_cells(row, table)
            row.values.update(names)
            for name in unknown_in_header:
                del row.values[name]
        unusable = _value_problems(row, checks, table, dataset.label, problems)
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
        if unusable and unusable.intersection(dataset.key_columns):
            continue  # a key of the wrong type cannot be compared with the others
        key = key_of_row(row)
        assert key is not None  # no key column is missing
        first = first_row_of_key.get(key)
        if first is not None:
            problems.append(duplicate_key_problem(row, first, dataset.key_columns))
            continue
        first_row_of_key[key] = row
        if not unusable:
            valid.append(row)
    if not problems:
        return CheckedFile([], loaded, first_row_of_key)
    return CheckedFile(
        in_file_order(problems), LoadedFile(_without_prune(dataset), valid), first_row_of_key
    )


def duplicate_key_problem(row: Row, first: Row, key_columns: tuple[str, ...]) -> Problem:
    """A row whose key an earlier row of the same file has."""
    return Problem(
        row.position,
        f"duplicate key {describe_key(row, key_columns)!r}: first at line "
        f"{first.position.line}, again at line {row.position.line}; remove one",
    )


def _without_prune(dataset: Dataset) -> Dataset:
    return replace(dataset, prune=False, allow_empty=False)


#: Types whose values a column judges once each: equal values of one of these
#: types, read from the same text (or from none), are judged alike.  A float
#: read from no text is judged each time (0.0 and -0.0 are equal but shown
#: apart), and so are decimals (0.2 and 0.20), datetimes (time zones) and
#: containers.
_JUDGED_ONCE = (str, int, bool, float)

#: Distinct values a column remembers the judgment of, per type (a column of
#: unique text would otherwise keep a copy of itself).
_JUDGMENTS_KEPT = 4096

_UNJUDGED = object()


@dataclass(slots=True)
class _ColumnCheck:
    """One column's check of the file's values, judging each distinct value once."""

    name: str
    rule: ValueRule
    #: The problem with any value (a generated column), or None.
    always: str | None
    #: The problem with null (a NOT NULL column), or None.
    if_null: str | None
    #: Per type, the judgment of each value by its text (or by the value, read from no text).
    judged: dict[type, dict[Any, str | None]] = field(
        default_factory=lambda: {kind: {} for kind in _JUDGED_ONCE}
    )

    def problem(self, value: Any, text: str | None) -> str | None:
        if self.always is not None:
            return self.always
        if value is None:
            return self.if_null
        kind = type(value)
        judged = self.judged.get(kind)
        if judged is None or (text is None and kind is float):
            return self.rule.problem(self.name, value, text)
        # A text always gives the same value of a type (YAML's rules, or a CSV
        # column's), and a text is never a value of these other types.
        key = value if text is None else text
        found = judged.get(key, _UNJUDGED)
        if found is _UNJUDGED:
            found = self.rule.problem(self.name, value, text)
            if len(judged) < _JUDGMENTS_KEPT:
                judged[key] = found
        return found  # type: ignore[return-value]


def _column_checks(table: Table, rules: dict[str, ValueRule]) -> dict[str, _ColumnCheck]:
    generated = _generated_columns(table)
    return {
        column.name: _ColumnCheck(
            column.name, rules[column.name], generated.get(column.name), _null_problem(column)
        )
        for column in table.columns
    }


def _value_problems(
    row: Row,
    checks: dict[str, _ColumnCheck],
    table: Table,
    label: str,
    problems: list[Problem],
) -> set[str] | None:
    """Append the problems of ``row``'s values to ``problems``; the columns that had one.

    None when no value has one.  Where YAML read an unquoted scalar less
    exactly than it was written (a float for a ``Numeric`` column's
    ``1.000000000000000001``), the row's value becomes what was written
    (`ValueRule.exact`), for the check and for everything after it.
    """
    unusable: set[str] | None = None
    texts = row.scalar_texts
    for column_name, value in row.values.items():
        check = checks.get(column_name)
        if check is None:
            unusable = (unusable or set()) | {column_name}
            problems.append(
                Problem(row.position_of(column_name), _unknown_column(column_name, table, label))
            )
            continue
        text = texts.get(column_name) if texts else None
        if text is not None and check.rule.exact is not None:
            exact = check.rule.exact(value, text)
            if exact is not value:
                row.values[column_name] = value = exact
                text = None  # what YAML made of the text no longer matters
        # check.problem(value, text), its commonest road taken here (a value a row).
        judged = check.judged.get(type(value)) if check.always is None else None
        message: Any
        if judged is not None and (text is not None or type(value) is not float):
            message = judged.get(value if text is None else text, _UNJUDGED)
            if message is _UNJUDGED:
                message = check.problem(value, text)
        else:
            message = check.problem(value, text)
        if message is not None:
            unusable = (unusable or set()) | {column_name}
            problems.append(Problem(row.position_of(column_name), message))
    return unusable


def _generated_columns(table: Table) -> dict[str, str]:
    """Why each column the database fills itself cannot be written: generated, identity ALWAYS."""
    found: dict[str, str] = {}
    for column in table.columns:
        if column.computed is not None:
            expression = str(column.computed.sqltext).strip()
            if not (expression.startswith("(") and expression.endswith(")")):
                expression = f"({expression})"
            found[column.name] = (
                f"{column.name} is generated by the database (GENERATED ALWAYS AS "
                f"{expression}), which computes it from the other columns; remove it from "
                f"the file"
            )
        elif column.identity is not None and column.identity.always:
            found[column.name] = (
                f"{column.name} is an identity column the database numbers itself "
                f"(GENERATED ALWAYS AS IDENTITY); remove it from the file, or key the rows "
                f"on another column"
            )
    return found


def _null_problem(column: Column[Any]) -> str | None:
    if column.nullable or column.primary_key:
        # A null key is reported as a missing key, with the row.
        return None
    return (
        f"{column.name} cannot be null (the column is NOT NULL); write a value, or leave the "
        f"column out to keep what the table has"
    )


def shared_rows(files: Sequence[tuple[LoadedFile, Table, dict[str, ValueRule]]]) -> list[Problem]:
    """Rows that two datasets of one table both write, at the row of the later one.

    Keys are compared as Python compares them; the sync also asks the
    database, which may call more keys equal (`matching`).
    """
    problems: list[Problem] = []
    first_of_table: dict[int, dict[tuple[Any, ...], Row]] = {}
    for file, table, rules in files:
        seen = first_of_table.setdefault(id(table), {})
        own: dict[tuple[Any, ...], Row] = {}
        for row in file.rows:
            key = key_of(row, file.dataset.key_columns, rules)
            if key is None:
                continue
            first = seen.get(key)
            if first is not None:
                problems.append(same_key_problem(row, first, file.dataset))
            own.setdefault(key, row)
        for key, row in own.items():
            seen.setdefault(key, row)
    return problems


def _unknown_column(name: str, table: Table, label: str) -> str:
    return f"unknown column {name!r} for table {label!r}" + did_you_mean(
        name, (c.name for c in table.c)
    )
