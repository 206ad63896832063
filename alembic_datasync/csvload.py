"""Read a CSV dataset file: the header names the columns, each record is a row.

For large tables exported from a spreadsheet.  The file is streamed, record by
record, never held whole: a million rows cost their rows, not their text too.
Cells are text, and `typed_cells` turns each into its column's type before the
checks: numbers for number columns, ``true``/``false`` (also ``t``/``f``,
``yes``/``no``, ``y``/``n``, ``1``/``0``) for booleans, JSON text for JSON and
array columns; dates and times are ISO text, as in YAML.

The one spelling to know: an empty cell is NULL, and an empty string is
written as two quotes (``""``).  Otherwise RFC 4180: fields separated by
commas, a field quoted with ``"`` may hold commas, line breaks and doubled
quotes (``""``); a byte-order mark at the start is ignored.

Every cell keeps its line:column, as a YAML value does, without storing it: a
row remembers where its record starts in the file, and the positions of its
cells are found by reading that record again when a message needs one.
"""

from __future__ import annotations

import decimal
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table
from sqlalchemy import types as sqltypes

from .collector import collector_paused
from .column_types import is_mysql_boolean
from .dataset import Dataset
from .errors import Position, Problem
from .rows import NO_TEXTS, FileProblem, LoadedFile, Row

#: Marks a cell the file leaves empty (NULL), as opposed to ``""`` (empty text).
_EMPTY = None

#: A cell: its text (None where empty), and its 1-based line and column.
Cell = tuple[str | None, int, int]


class _Lines:
    """The decoded lines of a CSV file from some byte offset on: line number, offset, text.

    Each line's text has its line break removed.  ``digest`` (when given) sees
    every byte read, so the file's SHA-256 comes from the same single pass.
    """

    def __init__(
        self,
        file: IO[bytes],
        path: str,
        max_record: int,
        *,
        first_line: int = 1,
        offset: int = 0,
        digest: Any = None,
    ) -> None:
        self.file = file
        self.path = path
        self.max_record = max_record
        self.number = first_line - 1  # the line last read
        self.offset = offset  # where the next line starts
        self.digest = digest

    def __iter__(self) -> Iterator[tuple[int, int, str]]:
        return self

    def __next__(self) -> tuple[int, int, str]:
        raw = self.file.readline(self.max_record + 1)
        if not raw:
            raise StopIteration
        start = self.offset
        self.offset += len(raw)
        self.number += 1
        if self.digest is not None:
            self.digest.update(raw)
        if len(raw) > self.max_record:
            raise FileProblem(
                Problem(
                    Position(self.path, self.number, 1),
                    f"this line is over {self.max_record:,} bytes, the limit of one CSV "
                    f"record (max_file_size); split the value, or raise the limit",
                )
            )
        if start == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a byte-order mark
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise FileProblem(
                Problem(
                    Position(self.path, self.number, bad.start + 1),
                    f"is not valid UTF-8 (byte 0x{raw[bad.start]:02x} here); save the file "
                    f"as UTF-8",
                )
            ) from None
        return self.number, start, text.removesuffix("\n").removesuffix("\r")

    def next_text(self) -> str | None:
        """The next line's text, for a quoted field going on; None at the end of the file."""
        found = next(self, None)
        return None if found is None else found[2]


def _record_cells(
    text: str, line_number: int, lines: _Lines, path: str, max_record: int
) -> list[Cell]:
    """The cells of the record starting with line ``text``, reading more lines while a quoted
    field goes on."""
    if '"' not in text:
        cells: list[Cell] = []
        column = 1
        for field in text.split(","):
            cells.append((field or _EMPTY, line_number, column))
            column += len(field) + 1
        return cells
    cells = []
    index = 0
    current_line = line_number
    size = len(text)
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
                    following = lines.next_text()
                    if following is None:
                        raise FileProblem(_unclosed(path, cell_line, column))
                    size += len(following)
                    if size > max_record:
                        raise FileProblem(
                            Problem(
                                Position(path, cell_line, column),
                                f"a quoted field opens here and runs on for over "
                                f"{max_record:,} bytes, the limit of one CSV record "
                                f'(max_file_size); close it with " where it ends',
                            )
                        )
                    text = following
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
                        Position(path, current_line, index + 1),
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
                        Position(path, current_line, text.index('"', index) + 1),
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


def _unclosed(path: str, line: int, column: int) -> Problem:
    return Problem(
        Position(path, line, column),
        'a quoted field opens here and is never closed; close it with " (a quote inside '
        'a field is written twice: "")',
    )


