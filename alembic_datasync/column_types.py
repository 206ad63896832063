"""The column-type rules: how a value is checked, written and compared, per column type.

Every column gets a `ValueRule` from `rule_for`: ``to_db`` turns a value read
from YAML into what is written to the column, ``canonical`` turns either
side (file or database) into a hashable value that compares equal exactly when
the database would hold the same thing, and ``problem`` says what is wrong
with a value the column cannot hold (the validator's type check), so that a
type's rules for writing, comparing and refusing live side by side.

``canonical`` is what makes an unchanged file plan no updates: ``0.2`` equals
a ``Numeric`` column's ``Decimal('0.20')``, ``true`` equals MySQL's
``TINYINT(1)`` 1, a ``CHAR`` column's padding is not a change, and a datetime
is compared at the precision and time zone the column keeps.
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

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from .display import show
from .yaml11 import misread_number, surprising, yaml_reading

Convert = Callable[[Any], Any]

#: A value's fit to a column: None when it fits, else what is wrong, phrased to
#: follow "<column> expects <what>, " (e.g. "got 1.5").
Judge = Callable[[Any], "str | None"]


def _fits_anything(value: Any) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class ValueRule:
    """How one column's values are checked, written and compared.

    ``expects`` names what the column holds, as messages say it ("a whole
    number"); ``judge`` tells a value that does not fit from one that does.
    """

    to_db: Convert
    canonical: Convert
    expects: str = "any value"
    judge: Judge = _fits_anything

    def problem(self, name: str, value: Any, text: str | None = None) -> str | None:
        """What is wrong with writing ``value`` to the column ``name``; None when it fits.

        ``text`` is the unquoted scalar YAML read ``value`` from when it read it
        as something other than a string (``NO``, ``1.10``, ``12:30``).  When that
        text, quoted, would have fitted, the message says so: the classic YAML
        1.1 trap.  Null is the validator's business (it depends on the column's
        nullability), not the type's.
        """
        if value is None:
            return None
        complaint = self.judge(value)
        if complaint is None:
            way_out = misread_number(value, text) if text is not None else None
            if text is not None and way_out is not None:
                return (
                    f"{name} would get {show(value)}: YAML reads {text} as "
                    f"{yaml_reading(value, text)}; write {show(value)} if that is meant, "
                    f"or {way_out}"
                )
            return None
        if text is not None and self.judge(text) is None:
            return (
                f"{name} expects {self.expects}, but YAML reads {text} as "
                f'{yaml_reading(value, text)}; quote it: "{text}"'
            )
        if text is not None and surprising(value, text):
            # The text does not fit either; still say what YAML made of it.
            complaint += f" (YAML reads {text} as {yaml_reading(value, text)})"
        return f"{name} expects {self.expects}, {complaint}"


def _kind_of(value: Any) -> str:
    """``got ...`` for a value of the wrong kind, with a hint where a common slip explains it."""
    if isinstance(value, bool):
        return f"got {show(value)}, a boolean"
    return f"got {show(value)}"


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


def is_mysql_boolean(column_type: TypeEngine[Any], dialect: str) -> bool:
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
        if not dialect:
            # No database (target_metadata): a bare Float is double on
            # PostgreSQL, so only what is single everywhere counts.
            return name == "REAL" or (precision is not None and precision <= 24)
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
    """The `ValueRule` for a column of ``column_type`` on the ``dialect`` (its name).

    ``dialect`` may be empty when there is no database (validating against
    ``target_metadata``): the rules are then the declared type's.
    """
    to_db, canonical, expects, judge = _rule_parts(column_type, dialect)
    return ValueRule(_null_safe(to_db), _null_safe(canonical), expects, judge)


def _rule_parts(column_type: TypeEngine[Any], dialect: str) -> tuple[Convert, Convert, str, Judge]:
    # The one table of column-type rules.  Order matters: Float is a Numeric,
    # Enum and CHAR are Strings, MySQL's BOOLEAN is an integer type.
    if isinstance(column_type, sqltypes.Boolean) or is_mysql_boolean(column_type, dialect):
        return _boolean, _then(_boolean, _strict), "true or false", _judge_boolean
    if isinstance(column_type, sqltypes.Integer):
        low, high = integer_range(column_type)
        return _integer, _then(_integer, _strict), "a whole number", _judge_integer(low, high)
    if isinstance(column_type, sqltypes.Float):
        single = _is_single_precision(column_type, dialect)
        canonical = _then(_as_float32 if single else _to_float, _strict)
        return _to_float, canonical, "a number", _judge_float(single)
    if isinstance(column_type, sqltypes.Numeric):
        precision, scale = column_type.precision, column_type.scale
        return (
            _to_decimal,
            _then(_to_decimal, _strict),
            _numeric_expects(precision, scale),
            _judge_numeric(precision, scale),
        )
    if isinstance(column_type, sqltypes.DateTime):
        whole_seconds = dialect in ("mysql", "mariadb") and not getattr(column_type, "fsp", None)
        to_db = _datetime_rule(bool(getattr(column_type, "timezone", False)), whole_seconds)
        expects = "a date and time (YYYY-MM-DD HH:MM:SS)"
        return to_db, _datetime_canonical(to_db), expects, _judge_datetime
    if isinstance(column_type, sqltypes.Date):
        return _date, _then(_date, _strict), "a date (YYYY-MM-DD)", _judge_date
    if isinstance(column_type, sqltypes.Time):
        expects = "a time of day (HH:MM:SS)"
        return _time_from_text, _then(_time_from_text, _strict), expects, _judge_time
    if isinstance(column_type, sqltypes.JSON):
        return _identity, _json_canonical, "a value JSON can hold", _judge_json
    if isinstance(column_type, sqltypes.ARRAY | postgresql.ARRAY):
        item = rule_for(column_type.item_type, dialect)
        expects = f"a list, each item {item.expects}"
        return _identity, _array_canonical(item.canonical), expects, _judge_array(item)
    if isinstance(column_type, sqltypes.Uuid):
        return _uuid, _then(_uuid, _strict), f"a UUID such as {_SAMPLE_UUID!r}", _judge_uuid
    if isinstance(column_type, sqltypes.Enum) and column_type.enums:
        allowed = list(column_type.enums)
        expects = "one of " + ", ".join(map(repr, allowed))
        return _identity, _text_canonical(False), expects, _judge_enum(allowed)
    if isinstance(column_type, sqltypes.String):
        padded = isinstance(column_type, sqltypes.CHAR | sqltypes.NCHAR)
        length = column_type.length
        expects = f"text of at most {length:,} characters" if length else "text"
        # SQLAlchemy's Uuid is CHAR(32) on SQLite, reflected as such, and
        # SQLite stores UUID text of any length in it.
        uuid_text = padded and length == 32 and dialect == "sqlite"
        return _identity, _text_canonical(padded), expects, _judge_text(length, uuid_text)
    if isinstance(column_type, sqltypes.LargeBinary):
        return _identity, _strict, "binary data (!!binary) or text", _judge_binary
    return _identity, _strict, "any value", _fits_anything


# -- what each type accepts ----------------------------------------------------

_SAMPLE_UUID = "6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


# A number with an exponent that YAML 1.1 reads as text: it wants a dot in
# the mantissa and a sign in the exponent (1.0e+3); 1e3 stays a string.
_TEXT_EXPONENT = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+")


def _quoted_number(value: str) -> str | None:
    """The hint for a number that reached YAML as text, when ``value`` is one."""
    if _TEXT_EXPONENT.fullmatch(value.strip()):
        return (
            f"got {show(value)}, which YAML reads as text; write the exponent with a dot and "
            f"a sign, like 1.0e+3"
        )
    try:
        float(value)
    except ValueError:
        return None
    if not any(character.isdigit() for character in value):
        return None  # "nan", "inf": words, not a number someone quoted
    return f"got {show(value)}, which is quoted text; remove the quotes"


# What YAML 1.1 reads as a boolean when unquoted.
_BOOLEAN_WORDS = frozenset(("true", "false", "yes", "no", "on", "off"))


def _judge_boolean(value: Any) -> str | None:
    if isinstance(value, bool) or (_is_number(value) and value in (0, 1)):
        return None
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return f"got {show(value)}, which is quoted text; remove the quotes"
    return _kind_of(value)


def integer_range(column_type: TypeEngine[Any]) -> tuple[int, int]:
    """The values the declared type holds, as PostgreSQL and MySQL enforce them.

    SQLite stores any 64-bit integer whatever the declared type; holding it to
    the declared range anyway means a file that passes in development on
    SQLite also passes in production.
    """
    name = type(column_type).__name__.upper()
    if name == "TINYINT":
        bits = 8
    elif name == "MEDIUMINT":
        bits = 24
    elif isinstance(column_type, sqltypes.SmallInteger):
        bits = 16
    elif isinstance(column_type, sqltypes.BigInteger):
        bits = 64
    else:
        bits = 32
    if getattr(column_type, "unsigned", False):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _is_integral(value: float | decimal.Decimal) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return value.is_finite() and value == value.to_integral_value()


def _judge_integer(low: int, high: int) -> Judge:
    def judge(value: Any) -> str | None:
        if isinstance(value, float | decimal.Decimal) and _is_integral(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if low <= value <= high:
                return None
            return f"got {value}, outside the column's range of {low} to {high}"
        if isinstance(value, float | decimal.Decimal):
            return f"got {show(value)}"
        if isinstance(value, bool):
            return f"got {show(value)}, a boolean; write 1 or 0 if a number is meant"
        if isinstance(value, str):
            return _quoted_number(value) or _kind_of(value)
        return _kind_of(value)

    return judge


# Beyond this, a single-precision (REAL) column overflows.
_FLOAT32_MAX = 3.4028234663852886e38


def _judge_float(single: bool) -> Judge:
    def judge(value: Any) -> str | None:
        if not _is_number(value):
            if isinstance(value, str):
                return _quoted_number(value) or _kind_of(value)
            return _kind_of(value)
        if not math.isfinite(value):
            return f"got {show(value)}, which not every database can store; write a finite number"
        if single and abs(value) > _FLOAT32_MAX:
            return f"got {show(value)}, beyond single precision (about 3.4e38)"
        return None

    return judge


def _numeric_expects(precision: int | None, scale: int | None) -> str:
    if precision is None:
        return "a number"
    scale = scale or 0
    if scale == 0:
        return f"a whole number of at most {precision} digits"
    return (
        f"a number of at most {precision - scale} digits before the decimal point and "
        f"{scale} after it"
    )


def _judge_numeric(precision: int | None, scale: int | None) -> Judge:
    def judge(value: Any) -> str | None:
        if not _is_number(value):
            if isinstance(value, str):
                return _quoted_number(value) or _kind_of(value)
            return _kind_of(value)
        number = _to_decimal(value)
        if not number.is_finite():
            return f"got {show(value)}, which not every database can store; write a finite number"
        if precision is None:
            return None
        places = scale or 0
        _, digit_tuple, exponent = number.as_tuple()
        assert isinstance(exponent, int)  # finite
        digits = list(digit_tuple)
        # Trailing zeros after the point are no precision (0.20 is 0.2); not
        # normalize(), which would round to the context's 28 digits.
        while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
            digits.pop()
            exponent += 1
        decimals = max(0, -exponent)
        if decimals > places:
            # PostgreSQL and MySQL round silently; every later sync would then
            # see the file and the table differ.
            return f"got {show(value)}, which the database would round"
        whole_digits = max(0, len(digits) + exponent)
        if whole_digits > precision - places:
            return f"got {show(value)}, which has {whole_digits} digits before the decimal point"
        return None

    return judge


def _judge_parsed(kind: type, parse: Callable[[str], Any]) -> Judge:
    def judge(value: Any) -> str | None:
        if isinstance(value, kind):
            return None
        if isinstance(value, str):
            try:
                parse(value.strip())
            except ValueError:
                return _kind_of(value)
            return None
        return _kind_of(value)

    return judge


def _judge_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return None
        return f"got {show(value)}, which has a time of day; the column keeps only the date"
    return _judge_parsed(dt.date, dt.date.fromisoformat)(value)


_judge_datetime = _judge_parsed(dt.date, dt.datetime.fromisoformat)  # a date is its midnight
_judge_time = _judge_parsed(dt.time, dt.time.fromisoformat)


def _judge_uuid(value: Any) -> str | None:
    return _judge_parsed(uuid.UUID, uuid.UUID)(value)


def _judge_enum(allowed: list[str]) -> Judge:
    def judge(value: Any) -> str | None:
        return None if isinstance(value, str) and value in allowed else _kind_of(value)

    return judge


def _judge_text(length: int | None, takes_uuid_text: bool) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, str):
            return _kind_of(value)
        if length and len(value) > length:
            if takes_uuid_text and _judge_uuid(value) is None:
                return None
            return f"got {len(value):,} characters; shorten it, or widen the column in a migration"
        return None

    return judge


def _judge_binary(value: Any) -> str | None:
    return None if isinstance(value, bytes | str) else _kind_of(value)


def _judge_array(item: ValueRule) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, list):
            return _kind_of(value)
        # PostgreSQL arrays may have several dimensions: lists of lists of items.
        pending = [(str(number), element) for number, element in enumerate(value, 1)]
        while pending:
            where, element = pending.pop(0)
            if isinstance(element, list) and item.judge(element) is not None:
                pending[:0] = [(f"{where}.{n}", e) for n, e in enumerate(element, 1)]
            elif element is not None and item.judge(element) is not None:
                return f"but item {where} is {show(element)}"
        return None

    return judge


def _judge_json(value: Any) -> str | None:
    """None when ``value`` is made of what JSON holds; else the first part that is not."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        where, part = pending.pop()
        if part is None or isinstance(part, bool | int | str):
            continue
        if isinstance(part, float):
            if math.isfinite(part):
                continue
            return _json_complaint(where, f"{show(part)}, which JSON cannot hold")
        if isinstance(part, list):
            pending.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(part))))
            continue
        if isinstance(part, dict):
            for key, item in reversed(list(part.items())):
                if not isinstance(key, str):
                    return _json_complaint(
                        where,
                        f"a mapping with the key {show(key)}, and JSON keys are text; quote it",
                    )
                pending.append((f"{where}.{key}" if where else key, item))
            continue
        return _json_complaint(where, f"{yaml_reading(part, '')}, which JSON cannot hold; quote it")
    return None


def _json_complaint(where: str, what: str) -> str:
    return f"but {where} is {what}" if where else f"got {what}"
