"""Write plans: set-based INSERT, UPDATE and DELETE statements, in the caller's unit of work.

Rows are written in groups that share a column set: one executemany INSERT per
group of new rows, one executemany UPDATE keyed by the key columns per group of
changed columns, one DELETE per dataset.  A plan with nothing to do sends no
statement at all.

On PostgreSQL through psycopg 3, a group of `COPY_THRESHOLD` rows or more is
instead copied (COPY, the fastest way in) into a temporary table and written
by one ``INSERT ... SELECT`` or ``UPDATE ... FROM``: ten thousand new rows
then cost about as much as the COPY itself, a sixth of the executemany.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Table,
    and_,
    bindparam,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import mysql, postgresql, sqlite

from .display import redact, spellings
from .errors import ApplyFailed
from .model import ModelDefaultFailed, generated_value, python_generated
from .order import delete_levels, insert_levels, step_order
from .plans import DatasetPlan, RowChange
from .reading import by_keys
from .references import MissingReference, read_ids
from .reverts import DatabaseDefault
from .tables import UniqueKey, as_stored, conflict_target
from .transaction import unit_of_work

# Keeps the bound parameters of one DELETE ... IN (...) well under every
# database's limit (SQLite's is 32,766).
_DELETE_CHUNK = 5_000

#: Rows in one group from which PostgreSQL writes go through COPY and a
#: temporary table.  Below it, plain executemany: a small change stays one
#: readable statement, and a one-field change is one UPDATE.
COPY_THRESHOLD = 1_000

#: Column types whose values psycopg's COPY writes exactly as executemany would
#: bind them (no SQLAlchemy bind processing beyond checking).  Enum, JSON,
#: ARRAY, binary and custom types keep to executemany.
_COPYABLE_TYPES = (
    sqltypes.Integer,
    sqltypes.Float,
    sqltypes.Numeric,
    sqltypes.Boolean,
    sqltypes.DateTime,
    sqltypes.Date,
    sqltypes.Time,
    sqltypes.Uuid,
    sqltypes.Interval,
)

_stage_names = itertools.count(1)


_UPSERTS: dict[str, Any] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
    "mysql": mysql.insert,
    "mariadb": mysql.insert,
}


def write_plans(connection: Connection, plans: Sequence[DatasetPlan]) -> None:
    """Send every plan's writes, in the transaction the caller opened (`transaction.unit_of_work`).

    Raises `RefusedWrite` when the database refuses a statement: the caller
    rolls its unit back, then asks `RefusedWrite.explained` which row it was
    (`api` does both, around the unit of work).
    """
    steps = _steps(plans)
    try:
        for step in steps:
            step.run(connection)
    except _Refused as refused:
        raise RefusedWrite(plans, steps, refused) from None


class RefusedWrite(Exception):
    """The database refused a write; the unit of work must be rolled back before explaining."""

    def __init__(self, plans: Sequence[DatasetPlan], steps: list[_Step], refused: _Refused) -> None:
        super().__init__(refused.step.verb)
        self.plans = plans
        self.steps = steps
        self.refused = refused

    def explained(self, connection: Connection) -> ApplyFailed:
        """The `ApplyFailed` that names the refused row, its secrets redacted.

        After the rollback, the writes before the refused statement are
        replayed and its rows tried one at a time, all in a unit of work that
        is rolled back, to find the row the database refuses on its own.
        """
        culprit = _find_refused_row(connection, self.steps, self.refused)
        return ApplyFailed(redact(self.refused.describe(culprit), _secret_values(self.plans)))


def _secret_values(plans: Sequence[DatasetPlan]) -> set[str]:
    """The secret columns' values a plan writes or replaces: kept out of error messages."""
    values: list[Any] = []
    for plan in plans:
        secret = plan.dataset.secret_columns
        if not secret:
            continue
        for change in plan.creates:
            values.extend(v for c, v in change.values.items() if c in secret)
        for change in plan.updates:
            values.extend(v for c in change.changes if c.column in secret for v in (c.old, c.new))
        for change in plan.deletes:
            values.extend(v for c, v in change.values.items() if c in secret)
    return {spelled for value in values for spelled in spellings(value)}


