"""The sync as an SQL script, for ``alembic upgrade head --sql`` (offline mode).

A DBA who deploys scripts gets the datasets' writes after the migrations'
SQL, in the same transaction.  The script cannot know the database's rows,
so every statement is idempotent, correct whatever the table holds:

- each row of a file: an UPDATE of the columns it writes, only where a value
  differs (so a row already in line is not touched), then an INSERT ... SELECT
  ... WHERE NOT EXISTS for the row if its key is not there yet;
- a dataset with ``prune="all"``: one DELETE of the rows whose key the file
  does not list (rows with a NULL key are left alone, as online); with
  ``prune=True`` the script cannot know which rows the file owns (the
  state), so it deletes nothing and says so.

An ``insert_only`` dataset's rows are only inserted (the UPDATE is left
out), and ``create_only`` columns are left out of the UPDATE.  A reference
by natural key is written as a subquery, ``(SELECT id FROM llm_provider
WHERE name = 'openai')``, evaluated as the script runs.

What needs the database's rows is not expressed: a line removed from a file
(online, its column goes back to its default).  The script says so in a
comment at the top of each dataset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Executable, Table, and_, exists, literal, not_, or_, select
from sqlalchemy import types as sqltypes

from .check import check_file
from .column_types import ValueRule
from .dataset import Dataset
from .display import redact_problems
from .errors import InvalidDatasets, Problem, in_file_order
from .files import DEFAULT_MAX_FILE_SIZE, read_files
from .order import step_order
from .plans import DatasetPlan, RowChange
from .references import (
    ResolvedReference,
    declared_tables,
    known_names,
    resolve_references,
    unknown_references,
    with_natural_rules,
)
from .rows import LoadedFile
from .tables import column_rules, not_in_metadata_problem, table_in_metadata


def offline_script(
    datasets: Sequence[Dataset],
    metadata: Any,
    dialect: str,
    *,
    base_dir: Any = None,
    strict: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    environment: str | None = None,
) -> list[str | Executable]:
    """The statements (and ``-- comment`` lines) that sync ``datasets``, in foreign-key order.

    The tables are ``metadata``'s (env.py's ``target_metadata``); raises
    `InvalidDatasets` as a sync would for a file with problems.  ``environment``
    is `api.plan`'s: its overlays are merged in.
    """
    read = read_files(datasets, base_dir, max_file_size, environment)
    problems: list[Problem] = []
    missing: list[str] = []
    ready: list[tuple[LoadedFile, Table, dict[str, ValueRule]]] = []
    referring: dict[int, list[ResolvedReference]] = {}
    for file in read.usable(problems, strict=strict, warn=lambda gone: missing.append(str(gone))):
        table = table_in_metadata(metadata, file.dataset)
        if table is None:
            problems.append(not_in_metadata_problem(file.dataset, metadata))
            continue
        references, unresolved = resolve_references(
            file.dataset, table, declared_tables(metadata), dialect
        )
        problems.extend(unresolved)
        rules = with_natural_rules(column_rules(table, dialect), references)
        checked = check_file(file, table, rules)
        problems.extend(checked.problems)
        ready.append((checked.valid, table, rules))
        referring[id(checked.valid)] = references
    for valid, _, _ in ready:

        def known(reference: ResolvedReference) -> dict[Any, Any] | None:
            where = (reference.declared.schema, reference.declared.table)
            files = [f for f, _, _ in ready if (f.dataset.schema, f.dataset.table) == where]
            return known_names(reference, files, in_table=False)

        problems.extend(unknown_references(valid, referring[id(valid)], known))
    if problems:
        ordered = in_file_order(problems, [d.display_path for d in datasets])
        raise InvalidDatasets(redact_problems(ordered, read.secret_values()))
    plans = [_everything(file, table, rules) for file, table, rules in ready]
    for plan, (file, _, _) in zip(plans, ready, strict=True):
        plan.references = referring[id(file)]
    rules_of = {id(plan): rules for plan, (_, _, rules) in zip(plans, ready, strict=True)}
    script: list[str | Executable] = [f"-- datasync: skipped, {gone}" for gone in missing]
    for plan in plans:
        script.append(
            f"-- datasync: {plan.dataset.label} ({plan.dataset.display_path}): {plan.total} rows"
        )
        script.extend(f"-- datasync: {note}" for note in plan.notes)
    for plan, verb in step_order(plans):
        rules = rules_of[id(plan)]
        if verb == "insert":
            for change in plan.creates:
                script.extend(_upsert(plan, change))
        elif verb == "delete" and plan.deletes:
            script.append(_delete_unlisted(plan, rules))
    return script


def _everything(file: LoadedFile, table: Table, rules: dict[str, ValueRule]) -> DatasetPlan:
    """Every row as if new (the script writes each idempotently), and the prune it can say."""
    dataset = file.dataset
    plan = DatasetPlan(dataset, table, total=len(file.rows))
    for row in file.rows:
        values = {c: rules[c].to_db(v) for c, v in row.values.items()}
        key = tuple(values[c] for c in dataset.key_columns)
        plan.creates.append(RowChange("create", key, "", values, position=row.position))
    if dataset.prune == "all" and (file.rows or dataset.allow_empty):
        plan.deletes.append(RowChange("delete", (), "", {}))
    elif dataset.prune:
        plan.notes.append(
            "prune=True deletes only rows the file wrote at an earlier sync, which only the "
            "online sync knows (its state): the script deletes nothing (prune='all' deletes "
            "every row the file does not list)"
        )
    plan.notes.append(
        "a line removed from the file is not undone by the script (online, the value goes "
        "back to its default)"
    )
    return plan


def _upsert(plan: DatasetPlan, change: RowChange) -> list[Executable]:
    """The UPDATE (only where a value differs) and the INSERT (only if new) of one row.

    No UPDATE for an ``insert_only`` dataset, nor of its ``create_only`` columns.
    """
    table, key, dataset = plan.table, plan.dataset.key_columns, plan.dataset
    references = {r.column: r for r in plan.references}

    def literal_of(column: str) -> Any:
        reference = references.get(column)
        value = change.values[column]
        if reference is None or value is None:
            return _literal(table.c[column], value)
        target = reference.target
        natural = target.c[reference.natural_key]
        return (
            select(target.c[reference.stored])
            .where(natural == _literal(natural, value))
            .scalar_subquery()
        )

    values = change.values
    matches_key = and_(*(table.c[k] == literal_of(k) for k in key))
    others = [
        c
        for c in values
        if c not in key and not dataset.insert_only and c not in dataset.create_only_columns
    ]
    statements: list[Executable] = []
    if others:
        differs = or_(*(_differs(table.c[c], literal_of(c), values[c] is None) for c in others))
        statements.append(
            table.update().where(matches_key, differs).values({c: literal_of(c) for c in others})
        )
    columns = list(values)
    new_row = select(*(literal_of(c) for c in columns)).where(not_(exists().where(matches_key)))
    statements.append(table.insert().from_select(columns, new_row))
    return statements


def _differs(column: Column[Any], value: Any, null: bool) -> Any:
    """``column`` holds something else than ``value`` (SQL; ``null``: NULL), NULL-safe."""
    if null:
        return column.is_not(None)
    if not column.nullable:
        return column != value
    return or_(column != value, column.is_(None))


def _literal(column: Column[Any], value: Any) -> Any:
    if value is None:
        return literal(None)
    if isinstance(column.type, sqltypes.JSON):
        # No dialect renders a JSON literal: its text, which every one accepts.
        return literal(json.dumps(value), sqltypes.Text())
    return literal(value, column.type)


def _delete_unlisted(plan: DatasetPlan, rules: dict[str, ValueRule]) -> Executable:
    """DELETE of the rows whose key the file does not list (NULL keys left alone)."""
    table, key = plan.table, plan.dataset.key_columns
    listed = [tuple(change.key) for change in plan.creates]
    named = and_(*(table.c[k].is_not(None) for k in key))
    if not listed:
        return table.delete().where(named)
    unlisted: Any
    if len(key) == 1:
        column = table.c[key[0]]
        unlisted = column.not_in([_literal(column, k[0]) for k in listed])
    else:
        each = [
            and_(*(table.c[c] == _literal(table.c[c], v) for c, v in zip(key, k, strict=True)))
            for k in listed
        ]
        unlisted = not_(or_(*each))
    return table.delete().where(named, unlisted)
