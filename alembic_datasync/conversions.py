"""How values are converted: written (``to_db``), compared (``canonical``), read raw (``from_raw``).

The building blocks of the column-type rules (`column_types` puts them
together, one rule per type).  ``to_db`` conversions turn what YAML read into
what the column is given; ``canonical`` ones turn a file's or a table's value
into a hashable form that compares equal exactly when the column would hold
the same thing; ``from_raw`` ones read what a driver gives without its type's
conversion (or PostgreSQL's text of it), when the typed reading failed
(`reading`), into the typed value or `Unreadable`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal_column, type_coerce
from sqlalchemy import types as sqltypes

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A value of the table that the database driver could not read, kept as its raw text.

    It equals no value a file can write, so the sync writes the file's value
    over it; the plan shows it as its text.
    """

    text: str

    def __repr__(self) -> str:
        return f"{self.text!r} (unreadable)"


def identity(value: Any) -> Any:
    return value


def strict(value: Any) -> Any:
    """Hashable form of a value no rule claims; bools never equal 0 and 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list | tuple):
        return ("seq", tuple(strict(v) for v in value))
    if isinstance(value, dict):
        return ("map", _json_text(value))
    return value


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def null_safe(convert: Convert) -> Convert:
    if convert in _PASSES_NULL:
        return convert  # already gives None for None: no second call a value

    def wrapped(value: Any) -> Any:
        return None if value is None else convert(value)

    return wrapped


def comparable(convert: Convert) -> Convert:
    """``convert`` for comparisons: null stays null, an `Unreadable` value equals no other."""

    def wrapped(value: Any) -> Any:
        if value is None or type(value) is Unreadable:
            return value
        return convert(value)

    return wrapped


def _unreadable(value: Any) -> Unreadable:
    if isinstance(value, bytes | bytearray | memoryview):
        return Unreadable(bytes(value).hex())
    return Unreadable(str(value))


def to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | decimal.Decimal | float) and value in (0, 1):
        return bool(value)
    return value


def to_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def to_float(value: Any) -> Any:
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return float(value)
    return value


def as_float32(value: Any) -> Any:
    value = to_float(value)
    if isinstance(value, float) and math.isfinite(value):
        try:
            return struct.unpack("f", struct.pack("f", value))[0]
        except OverflowError:
            return value
    return value


def _shortest_float32(value: Any) -> Any:
    """The shortest decimal of the same single-precision value: 0.2, not 0.2000000029."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    for digits in range(6, 10):
        shorter = float(f"{value:.{digits}g}")
        if as_float32(shorter) == value:
            return shorter
    return value


class _SingleFloat(sqltypes.TypeDecorator[float]):
    """A single-precision value read as the double it is, shown as its shortest decimal."""

    impl = sqltypes.Float
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return _shortest_float32(value)


def float_as_double(column: Any) -> Any:
    """MySQL sends a FLOAT rounded to 6 significant digits; as a DOUBLE, the exact value.

    ``column + 0e0`` is double arithmetic, exact for a single-precision value,
    and reads on every MySQL and MariaDB (``CAST(... AS DOUBLE)`` does not).
    """
    return type_coerce(column + literal_column("0e0"), _SingleFloat()).label(column.name)


# YAML 1.1 float syntax the decimal reading takes digit for digit: underscores,
# a leading or trailing point, an exponent.  Base 60 (1:30.5) stays YAML's float.
_YAML_DECIMAL = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?")