@dataclass(frozen=True)
class _Step:
    """One kind of write of one dataset: its rows, and the function that writes them."""

    plan: DatasetPlan
    verb: str
    write: Any
    changes: list[RowChange]

    def run(self, connection: Connection, changes: list[RowChange] | None = None) -> None:
        try:
            self.write(connection, self.plan, changes or self.changes)
        except _driver_errors(connection) + _VALUE_ERRORS as exc:
            raise _Refused(self, exc) from None


def _steps(plans: Sequence[DatasetPlan]) -> list[_Step]:
    """The writes in the order the foreign keys allow (`order`), a level of rows a step."""
    steps: list[_Step] = []
    for plan, verb in step_order(plans):
        if verb == "insert":
            levels, cycle = insert_levels(plan)
            # A cycle is a problem of the plan; were it written, the database decides.
            steps.extend(_Step(plan, verb, _insert, level) for level in [*levels, cycle])
        elif verb == "update":
            steps.append(_Step(plan, verb, _update, plan.updates))
        else:
            steps.extend(_Step(plan, verb, _delete, level) for level in delete_levels(plan))
    return [step for step in steps if step.changes]


class _Refused(Exception):
    """A write statement the database refused; turned into `ApplyFailed`."""

    def __init__(self, step: _Step, error: Any) -> None:
        super().__init__(step.verb)
        self.step = step
        self.error = error

    def describe(self, culprit: tuple[RowChange, Any] | None) -> str:
        dataset = self.step.plan.dataset
        failed = getattr(self.error, "orig", None)
        if isinstance(failed, ModelDefaultFailed):
            # Not the database: the model's code raised while SQLAlchemy
            # prepared the statement.
            return (
                f"{dataset.display_path}: could not {self.step.verb} rows of {dataset.label!r}: "
                f"{failed}; nothing was written"
            )
        if culprit is None:
            return (
                f"{dataset.display_path}: the database refused to {self.step.verb} rows of "
                f"{dataset.label!r}: {_reason(self.error)}; nothing was written"
            )
        change, error = culprit
        where = change.position if change.position is not None else dataset.display_path
        if isinstance(error, MissingReference):
            return (
                f"{where}: could not {self.step.verb} row {change.label!r} of "
                f"{dataset.label!r}: {error}; nothing was written"
            )
        hint = ""
        if self.step.verb == "delete" and isinstance(error, sa_exc.IntegrityError):
            # Pruning a row that rows outside the files still refer to.
            hint = (
                " (rows of another table still refer to it: point them at another row, or "
                "keep this one in the file)"
            )
        return (
            f"{where}: the database refused to {self.step.verb} row {change.label!r} of "
            f"{dataset.label!r}: {_reason(error)}{hint}; nothing was written"
        )


def _reason(error: Any) -> str:
    """The first line of what the driver said (never SQLAlchemy's listing of the parameters)."""
    original = error.orig if isinstance(error, sa_exc.StatementError) else error
    said = str(original if original is not None else error).strip()
    return said.splitlines()[0] if said else type(original).__name__


def _driver_errors(connection: Connection) -> tuple[type[BaseException], ...]:
    # COPY runs on the driver's own cursor, so its errors come unwrapped.
    driver: Any = getattr(connection.dialect, "loaded_dbapi", None)
    return (sa_exc.StatementError, getattr(driver, "Error", sa_exc.DBAPIError))


#: What a driver or a bind processor raises for a value it cannot write (a
#: list of mixed types, text for a binary column), unwrapped by SQLAlchemy.
_VALUE_ERRORS: tuple[type[BaseException], ...] = (TypeError, ValueError, OverflowError)


#: At most this many rows of a refused statement are tried one by one.
_DIAGNOSE_ROWS = 5_000


#: MySQL/MariaDB error codes of a failed CHECK, which PyMySQL reports as OperationalError.
_MYSQL_CHECK_FAILED = {3819, 4025}


def _blames_a_row(connection: Connection, error: Any) -> bool:
    """True for a constraint or a value the database refused, not a lost connection."""
    if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError):
        return True
    original: Any = error.orig if isinstance(error, sa_exc.StatementError) else error
    if isinstance(original, _VALUE_ERRORS):
        return True
    driver: Any = getattr(connection.dialect, "loaded_dbapi", None)
    integrity = getattr(driver, "IntegrityError", None)
    data = getattr(driver, "DataError", None)
    if any(kind is not None and isinstance(original, kind) for kind in (integrity, data)):
        return True
    code = original.args[0] if getattr(original, "args", None) else None
    return connection.dialect.name in ("mysql", "mariadb") and code in _MYSQL_CHECK_FAILED


