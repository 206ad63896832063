"""What a dataset's file applied at a sync: each row's key and the columns the file wrote for it.

The planner makes an `AppliedRows` of every plan (what the file writes now);
`state` keeps the last one of each dataset in the database, and gives it
back to the next plan as `LastApplied`.  From it the next plan knows

- which values the file wrote and no longer writes (a line removed from a
  row): they go back to the column's default;
- which rows the file owns: those it listed at its last sync, the only
  rows ``prune=True`` may delete once they leave the file.

Keys are kept as the table stores them (an update's key as read, a new
row's as written), and related to the table's rows through the planner's
key classes, never by Python equality alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .encoding import decode, dumps, encode

#: One row: its key as the table stores it, and the non-key columns the file writes.
Written = tuple[tuple[Any, ...], tuple[str, ...]]

#: Version of the document `AppliedRows.document` writes.
FORMAT = 1


class AppliedRows:
    """The rows one dataset file writes, in file order.

    ``columns_read`` are the columns the plan read from the table (the key,
    the written columns, those kept for reverting or ordering deletes): the
    table digest of the no-parse shortcut covers exactly these.
    ``source_digest`` is the SHA-256 of the file's bytes that were parsed.

    Made from the state's document text (``text``, as stored), ``rows`` are
    parsed from it on first use, and `each_row` reads them without holding
    them all.
    """

    __slots__ = ("_rows", "columns_read", "key_columns", "source_digest", "stored", "text")

    def __init__(
        self,
        key_columns: tuple[str, ...],
        rows: list[Written] | None = None,
        *,
        columns_read: tuple[str, ...] = (),
        source_digest: str = "",
        text: str | None = None,
        stored: tuple[str, str] | None = None,
    ) -> None:
        self.key_columns = key_columns
        self._rows = rows if rows is not None or text is not None else []
        #: The document's digest and packed text, made as the rows came
        #: (`chunked`), for the state to record: then ``rows`` is empty.
        self.stored = stored
        self.columns_read = columns_read
        self.source_digest = source_digest
        self.text = text

    @property
    def rows(self) -> list[Written]:
        """Each row's key and written columns (parsed from ``text`` the first time)."""
        if self._rows is None:
            self._rows = list(self.each_row())
        return self._rows

    def each_row(self) -> Iterator[Written]:
        """The rows one at a time: read from ``text`` as they come when not parsed yet."""
        if self._rows is not None:
            yield from self._rows
            return
        assert self.text is not None
        text, width = self.text, len(self.key_columns)
        sets = _sets_of(text)
        at = text.index(_ROWS, 0) + len(_ROWS)
        read = _DECODER.raw_decode
        while text[at] != "]":
            row, at = read(text, at)
            yield tuple(decode(part) for part in row[:width]), sets[row[width]]
            if text[at] == ",":
                at += 1

    def document_text(self) -> str:
        """The `document` as the state stores it: compact JSON text, keys sorted."""
        return self.text if self.text is not None else dumps(self.document())

    def document(self) -> dict[str, Any]:
        """The rows as compact JSON data: each distinct column set once, rows pointing at it."""
        sets: dict[tuple[str, ...], int] = {}
        rows = encoded_rows(self.rows, sets)
        return {
            "format": FORMAT,
            "key": list(self.key_columns),
            "sets": [list(columns) for columns in sets],
            "rows": rows,
        }

    @classmethod
    def from_text(cls, text: str) -> AppliedRows:
        """The rows of a stored document's text, parsed when first used.

        Only text this version wrote (the caller checked its digest): its
        ``format``, key and column sets are read now, its rows later.
        """
        head = f'{{"format":{FORMAT},"key":'
        if not text.startswith(head):
            raise ValueError("a state document of another format")
        key, _ = _DECODER.raw_decode(text, len(head))
        _sets_of(text)
        return cls(tuple(key), text=text)

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> AppliedRows:
        """The rows a `document` holds; `ValueError` for a document this version cannot read."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("a state document of another format")
        key_columns = tuple(data["key"])
        sets = [tuple(columns) for columns in data["sets"]]
        width = len(key_columns)
        rows = [
            (tuple(decode(part) for part in row[:width]), sets[row[width]]) for row in data["rows"]
        ]
        return cls(key_columns, rows)


def encoded_rows(rows: Iterable[Written], sets: dict[tuple[str, ...], int]) -> list[list[Any]]:
    """Rows as a `AppliedRows.document` holds them: the key's parts encoded, then the number of
    the row's column set in ``sets`` (each new set numbered as it is first seen)."""
    found: list[list[Any]] = []
    for key, columns in rows:
        number = sets.setdefault(columns, len(sets))
        # Most keys are one column: no generator a row.
        found.append([encode(key[0]), number] if len(key) == 1 else [*map(encode, key), number])
    return found


_DECODER = json.JSONDecoder()
_ROWS = '"rows":['
_SETS = '],"sets":'


def _sets_of(text: str) -> list[tuple[str, ...]]:
    """The column sets of a document's text: its last member, after the rows."""
    at = text.rfind(_SETS)
    if at < 0:
        raise ValueError("not a state document")
    sets, end = _DECODER.raw_decode(text, at + len(_SETS))
    if text[end:] != "}" or not isinstance(sets, list):
        raise ValueError("not a state document")
    return [tuple(columns) for columns in sets]


@dataclass(slots=True)
class LastApplied:
    """What the state remembers of a dataset for its next plan.

    ``rows`` is what the file applied at its last sync; ``shared`` the keys
    that other datasets of the same table applied at theirs (a row that
    moved to another file is that file's, and is never pruned here).
    """

    rows: AppliedRows
    shared: list[tuple[Any, ...]] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Every column the file wrote for some row, in first-seen order."""
        seen: dict[str, None] = {}
        for _, columns in self.rows.rows:
            for column in columns:
                seen.setdefault(column)
        return list(seen)
