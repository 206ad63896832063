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

The table (`rule_for`) is here; its parts live next door: `conversions`
(written, compared, read raw) and `judges` (what each type accepts, including
what the column would not keep as written: more decimals or fractional seconds
than it keeps, a decimal SQLite's float cannot hold, a character its character
set lacks).  A type with no rule here (PostgreSQL ``inet``, ``interval``,
ranges, ``money``...) is compared through the database's own reading of the
file's values (``by_database``, see `database_forms`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from .conversions import (
    Convert,
    Unreadable,
    array_canonical,
    array_to_db,
    as_float32,
    as_stored_by_sqlite,
    binary_from_raw,
    comparable,
    datetime_canonical,
    decimal_from_raw,
    enum_from_raw,
    exact_decimal,
    float_as_double,
    identity,
    json_canonical,
    json_from_raw,
    null_safe,
    parsed_from_raw,
    set_canonical,
    set_to_db,
    strict,
    text_canonical,
    text_input,
    then,
    time_from_raw,
    to_boolean,
    to_bytes,
    to_date,
    to_datetime,
    to_decimal,
    to_float,
    to_integer,
    to_time,
    to_uuid,
    uuid_as_hex,
    zero_padded,
)
from .display import show
from .judges import (
    SAMPLE_UUID,
    Judge,
    fits_anything,
    judge_array,
    judge_binary,
    judge_boolean,
    judge_date,
    judge_datetime,
    judge_enum,
    judge_float,
    judge_integer,
    judge_json,
    judge_mariadb_uuid,
    judge_moment,
    judge_numeric,
    judge_set,
    judge_text,
    judge_time,
    judge_uuid,
    numeric_expects,
    storable_characters,
)
from .yaml11 import misread_number, surprising, yaml_reading

__all__ = [
    "Convert",
    "Judge",
    "Unreadable",
    "ValueRule",
    "integer_range",
    "is_mysql_boolean",
    "rule_for",
]

#: How a column is selected when not as itself: column expression -> expression.
Selection = Callable[[Any], Any]


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
    judge: Judge = fits_anything
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


def rule_for(column_type: TypeEngine[Any], dialect: str) -> ValueRule:
    """The `ValueRule` for a column of ``column_type`` on the ``dialect`` (its name).

    ``dialect`` may be empty when there is no database (validating against
    ``target_metadata``): the rules are then the declared type's.
    """
    rule = _rule(column_type, dialect)
    return replace(
        rule,
        to_db=null_safe(rule.to_db),
        canonical=comparable(rule.canonical),
        from_raw=None if rule.from_raw is None else null_safe(rule.from_raw),
    )