def _find_refused_row(
    connection: Connection, steps: list[_Step], refused: _Refused
) -> tuple[RowChange, Any] | None:
    """The first row of the refused statement that the database refuses on its own.

    Replays the steps before it, then writes its rows one at a time, each in a
    SAVEPOINT, all inside a transaction that is rolled back.
    """
    if not _blames_a_row(connection, refused.error):
        return None  # a lost connection or a timeout: no row is to blame
    try:
        with unit_of_work(connection, keep=False):
            for step in steps[: steps.index(refused.step)]:
                step.run(connection)
            # Rows are added one by one and kept, so that a row clashing with an
            # earlier row of the same file (a unique value twice) is found too.
            for change in refused.step.changes[:_DIAGNOSE_ROWS]:
                try:
                    with unit_of_work(connection, nested=True):
                        refused.step.run(connection, [change])
                except _Refused as single:
                    return change, single.error
    except Exception:  # diagnosis is best effort; the first error stands
        return None
    return None


def _groups(changes: list[RowChange], columns_of: Any) -> dict[tuple[str, ...], list[RowChange]]:
    groups: dict[tuple[str, ...], list[RowChange]] = {}
    for change in changes:
        groups.setdefault(columns_of(change), []).append(change)
    return groups


#: New rows per executemany.
_INSERT_BATCH = 10_000


def _insert(connection: Connection, plan: DatasetPlan, changes: list[RowChange]) -> None:
    """INSERT the new rows; the model's defaults fill, row by row, what they leave out.

    SQLAlchemy applies the defaults of the plan's table (the model's, see
    `model.carry_model_defaults`) as it executes: a callable is called once
    per row of an executemany.  A COPY has no such step, so there the
    callables are called here, one value per row, and copied with the rows.
    """
    table = plan.table
    changes = _with_ids(connection, plan, changes)
    order = {c.name: i for i, c in enumerate(table.columns)}
    columns_of = lambda change: tuple(sorted(change.values, key=order.__getitem__))  # noqa: E731
    for columns, group in _groups(changes, columns_of).items():
        if _copy_applies(connection, table, columns, group):
            made = python_generated((c for c in table.columns if c.name not in columns), False)
            rows = _with_generated(
                connection, made, columns, ([ch.values[c] for c in columns] for ch in group), False
            )
            if rows is not None:
                staged_columns = columns + tuple(column.name for column in made)
                stage = _staged(connection, table, staged_columns, iter(rows))
                # The upsert's update sets what the file writes, never a generated key.
                statement = insert_statement(connection, plan, columns)
                connection.execute(
                    statement.from_select(
                        staged_columns, select(*(stage.c[c] for c in staged_columns))
                    )
                )
                stage.drop(connection)
                continue
        statement = insert_statement(connection, plan, columns)
        # In batches: the parameters of 100,000 rows at once would double the
        # memory the rows take (SQLAlchemy batches the statements itself).
        for start in range(0, len(group), _INSERT_BATCH):
            batch = group[start : start + _INSERT_BATCH]
            connection.execute(statement, [{c: ch.values[c] for c in columns} for ch in batch])


def _with_ids(
    connection: Connection, plan: DatasetPlan, changes: list[RowChange]
) -> list[RowChange]:
    """``changes`` with the natural keys of referencing columns replaced by the referred ids.

    Looked up now, right before the write, in its transaction: a row another
    dataset of this sync created a step earlier is found (`references`).
    """
    if not plan.references or not changes:
        return changes
    ids: dict[str, tuple[Any, dict[Any, Any]]] = {}
    for reference in plan.references:
        column = reference.column
        wanted = {
            value
            for change in changes
            for value in (
                [change.values.get(column)]
                if change.action == "create"
                else [c.new for c in change.changes if c.column == column]
            )
            if value is not None
        }
        if wanted:
            ids[column] = (reference, read_ids(connection, reference, wanted))

    def stored(column: str, value: Any) -> Any:
        if value is None or column not in ids:
            return value
        reference, found = ids[column]
        identity = found.get(reference.rule.canonical(value))
        if identity is None:
            raise MissingReference(reference, value)
        return identity

    if not ids:
        return changes
    return [
        replace(change, values={c: stored(c, v) for c, v in change.values.items()})
        if change.action == "create"
        else replace(
            change,
            changes=tuple(replace(c, new=stored(c.column, c.new)) for c in change.changes),
        )
        for change in changes
    ]


