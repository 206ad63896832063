"""Plan one dataset: the file's rows against the table's -> create / update / unchanged / delete.

One SELECT per dataset reads the key and the columns the file writes; every
comparison then happens in memory through the column's `ValueRule`, skipped
where the table already returns the file's value with the file's type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import Column, ColumnDefault, ColumnElement, Connection, Table

from .applied import AppliedRows, LastApplied
from .collector import collector_paused
from .column_types import Convert, Unreadable, ValueRule
from .conversions import identity, kept_type
from .database_forms import with_database_forms
from .dataset import Dataset
from .display import listing
from .errors import Problem
from .keys import describe_key, key_label, key_reader, same_key_problem
from .matching import KeyClasses, loose_key_columns
from .model import generated_columns
from .order import insert_levels
from .plans import ColumnChange, DatasetPlan, OwnedValue, RowChange, UnmanagedValue
from .reading import read_rows
from .references import ResolvedReference, with_natural_keys, with_own_rules
from .reverts import DatabaseDefault, RevertTarget, revert_target, revertible
from .rows import LoadedFile, Row
from .tables import (
    UniqueKey,
    enforces_unique,
    missing_required_problem,
    required_columns,
    self_references,
)


@dataclass(slots=True)
class _TableRows:
    """The table's rows that a file can name, by canonical key; and the rest, counted."""

    by_key: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    #: Keys held by more than one row (a key with no unique constraint): how many rows.
    repeated: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict)
    #: Rows with a NULL in a key column: no file can name them.
    unkeyed: int = 0
    #: Rows whose key the driver cannot read (`reading`): no file can name them either.
    unreadable: int = 0


def _table_rows(rows: Sequence[Sequence[Any]], key_rules: list[ValueRule]) -> _TableRows:
    """The table's rows (key and written columns) by canonical key, duplicates set apart."""
    found = _TableRows()
    width = len(key_rules)
    by_key = found.by_key
    canonical = key_rules[0].canonical if width == 1 else None
    for row in rows:
        if canonical is not None:
            # One key column (most tables): the same steps, without the loops.
            value = row[0]
            if value is None:
                found.unkeyed += 1
                continue
            if type(value) is Unreadable:
                found.unreadable += 1
                continue
            key: tuple[Any, ...] = (canonical(value),)
        else:
            if any(value is None for value in row[:width]):
                found.unkeyed += 1
                continue
            if any(type(value) is Unreadable for value in row[:width]):
                found.unreadable += 1
                continue
            key = tuple(rule.canonical(value) for rule, value in zip(key_rules, row, strict=False))
        earlier = by_key.setdefault(key, row)
        if earlier is not row:
            found.repeated.setdefault(key, [earlier]).append(row)
    return found