def _rule(column_type: TypeEngine[Any], dialect: str) -> ValueRule:
    # The one table of column-type rules.  Order matters: Float is a Numeric,
    # Enum, SET and CHAR are Strings, MySQL's BOOLEAN is an integer type.
    mysql_family = dialect in ("mysql", "mariadb")
    if isinstance(column_type, sqltypes.Boolean) or is_mysql_boolean(column_type, dialect):
        return ValueRule(to_boolean, then(to_boolean, strict), "true or false", judge_boolean)
    if isinstance(column_type, sqltypes.Integer):
        low, high = integer_range(column_type)
        return ValueRule(
            to_integer, then(to_integer, strict), "a whole number", judge_integer(low, high)
        )
    if isinstance(column_type, sqltypes.Float):
        single = _is_single_precision(column_type, dialect)
        canonical = then(as_float32 if single else to_float, strict)
        # MySQL returns a FLOAT with 6 significant digits: read the exact value,
        # and refuse one that would come back to the application as another.
        six_digits = single and mysql_family
        # MySQL's FLOAT(M,D) and DOUBLE(M,D) round to D decimals.
        places = getattr(column_type, "scale", None) if mysql_family else None
        return ValueRule(
            to_float,
            canonical,
            "a number",
            judge_float(single, six_digits, places),
            selection=float_as_double if six_digits else None,
        )
    if isinstance(column_type, sqltypes.Numeric):
        precision, scale = column_type.precision, column_type.scale
        as_float = dialect == "sqlite"
        return ValueRule(
            to_decimal,
            then(as_stored_by_sqlite if as_float else to_decimal, strict),
            numeric_expects(precision, scale),
            judge_numeric(precision, scale, as_float),
            exact=exact_decimal,
            from_raw=decimal_from_raw,
        )
    if isinstance(column_type, sqltypes.DateTime):
        to_db = to_datetime(bool(getattr(column_type, "timezone", False)))
        kept = _kept_fraction_digits(column_type, dialect)
        return ValueRule(
            to_db,
            datetime_canonical(to_db),
            "a date and time (YYYY-MM-DD HH:MM:SS)",
            judge_moment(judge_datetime, to_db, kept),
            from_raw=parsed_from_raw(dt.datetime, to_db),
        )
    if isinstance(column_type, sqltypes.Date):
        return ValueRule(
            to_date,
            then(to_date, strict),
            "a date (YYYY-MM-DD)",
            judge_date,
            from_raw=parsed_from_raw(dt.date, to_date),
        )
    if isinstance(column_type, sqltypes.Time):
        to_db = to_time(bool(getattr(column_type, "timezone", False)))
        kept = _kept_fraction_digits(column_type, dialect)
        return ValueRule(
            to_db,
            then(to_db, strict),
            "a time of day (HH:MM:SS)",
            judge_moment(judge_time, to_db, kept),
            from_raw=time_from_raw(to_db),
        )
    if isinstance(column_type, sqltypes.JSON):
        return ValueRule(
            identity,
            json_canonical(exact_integers=dialect == "sqlite"),
            "a value JSON can hold",
            judge_json,
            from_raw=json_from_raw,
        )
    if isinstance(column_type, sqltypes.ARRAY | postgresql.ARRAY):
        item = rule_for(column_type.item_type, dialect)
        return ValueRule(
            array_to_db(item.to_db),
            array_canonical(item.canonical),
            f"a list, each item {item.expects}",
            judge_array(item.judge),
            by_database=item.by_database,
        )
    if isinstance(column_type, sqltypes.Uuid):
        return ValueRule(
            to_uuid,
            then(to_uuid, strict),
            f"a UUID such as {SAMPLE_UUID!r}",
            judge_mariadb_uuid if mysql_family else judge_uuid,
        )
    if isinstance(column_type, sqltypes.Enum) and column_type.enums:
        allowed = list(column_type.enums)
        return ValueRule(
            identity,
            text_canonical(False),
            "one of " + ", ".join(map(repr, allowed)),
            judge_enum(allowed),
            from_raw=enum_from_raw(allowed),
        )
    if isinstance(column_type, mysql.SET):
        allowed = list(column_type.values)
        return ValueRule(
            set_to_db,
            set_canonical,
            "members of " + ", ".join(map(repr, allowed)) + ", as 'a,b' or a list",
            judge_set(allowed),
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
            uuid_as_hex if uuid_text else identity,
            then(uuid_as_hex, text_canonical(padded)) if uuid_text else text_canonical(padded),
            expects,
            judge_text(length, uuid_text, storable_characters(charset)),
        )
    if isinstance(column_type, sqltypes.LargeBinary | sqltypes.BINARY | sqltypes.VARBINARY):
        # BINARY(n) and VARBINARY(n) hold at most n bytes; MySQL pads BINARY(n) with zero bytes.
        limit = None if isinstance(column_type, sqltypes.LargeBinary) else column_type.length
        padded = isinstance(column_type, sqltypes.BINARY) and mysql_family
        return ValueRule(
            to_bytes,
            then(to_bytes, zero_padded(limit) if padded and limit else strict),
            "binary data (!!binary) or text (written as its UTF-8 bytes)",
            judge_binary(limit),
            from_raw=binary_from_raw,
        )
    if isinstance(column_type, sqltypes.NullType):
        return ValueRule(identity, strict)  # a type SQLAlchemy does not know: nothing to go by
    if dialect == "postgresql":
        # PostgreSQL can read any value of any type (CAST); nothing else here can.
        return ValueRule(text_input, strict, by_database=True)
    return ValueRule(identity, strict)


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
