"""Secret columns: their values are kept out of every message.

A dataset's ``secret`` columns (API keys, passwords) are shown in plans as
``(secret)``; in problem reports and database errors, where a value may be
quoted, every secret value of the files is replaced by ``***``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import Problem
from .load import LoadedFile


def secret_values(files: Iterable[LoadedFile]) -> set[str]:
    """The text of every value the files write into their datasets' secret columns."""
    values: set[str] = set()
    for file in files:
        for column in file.dataset.secret_columns:
            for row in file.rows:
                value = row.values.get(column)
                if value is not None and str(value):
                    values.add(str(value))
    return values


def redact_problems(problems: list[Problem], values: set[str]) -> list[Problem]:
    """``problems`` with every secret value in their messages replaced by ``***``."""
    if not values:
        return problems
    return [Problem(problem.position, redact(problem.message, values)) for problem in problems]


def redact(text: str, values: Any) -> str:
    """``text`` with every one of ``values`` (the secret values) replaced by ``***``."""
    for value in sorted(
        {str(v) for v in values if v is not None and str(v)}, key=len, reverse=True
    ):
        text = text.replace(value, "***")
    return text