class _Record:
    """Where a CSV file's records are, to read one again for its cells' positions."""

    __slots__ = ("_last", "columns", "max_record", "path", "shown")

    def __init__(self, path: Path, shown: str, columns: list[str], max_record: int) -> None:
        self.path = path
        self.shown = shown
        self.columns = columns
        self.max_record = max_record
        self._last: tuple[int, dict[str, tuple[int, int]]] = (-1, {})

    def positions(self, offset: int, line: int) -> dict[str, tuple[int, int]]:
        """Each column's (line, column) in the record at byte ``offset``, starting ``line``.

        Empty when the record cannot be read again as it was (the file changed
        since): messages then point at the row's line.
        """
        if self._last[0] == offset:
            return self._last[1]
        found: dict[str, tuple[int, int]] = {}
        try:
            with self.path.open("rb") as file:
                file.seek(offset)
                lines = _Lines(file, self.shown, self.max_record, first_line=line, offset=offset)
                first = next(lines, None)
                if first is not None:
                    cells = _record_cells(first[2], line, lines, self.shown, self.max_record)
                    if len(cells) == len(self.columns):
                        found = {
                            name: (at_line, column)
                            for name, (_, at_line, column) in zip(self.columns, cells, strict=True)
                        }
        except (OSError, FileProblem):
            pass
        self._last = (offset, found)
        return found


#: How many different texts of one column are shared (see `_SharedTexts`).
_SHARED_PER_COLUMN = 4096


class _SharedTexts:
    """One string object for each text a column repeats (a model name, ``true``, ``0.2``).

    A catalogue's columns mostly repeat a few values; a million rows then hold
    a few strings, not millions of copies.  A column of distinct values (the
    key) fills its table up to `_SHARED_PER_COLUMN` and is left as it is.
    """

    __slots__ = ("columns", "known")

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.known: list[dict[str, str]] = [{} for _ in columns]

    def values(self, texts: list[str | None]) -> dict[str, str | None]:
        """The row's values by column name, each repeated text the column's one copy."""
        values: dict[str, str | None] = {}
        for name, text, known in zip(self.columns, texts, self.known, strict=True):
            if text is not None:
                same = known.get(text)
                if same is not None:
                    text = same
                elif len(known) < _SHARED_PER_COLUMN:
                    known[text] = text
            values[name] = text
        return values


class CellPositions(dict[str, tuple[int, int]]):
    """A CSV row's ``value_positions``: found when asked, by reading its record again.

    Holding a (line, column) for every cell of a million rows would cost more
    than the rows; a message needs a handful.  Empty as a dict: only the
    lookups `Row.position_of` makes (``get``, ``[]``, ``in``) find the cells.
    """

    __slots__ = ("_line", "_offset", "_record")

    def __init__(self, record: _Record, offset: int, line: int) -> None:
        super().__init__()
        self._record = record
        self._offset = offset
        self._line = line

    def _found(self) -> dict[str, tuple[int, int]]:
        return self._record.positions(self._offset, self._line)

    def get(self, key: str, default: Any = None) -> Any:
        return self._found().get(key, default)

    def __getitem__(self, key: str) -> tuple[int, int]:
        return self._found()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._found()


def read_csv(file: IO[bytes], path: Path, dataset: Dataset, max_record: int) -> LoadedFile:
    """The rows of the CSV dataset file open as ``file``: header first; cells as text, or None
    where empty.  Its ``source_digest`` is the SHA-256 of the bytes read.

    Raises `FileProblem` for what stops the file being read (not UTF-8, no
    header, a header naming a column twice, an unclosed quote, a record over
    ``max_record`` bytes); a record with too many or too few cells is a
    problem of that row.
    """
    reading = CsvChunks(file, path, dataset, max_record, rows=None)
    (whole,) = reading  # one chunk of every row
    whole.source_digest = reading.digest
    return whole


