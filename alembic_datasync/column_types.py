"""The column-type rules: how a value is checked, written and compared, per column type.

Every column gets a `ValueRule` from `rule_for`: ``to_db`` turns a value read
from YAML into what is written to the column, ``canonical`` turns either
side (file or database) into a hashable value that compares equal exactly when
the database would hold the same thing, and ``problem`` says what is wrong
with a value the column cannot hold (the validator's type check), so that a
type's rules for writing, comparing and refusing live side by side.

``canonical`` is what makes an unchanged file plan no updates: ``0.2`` equals
a ``Numeric`` column's ``Decimal('0.20')``, ``true`` equals MySQL's
``TINYINT(1)`` 1, a ``CHAR`` column's padding is not a change, JSON numbers
compare by value, and a datetime is compared in the time zone the column keeps.

The judges refuse what the column would not keep as written (a value the
database would round, truncate or turn into another one), so that after a
sync the next plan is empty: a decimal with more places than the column's
scale, a time with more fractional digits than the column keeps, a decimal
SQLite's 64-bit float cannot hold, a MySQL ``FLOAT`` the server would return
rounded, a character a MySQL ``utf8mb3`` column cannot store.  A type with no
rule here (PostgreSQL ``inet``, ``interval``, ranges, ``money``...) is
compared through the database's own reading of the file's values
(``by_database``, see `database_forms`).
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
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import literal_column, type_coerce
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from .display import show
from .yaml11 import misread_number, surprising, yaml_reading

Convert = Callable[[Any], Any]

#: A value's fit to a column: None when it fits, else what is wrong, phrased to
#: follow "<column> expects <what>, " (e.g. "got 1.5").
Judge = Callable[[Any], "str | None"]

#: How a column is selected when not as itself: column expression -> expression.
Selection = Callable[[Any], Any]


def _fits_anything(value: Any) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A value of the table that the database driver could not read, kept as its raw text.

    It equals no value a file can write, so the sync writes the file's value
    over it; the plan shows it as its text.
    """

    text: str

    def __repr__(self) -> str:
        return f"{self.text!r} (unreadable)"


@dataclass(frozen=True, slots=True)
class ValueRule:
    """How one column's values are checked, written, read and compared.

    ``expects`` names what the column holds, as messages say it ("a whole
    number"); ``judge`` tells a value that does not fit from one that does.

    ``exact`` gives the value the file means where YAML read an unquoted
    scalar as something less exact: a ``Numeric`` column takes the digits of
    ``1.000000000000000001`` as written, not the float YAML made of them.
    ``from_raw`` reads the value a driver gives without its type's conversion
    (or PostgreSQL's text of it), for a table whose values the driver could
    not read (`reading`): the typed value, or `Unreadable`.  ``selection`` is
    how the column is selected when not as itself (a MySQL ``FLOAT`` as the
    double it holds).  ``by_database``: no Python rule compares this type;
    the database's reading of the file's values does (`database_forms`).
    """

    to_db: Convert
    canonical: Convert
    expects: str = "any value"
    judge: Judge = _fits_anything
    exact: Callable[[Any, str], Any] | None = None
    from_raw: Convert | None = None
    selection: Selection | None = None
    by_database: bool = False

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


def _comparable(convert: Convert) -> Convert:
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


