"""Read a CSV dataset file: the header names the columns, each record is a row.

For large tables exported from a spreadsheet.  Every cell keeps its
line:column, as a YAML value does; cells are text, and `typed_cells` turns
each into its column's type before the checks: numbers for number columns,
``true``/``false`` (also ``t``/``f``, ``yes``/``no``, ``1``/``0``) for booleans,
JSON text for JSON and array columns; dates and times are ISO text, as in YAML.

The one spelling to know: an empty cell is NULL, and an empty string is
written as two quotes (``""``).  Otherwise RFC 4180: fields separated by
commas, a field quoted with ``"`` may hold commas, line breaks and doubled
quotes (``""``); a byte-order mark at the start is ignored.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table
from sqlalchemy import types as sqltypes

from .column_types import is_mysql_boolean
from .dataset import Dataset
from .errors import Position, Problem
from .rows import FileProblem, LoadedFile, Row

#: Marks a cell the file leaves empty (NULL), as opposed to ``""`` (empty text).
_EMPTY = None


class _Records:
    """The records of a CSV text, each cell with its 1-based line and column."""

    def __init__(self, text: str, path: str) -> None:
        self.lines = text.split("\n")
        self.path = path
        self.number = 0  # index of the next physical line

    def __iter__(self) -> Iterator[tuple[int, list[tuple[str | None, int, int]]]]:
        while self.number < len(self.lines):
            start = self.number
            line = self.lines[self.number].removesuffix("\r")
            self.number += 1
            if not line and self.number == len(self.lines):
                return  # the text ends with a line break
            if '"' not in line:
                yield start + 1, _plain_cells(line, start + 1)
            else:
                yield start + 1, self._quoted_cells(line, start + 1)

    def _quoted_cells(self, line: str, line_number: int) -> list[tuple[str | None, int, int]]:
        cells: list[tuple[str | None, int, int]] = []
        index = 0
        current_line, text = line_number, line
        while True:
            column = index + 1
            cell_line = current_line
            if index < len(text) and text[index] == '"':
                parts: list[str] = []
                index += 1
                while True:
                    closing = text.find('"', index)
                    if closing < 0:
                        # The quoted field goes on on the next line.
                        parts.append(text[index:] + "\n")
                        if self.number >= len(self.lines):
                            raise FileProblem(
                                Problem(
                                    Position(self.path, cell_line, column),
                                    "a quoted field opens here and is never closed; close it "
                                    'with " (a quote inside a field is written twice: "")',
                                )
                            )
                        text = self.lines[self.number].removesuffix("\r")
                        self.number += 1
                        current_line += 1
                        index = 0
                        continue
                    parts.append(text[index:closing])
                    if text[closing + 1 : closing + 2] == '"':
                        parts.append('"')
                        index = closing + 2
                        continue
                    index = closing + 1
                    break
                if index < len(text) and text[index] != ",":
                    raise FileProblem(
                        Problem(
                            Position(self.path, current_line, index + 1),
                            "text after a quoted field's closing quote; a quote inside a "
                            'field is written twice (""), and a field with quotes is quoted '
                            "as a whole",
                        )
                    )
                cells.append(("".join(parts), cell_line, column))
            else:
                comma = text.find(",", index)
                end = len(text) if comma < 0 else comma
                field = text[index:end]
                if '"' in field:
                    raise FileProblem(
                        Problem(
                            Position(self.path, current_line, text.index('"', index) + 1),
                            "a quote inside an unquoted field; quote the whole field and write "
                            'the quote twice: "say ""hi"""',
                        )
                    )
                cells.append((field or _EMPTY, cell_line, column))
                index = end
            if index >= len(text):
                return cells
            index += 1  # the comma
            if index == len(text):
                cells.append((_EMPTY, current_line, index + 1))
                return cells


def _plain_cells(line: str, line_number: int) -> list[tuple[str | None, int, int]]:
    cells: list[tuple[str | None, int, int]] = []
    column = 1
    for field in line.split(","):
        cells.append((field or _EMPTY, line_number, column))
        column += len(field) + 1
    return cells


