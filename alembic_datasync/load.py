"""Load a dataset file: YAML text -> rows, each value remembering its file:line:col.

Only safe YAML: the constructor is PyYAML's SafeConstructor (driven by the C
parser when libyaml is present), and before anything is constructed the node
graph is checked: only the plain-data tags (no tag can build a Python object),
a bounded nesting depth, no alias that contains itself, and a bounded number of
nodes reached through aliases (a "billion laughs" file is refused after a
linear walk of what was actually written).  On top of PyYAML this refuses a
mapping that states a key twice, which PyYAML would silently resolve by keeping
the last value.

Every way a file can be unreadable (a directory, a binary file, invalid UTF-8,
a tab used for indentation, a value YAML cannot construct) ends as a `Problem`
with a position, never as another exception.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .dataset import Dataset
from .errors import DatasetFileMissing, Position, Problem, in_file_order

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    # PyYAML's C parser when libyaml is present: several times faster.
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: True when libyaml parses: its reader reports byte offsets, PyYAML's own characters.
_C_PARSER = _SafeLoader is not yaml.SafeLoader

YAML_TAG = "tag:yaml.org,2002:"
MERGE_TAG = "tag:yaml.org,2002:merge"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"

#: The tags a dataset may use: plain data, what SafeConstructor builds into
#: values a column can hold.  ``!!set``, ``!!omap`` and ``!!pairs`` are safe but
#: build sets and tuples no column type takes; everything else is refused.
PLAIN_DATA_TAGS = frozenset(
    YAML_TAG + name
    for name in (
        "null",
        "bool",
        "int",
        "float",
        "binary",
        "timestamp",
        "str",
        "seq",
        "map",
        "merge",
    )
)

#: Files above this size are refused before parsing (bytes).
DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024

#: How many nodes aliases may add when expanded, in total, before a file is
#: refused.  Legitimate reuse (a ``<<: *defaults`` mapping in every row) stays
#: far below; a "billion laughs" file passes it within a few levels.
DEFAULT_MAX_ALIAS_NODES = 1_000_000

#: How deeply collections may nest.  Rows are two levels; JSON values add a
#: few.  The bound keeps construction (recursive in PyYAML) far from Python's
#: recursion limit.
DEFAULT_MAX_DEPTH = 100

# What PyYAML's pure-Python reader refuses (libyaml refuses the same set).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(slots=True)
class Row:
    """One row of a dataset file: the values it writes and where each was written.

    ``scalar_texts`` keeps, for a value YAML read from an unquoted scalar as
    something other than a string (``NO`` as false, ``1.10`` as 1.1), the text
    as written, so a message can say what YAML made of it.
    """

    values: dict[str, Any]
    position: Position
    value_positions: dict[str, tuple[int, int]]
    scalar_texts: dict[str, str] = field(default_factory=dict)

    def position_of(self, column: str) -> Position:
        """Where ``column``'s value was written, or the row's own position."""
        spot = self.value_positions.get(column)
        if spot is None:
            return self.position
        return Position(self.position.path, spot[0], spot[1])


@dataclass(slots=True)
class LoadedFile:
    """The rows of one dataset file, in file order.

    ``problems`` are what made some rows or values unreadable (a row that is
    not a mapping, a value YAML cannot construct...); those rows or values are
    left out of ``rows``, and a file with problems is never synced.
    """

    dataset: Dataset
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)


class FileProblem(Exception):
    """A problem that stops reading one file; turned into a `Problem` by `load_dataset`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _mark(path: str, mark: Any) -> Position:
    return Position(path, mark.line + 1, mark.column + 1)


def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return repr(value) if isinstance(value, str) else str(value)


def show_tag(tag: str) -> str:
    """A tag as it is written in YAML: ``!!python/object``, ``!local``."""
    return "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag


