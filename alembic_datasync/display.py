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


def show_value(value: Any) -> str:
    """A value as the plan shows it: strings quoted, YAML spelling for null and booleans."""
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
    return repr(value)


def redact(text: str, values: Iterable[Any]) -> str:
    """``text`` with every one of ``values`` (the secret values) replaced by ``***``."""
    for value in sorted(
        {str(v) for v in values if v is not None and str(v)}, key=len, reverse=True
    ):
        text = text.replace(value, REDACTED)
    return text


def redact_problems(problems: list[Problem], values: set[str]) -> list[Problem]:
    """``problems`` with every secret value in their messages replaced by ``***``."""
    if not values:
        return problems
    return [Problem(problem.position, redact(problem.message, values)) for problem in problems]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``candidates`` to ``name``, or nothing."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