def plan_dataset(
    connection: Connection,
    loaded: LoadedFile,
    table: Table,
    rules: dict[str, ValueRule],
    *,
    unique: Sequence[UniqueKey] = (),
    earlier: Sequence[LoadedFile] = (),
    later: Sequence[LoadedFile] = (),
    model_known: bool = False,
    audit: bool = False,
    last: LastApplied | None = None,
    references: Sequence[ResolvedReference] = (),
    rows_where: Sequence[ColumnElement[bool]] | None = None,
) -> tuple[DatasetPlan, list[Problem]]:
    """Plan ``loaded`` (already validated) against ``table``.

    Also returns the problems only the database can reveal: a new row that
    could not be inserted as written, two keys the database considers one,
    a key held by several rows of the table.  ``unique`` are the table's
    unique keys (`tables.unique_keys`); ``earlier`` and ``later`` the other
    datasets of the same table, in declaration order: their rows are never
    pruned by this one, and a row this file shares with them is a problem,
    reported by whichever of the two is declared later.  ``table`` carries
    the model's defaults (``model_known``: a model was found).  ``audit``
    also reads what the sync leaves alone (see `DatasetPlan`).

    ``last`` is what the state remembers of the dataset's last sync (None:
    no state yet): a value the file wrote then and no longer writes goes
    back to the column's default (`reverts`), and ``prune=True`` deletes
    only rows the file listed then (``prune="all"``: any row it does not list).

    ``references`` are the dataset's references by natural key, their id ->
    name maps read (`references.load_names`): the table's ids are compared
    as the names the file writes.  An ``insert_only`` dataset's rows that
    exist are unchanged whatever they hold, and ``create_only`` columns are
    never compared nor reverted; with ``audit``, the values of either that
    differ from the file are the plan's ``owned``.

    ``rows_where`` reads only the table's rows these conditions select (each one
    SELECT; `chunked` plans a file a chunk of keys at a time) instead of the
    whole table: rows it leaves out are neither matched nor pruned.
    """
    dataset = loaded.dataset
    key_columns = dataset.key_columns
    if last is not None and last.rows.key_columns != key_columns:
        last = None  # the dataset's key changed: the state's keys mean other rows
    # Types no Python rule compares are compared as the database reads the file's values.
    rules, unreadable_values = with_database_forms(connection, table, loaded, rules)
    managed = list(dict.fromkeys(chain.from_iterable(row.values for row in loaded.rows)))
    compared = [c for c in managed if c not in key_columns]
    selected = list(key_columns) + compared
    # Columns the file wrote at its last sync: read too, to revert where a row
    # no longer writes them.
    remembered = [c for c in (last.columns() if last else []) if c in table.c]
    selected += [c for c in remembered if c not in selected and revertible(table.c[c])]
    # Deleting rows of a table that refers to itself goes leaves first: the
    # writer needs each deleted row's references.
    referring = (
        [c for r in self_references(table) for c in (*r.columns, *r.referred)]
        if dataset.prune
        else []
    )
    selected += [c for c in dict.fromkeys(referring) if c not in selected]
    audited = [c.name for c in table.columns if c.name not in key_columns and _auditable(c)]
    if audit:
        selected += [c for c in audited if c not in selected]
    where = {column: index for index, column in enumerate(selected)}

    width = len(key_columns)
    key_rules = [rules[c] for c in key_columns]
    key_unique = enforces_unique(list(unique), key_columns)
    elsewhere = [*earlier, *later]
    with collector_paused():
        reading = with_own_rules(rules, references)
        stored = (
            read_rows(connection, table, selected, reading)
            if rows_where is None
            else [
                row
                for condition in rows_where
                for row in read_rows(connection, table, selected, reading, condition)
            ]
        )
        existing = _table_rows(with_natural_keys(stored, selected, references), key_rules)
        keys = list(map(key_reader(key_columns, rules), loaded.rows))
        owned_keys = _stored_keys(
            [key for key, _ in last.rows.rows] if last else [], key_columns, rules
        )
        shared_keys = _stored_keys(last.shared if last else [], key_columns, rules)
        same = _key_classes(
            connection,
            table,
            loaded,
            existing,
            keys,
            rules,
            key_unique,
            elsewhere,
            owned_keys + shared_keys,
        )
        rows_of_class = _rows_by_class(existing, same)
        plan = DatasetPlan(
            dataset,
            table,
            total=len(loaded.rows),
            unique_keys=list(unique),
            audited=audit,
            rules=rules,
            references=list(references),
            table_rows=len(stored),
        )
        applied = AppliedRows(key_columns, columns_read=tuple(selected))
        plan.applied = applied
        written_before = _columns_by_class(last, owned_keys, same)
        targets: dict[str, RevertTarget] = {}
        problems: list[Problem] = list(unreadable_values)
        listed = _rows_by_key_class(earlier, key_columns, rules, same)
        theirs = _rows_by_key_class(later, key_columns, rules, same)
        required = required_columns(table)
        generated: dict[frozenset[str], tuple[str, ...]] = {}
        shapes: dict[tuple[str, ...], tuple[str, ...]] = {}
        # Per written column: its rule's two steps and where the SELECT put it.
        every: dict[str, tuple[Convert, Convert, int]] = {
            column: (rules[column].to_db, rules[column].canonical, width + i)
            for i, column in enumerate(compared)
        }
        # Columns the application owns once the row exists are never compared.
        create_only = dataset.create_only_columns
        how = {c: steps for c, steps in every.items() if c not in create_only}
        new_row = _new_values(rules, managed)
        for row, row_key in zip(loaded.rows, keys, strict=True):
            assert row_key is not None  # validated
            klass = row_key if same is _same_key else same(row_key)
            first = listed.get(klass)
            if first is not None:
                problems.append(same_key_problem(row, first, dataset))
                continue
            if klass in theirs:
                continue  # a later dataset of this table reports it
            listed[klass] = row
            repeated = rows_of_class.repeated.get(klass)
            if repeated:
                problems.append(_repeated_key_problem(row, len(repeated), dataset))
                continue
            db_row = rows_of_class.first.get(klass)
            if db_row is None:
                label = describe_key(row, key_columns)
                values = new_row(row.values)
                if any(c not in values for c in required):
                    problem = missing_required_problem(
                        table,
                        values,
                        row.position,
                        label,
                        dataset,
                        known_new=True,
                        model_known=model_known,
                    )
                    if problem is not None:
                        problems.append(problem)
                written = frozenset(values)
                if written not in generated:
                    generated[written] = tuple(generated_columns(table, written))
                plan.creates.append(
                    RowChange(
                        "create",
                        _key_of(tuple(values[c] for c in key_columns), row_key),
                        label,
                        values,
                        position=row.position,
                        generated=generated[written],
                    )
                )
                applied.rows.append((plan.creates[-1].key, _written(row, key_columns, shapes)))
                continue
            applied.rows.append((_key_of(db_row, row_key), _written(row, key_columns, shapes)))
            if dataset.insert_only:
                plan.unchanged += 1
                if audit:
                    plan.owned.extend(_owned_values(row, db_row, every, key_columns, width))
                continue
            if audit and create_only:
                seeded = {c: v for c, v in row.values.items() if c in create_only}
                plan.owned.extend(_owned_values(row, db_row, every, key_columns, width, seeded))
            if audit:
                plan.unmanaged.extend(
                    _unmanaged_values(row.values, db_row, audited, where, table, rules, width)
                )
            changes = _changed_columns(row.values, db_row, how)
            before = written_before.get(klass)
            gone = before.difference(row.values, create_only) if before else None
            if gone:
                reverts, problem = _reverts(
                    connection, table, rules, row, db_row, gone, where, targets, dataset
                )
                changes = (changes or []) + reverts
                problems.extend([problem] if problem else [])
            if changes:
                plan.updates.append(
                    RowChange(
                        "update",
                        tuple(db_row[:width]),
                        describe_key(row, key_columns),
                        changes=tuple(changes),
                        position=row.position,
                    )
                )
            else:
                plan.unchanged += 1

    _, cycle = insert_levels(plan)
    if cycle:
        problems.append(_cycle_problem(cycle, dataset))
    null_key_notes(plan, existing.unkeyed, existing.unreadable)
    if audit and not dataset.prune:
        plan.unlisted = sorted(
            (
                tuple(table_row[:width])
                for klass, table_rows in rows_of_class.items()
                if klass not in listed and klass not in theirs
                for table_row in table_rows
            ),
            key=key_label,
        )
    if dataset.prune:
        prune_all = dataset.prune == "all"
        owned = set(written_before)
        shared = {same(key) for key, _ in shared_keys}
        kept = len(existing.by_key) + sum(len(rows) - 1 for rows in existing.repeated.values())
        doomed = [
            table_row
            for klass, table_rows in rows_of_class.items()
            if klass not in listed
            and klass not in theirs
            and (prune_all or (klass in owned and klass not in shared))
            for table_row in table_rows
        ]
        if loaded.rows or dataset.allow_empty:
            for table_row in doomed:
                db_key = tuple(table_row[:width])
                # The row's values as it leaves (the history keeps them); its
                # references to other rows order the deletes.
                values = {c: table_row[i] for c, i in where.items()}
                plan.deletes.append(RowChange("delete", db_key, key_label(db_key), values))
        elif doomed:
            problems.append(empty_file_problem(dataset, kept, len(doomed)))
        if last is None and not prune_all:
            unlisted = sum(
                len(table_rows)
                for klass, table_rows in rows_of_class.items()
                if klass not in listed and klass not in theirs
            )
            if unlisted:
                plan.notes.append(unowned_note(unlisted))
    return plan, problems


