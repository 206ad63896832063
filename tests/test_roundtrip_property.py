"""Issue 9, the property: any valid file over any small schema round-trips on every database.

Random tables (a key, then one to four columns of the types below) and random
rows whose values the column types accept.  After a sync:

- the next plan of the same file is empty, and
- the table equals the file, by the database's own comparison (``col = value``
  evaluated by the database, the value bound as the column's type; JSON by
  the database's JSON equality where it has one, else as parsed JSON);

or else the sync raised our own error naming the row and the column it could
not make stick (not on PostgreSQL, whose types hold every value generated here
exactly).  Any other exception fails the property.

Generated examples are derandomized (the same ones on every run) and not
shrunk, so that the run stays short; the explicit examples are the falsifying
ones seen (shrunk) when this was written, with many more random runs:

- every database: ``Numeric(27, 1)`` 10000000000000000000000000.1 is stored as
  ...0.0 (through a float) and then planned as unchanged;
- SQLite: ``Numeric(16, 0)`` 9007199254740993 is stored as ...992, the next
  plan updates it forever; a ``Uuid`` is written as 36-character text into
  the ``CHAR(32)`` SQLAlchemy made, where the model's type looks for 32 hex
  digits;
- SQLite: a ``JSON`` column has NUMERIC affinity, so a whole float such as
  5.040650789461874e+16 comes back as the integer it exactly is,
  50406507894618736, planned forever when compared with the float's shortest
  decimal;
- MariaDB: ``Float`` (single precision ``FLOAT``) 1000001.0 is read back as
  1000000.0 and planned forever, 9.28454992570547e+26 comes back 9.28455e+26
  and is called unchanged; ``DateTime`` and ``Time`` (no fractional seconds)
  lose microseconds, silently for ``DATETIME``, in a perpetual update for
  ``TIME``; a ``Uuid`` whose variant bits MariaDB's UUID type refuses passes
  validation and fails the apply naming neither row nor column.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import string
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from alembic_datasync import Dataset, DatasyncError, plan, sync

_CHARACTERS = st.characters(
    codec="utf-8",
    exclude_categories=["Cs", "Cc", "Co", "Cn"],
    # PyYAML's emitter writes NEL in a form it reads back as a space (its bug).
    exclude_characters="\x85",
)
_OFFSETS = st.sampled_from(
    [dt.timezone.utc, dt.timezone(dt.timedelta(hours=2)), dt.timezone(-dt.timedelta(hours=5.5))]
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_CHARACTERS, max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=5), children, max_size=3
        )
    ),
    max_leaves=6,
)


class PlainDecimal(decimal.Decimal):
    """A decimal written in the file as a plain number, digit for digit."""


def _decimals(precision: int, scale: int) -> st.SearchStrategy[Any]:
    """Decimals of at most ``precision`` digits, ``scale`` after the point; long ones as often."""
    unscaled = st.integers(1, precision).flatmap(lambda n: st.integers(10 ** (n - 1), 10**n - 1))
    return st.tuples(st.sampled_from([1, -1]), unscaled | st.just(0)).map(
        lambda signed: PlainDecimal(decimal.Decimal(signed[0] * signed[1]).scaleb(-scale))
    )


@st.composite
def column_types(draw: st.DrawFn) -> tuple[sa.types.TypeEngine[Any], st.SearchStrategy[Any]]:
    """A column type, and the values a file may write into it."""
    kind = draw(
        st.sampled_from(
            [
                "Integer",
                "BigInteger",
                "Numeric",
                "Float",
                "String",
                "Text",
                "Boolean",
                "Date",
                "DateTime",
                "DateTimeTZ",
                "Time",
                "JSON",
                "Uuid",
                "LargeBinary",
            ]
        )
    )
    if kind == "Numeric":
        precision = draw(st.integers(1, 30))
        scale = draw(st.integers(0, min(precision, 10)))
        return sa.Numeric(precision, scale), _decimals(precision, scale)
    if kind == "String":
        length = draw(st.integers(1, 30))
        return sa.String(length), st.text(_CHARACTERS, max_size=length)
    simple: dict[str, tuple[sa.types.TypeEngine[Any], st.SearchStrategy[Any]]] = {
        "Integer": (sa.Integer(), st.integers(-(2**31), 2**31 - 1)),
        "BigInteger": (sa.BigInteger(), st.integers(-(2**63), 2**63 - 1)),
        "Float": (sa.Float(), st.floats(allow_nan=False, allow_infinity=False)),
        "Text": (sa.Text(), st.text(_CHARACTERS, max_size=100)),
        "Boolean": (sa.Boolean(), st.booleans()),
        "Date": (sa.Date(), st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))),
        "DateTime": (
            sa.DateTime(),
            st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)),
        ),
        "DateTimeTZ": (
            sa.DateTime(timezone=True),
            st.datetimes(dt.datetime(1000, 1, 2), dt.datetime(9999, 12, 30), timezones=_OFFSETS),
        ),
        "Time": (sa.Time(), st.times()),
        "JSON": (sa.JSON(none_as_null=True), _JSON),
        "Uuid": (sa.Uuid(), st.uuids()),
        "LargeBinary": (sa.LargeBinary(), st.binary(max_size=20)),
    }
    return simple[kind]


@st.composite
def schemas_and_rows(
    draw: st.DrawFn,
) -> tuple[list[sa.types.TypeEngine[Any]], dict[str, list[Any]]]:
    """Column types, and rows ``r0``, ``r1``... each writing a value (or null) to every column."""
    columns = draw(st.lists(column_types(), min_size=1, max_size=4))
    rows = {
        f"r{number}": [draw(values | st.none()) for _, values in columns]
        for number in range(draw(st.integers(1, 3)))
    }
    return [column_type for column_type, _ in columns], rows


class _Dumper(yaml.SafeDumper):
    pass


def _plain_number(dumper: yaml.SafeDumper, value: PlainDecimal) -> yaml.ScalarNode:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(PlainDecimal, _plain_number)


def file_value(value: Any) -> Any:
    """``value`` as the file writes it: a time of day as ISO text, a UUID as its text."""
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_tables = itertools.count()


def _equal_in_database(
    connection: sa.Connection, table: sa.Table, name: str, column: sa.Column[Any], value: Any
) -> bool:
    """True when the database says row ``name``'s ``column`` holds ``value``."""
    dialect = connection.dialect.name
    row = table.c.name == name
    if value is None:
        condition = column.is_(None)
    elif isinstance(column.type, sa.JSON):
        if dialect == "sqlite":
            stored = connection.execute(sa.select(column).where(row)).scalar_one()
            return _same_json(stored, value)
        document = json.dumps(value)
        if dialect == "postgresql":
            condition = sa.text(f"CAST({column.name} AS jsonb) = CAST(:doc AS jsonb)").bindparams(
                doc=document
            )
        else:
            condition = sa.func.json_equals(column, sa.bindparam(None, document, sa.Text)) == 1
    else:
        if isinstance(value, dt.datetime) and value.tzinfo is not None and dialect != "postgresql":
            # SQLite and MariaDB keep no time zone: the tool writes the instant in UTC.
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        condition = column == sa.bindparam(None, value, type_=column.type)
    count = connection.execute(
        sa.select(sa.func.count()).select_from(table).where(row, condition)
    ).scalar_one()
    return bool(count == 1)