def _shortest_float32(value: Any) -> Any:
    """The shortest decimal of the same single-precision value: 0.2, not 0.2000000029."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    for digits in range(6, 10):
        shorter = float(f"{value:.{digits}g}")
        if _as_float32(shorter) == value:
            return shorter
    return value


class _SingleFloat(sqltypes.TypeDecorator[float]):
    """A single-precision value read as the double it is, shown as its shortest decimal."""

    impl = sqltypes.Float
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return _shortest_float32(value)


def _float_as_double(column: Any) -> Any:
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


def _exact_decimal(value: Any, text: str) -> Any:
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


def _to_decimal(value: Any) -> Any:
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


def _as_stored_by_sqlite(value: Any) -> Any:
    """The decimal SQLite gives back: it keeps a NUMERIC as a 64-bit float (or an integer)."""
    value = _to_decimal(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return decimal.Decimal(repr(float(value)))
    return value


def _decimal_from_raw(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | int | float) and not isinstance(value, bool):
        return _to_decimal(value)
    if isinstance(value, str):
        try:
            return decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return _unreadable(value)
    return _unreadable(value)


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


# An offset of hours alone, as PostgreSQL writes a timetz ("10:30:00+00").
_HOURS_OFFSET = re.compile(r"([-+][0-9]{2})$")


def _time_of_text(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return dt.time.fromisoformat(_HOURS_OFFSET.sub(r"\1:00", text))


_date_from_text = _parse_iso(dt.date.fromisoformat)
_time_from_text = _parse_iso(_time_of_text)
_datetime_from_text = _parse_iso(dt.datetime.fromisoformat)


def _date(value: Any) -> Any:
    value = _date_from_text(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _datetime_rule(timezone: bool) -> Convert:
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


def _datetime_canonical(to_db: Convert) -> Convert:
    def convert(value: Any) -> Any:
        value = to_db(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.timezone.utc)
        return _strict(value)

    return convert


def _time_rule(timezone: bool) -> Convert:
    def convert(value: Any) -> Any:
        value = _time_from_text(value)
        if timezone and isinstance(value, dt.time) and value.tzinfo is None:
            # As for datetimes: a naive time in a time-zone-aware column is UTC.
            return value.replace(tzinfo=dt.timezone.utc)
        return value

    return convert


def _parsed_from_raw(kind: type, to_db: Convert) -> Convert:
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


def _time_from_raw(to_db: Convert) -> Convert:
    """A raw time: MySQL's driver gives a TIME as the interval it is (negative, or past 24h)."""
    read = _parsed_from_raw(dt.time, to_db)

    def convert(value: Any) -> Any:
        if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
            return to_db((dt.datetime.min + value).time())
        return read(value)

    return convert


def _kept_fraction_digits(column_type: TypeEngine[Any], dialect: str) -> int:
    """Digits after the seconds a time or timestamp column keeps (MySQL: 0 by default)."""
    fsp = getattr(column_type, "fsp", None)  # MySQL's DATETIME(3), TIME(3)
    if fsp is not None:
        return int(fsp)
    precision = getattr(column_type, "precision", None)  # PostgreSQL's TIMESTAMP(3)
    if isinstance(precision, int):
        return precision
    mysql_types = (mysql.DATETIME, mysql.TIME, mysql.TIMESTAMP)
    if dialect in ("mysql", "mariadb") or isinstance(column_type, mysql_types):
        return 0
    return 6


def _fraction_complaint(value: Any, kept: int) -> str | None:
    """Why a time with more fractional digits than the column keeps is refused; else None."""
    if kept >= 6 or not isinstance(value, dt.time | dt.datetime):
        return None
    if value.microsecond % 10 ** (6 - kept) == 0:
        return None
    if kept == 0:
        return (
            f"got {show(value)}, with a fraction of a second the column does not keep (the "
            f"database would round or cut it); write whole seconds, or give the column "
            f"fractional seconds in a migration"
        )
    return (
        f"got {show(value)}, with more digits after the seconds than the {kept} the column "
        f"keeps (the database would round or cut it); write at most {kept}"
    )


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


def _uuid_as_hex(value: Any) -> Any:
    """UUID text as the 32 hex digits SQLAlchemy's ``Uuid`` keeps in SQLite's CHAR(32)."""
    if isinstance(value, str) and len(value) > 32:
        try:
            return uuid.UUID(value).hex
        except ValueError:
            return value
    return value


def _binary(value: Any) -> Any:
    """Bytes as written (``!!binary``); text as its UTF-8 bytes."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def _zero_padded(length: int) -> Convert:
    def convert(value: Any) -> Any:
        return value.ljust(length, b"\0") if isinstance(value, bytes) else _strict(value)

    return convert


def _binary_from_raw(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str) and value.startswith("\\x"):  # PostgreSQL's text of a bytea
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return _unreadable(value)
    return _unreadable(value)


def _json_canonical(exact_integers: bool) -> Convert:
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


def _json_from_raw(value: Any) -> Any:
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


def _array_to_db(item: Convert) -> Convert:
    """Each item (at any depth) as its type writes it: [0, 0.5, 1] in float8[] is all floats."""

    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return item(value)

    return convert


def _array_canonical(item: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(convert(v) if isinstance(v, list | tuple) else item(v) for v in value)
        return _strict(value)

    return convert


def _enum_from_raw(allowed: list[str]) -> Convert:
    def convert(value: Any) -> Any:
        return value if isinstance(value, str) and value in allowed else _unreadable(value)

    return convert


def _set_members(value: Any) -> list[Any] | None:
    """The members a MySQL SET value names: 'read,write', a list, or the set MySQL returns."""
    if isinstance(value, str):
        return [member for member in value.split(",") if member]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return None


def _set_to_db(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ",".join(str(member) for member in value)
    return value


def _set_canonical(value: Any) -> Any:
    members = _set_members(value)
    return _strict(value) if members is None else frozenset(members)


def _then(first: Convert, second: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return second(first(value))

    return convert


def _text_input(value: Any) -> Any:
    """A number as text: PostgreSQL reads text with the column type's own input (money, inet...)."""
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return str(value)
    return value