def _with_generated(
    connection: Connection,
    made: list[Column[Any]],
    columns: tuple[str, ...],
    rows: Iterator[list[Any]],
    for_update: bool,
) -> Iterable[list[Any]] | None:
    """``rows`` with each of ``made``'s Python defaults (or onupdate) computed for each row.

    None when a default cannot be computed outside SQLAlchemy's own execution
    (a context-sensitive one asking for more than the row): the caller then
    lets SQLAlchemy run it, with executemany.
    """
    if not made:
        return rows
    if not all(_copyable(column) for column in made):
        return None
    result = []
    try:
        for row in rows:
            parameters = dict(zip(columns, row, strict=True))
            for column in made:
                parameters[column.name] = generated_value(
                    connection, column, parameters, for_update
                )
            result.append([*row, *(parameters[column.name] for column in made)])
    except Exception:
        return None
    return result


def insert_statement(connection: Connection, plan: DatasetPlan, columns: tuple[str, ...]) -> Any:
    """INSERT of ``columns``; an upsert on the key where a unique key names exactly it.

    Two syncs running at once (a deploy without the lock, or two versions of a
    rolling deploy) may both plan to create the same row; with the upsert the
    second one writes its values over the first instead of failing on the
    unique key.  Each dialect's own form: ON CONFLICT on PostgreSQL and SQLite,
    ON DUPLICATE KEY UPDATE on MySQL and MariaDB.
    """
    dialect = connection.dialect.name
    table, key = plan.table, plan.dataset.key_columns
    # A partial unique index or a deferrable constraint cannot be an ON
    # CONFLICT target (PostgreSQL refuses the statement): plain INSERT there.
    if not conflict_target(plan.unique_keys, key) or dialect not in _UPSERTS:
        # inline(): nothing to fetch back, so no RETURNING of generated keys.
        return table.insert().inline()
    statement = _UPSERTS[dialect](table)
    others = [c for c in columns if c not in key]
    if dialect in ("mysql", "mariadb"):
        if _other_unique_keys_written(plan.unique_keys, key, columns):
            # ON DUPLICATE KEY fires on any unique key: a clash on another one
            # would silently update the wrong row instead of failing.
            return table.insert().inline()
        # Setting the key to itself makes a conflict with nothing to update a no-op.
        updates = {c: statement.inserted[c] for c in others or key[:1]}
        return statement.on_duplicate_key_update(updates)
    if not others:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(
        index_elements=list(key), set_={c: statement.excluded[c] for c in others}
    )


def _other_unique_keys_written(
    keys: list[UniqueKey], key: tuple[str, ...], columns: tuple[str, ...]
) -> bool:
    """True when an INSERT of ``columns`` could clash on a unique key other than ``key``."""
    return any(other.columns != set(key) and other.columns & set(columns) for other in keys)