class CsvChunks:
    """The rows of a CSV dataset file, a `LoadedFile` of at most ``rows`` rows at a time.

    Iterating reads the file once, record by record, and yields each chunk
    as it fills (``rows=None``: one chunk of the whole file; a file with no
    header or no rows: one empty chunk).  Once the iteration is over,
    ``digest`` is the SHA-256 of every byte read.  Raises `FileProblem` as
    `read_csv` does, when the iteration reaches the record at fault.
    """

    def __init__(
        self, file: IO[bytes], path: Path, dataset: Dataset, max_record: int, *, rows: int | None
    ) -> None:
        self._file = file
        self._path = path
        self._dataset = dataset
        self._max_record = max_record
        self._rows = rows
        self._digest = hashlib.sha256()
        self._done = False

    @property
    def digest(self) -> str:
        """The SHA-256 of the file's bytes; only once every chunk was read."""
        assert self._done, "the digest of a CSV file is known once it is read"
        return self._digest.hexdigest()

    def __iter__(self) -> Iterator[LoadedFile]:
        dataset, shown, max_record = self._dataset, self._dataset.display_path, self._max_record
        digest = self._digest
        lines = _Lines(self._file, shown, max_record, digest=digest)
        first = next(lines, None)
        header = (
            None if first is None else _record_cells(first[2], first[0], lines, shown, max_record)
        )
        if header is None or not any(cell for cell, _, _ in header):
            for _ in lines:
                pass  # the digest is of every byte
            self._done = True
            yield LoadedFile(dataset, [])
            return
        columns = _header(header, shown)
        width = len(columns)
        named_at = {
            name: (at, column) for name, (_, at, column) in zip(columns, header, strict=True)
        }
        record = _Record(self._path, shown, columns, max_record)
        shared = _SharedTexts(columns)
        size = self._rows

        def chunk(rows: list[Row], problems: list[Problem]) -> LoadedFile:
            return LoadedFile(dataset, rows, problems, cells_are_text=True, header=named_at)

        rows: list[Row] = []
        problems: list[Problem] = []
        yielded = False
        # The rows form no cycles: the collector would only rescan them, again and again.
        with collector_paused():
            for line_number, offset, text in lines:
                if not text:
                    continue  # a blank line
                texts: list[str | None]
                if '"' not in text:
                    texts = [cell or _EMPTY for cell in text.split(",")]
                else:
                    texts = [
                        cell
                        for cell, _, _ in _record_cells(text, line_number, lines, shown, max_record)
                    ]
                if len(texts) != width:
                    problems.append(
                        Problem(
                            Position(shown, line_number, 1),
                            f"this record has {len(texts)} fields and the header {width}; "
                            f"a comma inside a value needs the field quoted",
                        )
                    )
                    continue
                rows.append(
                    Row(
                        shared.values(texts),
                        Position(shown, line_number, 1),
                        CellPositions(record, offset, line_number),
                        NO_TEXTS,  # a CSV row has no YAML scalar texts
                    )
                )
                if size is not None and len(rows) >= size:
                    yield chunk(rows, problems)
                    yielded = True
                    rows, problems = [], []
        self._done = True
        if rows or problems or not yielded:
            yield chunk(rows, problems)


def csv_header(file: IO[bytes], dataset: Dataset, max_record: int) -> list[str] | None:
    """The column names the header of the CSV file open as ``file`` names; None without one.

    Raises `FileProblem` as `read_csv` does, for a header that cannot be read.
    """
    shown = dataset.display_path
    lines = _Lines(file, shown, max_record)
    first = next(lines, None)
    if first is None:
        return None
    cells = _record_cells(first[2], first[0], lines, shown, max_record)
    if not any(cell for cell, _, _ in cells):
        return None
    return _header(cells, shown)


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
    Columns the table does not have stay text too (the check names them), and
    so do the cells of text, date and time columns (the check reads ISO text).
    """
    typers = _typers(table)
    values = row.values
    for name, cell in values.items():
        typer = typers.get(name)
        if typer is not None and isinstance(cell, str):
            values[name] = typer(cell)


@functools.lru_cache(maxsize=64)
def _typers(table: Table) -> dict[str, Callable[[str], Any]]:
    """For each column of ``table`` whose cells are typed: the function that types a cell."""
    typers: dict[str, Callable[[str], Any]] = {}
    for column in table.columns:
        column_type = column.type
        if isinstance(column_type, _SHARED_TYPES):
            # Immutable values, often repeated: one object for each text.
            typers[column.name] = functools.partial(_typed_shared, column_type)
        elif isinstance(column_type, sqltypes.JSON | sqltypes.ARRAY):
            typers[column.name] = functools.partial(_typed_each, column_type)
    return typers


def _typed_each(column_type: Any, cell: str) -> Any:
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


_typed_shared = functools.lru_cache(maxsize=4096)(_typed_each)
# Float is no subclass of Numeric in SQLAlchemy 2.1.
_SHARED_TYPES = (sqltypes.Boolean, sqltypes.Integer, sqltypes.Float, sqltypes.Numeric)

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