# Quoted decimal text a Numeric column takes: 1.5, -.5, 1e-3, +2.
_DECIMAL_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def exact_decimal(value: Any, text: str) -> Any:
    """The number the file wrote where YAML read a float: ``1.000000000000000001``, exactly."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if not _YAML_DECIMAL.fullmatch(text) or not any(c.isdigit() for c in text):
        return value
    try:
        return decimal.Decimal(text.replace("_", ""))
    except decimal.InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return value


def _decimal_of_text(value: str) -> decimal.Decimal | None:
    text = value.strip()
    return decimal.Decimal(text) if _DECIMAL_TEXT.fullmatch(text) else None


def to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        # repr() is the shortest text that round-trips: 0.2 -> Decimal('0.2'),
        # not the binary expansion Decimal(0.2) would give.
        return decimal.Decimal(repr(value))
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, str):
        number = _decimal_of_text(value)
        return value if number is None else number
    return value


def as_stored_by_sqlite(value: Any) -> Any:
    """The decimal SQLite gives back: it keeps a NUMERIC as a 64-bit float (or an integer)."""
    value = to_decimal(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return decimal.Decimal(repr(float(value)))
    return value


def decimal_from_raw(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | int | float) and not isinstance(value, bool):
        return to_decimal(value)
    if isinstance(value, str):
        try:
            return decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return _unreadable(value)
    return _unreadable(value)


def _parse_iso(parse: Callable[[str], Any]) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse(value.strip())
            except ValueError:
                return value
        return value

    return convert


# An offset of hours alone, as PostgreSQL writes a timetz ("10:30:00+00").
_HOURS_OFFSET = re.compile(r"([-+][0-9]{2})$")


def time_of_text(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return dt.time.fromisoformat(_HOURS_OFFSET.sub(r"\1:00", text))


_date_from_text = _parse_iso(dt.date.fromisoformat)
_time_from_text = _parse_iso(time_of_text)
_datetime_from_text = _parse_iso(dt.datetime.fromisoformat)


def to_date(value: Any) -> Any:
    value = _date_from_text(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


#: Conversions that give None for None by themselves (`null_safe` leaves them as they are).
_PASSES_NULL: frozenset[Convert] = frozenset((identity, to_boolean, to_integer, to_float))

#: The type of value each of these conversions gives back as it is (float: an
#: equal float), so that a loop over many values can skip calling it.
_KEEPS: dict[Convert, type] = {to_boolean: bool, to_integer: int, to_float: float}


def kept_type(convert: Convert) -> type | None:
    """The type of value ``convert`` returns unchanged (every type: `object`), or None."""
    if convert is identity:
        return object
    return _KEEPS.get(convert)


def to_datetime(timezone: bool) -> Convert:
    def convert(value: Any) -> Any:
        value = _datetime_from_text(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(0))
        if not isinstance(value, dt.datetime):
            return value
        if timezone:
            # A naive value in a time-zone-aware column is read as UTC.
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
        elif value.tzinfo is not None:
            # The column keeps no zone: store the UTC wall time.
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    return convert


def datetime_canonical(to_db: Convert) -> Convert:
    def convert(value: Any) -> Any:
        value = to_db(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc)
        return strict(value)

    return convert


def to_time(timezone: bool) -> Convert:
    def convert(value: Any) -> Any:
        value = _time_from_text(value)
        if timezone and isinstance(value, dt.time) and value.tzinfo is None:
            # As for datetimes: a naive time in a time-zone-aware column is UTC.
            return value.replace(tzinfo=dt.timezone.utc)
        return value

    return convert


def parsed_from_raw(kind: type, to_db: Convert) -> Convert:
    """Read a raw date, time or datetime: ISO text as the column keeps it, else unreadable."""

    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return to_db(value)
        if isinstance(value, str):
            parsed = to_db(value)
            if isinstance(parsed, kind):
                return parsed
        return _unreadable(value)

    return convert


def time_from_raw(to_db: Convert) -> Convert:
    """A raw time: MySQL's driver gives a TIME as the interval it is (negative, or past 24h)."""
    read = parsed_from_raw(dt.time, to_db)

    def convert(value: Any) -> Any:
        if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
            return to_db((dt.datetime.min + value).time())
        return read(value)

    return convert


def text_canonical(strip_padding: bool) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return value.rstrip(" ") if strip_padding else value
        if isinstance(value, bytes):
            return value
        return ("not text", strict(value))

    return convert


def to_uuid(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    return value


def uuid_as_hex(value: Any) -> Any:
    """UUID text as the 32 hex digits SQLAlchemy's ``Uuid`` keeps in SQLite's CHAR(32)."""
    if isinstance(value, str) and len(value) > 32:
        try:
            return uuid.UUID(value).hex
        except ValueError:
            return value
    return value


def to_bytes(value: Any) -> Any:
    """Bytes as written (``!!binary``); text as its UTF-8 bytes."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def zero_padded(length: int) -> Convert:
    def convert(value: Any) -> Any:
        return value.ljust(length, b"\0") if isinstance(value, bytes) else strict(value)

    return convert


def binary_from_raw(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str) and value.startswith("\\x"):  # PostgreSQL's text of a bytea
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return _unreadable(value)
    return _unreadable(value)


def json_canonical(exact_integers: bool) -> Convert:
    """JSON compared as JSONB does: numbers by value (1.0e+20 is 10**20, -0.0 is 0).

    With ``exact_integers`` (SQLite, whose JSON column has NUMERIC affinity and
    keeps ``5.040650789461874e+16`` as the integer 50406507894618736), a
    whole float is the integer it exactly is.
    """

    def convert(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return ("bool", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                return ("float", repr(value))
            if exact_integers and value.is_integer():
                return int(value)
            return decimal.Decimal(repr(value))
        if isinstance(value, list | tuple):
            return ("list", tuple(convert(item) for item in value))
        if isinstance(value, dict):
            items = sorted(((str(k), convert(v)) for k, v in value.items()), key=_first)
            return ("map", tuple(items))
        return ("other", _json_text(value))

    return convert


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def json_from_raw(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return _unreadable(value)
    if isinstance(value, int | float | list | dict) and not isinstance(value, bool):
        return value  # SQLite keeps a JSON number as a number
    return _unreadable(value)


def array_to_db(item: Convert) -> Convert:
    """Each item (at any depth) as its type writes it: [0, 0.5, 1] in float8[] is all floats."""

    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return item(value)

    return convert


def array_canonical(item: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(convert(v) if isinstance(v, list | tuple) else item(v) for v in value)
        return strict(value)

    return convert


def enum_from_raw(allowed: list[str]) -> Convert:
    def convert(value: Any) -> Any:
        return value if isinstance(value, str) and value in allowed else _unreadable(value)

    return convert


def set_members(value: Any) -> list[Any] | None:
    """The members a MySQL SET value names: 'read,write', a list, or the set MySQL returns."""
    if isinstance(value, str):
        return [member for member in value.split(",") if member]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return None


def set_to_db(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ",".join(str(member) for member in value)
    return value


def set_canonical(value: Any) -> Any:
    members = set_members(value)
    return strict(value) if members is None else frozenset(members)


def then(first: Convert, second: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return second(first(value))

    return convert


def text_input(value: Any) -> Any:
    """A number as text: PostgreSQL reads text with the column type's own input (money, inet...)."""
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return str(value)
    return value