class _StrictSafeLoader(_SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice, naming both lines.

    Problems found while constructing (a repeated key, a value YAML cannot
    build) are collected in ``problems`` so that one run reports them all.
    """

    display_path = "<string>"

    def __init__(self, stream: bytes | str) -> None:
        super().__init__(stream)
        # Mappings already checked: an aliased mapping is flattened the first
        # time, and its merged keys must not then look like duplicates.
        self.checked_mappings: set[int] = set()
        # Keys written a second time: reported once, then skipped, so the same
        # mistake does not come back as a duplicate row or a second value.
        self.repeated_keys: set[int] = set()
        # Nodes that failed to build, reported once (a key is built twice:
        # for the duplicate check and for its row).
        self.unbuildable: set[int] = set()
        self.problems: list[Problem] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        check_duplicate_keys(self, node, self.display_path)
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_safely(self, node: Node) -> tuple[bool, Any]:
        """``(True, value)`` of ``node``, or ``(False, None)`` with the reason in ``problems``.

        SafeConstructor raises whatever its conversion raises for a value its
        tag cannot hold (ValueError for ``2024-02-30`` or ``!!int abc``,
        KeyError for ``!!bool maybe``, IndexError for an empty ``!!float``...):
        each becomes a problem at the value.
        """
        if id(node) in self.unbuildable:
            return False, None
        try:
            return True, self.construct_object(node, deep=True)
        except (
            yaml.YAMLError,
            ValueError,
            TypeError,
            LookupError,
            AttributeError,
            ArithmeticError,
        ) as exc:
            self._reset_after_failure()
            self.unbuildable.add(id(node))
            self.problems.append(self._construction_problem(node, exc))
            return False, None

    def _reset_after_failure(self) -> None:
        # A construction that raised leaves SafeConstructor mid-way: nodes
        # marked as being built (which would read as recursive next time) and
        # deep mode on.
        self.recursive_objects.clear()
        self.deep_construct = False

    def _construction_problem(self, node: Node, exc: Exception) -> Problem:
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            detail = exc.problem or "invalid value"
            if exc.context:
                detail = f"{exc.context}: {detail}"
            return Problem(_mark(self.display_path, exc.problem_mark), f"invalid YAML: {detail}")
        culprit = _first_unbuildable_scalar(self, node) or node
        self._reset_after_failure()
        text = culprit.value if isinstance(culprit, ScalarNode) else ""
        position = _mark(self.display_path, culprit.start_mark)
        tag = show_tag(culprit.tag)
        shown = text if len(text) <= 40 else text[:37] + "..."
        # Unquoted and untagged: YAML itself chose the type from how it looks.
        implicit = (
            isinstance(culprit, ScalarNode)
            and not culprit.style
            and self.resolve(ScalarNode, text, (True, False)) == culprit.tag  # type: ignore[no-untyped-call]
        )
        if implicit and tag == "!!timestamp":
            return Problem(
                position,
                f"YAML reads {shown} as a date, but it is not a valid one; fix the date, or "
                f'quote it if it is text: "{text}"',
            )
        if implicit:
            return Problem(
                position,
                f"YAML reads {shown} as {tag} but cannot convert it; fix the value, or quote it "
                f"if it is text",
            )
        return Problem(position, f"YAML cannot read {shown!r} as {tag}; fix the value or the tag")


def _first_unbuildable_scalar(loader: _StrictSafeLoader, node: Node) -> ScalarNode | None:
    """The first scalar under ``node`` that SafeConstructor cannot build, if any."""
    pending = [node]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            try:
                loader.construct_object(current)
            except Exception:  # finding the culprit of a failure already caught
                return current
        else:
            pending.extend(reversed(list(_children(current))))
    return None


def check_duplicate_keys(loader: _StrictSafeLoader, node: MappingNode, path: str) -> None:
    """Record a problem in ``loader.problems`` for each key ``node`` repeats (merge keys aside)."""
    if id(node) in loader.checked_mappings:
        return
    loader.checked_mappings.add(id(node))
    seen: dict[Any, Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG or not isinstance(key_node, ScalarNode):
            continue
        built, key = loader.construct_safely(key_node)
        if not built:
            continue
        marker = ("bool", key) if isinstance(key, bool) else key
        first = seen.get(marker)
        if first is not None:
            loader.repeated_keys.add(id(key_node))
            loader.problems.append(
                Problem(
                    _mark(path, key_node.start_mark),
                    f"key {_describe(key)} is written twice in this mapping, first at line "
                    f"{first.start_mark.line + 1}, again at line {key_node.start_mark.line + 1}; "
                    f"YAML would silently keep only the last one: remove or merge one of them",
                )
            )
        else:
            seen[marker] = key_node


def read_source(dataset: Dataset, path: Path, max_size: int) -> bytes:
    """The file's bytes; `DatasetFileMissing` or `FileProblem` when it cannot be read."""
    shown = dataset.display_path
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem(
                Problem(shown, "is a directory, not a YAML file: point the dataset at a file")
            )
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(
                Problem(
                    shown,
                    "is not a regular file (a device or a pipe?): point the dataset at a YAML file",
                )
            )
        if info.st_size > max_size:
            raise _too_large(shown, info.st_size, max_size)
        with path.open("rb") as file:
            # Read one byte past the limit: a file that grew since stat() is
            # still refused without reading all of it.
            data = file.read(max_size + 1)
        if len(data) > max_size:
            raise _too_large(shown, len(data), max_size)
        return data
    except FileNotFoundError:
        raise DatasetFileMissing(dataset.label, shown) from None
    except OSError as exc:
        raise FileProblem(Problem(shown, f"cannot read the file: {exc.strerror}")) from None


def _too_large(shown: str, size: int, max_size: int) -> FileProblem:
    return FileProblem(
        Problem(
            shown,
            f"file is {size:,} bytes, over the limit of {max_size:,}; split it, or raise "
            f"the limit (max_file_size)",
        )
    )


def parse_rows(source: bytes | str, dataset: Dataset) -> list[Row]:
    """Rows of a dataset file's text, in file order; `FileProblem` when it is not usable.

    Raises the first problem only; `parse_file` gives them all.
    """
    loaded = parse_file(source, dataset)
    if loaded.problems:
        raise FileProblem(loaded.problems[0])
    return loaded.rows


def parse_file(
    source: bytes | str,
    dataset: Dataset,
    *,
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> LoadedFile:
    """The rows of a dataset file's text and every problem found in them.

    Raises `FileProblem` when nothing of the file can be read (invalid YAML,
    a refused tag, an alias bomb); problems of single rows or values are in
    the result's ``problems``, and those rows or values are left out.
    """
    path = dataset.display_path
    data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        loader = _StrictSafeLoader(data)
    except yaml.reader.ReaderError as exc:
        # PyYAML's pure-Python reader checks the first chunk as it is created.
        raise FileProblem(_reader_problem(data, path, exc)) from None
    loader.display_path = path
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, ScalarNode) and root.tag == NULL_TAG):
            # No document, or an empty one (a lone ---): an empty dataset.
            return LoadedFile(dataset, [])
        check_node_graph(root, path, max_alias_nodes=max_alias_nodes, max_depth=max_depth)
        rows = list(_rows_of(loader, root, dataset, path))
        return LoadedFile(dataset, rows, in_file_order(loader.problems))
    except yaml.reader.ReaderError as exc:
        raise FileProblem(_reader_problem(data, path, exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise FileProblem(_syntax_problem(data, path, exc)) from None
    except yaml.YAMLError as exc:
        raise FileProblem(Problem(path, f"invalid YAML: {exc}")) from None
    except RecursionError:
        # Only PyYAML's pure-Python composer recurses this deep; libyaml stops at 1,000 levels.
        raise FileProblem(
            Problem(path, f"nested too deeply; a dataset nests at most {max_depth} levels")
        ) from None
    finally:
        loader.dispose()


def _position_at_offset(data: bytes, offset: int, path: str) -> Position:
    """The line and column of ``offset``: a byte offset under libyaml, a character one otherwise."""
    if not _C_PARSER:
        text = data.decode("utf-8", errors="replace")
        line_start = text.rfind("\n", 0, offset) + 1
        return Position(path, text.count("\n", 0, offset) + 1, offset - line_start + 1)
    return _position_at_byte(data, offset, path)


def _position_at_byte(data: bytes, offset: int, path: str) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Position(path, data.count(b"\n", 0, offset) + 1, column)


def _reader_problem(data: bytes, path: str, exc: yaml.reader.ReaderError) -> Problem:
    """Invalid UTF-8, a NUL byte or a control character, at its line and column."""
    position = _position_at_offset(data, exc.position, path)
    if exc.character == 0 or b"\x00" in data[:8192]:
        return Problem(
            position,
            "contains a NUL byte, so it is not UTF-8 YAML text (a binary file, or text saved as "
            "UTF-16 without a byte-order mark?); point the dataset at a YAML file saved as UTF-8",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        # The parser reports where it noticed; the decoder knows the first bad byte.
        return Problem(
            _position_at_byte(data, bad.start, path),
            f"is not valid UTF-8 (byte 0x{data[bad.start]:02x} here); save the file as UTF-8",
        )
    return Problem(
        position,
        f"contains the control character U+{exc.character:04X}, which YAML does not allow; "
        f"remove it",
    )


def _syntax_problem(data: bytes, path: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(path, f"invalid YAML: {exc.problem or exc.context or exc}")
    line = data.split(b"\n", mark.line + 1)[mark.line] if mark.line <= data.count(b"\n") else b""
    indent = line[: len(line) - len(line.lstrip(b" \t"))]
    if b"\t" in indent:
        column = len(indent[: indent.index(b"\t")]) + 1
        return Problem(
            Position(path, mark.line + 1, column),
            "a tab is used for indentation, and YAML allows only spaces there; replace the tab "
            "with spaces",
        )
    if b"\xef\xbb\xbf" in line and mark.line > 0:
        column = len(line[: line.index(b"\xef\xbb\xbf")].decode("utf-8", errors="replace")) + 1
        return Problem(
            Position(path, mark.line + 1, column),
            "a byte-order mark (U+FEFF) in the middle of the file, probably from joining two "
            "files; delete it (it is invisible in most editors)",
        )
    if exc.context == "expected a single document in the stream":
        return Problem(
            _mark(path, mark),
            "a second YAML document starts here; a dataset file is one document: remove "
            "the --- line, or move what follows it to a file of its own",
        )
    detail = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        detail = f"{exc.context}: {exc.problem}"
    return Problem(_mark(path, mark), f"invalid YAML: {detail}")


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node
    elif isinstance(node, SequenceNode):
        yield from node.value


def check_node_graph(root: Node, path: str, *, max_alias_nodes: int, max_depth: int) -> None:
    """Raise `FileProblem` unless the composed graph is plain data of a bounded size.

    PyYAML composes an alias as a second reference to the anchored node, so
    the graph is only as large as the text; what explodes is expanding it (a
    merge key copies, a JSON value is serialized in full).  One depth-first
    walk, visiting each distinct node once, adds up how many nodes every
    alias stands for and stops as soon as the total passes ``max_alias_nodes``.
    It also refuses tags outside `PLAIN_DATA_TAGS`, nesting deeper than
    ``max_depth`` and an alias inside its own anchor (a structure that
    contains itself, which no column can hold).
    """
    sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, once fully walked
    on_path: set[int] = set()
    through_aliases = 0
    _check_tag(root, path)
    # Frames: [node, its children, nodes counted so far under it]
    stack: list[list[Any]] = [[root, _children(root), 1]]
    on_path.add(id(root))
    while stack:
        frame = stack[-1]
        child = next(frame[1], None)
        if child is None:
            stack.pop()
            on_path.discard(id(frame[0]))
            sizes[id(frame[0])] = frame[2]
            if stack:
                stack[-1][2] += frame[2]
            continue
        known = sizes.get(id(child))
        if known is not None:
            # A node met again: an alias, standing for all the nodes under it.
            frame[2] += known
            through_aliases += known
            if through_aliases > max_alias_nodes:
                raise FileProblem(
                    Problem(
                        _mark(path, child.start_mark),
                        f"aliases to this anchor and others expand to more than "
                        f"{max_alias_nodes:,} nodes (an alias bomb?); a dataset file may reuse "
                        f"anchors, but not multiply them without bound",
                    )
                )
            continue
        if id(child) in on_path:
            raise FileProblem(
                Problem(
                    _mark(path, child.start_mark),
                    "an alias refers to the anchor it is inside of, so the value would contain "
                    "itself; no column can hold that: remove the alias",
                )
            )
        _check_tag(child, path)
        if isinstance(child, ScalarNode):
            sizes[id(child)] = 1
            frame[2] += 1
            continue
        if len(stack) >= max_depth:
            raise FileProblem(
                Problem(
                    _mark(path, child.start_mark),
                    f"nested more than {max_depth} levels deep; a dataset row is a mapping of "
                    f"column: value, and even JSON values do not need this depth",
                )
            )
        on_path.add(id(child))
        stack.append([child, _children(child), 1])


def _check_tag(node: Node, path: str) -> None:
    tag = node.tag
    if tag in PLAIN_DATA_TAGS:
        return
    shown = show_tag(tag)
    if tag.startswith(YAML_TAG + "python/"):
        message = (
            f"tag {shown} is refused: it would construct a Python object, and dataset files "
            f"hold plain data only; remove the tag"
        )
    elif tag.startswith(YAML_TAG):
        message = (
            f"tag {shown} is not supported in dataset files; write a plain list or mapping, "
            f"or a scalar without the tag"
        )
    else:
        message = (
            f"unknown tag {shown}; dataset files hold plain YAML data: remove the tag, or "
            f"quote the value if the ! belongs to it"
        )
    raise FileProblem(Problem(_mark(path, node.start_mark), message))


def _rows_of(loader: _StrictSafeLoader, root: Node, dataset: Dataset, path: str) -> Iterator[Row]:
    if isinstance(root, MappingNode):
        yield from _rows_of_keyed_mapping(loader, root, dataset, path)
    elif isinstance(root, SequenceNode):
        for item in root.value:
            if not isinstance(item, MappingNode):
                loader.problems.append(
                    Problem(
                        _mark(path, item.start_mark),
                        f"a row must be a mapping of column: value, found {_node_kind(item)}",
                    )
                )
                continue
            row = _row_mapping(loader, item, path)
            if row is not None:
                yield Row(row[0], _mark(path, item.start_mark), row[1], row[2])
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
        if id(key_node) in loader.repeated_keys:
            continue
        key_spot = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        row_position = Position(path, *key_spot)
        if not isinstance(key_node, ScalarNode):
            loader.problems.append(
                Problem(
                    row_position,
                    f"a row's key must be a plain value of {key_column}, found "
                    f"{_node_kind(key_node)}",
                )
            )
            continue
        built, key = loader.construct_safely(key_node)
        if not built:
            continue
        if isinstance(value_node, ScalarNode) and value_node.tag == NULL_TAG:
            values: dict[str, Any] = {}
            positions: dict[str, tuple[int, int]] = {}
            texts: dict[str, str] = {}
        elif isinstance(value_node, MappingNode):
            row = _row_mapping(loader, value_node, path)
            if row is None:
                continue
            values, positions, texts = row
        else:
            loader.problems.append(
                Problem(
                    _mark(path, value_node.start_mark),
                    f"the row for {_describe(key)} must be a mapping of column: value, "
                    f"found {_node_kind(value_node)}",
                )
            )
            continue
        if key_column in values and values[key_column] != key:
            loader.problems.append(
                Problem(
                    Position(path, *positions[key_column]),
                    f"{key_column} is {_describe(values[key_column])} but the row is filed under "
                    f"{_describe(key)}; drop the {key_column} line or make them agree",
                )
            )
            continue
        values[key_column] = key
        positions[key_column] = key_spot
        texts.pop(key_column, None)
        if _is_retyped_plain_scalar(key_node):
            texts[key_column] = key_node.value
        yield Row(values, row_position, positions, texts)


def _is_retyped_plain_scalar(node: Node) -> bool:
    """True for an unquoted scalar YAML read as something other than a string or null."""
    # Plain style is None from PyYAML's own parser, "" from libyaml's.
    return isinstance(node, ScalarNode) and not node.style and node.tag not in (STR_TAG, NULL_TAG)


def _row_mapping(
    loader: _StrictSafeLoader, node: MappingNode, path: str
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], dict[str, str]] | None:
    """A row's values, their positions and retyped scalars' texts; None when it is unusable."""
    check_duplicate_keys(loader, node, path)
    try:
        loader.flatten_mapping(node)
    except yaml.MarkedYAMLError as exc:
        loader.problems.append(loader._construction_problem(node, exc))
        return None
    values: dict[str, Any] = {}
    positions: dict[str, tuple[int, int]] = {}
    texts: dict[str, str] = {}
    for key_node, value_node in node.value:
        if id(key_node) in loader.repeated_keys:
            continue
        built, column = loader.construct_safely(key_node)
        if not built:
            continue
        if not isinstance(column, str):
            loader.problems.append(
                Problem(
                    _mark(path, key_node.start_mark),
                    f"column names are strings; {_describe(column)} is "
                    f"{type(column).__name__}: quote it if it really is a column name",
                )
            )
            continue
        built, value = loader.construct_safely(value_node)
        if not built:
            continue
        values[column] = value
        positions[column] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        # A merged-in value may be overridden by one written in the row itself.
        texts.pop(column, None)
        if _is_retyped_plain_scalar(value_node):
            texts[column] = value_node.value
    return values, positions, texts


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"the scalar {text!r}"


def load_dataset(
    dataset: Dataset,
    base_dir: str | os.PathLike[str] | None = None,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
) -> LoadedFile:
    """Read and parse ``dataset``'s file.

    Raises `DatasetFileMissing` when the file does not exist and `FileProblem`
    for anything else that stops it being read; problems of single rows are
    in the result's ``problems``.
    """
    source = read_source(dataset, dataset.resolve(base_dir), max_size)
    return parse_file(source, dataset)