def parse_csv(source: bytes, dataset: Dataset) -> LoadedFile:
    """The rows of a CSV dataset file: header first; cells as text, or None where empty.

    Raises `FileProblem` for what stops the file being read (not UTF-8, no
    header, a header naming a column twice, an unclosed quote); a record
    with too many or too few cells is a problem of that row.
    """
    path = dataset.display_path
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        line = source.count(b"\n", 0, bad.start) + 1
        raise FileProblem(
            Problem(
                Position(path, line, bad.start - source.rfind(b"\n", 0, bad.start)),
                f"is not valid UTF-8 (byte 0x{source[bad.start]:02x} here); save the file as UTF-8",
            )
        ) from None
    records = iter(_Records(text, path))
    header = next(records, None)
    if header is None or not any(cell for cell, _, _ in header[1]):
        return LoadedFile(dataset, [])
    columns = _header(header[1], path)
    named_at = {
        name: (line, column) for name, (_, line, column) in zip(columns, header[1], strict=True)
    }
    rows: list[Row] = []
    problems: list[Problem] = []
    for line_number, cells in records:
        if len(cells) == 1 and cells[0][0] is None:
            continue  # a blank line
        if len(cells) != len(columns):
            problems.append(
                Problem(
                    Position(path, line_number, 1),
                    f"this record has {len(cells)} fields and the header {len(columns)}; "
                    f"a comma inside a value needs the field quoted",
                )
            )
            continue
        values = {name: cell for name, (cell, _, _) in zip(columns, cells, strict=True)}
        positions = {name: (line, col) for name, (_, line, col) in zip(columns, cells, strict=True)}
        rows.append(Row(values, Position(path, line_number, 1), positions))
    return LoadedFile(dataset, rows, problems, cells_are_text=True, header=named_at)


def _header(cells: list[tuple[str | None, int, int]], path: str) -> list[str]:
    """The column names of the header, each once and none empty."""
    names: list[str] = []
    for cell, line, column in cells:
        name = (cell or "").strip()
        if not name:
            raise FileProblem(
                Problem(Position(path, line, column), "the header has an empty column name")
            )
        if name in names:
            first = cells[names.index(name)][2]
            raise FileProblem(
                Problem(
                    Position(path, line, column),
                    f"the header names column {name!r} twice (first at column {first}); remove one",
                )
            )
        names.append(name)
    return names


def typed_cells(row: Row, table: Table) -> None:
    """Turn ``row``'s cells (text) into their columns' types, in place, where the text is one.

    Text that is not a value of its column's type stays text, for the check
    to refuse with its position ("count expects a whole number, got 'many'").
    Columns the table does not have stay text too (the check names them).
    """
    for name, cell in row.values.items():
        column = table.c.get(name)
        if isinstance(cell, str) and column is not None:
            row.values[name] = _typed(column.type, cell)


def _typed(column_type: Any, cell: str) -> Any:
    text = cell.strip()
    if isinstance(column_type, sqltypes.Boolean) or is_mysql_boolean(column_type, "mysql"):
        return _BOOLEANS.get(text.lower(), cell)
    try:
        if isinstance(column_type, sqltypes.Integer):
            if _INTEGER.fullmatch(text):
                return int(text)
            # 1.5 is a number, just not a whole one: the check says so.
            return decimal.Decimal(text) if _NUMBER.fullmatch(text) else cell
        if isinstance(column_type, sqltypes.Float):
            return float(text) if _NUMBER.fullmatch(text) else cell
        if isinstance(column_type, sqltypes.Numeric):
            return decimal.Decimal(text) if _NUMBER.fullmatch(text) else cell
        if isinstance(column_type, sqltypes.JSON | sqltypes.ARRAY):
            return json.loads(text)
    except (ValueError, decimal.InvalidOperation):
        return cell
    return cell


_BOOLEANS = {
    spelled: meaning
    for meaning, spellings in (
        (True, ("true", "t", "yes", "y", "1")),
        (False, ("false", "f", "no", "n", "0")),
    )
    for spelled in spellings
}
_INTEGER = re.compile(r"[-+]?[0-9]+")
_NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
