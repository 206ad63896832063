"""The rows read from a dataset file, each value remembering where it was written.

Both loaders (`loader`, the full one, and `fastload`, the fast path) build
these; everything after them (checks, plan, messages) reads them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dataset import Dataset
from .display import spellings
from .errors import Position, Problem


class Spots(Mapping[str, tuple[int, int]]):
    """Where each value of a row was written, (line, column) by column name, held compactly.

    A dict of tuples costs about 1 KB a row (a tuple and two ints a value);
    this is the row's column names (one tuple shared by every row that writes
    the same columns in the same order) and one array of unsigned ints, about
    150 bytes, which the garbage collector never scans.  Positions are only
    read when there is something to report.
    """

    __slots__ = ("_names", "_packed")

    def __init__(self, names: tuple[str, ...], packed: array[int]) -> None:
        self._names = names
        self._packed = packed

    @classmethod
    def of(cls, names: tuple[str, ...], spots: Sequence[int]) -> Spots:
        """``names[i]`` at line ``spots[2 * i]``, column ``spots[2 * i + 1]``."""
        return cls(names, array("I", spots))

    def __getitem__(self, name: str) -> tuple[int, int]:
        try:
            index = self._names.index(name)
        except ValueError:
            raise KeyError(name) from None
        packed = self._packed
        return packed[2 * index], packed[2 * index + 1]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(self))


#: The `Row.scalar_texts` of a row with none (most rows; every CSV row): one
#: shared mapping, never written to (`overlays.merge` writes a copy).
NO_TEXTS: dict[str, str] = {}


@dataclass(slots=True)
class Row:
    """One row of a dataset file: the values it writes and where each was written.

    ``scalar_texts`` keeps, for a value YAML read from an unquoted scalar as
    something other than a string (``NO`` as false, ``1.10`` as 1.1), the text
    as written, so a message can say what YAML made of it.
    """

    values: dict[str, Any]
    position: Position
    value_positions: Mapping[str, tuple[int, int]]
    scalar_texts: dict[str, str] = field(default_factory=dict)
    #: Values an environment's overlay file wrote over the base file's (`overlays`):
    #: where, by column.  None when every value is the row's own file's.
    origins: dict[str, Position] | None = None

    def position_of(self, column: str) -> Position:
        """Where ``column``'s value was written, or the row's own position."""
        if self.origins is not None:
            origin = self.origins.get(column)
            if origin is not None:
                return origin
        spot = self.value_positions.get(column)
        if spot is None:
            return self.position
        return Position(self.position.path, spot[0], spot[1])


@dataclass(slots=True)
class LoadedFile:
    """The rows of one dataset file, in file order.

    ``problems`` are what made some rows or values unreadable (a row that is
    not a mapping, a value YAML cannot construct, a CSV record with too many
    fields...); those rows or values are left out of ``rows``, and a file
    with problems is never synced.  ``source_digest`` is the SHA-256 of the
    bytes the rows were parsed from.
    """

    dataset: Dataset
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)
    source_digest: str = ""
    #: True for a CSV file: every value is the cell's text (None where empty),
    #: which the checks turn into its column's type.
    cells_are_text: bool = False
    #: A CSV file's header: each column name's (line, column), for problems of
    #: a column as a whole (reported once, not on every row).
    header: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: The base's rows an environment's overlay removed (`overlays`): their key, as
    #: the file spells it, and where the overlay says ``$remove: true``.
    removed: dict[tuple[Any, ...], Position] = field(default_factory=dict)

    def secret_values(self) -> set[str]:
        """Every spelling of every value the file writes into its dataset's secret columns.

        As written and as YAML read it (``0471236`` is 160414), and as a
        database may print it back.
        """
        values: set[str] = set()
        for column in self.dataset.secret_columns:
            for row in self.rows:
                if column in row.values:
                    values |= spellings(row.values[column], row.scalar_texts.get(column))
        return values


class FileProblem(Exception):
    """A problem that stops reading one file as a whole (invalid YAML, a refused tag...)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
