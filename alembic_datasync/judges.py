"""What each column type accepts: the judges of the column-type rules.

A judge says what is wrong with a value for its column (None when it fits),
phrased to follow "<column> expects <what>, ": ``got 1.5``, ``got 0.125, which
the database would round``.  Besides the type itself, a judge refuses what the
column would not keep as written, so that after a sync the next plan is
empty: more decimals or fractional seconds than the column keeps, a decimal
SQLite's 64-bit float cannot hold, a MySQL ``FLOAT`` the server would return
rounded, a character the column's character set cannot store.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from .conversions import (
    Convert,
    as_float32,
    as_stored_by_sqlite,
    set_members,
    time_of_text,
    to_bytes,
    to_decimal,
    to_uuid,
)
from .display import show
from .yaml11 import yaml_reading

#: A value's fit to a column: None when it fits, else what is wrong, phrased to
#: follow "<column> expects <what>, " (e.g. "got 1.5").
Judge = Callable[[Any], "str | None"]


def fits_anything(value: Any) -> str | None:
    return None


def _kind_of(value: Any) -> str:
    """``got ...`` for a value of the wrong kind, with a hint where a common slip explains it."""
    if isinstance(value, bool):
        return f"got {show(value)}, a boolean"
    return f"got {show(value)}"


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


SAMPLE_UUID = "6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718"


def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is float or kind is int:
        return True  # the common case, without isinstance's walk of a union
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


def judge_boolean(value: Any) -> str | None:
    if isinstance(value, bool) or (_is_number(value) and value in (0, 1)):
        return None
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return f"got {show(value)}, which is quoted text; remove the quotes"
    return _kind_of(value)


def _is_integral(value: float | decimal.Decimal) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return value.is_finite() and value == value.to_integral_value()


def judge_integer(low: int, high: int) -> Judge:
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


def judge_float(single: bool, six_digits: bool, places: int | None) -> Judge:
    def judge(value: Any) -> str | None:
        if not _is_number(value):
            if isinstance(value, str):
                return _quoted_number(value) or _kind_of(value)
            return _kind_of(value)
        if not math.isfinite(value):
            return f"got {show(value)}, which not every database can store; write a finite number"
        if single and abs(value) > _FLOAT32_MAX:
            return f"got {show(value)}, beyond single precision (about 3.4e38)"
        if places is not None and _decimal_places(to_decimal(value)) > places:
            return (
                f"got {show(value)}, which the database would round to {places} decimal "
                f"place{'s' if places != 1 else ''}"
            )
        if six_digits:
            returned = float(f"{as_float32(value):.6g}")
            if returned != value:
                return (
                    f"got {show(value)}, which the column would return as {show(returned)} (a "
                    f"single-precision FLOAT comes back with 6 significant digits); write at "
                    f"most 6, or make the column DOUBLE in a migration"
                )
        return None

    return judge


def numeric_expects(precision: int | None, scale: int | None) -> str:
    if precision is None:
        return "a number"
    scale = scale or 0
    if scale == 0:
        return f"a whole number of at most {precision} digits"
    return (
        f"a number of at most {precision - scale} digits before the decimal point and "
        f"{scale} after it"
    )


def judge_numeric(precision: int | None, scale: int | None, as_float: bool) -> Judge:
    def judge(value: Any) -> str | None:
        number = to_decimal(value) if isinstance(value, str) else value
        if not _is_number(number):
            return _kind_of(value)
        number = to_decimal(number)
        if not number.is_finite():
            return f"got {show(value)}, which not every database can store; write a finite number"
        if precision is not None:
            complaint = _beyond_precision(number, precision, scale or 0)
            if complaint is not None:
                return complaint
        if as_float:
            stored = as_stored_by_sqlite(number)
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


def judge_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return None
        return f"got {show(value)}, which has a time of day; the column keeps only the date"
    return _judge_parsed(dt.date, dt.date.fromisoformat)(value)


judge_datetime = _judge_parsed(dt.date, dt.datetime.fromisoformat)  # a date is its midnight
judge_time = _judge_parsed(dt.time, time_of_text)


def judge_moment(parsed: Judge, to_db: Convert, kept: int) -> Judge:
    """A time or timestamp's judge, refusing more fractional digits than the column keeps."""
    if kept >= 6:
        return parsed

    def judge(value: Any) -> str | None:
        return parsed(value) or _fraction_complaint(to_db(value), kept)

    return judge


def judge_uuid(value: Any) -> str | None:
    return _judge_parsed(uuid.UUID, uuid.UUID)(value)


def judge_mariadb_uuid(value: Any) -> str | None:
    """MariaDB's UUID type refuses a version digit of 8 or more with a variant digit below 8."""
    complaint = judge_uuid(value)
    if complaint is not None:
        return complaint
    number = to_uuid(value)
    if isinstance(number, uuid.UUID) and number.bytes[6] >= 0x80 and number.bytes[8] < 0x80:
        return (
            f"got {show(str(number))}, which MariaDB's UUID type refuses (a version digit of "
            f"8 or more with a variant digit below 8); use a standard UUID, such as uuid4's"
        )
    return None


def judge_enum(allowed: list[str]) -> Judge:
    def judge(value: Any) -> str | None:
        return None if isinstance(value, str) and value in allowed else _kind_of(value)

    return judge


def judge_set(allowed: list[str]) -> Judge:
    def judge(value: Any) -> str | None:
        members = set_members(value) if not isinstance(value, set | frozenset) else None
        if members is None:
            return _kind_of(value)
        for member in members:
            if not isinstance(member, str) or member not in allowed:
                return f"got {show(value)}, and {show(member)} is not a member"
        return None

    return judge


def storable_characters(charset: str | None) -> Callable[[str], str | None] | None:
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


def judge_text(
    length: int | None,
    takes_uuid_text: bool,
    unstorable: Callable[[str], str | None] | None,
) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, str):
            return _kind_of(value)
        too_long = length and len(value) > length
        if too_long and not (takes_uuid_text and judge_uuid(value) is None):
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


def judge_binary(limit: int | None) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, bytes | str):
            return _kind_of(value)
        size = len(to_bytes(value))
        if limit is not None and size > limit:
            return (
                f"got {size:,} bytes, and the column holds at most {limit:,}; shorten it, or "
                f"widen the column in a migration"
            )
        return None

    return judge


def judge_array(item: Judge) -> Judge:
    def judge(value: Any) -> str | None:
        if not isinstance(value, list):
            return _kind_of(value)
        # PostgreSQL arrays may have several dimensions: lists of lists of items.
        pending = [(str(number), element) for number, element in enumerate(value, 1)]
        while pending:
            where, element = pending.pop(0)
            if isinstance(element, list) and item(element) is not None:
                pending[:0] = [(f"{where}.{n}", e) for n, e in enumerate(element, 1)]
            elif element is not None and item(element) is not None:
                return f"but item {where} is {show(element)}"
        return None

    return judge


def judge_json(value: Any) -> str | None:
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
