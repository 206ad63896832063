"""Load a dataset file: YAML text -> rows, each value remembering its file:line:col.

Only safe YAML: the constructor is PyYAML's SafeConstructor (driven by the C
parser when libyaml is present), so no tag can build a Python object.  On top of
PyYAML this refuses a mapping that states a key twice, which PyYAML would
silently resolve by keeping the last value.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .dataset import Dataset
from .errors import DatasetFileMissing, Position, Problem

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    # PyYAML's C parser when libyaml is present: several times faster.
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MERGE_TAG = "tag:yaml.org,2002:merge"

#: Files above this size are refused before parsing (bytes).
DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


@dataclass(slots=True)
class Row:
    """One row of a dataset file: the values it writes and where each was written."""

    values: dict[str, Any]
    position: Position
    value_positions: dict[str, tuple[int, int]]

    def position_of(self, column: str) -> Position:
        """Where ``column``'s value was written, or the row's own position."""
        spot = self.value_positions.get(column)
        if spot is None:
            return self.position
        return Position(self.position.path, spot[0], spot[1])


@dataclass(slots=True)
class LoadedFile:
    """The rows of one dataset file, in file order."""

    dataset: Dataset
    rows: list[Row]


class FileProblem(Exception):
    """A problem that stops reading one file; turned into a `Problem` by `load_dataset`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _mark(path: str, mark: Any) -> Position:
    return Position(path, mark.line + 1, mark.column + 1)