def empty_file_problem(dataset: Dataset, kept: int, doomed: int) -> Problem:
    """A file with no rows whose dataset prunes: refused unless ``allow_empty``."""
    return Problem(
        dataset.display_path,
        f"the file has no rows, and pruning would delete all {kept} rows of "
        f"{dataset.label!r}; if that is what you want, declare the dataset with "
        f"allow_empty=True"
        if dataset.prune == "all"
        else f"the file has no rows, and pruning would delete all {doomed} "
        f"rows it wrote to {dataset.label!r}; if that is what you want, declare "
        f"the dataset with allow_empty=True",
    )


def null_key_notes(plan: DatasetPlan, unkeyed: int, unreadable: int) -> None:
    """The notes of the table's rows no file can name: a NULL in the key, a key unreadable."""
    if unkeyed:
        plan.notes.append(
            f"{unkeyed} row{'s' if unkeyed != 1 else ''} of the table "
            f"{'have' if unkeyed != 1 else 'has'} a null key, which no dataset file "
            f"can name: left alone"
        )
    if unreadable:
        plan.notes.append(
            f"{unreadable} row{'s' if unreadable != 1 else ''} of the table "
            f"{'have' if unreadable != 1 else 'has'} a key the database driver cannot "
            f"read, which no dataset file can name: left alone"
        )


