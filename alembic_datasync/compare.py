"""Where values are compared: a file's values against a table's, by column type.

Every column gets a `ValueRule` from `rule_for`: ``to_db`` turns a value read
from YAML into what is written to the column, and ``canonical`` turns either
side (file or database) into a hashable value that compares equal exactly when
the database would hold the same thing.  That is what makes an unchanged file
plan no updates: ``0.2`` equals a ``Numeric`` column's ``Decimal('0.20')``,
``true`` equals MySQL's ``TINYINT(1)`` 1, a ``CHAR`` column's padding is not a
change, and a datetime is compared at the precision and time zone the column
keeps.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ValueRule:
    """How one column's values are written and compared."""

    to_db: Convert
    canonical: Convert


def _identity(value: Any) -> Any:
    return value


def _strict(value: Any) -> Any:
    """Hashable form of a value no rule claims; bools never equal 0 and 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list | tuple):
        return ("seq", tuple(_strict(v) for v in value))
    if isinstance(value, dict):
        return ("map", _json_text(value))
    return value


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _null_safe(convert: Convert) -> Convert:
    def wrapped(value: Any) -> Any:
        return None if value is None else convert(value)

    return wrapped


# -- numbers -----------------------------------------------------------------


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | decimal.Decimal | float) and value in (0, 1):
        return bool(value)
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return float(value)
    return value


def _as_float32(value: Any) -> Any:
    value = _to_float(value)
    if isinstance(value, float) and math.isfinite(value):
        try:
            return struct.unpack("f", struct.pack("f", value))[0]
        except OverflowError:
            return value
    return value


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        # repr() is the shortest text that round-trips: 0.2 -> Decimal('0.2'),
        # not the binary expansion Decimal(0.2) would give.
        return decimal.Decimal(repr(value))
    if isinstance(value, int):
        return decimal.Decimal(value)
    return value


def _is_mysql_boolean(column_type: TypeEngine[Any], dialect: str) -> bool:
    """MySQL and MariaDB spell BOOLEAN as TINYINT(1), and reflect it so."""
    return (
        dialect in ("mysql", "mariadb")
        and type(column_type).__name__ == "TINYINT"
        and getattr(column_type, "display_width", None) == 1
    )


def _is_single_precision(column_type: TypeEngine[Any], dialect: str) -> bool:
    if dialect == "sqlite" or isinstance(column_type, sqltypes.DOUBLE | sqltypes.DOUBLE_PRECISION):
        return False
    name = type(column_type).__name__.upper()
    if dialect in ("mysql", "mariadb") and name in ("REAL", "DOUBLE"):
        return False
    if name in ("REAL", "FLOAT"):
        precision = getattr(column_type, "precision", None)
        return precision is None or precision <= 24
    return False


# -- dates and times ---------------------------------------------------------


def _parse_iso(parse: Callable[[str], Any]) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse(value.strip())
            except ValueError:
                return value
        return value

    return convert


_date_from_text = _parse_iso(dt.date.fromisoformat)
_time_from_text = _parse_iso(dt.time.fromisoformat)
_datetime_from_text = _parse_iso(dt.datetime.fromisoformat)


def _date(value: Any) -> Any:
    value = _date_from_text(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _datetime_rule(timezone: bool, whole_seconds: bool) -> Convert:
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
        if whole_seconds and value.microsecond:
            # MySQL's DATETIME without fractional digits rounds to the second.
            value = value.replace(microsecond=0) + dt.timedelta(
                seconds=1 if value.microsecond >= 500_000 else 0
            )
        return value

    return convert


def _datetime_canonical(to_db: Convert) -> Convert:
    def convert(value: Any) -> Any:
        value = to_db(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc)
        return _strict(value)

    return convert


# -- text, identifiers, structures -------------------------------------------


def _text_canonical(strip_padding: bool) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return value.rstrip(" ") if strip_padding else value
        if isinstance(value, bytes):
            return value
        return ("not text", _strict(value))

    return convert


def _uuid(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    return value


def _json_canonical(value: Any) -> Any:
    return _json_text(value)


def _array_canonical(item: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(convert(v) if isinstance(v, list | tuple) else item(v) for v in value)
        return _strict(value)

    return convert


def _then(first: Convert, second: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return second(first(value))

    return convert


def rule_for(column_type: TypeEngine[Any], dialect: str) -> ValueRule:
    """The `ValueRule` for a column of ``column_type`` on the ``dialect`` (its name)."""
    to_db, canonical = _rule_parts(column_type, dialect)
    return ValueRule(_null_safe(to_db), _null_safe(canonical))


def _rule_parts(column_type: TypeEngine[Any], dialect: str) -> tuple[Convert, Convert]:
    # Order matters: Float is a Numeric, Enum and CHAR are Strings.
    if isinstance(column_type, sqltypes.Boolean) or _is_mysql_boolean(column_type, dialect):
        return _boolean, _then(_boolean, _strict)
    if isinstance(column_type, sqltypes.Integer):
        return _integer, _then(_integer, _strict)
    if isinstance(column_type, sqltypes.Float):
        single = _is_single_precision(column_type, dialect)
        return _to_float, _then(_as_float32 if single else _to_float, _strict)
    if isinstance(column_type, sqltypes.Numeric):
        return _to_decimal, _then(_to_decimal, _strict)
    if isinstance(column_type, sqltypes.DateTime):
        whole_seconds = dialect in ("mysql", "mariadb") and not getattr(column_type, "fsp", None)
        to_db = _datetime_rule(bool(getattr(column_type, "timezone", False)), whole_seconds)
        return to_db, _datetime_canonical(to_db)
    if isinstance(column_type, sqltypes.Date):
        return _date, _then(_date, _strict)
    if isinstance(column_type, sqltypes.Time):
        return _time_from_text, _then(_time_from_text, _strict)
    if isinstance(column_type, sqltypes.JSON):
        return _identity, _json_canonical
    if isinstance(column_type, sqltypes.ARRAY | postgresql.ARRAY):
        item = rule_for(column_type.item_type, dialect)
        return _identity, _array_canonical(item.canonical)
    if isinstance(column_type, sqltypes.Uuid):
        return _uuid, _then(_uuid, _strict)
    if isinstance(column_type, sqltypes.String):
        padded = isinstance(column_type, sqltypes.CHAR | sqltypes.NCHAR)
        return _identity, _text_canonical(padded)
    return _identity, _strict