def _update(connection: Connection, plan: DatasetPlan, changes: list[RowChange]) -> None:
    """UPDATE the changed columns, keyed by the key; the model's ``onupdate`` columns too.

    SQLAlchemy adds the ``onupdate`` columns of the plan's table (the
    model's) to every UPDATE it executes, a callable called once per row;
    through COPY the callables are called here, once per row.
    """
    table, key = plan.table, plan.dataset.key_columns
    changes = _with_ids(connection, plan, changes)
    # A column going back to a default the database computes (`DatabaseDefault`,
    # the same for every row of the column) is set to its SQL, not bound.
    columns_of = lambda change: tuple(  # noqa: E731
        c.column + _SQL_DEFAULT if isinstance(c.new, DatabaseDefault) else c.column
        for c in change.changes
    )
    for named, group in _groups(changes, columns_of).items():
        if any(name.endswith(_SQL_DEFAULT) for name in named):
            _update_with_defaults(connection, plan, group)
            continue
        columns = named
        if _copy_applies(connection, table, key + columns, group):
            made = python_generated((c for c in table.columns if c.name not in columns), True)
            rows = _with_generated(
                connection,
                made,
                key + columns,
                ([*ch.key, *(c.new for c in ch.changes)] for ch in group),
                True,
            )
            if rows is not None:
                set_columns = columns + tuple(column.name for column in made)
                stage = _staged(connection, table, key + set_columns, iter(rows))
                connection.execute(
                    table.update()
                    .where(and_(*(table.c[k] == stage.c[k] for k in key)))
                    .values({table.c[c]: stage.c[c] for c in set_columns})
                )
                stage.drop(connection)
                continue
        statement = (
            table.update()
            .where(_by_key(connection, table, key))
            .values({table.c[c]: bindparam(f"_ds_new_{i}") for i, c in enumerate(columns)})
        )
        params = []
        for change in group:
            param = {f"_ds_key_{i}": value for i, value in enumerate(change.key)}
            param.update({f"_ds_new_{i}": c.new for i, c in enumerate(change.changes)})
            params.append(param)
        connection.execute(statement, params)


#: Marks, in a group of updates, a column set to a `DatabaseDefault`.
_SQL_DEFAULT = "\0default"


def _update_with_defaults(
    connection: Connection, plan: DatasetPlan, group: list[RowChange]
) -> None:
    """Updates that set some columns to a default the database computes (one column set)."""
    table, key = plan.table, plan.dataset.key_columns
    first = group[0].changes
    values: dict[Any, Any] = {
        table.c[c.column]: c.new.clause()
        if isinstance(c.new, DatabaseDefault)
        else bindparam(f"_ds_new_{i}")
        for i, c in enumerate(first)
    }
    statement = table.update().where(_by_key(connection, table, key)).values(values)
    params = []
    for change in group:
        param = {f"_ds_key_{i}": value for i, value in enumerate(change.key)}
        param.update(
            {
                f"_ds_new_{i}": c.new
                for i, c in enumerate(change.changes)
                if not isinstance(c.new, DatabaseDefault)
            }
        )
        params.append(param)
    connection.execute(statement, params)


def _copy_applies(
    connection: Connection, table: Table, columns: tuple[str, ...], group: list[RowChange]
) -> bool:
    """True when this group is worth COPY and COPY writes its columns exactly."""
    return (
        len(group) >= COPY_THRESHOLD
        and connection.dialect.name == "postgresql"
        and connection.dialect.driver == "psycopg"
        and all(_copyable(table.c[c]) for c in columns)
    )


def _copyable(column: Column[Any]) -> bool:
    column_type = column.type
    if isinstance(column_type, sqltypes.TypeDecorator | sqltypes.Enum):
        return False
    if isinstance(column_type, sqltypes.String):
        return True
    return isinstance(column_type, _COPYABLE_TYPES) and not isinstance(
        column_type, sqltypes.ARRAY | sqltypes.JSON
    )


def _staged(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Iterator[list[Any]]
) -> Table:
    """A temporary table of ``columns`` (typed as in ``table``), filled with ``rows`` by COPY."""
    stage = Table(
        f"_datasync_stage_{next(_stage_names)}",
        MetaData(),
        *(Column(c, table.c[c].type) for c in columns),
        prefixes=["TEMPORARY"],
    )
    stage.create(connection)
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(stage.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    driver_connection: Any = connection.connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return stage


def _by_key(connection: Connection, table: Table, key: tuple[str, ...]) -> ColumnElement[bool]:
    """The WHERE of an executemany UPDATE by key: ``_ds_key_0``, ``_ds_key_1``... bound."""
    dialect = connection.dialect.name
    return and_(
        *(
            table.c[k] == as_stored(dialect, table.c[k], bindparam(f"_ds_key_{i}"))
            for i, k in enumerate(key)
        )
    )


def _delete(connection: Connection, plan: DatasetPlan, changes: list[RowChange]) -> None:
    table, key = plan.table, plan.dataset.key_columns
    for start in range(0, len(changes), _DELETE_CHUNK):
        chunk = changes[start : start + _DELETE_CHUNK]
        for condition in by_keys(connection, table, key, [change.key for change in chunk]):
            connection.execute(table.delete().where(condition))