def _same_json(stored: Any, value: Any) -> bool:
    """JSON equality: numbers by value, booleans apart from numbers, objects by key."""
    if isinstance(stored, str) and not isinstance(value, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return False
    if isinstance(value, bool) or isinstance(stored, bool):
        return type(value) is type(stored) and value == stored
    if isinstance(value, int | float) and isinstance(stored, int | float):
        return decimal.Decimal(value) == decimal.Decimal(stored)
    if isinstance(value, list) and isinstance(stored, list):
        return len(value) == len(stored) and all(map(_same_json, stored, value))
    if isinstance(value, dict) and isinstance(stored, dict):
        return value.keys() == stored.keys() and all(_same_json(stored[k], value[k]) for k in value)
    return bool(type(value) is type(stored) and value == stored)


def check_round_trip(
    engine: sa.Engine,
    folder: Path,
    types: list[sa.types.TypeEngine[Any]],
    rows: dict[str, list[Any]],
) -> None:
    number = next(_tables)
    name = f"rt_{number}"
    metadata = sa.MetaData()
    table = sa.Table(
        name,
        metadata,
        sa.Column("name", sa.String(20), primary_key=True),
        *(sa.Column(f"c{i}", column_type) for i, column_type in enumerate(types)),
    )
    metadata.create_all(engine)
    try:
        path = folder / f"{name}.yaml"
        data = {
            key: {f"c{i}": file_value(value) for i, value in enumerate(values)}
            for key, values in rows.items()
        }
        path.write_text(
            yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        datasets = [Dataset(path.name, table=name, key="name")]
        try:
            with engine.connect() as connection:
                sync(connection, datasets, base_dir=folder)
        except DatasyncError as refused:
            message = str(refused)
            # PostgreSQL holds every value generated here exactly: nothing to refuse.
            assert engine.dialect.name != "postgresql", message
            # It could not make a value stick: it must say which row and column.
            row_named = any(f"'{key}'" in message for key in rows) or f"{path.name}:" in message
            assert row_named, (engine.dialect.name, message)
            assert any(f"c{i}" in message for i in range(len(types))), (
                engine.dialect.name,
                message,
            )
            return
        with engine.connect() as connection:
            again = plan(connection, datasets, base_dir=folder)
            assert again.has_changes is False, (engine.dialect.name, again.render())
            for key, values in rows.items():
                for i, value in enumerate(values):
                    assert _equal_in_database(connection, table, key, table.c[f"c{i}"], value), (
                        engine.dialect.name,
                        key,
                        f"c{i}",
                        types[i],
                        value,
                        connection.execute(
                            sa.select(table.c[f"c{i}"]).where(table.c.name == key)
                        ).scalar_one(),
                    )
    finally:
        metadata.drop_all(engine)


def test_any_valid_file_round_trips_or_the_sync_names_what_cannot_stick(
    engine: sa.Engine, tmp_path: Path
) -> None:
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(schemas_and_rows())
    # Falsifying examples found while writing this (see the module's docstring).
    @example(([sa.Numeric(27, 1)], {"r0": [PlainDecimal("10000000000000000000000000.1")]}))
    @example(([sa.Float()], {"r0": [1000001.0]}))
    @example(([sa.DateTime()], {"r0": [dt.datetime(2000, 1, 1, 0, 0, 0, 1)]}))
    @example(([sa.Time()], {"r0": [dt.time(0, 0, 0, 1)]}))
    @example(([sa.Uuid()], {"r0": [uuid.UUID("e3e70682-c209-4cac-629f-6fbed82c07cd")]}))
    @example(([sa.Numeric(16, 0)], {"r0": [PlainDecimal("9007199254740993")]}))
    # SQLite keeps a JSON number's text by NUMERIC affinity: this one as 50406507894618736.
    @example(([sa.JSON(none_as_null=True)], {"r0": [5.040650789461874e16]}))
    def round_trips(example: tuple[list[sa.types.TypeEngine[Any]], dict[str, list[Any]]]) -> None:
        types, rows = example
        check_round_trip(engine, tmp_path, types, rows)

    round_trips()