# -- the table -----------------------------------------------------------------


def rule_for(column_type: TypeEngine[Any], dialect: str) -> ValueRule:
    """The `ValueRule` for a column of ``column_type`` on the ``dialect`` (its name).

    ``dialect`` may be empty when there is no database (validating against
    ``target_metadata``): the rules are then the declared type's.
    """
    rule = _rule(column_type, dialect)
    return replace(
        rule,
        to_db=_null_safe(rule.to_db),
        canonical=_comparable(rule.canonical),
        from_raw=None if rule.from_raw is None else _null_safe(rule.from_raw),
    )


def _rule(column_type: TypeEngine[Any], dialect: str) -> ValueRule:
    # The one table of column-type rules.  Order matters: Float is a Numeric,
    # Enum, SET and CHAR are Strings, MySQL's BOOLEAN is an integer type.
    mysql_family = dialect in ("mysql", "mariadb")
    if isinstance(column_type, sqltypes.Boolean) or _is_mysql_boolean(column_type, dialect):
        return ValueRule(_boolean, _then(_boolean, _strict), "true or false", _judge_boolean)
    if isinstance(column_type, sqltypes.Integer):
        low, high = _integer_range(column_type)
        return ValueRule(
            _integer, _then(_integer, _strict), "a whole number", _judge_integer(low, high)
        )
    if isinstance(column_type, sqltypes.Float):
        single = _is_single_precision(column_type, dialect)
        canonical = _then(_as_float32 if single else _to_float, _strict)
        # MySQL returns a FLOAT with 6 significant digits: read the exact value,
        # and refuse one that would come back to the application as another.
        six_digits = single and mysql_family
        # MySQL's FLOAT(M,D) and DOUBLE(M,D) round to D decimals.
        places = getattr(column_type, "scale", None) if mysql_family else None
        return ValueRule(
            _to_float,
            canonical,
            "a number",
            _judge_float(single, six_digits, places),
            selection=_float_as_double if six_digits else None,
        )
    if isinstance(column_type, sqltypes.Numeric):
        precision, scale = column_type.precision, column_type.scale
        as_float = dialect == "sqlite"
        return ValueRule(
            _to_decimal,
            _then(_as_stored_by_sqlite if as_float else _to_decimal, _strict),
            _numeric_expects(precision, scale),
            _judge_numeric(precision, scale, as_float),
            exact=_exact_decimal,
            from_raw=_decimal_from_raw,
        )
    if isinstance(column_type, sqltypes.DateTime):
        to_db = _datetime_rule(bool(getattr(column_type, "timezone", False)))
        kept = _kept_fraction_digits(column_type, dialect)
        return ValueRule(
            to_db,
            _datetime_canonical(to_db),
            "a date and time (YYYY-MM-DD HH:MM:SS)",
            _judge_moment(_judge_datetime, to_db, kept),
            from_raw=_parsed_from_raw(dt.datetime, to_db),
        )
    if isinstance(column_type, sqltypes.Date):
        return ValueRule(
            _date,
            _then(_date, _strict),
            "a date (YYYY-MM-DD)",
            _judge_date,
            from_raw=_parsed_from_raw(dt.date, _date),
        )
    if isinstance(column_type, sqltypes.Time):
        to_db = _time_rule(bool(getattr(column_type, "timezone", False)))
        kept = _kept_fraction_digits(column_type, dialect)
        return ValueRule(
            to_db,
            _then(to_db, _strict),
            "a time of day (HH:MM:SS)",
            _judge_moment(_judge_time, to_db, kept),
            from_raw=_time_from_raw(to_db),
        )
    if isinstance(column_type, sqltypes.JSON):
        return ValueRule(
            _identity,
            _json_canonical(exact_integers=dialect == "sqlite"),
            "a value JSON can hold",
            _judge_json,
            from_raw=_json_from_raw,
        )
    if isinstance(column_type, sqltypes.ARRAY | postgresql.ARRAY):
        item = rule_for(column_type.item_type, dialect)
        return ValueRule(
            _array_to_db(item.to_db),
            _array_canonical(item.canonical),
            f"a list, each item {item.expects}",
            _judge_array(item),
            by_database=item.by_database,
        )
    if isinstance(column_type, sqltypes.Uuid):
        return ValueRule(
            _uuid,
            _then(_uuid, _strict),
            f"a UUID such as {_SAMPLE_UUID!r}",
            _judge_mariadb_uuid if mysql_family else _judge_uuid,
        )
    if isinstance(column_type, sqltypes.Enum) and column_type.enums:
        allowed = list(column_type.enums)
        return ValueRule(
            _identity,
            _text_canonical(False),
            "one of " + ", ".join(map(repr, allowed)),
            _judge_enum(allowed),
            from_raw=_enum_from_raw(allowed),
        )
    if isinstance(column_type, mysql.SET):
        allowed = list(column_type.values)
        return ValueRule(
            _set_to_db,
            _set_canonical,
            "members of " + ", ".join(map(repr, allowed)) + ", as 'a,b' or a list",
            _judge_set(allowed),
        )
    if isinstance(column_type, sqltypes.String):
        padded = isinstance(column_type, sqltypes.CHAR | sqltypes.NCHAR)
        length = column_type.length
        expects = f"text of at most {length:,} characters" if length else "text"
        # SQLAlchemy's Uuid is CHAR(32) on SQLite, reflected as such; the
        # model's type looks for the 32 hex digits, so UUID text is written so.
        uuid_text = padded and length == 32 and dialect == "sqlite"
        charset = getattr(column_type, "charset", None) if mysql_family else None
        return ValueRule(
            _uuid_as_hex if uuid_text else _identity,
            _then(_uuid_as_hex, _text_canonical(padded)) if uuid_text else _text_canonical(padded),
            expects,
            _judge_text(length, uuid_text, _storable_characters(charset)),
        )
    if isinstance(column_type, sqltypes.LargeBinary | sqltypes.BINARY | sqltypes.VARBINARY):
        # BINARY(n) and VARBINARY(n) hold at most n bytes; MySQL pads BINARY(n) with zero bytes.
        limit = None if isinstance(column_type, sqltypes.LargeBinary) else column_type.length
        padded = isinstance(column_type, sqltypes.BINARY) and mysql_family
        return ValueRule(
            _binary,
            _then(_binary, _zero_padded(limit) if padded and limit else _strict),
            "binary data (!!binary) or text (written as its UTF-8 bytes)",
            _judge_binary(limit),
            from_raw=_binary_from_raw,
        )
    if isinstance(column_type, sqltypes.NullType):
        return ValueRule(_identity, _strict)  # a type SQLAlchemy does not know: nothing to go by
    if dialect == "postgresql":
        # PostgreSQL can read any value of any type (CAST); nothing else here can.
        return ValueRule(_text_input, _strict, by_database=True)
    return ValueRule(_identity, _strict)


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


