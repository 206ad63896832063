"""What the project's model adds to a table: its name, its natural key, its defaults and onupdate.

The model is the application's own description of a table: a declarative or
SQLModel class, or a `Table` of ``target_metadata``.  The sync writes through
the table as the database has it (reflected), so that values are judged and
compared as the database stores them; from the model it takes what only the
model knows, so that a new row gets what the application would give it:

- the column defaults (``default=``, callables, SQLModel's ``default_factory``,
  SQL expressions), which SQLAlchemy applies while it executes each INSERT,
  one value per row;
- the ``onupdate`` values (``updated_at``), applied to every row an UPDATE
  of the sync sets, and to no other.

A default's value is made what the reflected column takes: a UUID of a
``Uuid`` model column goes to a ``CHAR(32)`` column (SQLite, MySQL) as the
32 hex digits the model's type would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Column, ColumnDefault, Connection, Integer, MetaData, Table, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

Convert = Callable[[Any], Any]

#: The project's model as env.py gives it: a MetaData (``target_metadata``), or a list of them.
Metadata = MetaData | Sequence[MetaData]


def model_table(model: Table | type[Any]) -> Table:
    """The `Table` of ``model``: a `Table`, or a mapped class (declarative, SQLModel)."""
    if isinstance(model, Table):
        return model
    table = getattr(model, "__table__", None)
    if isinstance(table, Table):
        return table
    shown = getattr(model, "__name__", repr(model))
    hint = (
        " (an SQLModel class maps a table only with table=True)"
        if any(base.__name__ == "SQLModel" for base in getattr(model, "__mro__", ()))
        else ""
    )
    raise ValueError(
        f"Dataset: {shown} is neither a table name, a Table nor a mapped model class{hint}"
    )


def numbered_by_database(column: Column[Any]) -> bool:
    """True for a single-column integer primary key the database numbers itself."""
    table = column.table
    return (
        column.primary_key
        and len(table.primary_key.columns) == 1
        and isinstance(column.type, Integer)
        and column.autoincrement in (True, "auto")
    )


def fills_itself(column: Column[Any]) -> bool:
    """True when a new row that leaves ``column`` out still gets a value for it."""
    return (
        column.default is not None
        or column.server_default is not None
        or column.identity is not None
        or numbered_by_database(column)
    )


def natural_key(model: Table | None, table: str) -> str:
    """The model's one single-column unique key that is not a generated primary key.

    Raises `ValueError`, naming the candidates, when there is none or more than one.
    """
    if model is None:
        raise ValueError(
            f"Dataset for table {table!r}: key= is needed (name the column that identifies a "
            f"row), unless the table is given as a model whose unique column can be the key"
        )
    candidates: list[str] = []
    primary = list(model.primary_key.columns)
    if len(primary) == 1 and not fills_itself(primary[0]):
        candidates.append(primary[0].name)
    unique_sets = [
        list(constraint.columns)
        for constraint in model.constraints
        if isinstance(constraint, UniqueConstraint)
    ] + [list(index.columns) for index in model.indexes if index.unique]
    for columns in unique_sets:
        if len(columns) != 1 or columns[0].name in candidates:
            continue
        if not (columns[0].primary_key and fills_itself(columns[0])):
            candidates.append(columns[0].name)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError(
            f"Dataset for table {table!r}: the model has no single-column unique key other "
            f"than a generated primary key, so key= cannot be left out; name the column(s) "
            f"that identify a row: key='...' or key=('a', 'b')"
        )
    names = sorted(candidates)
    raise ValueError(
        f"Dataset for table {table!r}: key= cannot be left out, it is ambiguous: the model "
        f"has several unique columns ({', '.join(map(repr, names))}); name the one that "
        f"identifies a row: key={names[0]!r}"
    )


def model_in_metadata(target: Metadata | None, name: str, schema: str | None) -> Table | None:
    """The table ``name`` (in ``schema``) of ``target`` (a MetaData or a list of them), or None."""
    if target is None:
        return None
    for metadata in [target] if isinstance(target, MetaData) else target:
        if not isinstance(metadata, MetaData):
            continue
        in_schema = schema if schema is not None else metadata.schema
        found = metadata.tables.get(f"{in_schema}.{name}" if in_schema else name)
        if found is not None:
            return found
    return None


def carry_model_defaults(table: Table, model: Table, dialect: Dialect) -> None:
    """Give the columns of ``table`` (reflected) the defaults and onupdate of ``model``'s.

    Columns the model does not declare, and model columns the table does not
    have (a migration not yet run), are left as they are.
    """
    for model_column in model.columns:
        column = table.c.get(model_column.name)
        if column is None:
            continue
        convert = _value_converter(model_column.type, column.type, dialect)
        for generator, for_update in ((model_column.default, False), (model_column.onupdate, True)):
            if isinstance(generator, ColumnDefault):
                _attach(column, _converted(column.name, generator, convert), for_update)


def _attach(column: Column[Any], generator: ColumnDefault, for_update: bool) -> None:
    generator.column = column
    if for_update:
        column.onupdate = generator
    else:
        column.default = generator


class ModelDefaultFailed(Exception):
    """A default or onupdate callable of the model raised: its column and what it said."""

    def __init__(self, column: str, for_update: bool, error: Exception) -> None:
        what = "onupdate" if for_update else "default"
        super().__init__(
            f"the model's {what} for {column!r} failed: {type(error).__name__}: {error}"
        )


def _converted(column: str, generator: ColumnDefault, convert: Convert | None) -> ColumnDefault:
    """A new `ColumnDefault` of ``generator``'s value, passed through ``convert``.

    A callable raising is reported as `ModelDefaultFailed`, naming the column,
    so that the sync can tell it from a value the database refused.
    """
    arg: Any = generator.arg
    for_update = generator.for_update
    if generator.is_callable:
        original = arg

        # SQLAlchemy wrapped a callable of no argument as one of the context.
        def generated(context: Any) -> Any:
            try:
                value = original(context)
                return value if convert is None else convert(value)
            except Exception as exc:
                raise ModelDefaultFailed(column, for_update, exc) from exc

        arg = generated
    elif convert is not None and generator.is_scalar:
        arg = convert(arg)
    made: ColumnDefault = ColumnDefault(arg, for_update=for_update)
    return made


def _python_type(column_type: TypeEngine[Any]) -> type | None:
    try:
        found: type = column_type.python_type
    except NotImplementedError:
        return None
    return found


def _value_converter(
    model_type: TypeEngine[Any], reflected_type: TypeEngine[Any], dialect: Dialect
) -> Convert | None:
    """What turns a value of ``model_type`` into one ``reflected_type`` takes; None: as it is.

    A `TypeDecorator`'s own step (``process_bind_param``) always runs, as it
    would for the application.  Then, where the reflected column holds another
    Python type than the model's (a ``Uuid`` stored as ``CHAR(32)``, a
    ``Boolean`` as ``TINYINT``), the model type's bind step makes the value
    what the model would have sent to the database.
    """
    steps: list[Convert] = []
    current = model_type
    while isinstance(current, TypeDecorator):
        decorator = current
        if type(decorator).process_bind_param is not TypeDecorator.process_bind_param:
            steps.append(_decorator_step(decorator, dialect))
        current = decorator.load_dialect_impl(dialect)
        if current is decorator:  # pragma: no cover - a decorator of itself
            break
    model_python = _python_type(current)
    reflected_python = _python_type(reflected_type)
    if model_python is not None and model_python is not reflected_python:
        bind = current.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None:
            steps.append(bind)
    if not steps:
        return None

    def convert(value: Any) -> Any:
        for step in steps:
            if value is None:
                return None
            value = step(value)
        return value

    return convert


def _decorator_step(decorator: TypeDecorator[Any], dialect: Dialect) -> Convert:
    def step(value: Any) -> Any:
        return decorator.process_bind_param(value, dialect)

    return step


class RowDefaultContext:
    """What a context-sensitive default sees when the sync computes it for one row (COPY).

    SQLAlchemy's own execution context offers the same: the row's parameters
    (``get_current_parameters()``, ``current_parameters``), the column, the
    connection and the dialect.
    """

    def __init__(self, connection: Connection, column: Column[Any], row: dict[str, Any]) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.current_column = column
        self.current_parameters = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


def python_generated(columns: Iterable[Column[Any]], for_update: bool) -> list[Column[Any]]:
    """The ``columns`` whose default (or onupdate) is a Python callable, called per row."""
    found = []
    for column in columns:
        generator = column.onupdate if for_update else column.default
        if isinstance(generator, ColumnDefault) and generator.is_callable:
            found.append(column)
    return found


def generated_value(
    connection: Connection, column: Column[Any], row: dict[str, Any], for_update: bool
) -> Any:
    """``column``'s Python default (or onupdate) for one row, as SQLAlchemy would compute it."""
    generator = column.onupdate if for_update else column.default
    assert isinstance(generator, ColumnDefault) and generator.is_callable
    arg: Any = generator.arg
    return arg(RowDefaultContext(connection, column, row))


def generated_columns(table: Table, written: Iterable[str]) -> list[str]:
    """The columns a new row writing ``written`` gets from the model's callables or SQL."""
    written = set(written)
    return [
        column.name
        for column in table.columns
        if column.name not in written
        and isinstance(column.default, ColumnDefault)
        and (column.default.is_callable or column.default.is_clause_element)
    ]


def metadata_tables(target: Metadata | None) -> list[Table]:
    """Every table of ``target`` (a MetaData, a list of them, or None)."""
    if target is None:
        return []
    metadatas = [target] if isinstance(target, MetaData) else list(target)
    return [t for m in metadatas if isinstance(m, MetaData) for t in m.tables.values()]
