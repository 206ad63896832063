"""How values are shown to users, and how secrets are kept out of what they read.

One home for both, because they must agree: every message, plan line and log
line spells values through `show` (problem messages) or `show_value` (plans),
cuts long text with `shorten`, and passes through `redact` where a value of a
secret column could appear.  A dataset's ``secret`` columns (API keys,
passwords) are shown in plans as `SECRET`; in problem reports and database
errors, where a value may be quoted, every secret value is replaced by ``***``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import math
import re
import uuid
from collections.abc import Iterable
from typing import Any

from .errors import Problem

#: Longest text a message quotes in full; longer text is cut to fit.
SHORT_TEXT = 40

#: How a secret column's value is shown in a plan.
SECRET = "(secret)"

#: What replaces a secret value in a message.
REDACTED = "***"


def shorten(text: str, limit: int = SHORT_TEXT) -> str:
    """``text``, or its start and ``...`` when it is longer than ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show(value: Any) -> str:
    """A value as problem messages show it: YAML spelling for null and booleans, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(shorten(value))
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        return {math.inf: ".inf", -math.inf: "-.inf"}.get(value, repr(value))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


#: Longest spelling of a value a plan line shows in full.
PLAN_TEXT = 120


def show_value(value: Any) -> str:
    """A value as the plan shows it: strings quoted, YAML spelling for null and booleans.

    A spelling longer than `PLAN_TEXT` is cut, and says how long the value is.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    spelled = repr(value)
    if len(spelled) <= PLAN_TEXT:
        return spelled
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(spelled):,} long"
    return f"{spelled[: PLAN_TEXT - 3]}... ({size})"


def listing(names: Iterable[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``: names quoted, as a sentence lists them."""
    quoted = [repr(name) for name in names]
    if len(quoted) < 2:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


#: Any piece of a secret this long that a message contains is hidden: a value
#: cut to fit a message, or quoted in part by a database error, shows nothing.
SECRET_PIECE = 8


def spellings(value: Any, written: str | None = None) -> set[str]:
    """Every way a message may spell ``value``: as written, as YAML read it, as stored."""
    found = {written} if written else set()
    if value is None:
        return found
    found.add(str(value))
    if isinstance(value, float | decimal.Decimal):
        found.add(repr(value))
    if isinstance(value, bytes):
        found.add(value.hex())
    if isinstance(value, str):
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            pass
        else:
            found.update((str(parsed), parsed.hex))
    return {text for text in found if text}


class Redactor:
    """Hides every secret value, and every piece of one, in the texts it is given."""

    def __init__(self, values: Iterable[Any]) -> None:
        secrets = {str(v) for v in values if v is not None and str(v)}
        self.pieces = {
            secret[i : i + SECRET_PIECE]
            for secret in secrets
            if len(secret) >= SECRET_PIECE
            for i in range(len(secret) - SECRET_PIECE + 1)
        }
        self.short = sorted((s for s in secrets if len(s) < SECRET_PIECE), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.pieces or self.short)

    def __call__(self, text: str) -> str:
        if not self:
            return text
        hidden = bytearray(len(text))
        if self.pieces:
            for start in range(len(text) - SECRET_PIECE + 1):
                if text[start : start + SECRET_PIECE] in self.pieces:
                    hidden[start : start + SECRET_PIECE] = b"\x01" * SECRET_PIECE
        for secret in self.short:
            # A short secret only as a word of its own: "1" must not eat line numbers.
            for match in re.finditer(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text):
                hidden[match.start() : match.end()] = b"\x01" * len(secret)
        return _replace_runs(text, hidden)


def _replace_runs(text: str, hidden: bytearray) -> str:
    parts: list[str] = []
    start = 0
    while start < len(text):
        if hidden[start]:
            end = start
            while end < len(text) and hidden[end]:
                end += 1
            parts.append(REDACTED)
        else:
            end = start
            while end < len(text) and not hidden[end]:
                end += 1
            parts.append(text[start:end])
        start = end
    return "".join(parts)


def redact(text: str, values: Iterable[Any]) -> str:
    """``text`` with every secret value, and every piece of one, replaced by ``***``."""
    return Redactor(values)(text)


def redact_problems(problems: list[Problem], values: set[str]) -> list[Problem]:
    """``problems`` with every secret value, and every piece of one, hidden in their messages."""
    redactor = Redactor(values)
    if not redactor:
        return problems
    return [Problem(problem.position, redactor(problem.message)) for problem in problems]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``candidates`` to ``name``, or nothing."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