def _integer_range(column_type: TypeEngine[Any]) -> tuple[int, int]:
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


def _judge_float(single: bool, six_digits: bool, places: int | None) -> Judge:
    def judge(value: Any) -> str | None:
        if not _is_number(value):
            if isinstance(value, str):
                return _quoted_number(value) or _kind_of(value)
            return _kind_of(value)
        if not math.isfinite(value):
            return f"got {show(value)}, which not every database can store; write a finite number"
        if single and abs(value) > _FLOAT32_MAX:
            return f"got {show(value)}, beyond single precision (about 3.4e38)"
        if places is not None and _decimal_places(_to_decimal(value)) > places:
            return (
                f"got {show(value)}, which the database would round to {places} decimal "
                f"place{'s' if places != 1 else ''}"
            )
        if six_digits:
            returned = float(f"{_as_float32(value):.6g}")
            if returned != value:
                return (
                    f"got {show(value)}, which the column would return as {show(returned)} (a "
                    f"single-precision FLOAT comes back with 6 significant digits); write at "
                    f"most 6, or make the column DOUBLE in a migration"
                )
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


def _judge_numeric(precision: int | None, scale: int | None, as_float: bool) -> Judge:
    def judge(value: Any) -> str | None:
        number = _to_decimal(value) if isinstance(value, str) else value
        if not _is_number(number):
            return _kind_of(value)
        number = _to_decimal(number)
        if not number.is_finite():
            return f"got {show(value)}, which not every database can store; write a finite number"
        if precision is not None:
            complaint = _beyond_precision(number, precision, scale or 0)
            if complaint is not None:
                return complaint
        if as_float:
            stored = _as_stored_by_sqlite(number)
            if stored != number:
                return (
                    f"got {show(number)}, which SQLite would keep as {show(stored)}: it stores a "
                    f"NUMERIC as a 64-bit float, exact to about 15 significant digits; write "
                    f"fewer digits"
                )
        return None

    return judge