def unowned_note(unlisted: int) -> str:
    """``prune=True`` with no state yet: the rows not in the file are not the file's."""
    return (
        f"{unlisted} row{'s' if unlisted != 1 else ''} of the table not in the file "
        f"left alone: no state of an earlier sync says the file wrote "
        f"{'them' if unlisted != 1 else 'it'} (prune=True deletes only rows the file "
        f"wrote, from this sync on; prune='all' deletes every row it does not list)"
    )


def _written(
    row: Row, key_columns: tuple[str, ...], shapes: dict[tuple[str, ...], tuple[str, ...]]
) -> tuple[str, ...]:
    """The non-key columns ``row`` writes, in file order: one tuple for the rows of one shape."""
    shape = tuple(row.values)
    written = shapes.get(shape)
    if written is None:
        written = shapes[shape] = tuple(c for c in shape if c not in key_columns)
    return written


def _new_values(
    rules: dict[str, ValueRule], columns: Sequence[str]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A new row's values as written: each through its column's ``to_db``.

    Where a column's conversion returns values of one type as they are (an
    int for an integer column, anything for text), such values skip the call:
    a first sync converts every value of every row.  A row whose values all
    stay as they are is given back as it is, not copied (nothing changes a
    row's values once it is checked): a first sync of 100,000 rows holds one
    dict a row, not two.
    """
    steps = {c: (rules[c].to_db, kept_type(rules[c].to_db)) for c in columns}

    def values(row: dict[str, Any]) -> dict[str, Any]:
        new: dict[str, Any] | None = None
        for column, value in row.items():
            to_db, kept = steps[column]
            if kept is object or type(value) is kept:
                continue
            converted = to_db(value)
            if converted is not value:
                if new is None:
                    new = dict(row)
                new[column] = converted
        return row if new is None else new

    return values


def _stored_keys(
    keys: Sequence[tuple[Any, ...]], key_columns: tuple[str, ...], rules: dict[str, ValueRule]
) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Keys the state stored, each as the planner matches it (canonical) and as stored."""
    key_rules = [rules[c] for c in key_columns]
    if len(key_rules) == 1:
        # One key column (most tables): the rule's steps looked up once, and
        # the stored tuple itself where it is already canonical (a text key).
        to_db, canonical = key_rules[0].to_db, key_rules[0].canonical
        found = []
        for key in keys:
            part = key[0]
            same = canonical(to_db(part))
            found.append((key if same is part else (same,), key))
        return found
    return [
        (tuple(r.canonical(r.to_db(part)) for r, part in zip(key_rules, key, strict=True)), key)
        for key in keys
    ]


def _columns_by_class(
    last: LastApplied | None,
    owned_keys: list[tuple[tuple[Any, ...], tuple[Any, ...]]],
    same: Callable[[tuple[Any, ...]], Any],
) -> dict[Any, frozenset[str]]:
    """The columns the file wrote at its last sync, by key class: the rows the file owns."""
    if last is None:
        return {}
    found: dict[Any, frozenset[str]] = {}
    # Rows of one shape share one set: 100,000 rows, a handful of sets.
    shared: dict[tuple[str, ...], frozenset[str]] = {}
    for (canonical, _), (_, columns) in zip(owned_keys, last.rows.rows, strict=True):
        klass = same(canonical)
        written = shared.get(columns)
        if written is None:
            written = shared[columns] = frozenset(columns)
        earlier = found.get(klass)
        found[klass] = written if earlier is None else earlier.union(written)
    return found


def _reverts(
    connection: Connection,
    table: Table,
    rules: dict[str, ValueRule],
    row: Row,
    db_row: Any,
    gone: frozenset[str],
    index_of: dict[str, int],
    targets: dict[str, RevertTarget],
    dataset: Dataset,
) -> tuple[list[ColumnChange], Problem | None]:
    """The changes that put back the defaults of the columns ``row`` no longer writes.

    Columns the table no longer has, and identity or generated ones, are left
    alone.  A column that cannot be NULL and has no default to go back to is
    a problem at the row.
    """
    changes: list[ColumnChange] = []
    stuck: list[str] = []
    for column in [c.name for c in table.columns if c.name in gone and c.name in index_of]:
        rule = rules[column]
        if column not in targets:
            targets[column] = revert_target(connection, table.c[column], rule)
        target = targets[column]
        if target.is_null and not table.c[column].nullable:
            stuck.append(column)
            continue
        new = target.for_row()
        old = db_row[index_of[column]]
        if not isinstance(new, DatabaseDefault) and rule.canonical(new) == rule.canonical(old):
            continue
        changes.append(ColumnChange(column, rule.to_db(old), new, removed=True))
    if not stuck:
        return changes, None
    one = len(stuck) == 1
    return changes, Problem(
        row.position,
        f"row {describe_key(row, dataset.key_columns)!r} of {dataset.label!r} no longer writes "
        f"{listing(stuck)}, which cannot be NULL and {'has' if one else 'have'} no default to go "
        f"back to; write {'its' if one else 'their'} value in the row again",
    )


def _key_classes(
    connection: Connection,
    table: Table,
    loaded: LoadedFile,
    existing: _TableRows,
    keys: list[tuple[Any, ...] | None],
    rules: dict[str, ValueRule],
    key_unique: bool,
    elsewhere: Sequence[LoadedFile],
    remembered: Sequence[tuple[tuple[Any, ...], tuple[Any, ...]]] = (),
) -> Callable[[tuple[Any, ...]], Any]:
    """How keys the database considers equal are told apart: key -> its class.

    The identity where the database compares the key exactly, or where every
    key of the file (and of the state, ``remembered``) is already in the
    table and the table enforces the key (it cannot then hold two keys the
    database calls equal).
    """
    key_columns = loaded.dataset.key_columns
    unmatched = any(key is not None and key not in existing.by_key for key in keys) or any(
        key not in existing.by_key for key, _ in remembered
    )
    if not (unmatched or elsewhere or not key_unique):
        return _same_key
    loose = loose_key_columns(connection, table, key_columns)
    if not loose:
        return _same_key
    width = len(key_columns)
    candidates = {key: tuple(row[:width]) for key, row in existing.by_key.items()}
    key_of = key_reader(key_columns, rules)
    for file in (loaded, *elsewhere):
        for row in file.rows:
            key = key_of(row)
            if key is not None:
                raw = tuple(rules[c].to_db(row.values[c]) for c in key_columns)
                candidates.setdefault(key, raw)
    for key, raw in remembered:
        candidates.setdefault(key, raw)
    classes = KeyClasses(connection, loose, {name: key_columns.index(name) for name in loose})
    classes.add(candidates.items())
    return classes.representative


def _same_key(key: tuple[Any, ...]) -> Any:
    return key


def _rows_by_key_class(
    files: Sequence[LoadedFile],
    key_columns: tuple[str, ...],
    rules: dict[str, ValueRule],
    same: Callable[[tuple[Any, ...]], Any],
) -> dict[Any, Row]:
    """The first row of ``files`` in each key class."""
    rows: dict[Any, Row] = {}
    key_of = key_reader(key_columns, rules)
    for file in files:
        for row in file.rows:
            key = key_of(row)
            if key is not None:
                rows.setdefault(same(key), row)
    return rows


@dataclass(slots=True)
class _RowsByClass:
    """The table's rows by key class: the first of each, and every one where there are more."""

    first: dict[Any, Any]
    repeated: dict[Any, list[Any]]

    def items(self) -> Iterator[tuple[Any, list[Any]]]:
        """Each class and its rows."""
        repeated = self.repeated
        for klass, row in self.first.items():
            yield klass, repeated.get(klass) or [row]


def _rows_by_class(existing: _TableRows, same: Callable[[tuple[Any, ...]], Any]) -> _RowsByClass:
    """The table's rows by key class: more than one where the table repeats a key."""
    if same is _same_key:
        # Every key its own class: the table's rows as read, not a copy of
        # 100,000 entries.
        return _RowsByClass(existing.by_key, existing.repeated)
    # A list only for a class of more than one row: most classes are one key, one row.
    first: dict[Any, Any] = {}
    repeated: dict[Any, list[Any]] = {}
    for key, row in existing.by_key.items():
        klass = same(key)
        rows = existing.repeated.get(key)
        if klass not in first:
            first[klass] = row  # the first of ``rows`` too, where the key repeats
            if rows:
                repeated[klass] = list(rows)
            continue
        more = repeated.get(klass)
        if more is None:
            more = repeated[klass] = [first[klass]]
        more.extend(rows or [row])
    return _RowsByClass(first, repeated)


def _key_of(values: Sequence[Any], row_key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key ``values`` start with (a table's row, a new row's key), as a tuple.

    The file's key tuple itself where they hold the same text or integer:
    100,000 rows keep one key tuple each in the plan and the state, not two
    (about 11 MiB).
    """
    for value, mine in zip(values, row_key, strict=False):
        if type(value) is not type(mine) or type(value) not in (str, int) or value != mine:
            return tuple(values[: len(row_key)])
    return row_key


def _cycle_problem(cycle: list[RowChange], dataset: Dataset) -> Problem:
    """New rows that refer to each other, so that none can be inserted first."""
    first, *others = cycle
    listed = ", ".join(f"{change.label!r} ({change.position})" for change in others)
    return Problem(
        first.position,
        f"new row {first.label!r} and new row{'s' if len(others) > 1 else ''} {listed} of "
        f"{dataset.label!r} refer to each other in a cycle through the table's foreign key to "
        f"itself, so no order of inserts can write them: leave one reference out until the "
        f"rows exist (a later change adds it), or make the foreign key DEFERRABLE INITIALLY "
        f"DEFERRED",
    )


def _repeated_key_problem(row: Row, count: int, dataset: Dataset) -> Problem:
    """A row whose key the table holds more than once."""
    label = describe_key(row, dataset.key_columns)
    columns = ", ".join(dataset.key_columns)
    return Problem(
        row.position,
        f"the table {dataset.label!r} has {count} rows with the key {label!r} (nothing makes "
        f"({columns}) unique), so the sync cannot tell which one this row is: delete the extra "
        f"rows, then add a unique constraint on ({columns}) in a migration",
    )


#: Types whose equal values are equal under every column's rule: a value that
#: comes back from the table with the file's type and value needs no rule.
PLAIN_TYPES = frozenset((str, int, bool, float))


def _changed_columns(
    values: dict[str, Any], db_row: Any, how: dict[str, tuple[Convert, Convert, int]]
) -> list[ColumnChange] | None:
    """The columns of one row whose file value differs from the table's; None when none does."""
    changes: list[ColumnChange] | None = None
    for column, value in values.items():
        steps = how.get(column)
        if steps is None:
            continue  # a key column
        to_db, canonical, index = steps
        old = db_row[index]
        if value is old:
            continue  # None in both, or the very same object
        kind = type(value)
        if kind is type(old) and kind in PLAIN_TYPES and value == old:
            # The table returns the file's value with the file's type: every
            # rule's to_db keeps such a value, or makes of it what its
            # canonical form makes of the table's equal value.
            continue
        new = value if to_db is identity else to_db(value)
        if new is old:
            continue
        kind = type(new)
        if kind is type(old) and kind in PLAIN_TYPES and new == old:
            continue
        if canonical(new) != canonical(old):
            # to_db shows the old value the way the file would write it
            # (MySQL's TINYINT(1) 0 as false).
            changes = changes or []
            changes.append(ColumnChange(column, to_db(old), new))
    return changes


def _owned_values(
    row: Row,
    db_row: Any,
    how: dict[str, tuple[Convert, Convert, int]],
    key_columns: tuple[str, ...],
    width: int,
    values: dict[str, Any] | None = None,
) -> list[OwnedValue]:
    """The values of ``db_row`` the application owns that differ from ``row``'s (or ``values``)."""
    key = tuple(db_row[:width])
    label = describe_key(row, key_columns)
    return [
        OwnedValue(key, label, change.column, change.old, change.new)
        for change in _changed_columns(row.values if values is None else values, db_row, how) or ()
    ]


def _auditable(column: Column[Any]) -> bool:
    """Whether a value set in ``column`` and not written by the file is worth reporting.

    Not the primary key, nor what the application or the database keeps up
    by itself: generated defaults (callables, SQL), ``onupdate`` columns,
    identities and computed columns.
    """
    default = column.default
    return not (
        column.primary_key
        or column.onupdate is not None
        or column.server_onupdate is not None
        or column.identity is not None
        or column.computed is not None
        or (isinstance(default, ColumnDefault) and not default.is_scalar)
    )


def _unmanaged_values(
    values: dict[str, Any],
    db_row: Any,
    audited: list[str],
    where: dict[str, int],
    table: Table,
    rules: dict[str, ValueRule],
    width: int,
) -> list[UnmanagedValue]:
    """The values set in ``db_row`` in columns the file's row does not write.

    A value equal to the model's own scalar default is what the application
    would have given the row: it is not reported.
    """
    found = []
    for column in audited:
        if column in values:
            continue
        value = db_row[where[column]]
        if value is None or _is_model_default(table.c[column], value, rules[column]):
            continue
        key = tuple(db_row[:width])
        found.append(UnmanagedValue(key, key_label(key), column, rules[column].to_db(value)))
    return found


def _is_model_default(column: Column[Any], value: Any, rule: ValueRule) -> bool:
    default = column.default
    if not isinstance(default, ColumnDefault) or not default.is_scalar:
        return False
    try:
        return bool(rule.canonical(rule.to_db(default.arg)) == rule.canonical(value))
    except Exception:  # a default the rule cannot read is simply not the value
        return False