def _describe(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class _StrictSafeLoader(_SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice, naming both lines."""

    display_path = "<string>"

    def __init__(self, stream: bytes | str) -> None:
        super().__init__(stream)
        # Mappings already checked: an aliased mapping is flattened the first
        # time, and its merged keys must not then look like duplicates.
        self.checked_mappings: set[int] = set()

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        check_duplicate_keys(self, node, self.display_path)
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def check_duplicate_keys(loader: _StrictSafeLoader, node: MappingNode, path: str) -> None:
    """Raise `FileProblem` when ``node`` (before merge keys are applied) repeats a key."""
    if id(node) in loader.checked_mappings:
        return
    loader.checked_mappings.add(id(node))
    seen: dict[Any, Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG or not isinstance(key_node, ScalarNode):
            continue
        key = loader.construct_object(key_node)
        marker = ("bool", key) if isinstance(key, bool) else key
        first = seen.get(marker)
        if first is not None:
            raise FileProblem(
                Problem(
                    _mark(path, key_node.start_mark),
                    f"key {_describe(key)} is written twice in this mapping, first at line "
                    f"{first.start_mark.line + 1}, again at line {key_node.start_mark.line + 1}; "
                    f"YAML would silently keep only the last one: remove or merge one of them",
                )
            )
        seen[marker] = key_node


def read_source(dataset: Dataset, path: Path, max_size: int) -> bytes:
    """The file's bytes; `DatasetFileMissing` or `FileProblem` when it cannot be read."""
    shown = dataset.display_path
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise FileProblem(
                Problem(shown, "is a directory, not a YAML file: point the dataset at a file")
            )
        if size > max_size:
            raise FileProblem(
                Problem(
                    shown,
                    f"file is {size:,} bytes, over the limit of {max_size:,}; split it, or raise "
                    f"the limit (max_file_size)",
                )
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetFileMissing(dataset.label, shown) from None
    except OSError as exc:
        raise FileProblem(Problem(shown, f"cannot read the file: {exc.strerror}")) from None


def parse_rows(source: bytes | str, dataset: Dataset) -> list[Row]:
    """Rows of a dataset file's text, in file order; `FileProblem` when it is not usable."""
    path = dataset.display_path
    loader = _StrictSafeLoader(source)
    loader.display_path = path
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        return list(_rows_of(loader, root, dataset, path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            detail = f"{exc.context}: {exc.problem}"
        position: Position | str = _mark(path, mark) if mark is not None else path
        raise FileProblem(Problem(position, f"invalid YAML: {detail}")) from None
    except yaml.YAMLError as exc:
        raise FileProblem(Problem(path, f"invalid YAML: {exc}")) from None
    finally:
        loader.dispose()


def _rows_of(loader: _StrictSafeLoader, root: Node, dataset: Dataset, path: str) -> Iterator[Row]:
    if isinstance(root, MappingNode):
        yield from _rows_of_keyed_mapping(loader, root, dataset, path)
    elif isinstance(root, SequenceNode):
        for item in root.value:
            if not isinstance(item, MappingNode):
                raise FileProblem(
                    Problem(
                        _mark(path, item.start_mark),
                        f"a row must be a mapping of column: value, found {_node_kind(item)}",
                    )
                )
            values, positions = _row_mapping(loader, item, path)
            yield Row(values, _mark(path, item.start_mark), positions)
    else:
        raise FileProblem(
            Problem(
                _mark(path, root.start_mark),
                f"top level is {_node_kind(root)}; a dataset file is either a mapping of "
                f"key: {{column: value}} or a list of rows ({{column: value}} mappings)",
            )
        )


def _rows_of_keyed_mapping(
    loader: _StrictSafeLoader, root: MappingNode, dataset: Dataset, path: str
) -> Iterator[Row]:
    if len(dataset.key_columns) != 1:
        raise FileProblem(
            Problem(
                _mark(path, root.start_mark),
                f"dataset {dataset.label!r} has a composite key "
                f"({', '.join(dataset.key_columns)}): write the file as a list of rows, each "
                f"naming every key column",
            )
        )
    key_column = dataset.key_columns[0]
    check_duplicate_keys(loader, root, path)
    loader.flatten_mapping(root)
    for key_node, value_node in root.value:
        key = loader.construct_object(key_node, deep=True)
        key_spot = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        row_position = Position(path, *key_spot)
        if isinstance(value_node, ScalarNode) and loader.construct_object(value_node) is None:
            values: dict[str, Any] = {}
            positions: dict[str, tuple[int, int]] = {}
        elif isinstance(value_node, MappingNode):
            values, positions = _row_mapping(loader, value_node, path)
        else:
            raise FileProblem(
                Problem(
                    _mark(path, value_node.start_mark),
                    f"the row for {_describe(key)} must be a mapping of column: value, "
                    f"found {_node_kind(value_node)}",
                )
            )
        if key_column in values and values[key_column] != key:
            raise FileProblem(
                Problem(
                    Position(path, *positions[key_column]),
                    f"{key_column} is {_describe(values[key_column])} but the row is filed under "
                    f"{_describe(key)}; drop the {key_column} line or make them agree",
                )
            )
        values[key_column] = key
        positions[key_column] = key_spot
        yield Row(values, row_position, positions)


def _row_mapping(
    loader: _StrictSafeLoader, node: MappingNode, path: str
) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    check_duplicate_keys(loader, node, path)
    loader.flatten_mapping(node)
    values: dict[str, Any] = {}
    positions: dict[str, tuple[int, int]] = {}
    for key_node, value_node in node.value:
        column = loader.construct_object(key_node, deep=True)
        if not isinstance(column, str):
            raise FileProblem(
                Problem(
                    _mark(path, key_node.start_mark),
                    f"column names are strings; {_describe(column)} is "
                    f"{type(column).__name__}: quote it if it really is a column name",
                )
            )
        values[column] = loader.construct_object(value_node, deep=True)
        positions[column] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    return values, positions


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the scalar {node.value!r}"


def load_dataset(
    dataset: Dataset, base_dir: str | None = None, max_size: int = DEFAULT_MAX_FILE_SIZE
) -> LoadedFile:
    """Read and parse ``dataset``'s file.

    Raises `DatasetFileMissing` when the file does not exist and `FileProblem`
    for anything else that stops it being read.
    """
    source = read_source(dataset, dataset.resolve(base_dir), max_size)
    return LoadedFile(dataset, parse_rows(source, dataset))