def _decimal_places(number: decimal.Decimal) -> int:
    """Digits after the point, trailing zeros aside (0.20 has one)."""
    exponent = number.normalize(decimal.Context(prec=100)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _beyond_precision(number: decimal.Decimal, precision: int, places: int) -> str | None:
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
        return f"got {show(number)}, which the database would round"
    whole_digits = max(0, len(digits) + exponent)
    if whole_digits > precision - places:
        return f"got {show(number)}, which has {whole_digits} digits before the decimal point"
    return None


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
_judge_time = _judge_parsed(dt.time, _time_of_text)


def _judge_moment(parsed: Judge, to_db: Convert, kept: int) -> Judge:
    """A time or timestamp's judge, refusing more fractional digits than the column keeps."""
    if kept >= 6:
        return parsed

    def judge(value: Any) -> str | None:
        return parsed(value) or _fraction_complaint(to_db(value), kept)

    return judge


def _judge_uuid(value: Any) -> str | None:
    return _judge_parsed(uuid.UUID, uuid.UUID)(value)


def _judge_mariadb_uuid(value: Any) -> str | None:
    """MariaDB's UUID type refuses a version digit of 8 or more with a variant digit below 8."""
    complaint = _judge_uuid(value)
    if complaint is not None:
        return complaint
    number = _uuid(value)
    if isinstance(number, uuid.UUID) and number.bytes[6] >= 0x80 and number.bytes[8] < 0x80:
        return (
            f"got {show(str(number))}, which MariaDB's UUID type refuses (a version digit of "
            f"8 or more with a variant digit below 8); use a standard UUID, such as uuid4's"
        )
    return None


def _judge_enum(allowed: list[str]) -> Judge:
    def judge(value: Any) -> str | None:
        return None if isinstance(value, str) and value in allowed else _kind_of(value)

    return judge


def _judge_set(allowed: list[str]) -> Judge:
    def judge(value: Any) -> str | None:
        members = _set_members(value) if not isinstance(value, set | frozenset) else None
        if members is None:
            return _kind_of(value)
        for member in members:
            if not isinstance(member, str) or member not in allowed:
                return f"got {show(value)}, and {show(member)} is not a member"
        return None

    return judge


def _storable_characters(charset: str | None) -> Callable[[str], str | None] | None:
    """For a MySQL column's character set, what finds a character it cannot store; else None.

    MySQL stores such a character as '?' (outside strict mode) or refuses the row.
    """
    if charset is None:
        return None
    charset = charset.lower()
    if charset in ("utf8", "utf8mb3", "ucs2"):
        return _beyond_basic_plane
    codec = {"latin1": "cp1252", "ascii": "ascii"}.get(charset)
    if codec is None:
        return None

    def first_unencodable(text: str) -> str | None:
        try:
            text.encode(codec)
        except UnicodeEncodeError as error:
            return text[error.start]
        return None

    return first_unencodable


_BASIC_PLANE = re.compile("[\U00010000-\U0010ffff]")


def _beyond_basic_plane(text: str) -> str | None:
    found = _BASIC_PLANE.search(text)
    return None if found is None else found.group()


def _judge_text(
    length: int | None,
    takes_uuid_text: bool,
    unstorable: Callable[[str], str | None] | None,
) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, str):
            return _kind_of(value)
        too_long = length and len(value) > length
        if too_long and not (takes_uuid_text and _judge_uuid(value) is None):
            return f"got {len(value):,} characters; shorten it, or widen the column in a migration"
        if unstorable is not None:
            character = unstorable(value)
            if character is not None:
                return (
                    f"got {show(value)}, whose {character!r} (U+{ord(character):04X}) the "
                    f"column's character set cannot store; convert the column to utf8mb4 in a "
                    f"migration, or leave the character out"
                )
        return None

    return judge


def _judge_binary(limit: int | None) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, bytes | str):
            return _kind_of(value)
        size = len(_binary(value))
        if limit is not None and size > limit:
            return (
                f"got {size:,} bytes, and the column holds at most {limit:,}; shorten it, or "
                f"widen the column in a migration"
            )
        return None

    return judge


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
