"""The full YAML loader: a dataset file's text -> rows, each value remembering its file:line:col.

Only safe YAML: the constructor is PyYAML's SafeConstructor (driven by the C
parser when libyaml is present), and nothing is built before `guard` has
checked the composed graph (plain-data tags only, bounded depth and alias
expansion).  On top of PyYAML this refuses a mapping that states a key twice,
which PyYAML would silently resolve by keeping the last value.

Every way a text can be unreadable (a binary file, invalid UTF-8, a tab used
for indentation, a value YAML cannot construct) ends as a `Problem` with a
position, never as another exception.  Problems of single rows or values are
collected, so one run reports them all.  `parse_file` takes `fastload`'s
road first, and comes here for whatever that leaves.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .dataset import Dataset
from .display import shorten, show
from .errors import Position, Problem, in_file_order
from .fastload import fast_rows
from .guard import (
    DEFAULT_MAX_ALIAS_NODES,
    DEFAULT_MAX_DEPTH,
    EditorLines,
    check_node_graph,
    children,
    mark_position,
    reader_problem,
    show_tag,
    syntax_problem,
)
from .rows import FileProblem, LoadedFile, Row
from .yaml11 import MERGE_TAG, NULL_TAG, is_retyped_plain_scalar, mapping_key

if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    # PyYAML's C parser when libyaml is present: several times faster.
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: True when libyaml parses: its reader reports byte offsets, PyYAML's own characters.
_C_PARSER = _SafeLoader is not yaml.SafeLoader


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
            return Problem(
                mark_position(self.display_path, exc.problem_mark), f"invalid YAML: {detail}"
            )
        culprit = _first_unbuildable_scalar(self, node) or node
        self._reset_after_failure()
        text = culprit.value if isinstance(culprit, ScalarNode) else ""
        position = mark_position(self.display_path, culprit.start_mark)
        tag = show_tag(culprit.tag)
        shown = shorten(text)
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
            pending.extend(reversed(list(children(current))))
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
        marker = mapping_key(key)
        first = seen.get(marker)
        if first is not None:
            loader.repeated_keys.add(id(key_node))
            loader.problems.append(
                Problem(
                    mark_position(path, key_node.start_mark),
                    f"key {show(key)} is written twice in this mapping, first at line "
                    f"{first.start_mark.line + 1}, again at line {key_node.start_mark.line + 1}; "
                    f"YAML would silently keep only the last one: remove or merge one of them",
                )
            )
        else:
            seen[marker] = key_node


def parse_rows(source: bytes | str, dataset: Dataset, *, fast: bool = True) -> list[Row]:
    """Rows of a dataset file's text, in file order; `FileProblem` when it is not usable.

    Raises the first problem only; `parse_file` gives them all.  ``fast=False``
    skips the fast path (for the tests that compare the two).
    """
    loaded = parse_file(source, dataset, fast=fast)
    if loaded.problems:
        raise FileProblem(loaded.problems[0])
    return loaded.rows


def parse_file(
    source: bytes | str,
    dataset: Dataset,
    *,
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    fast: bool = True,
) -> LoadedFile:
    """The rows of a dataset file's text and every problem found in them.

    Raises `FileProblem` when nothing of the file can be read (invalid YAML,
    a refused tag, an alias bomb); problems of single rows or values are in
    the result's ``problems``, and those rows or values are left out.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    lines = EditorLines.for_text(data)
    if lines is None:
        return _parse(data, dataset, max_alias_nodes, max_depth, fast)
    # A break only YAML counts (U+2028 in a quoted value): positions are YAML's
    # until mapped to an editor's lines, so the fast path (which keeps YAML's) is out.
    try:
        loaded = _parse(data, dataset, max_alias_nodes, max_depth, fast=False)
    except FileProblem as exc:
        raise FileProblem(lines.problem(exc.problem)) from None
    for row in loaded.rows:
        row.position = lines.position(row.position)
        row.value_positions = {
            column: lines.spot(*spot) for column, spot in row.value_positions.items()
        }
    loaded.problems = [lines.problem(problem) for problem in loaded.problems]
    return loaded


def _parse(
    data: bytes, dataset: Dataset, max_alias_nodes: int, max_depth: int, fast: bool
) -> LoadedFile:
    path = dataset.display_path
    # The fast path (rows straight from libyaml's events, about five times
    # faster) gives exactly the rows below, or None for anything it leaves to
    # this loader: anchors, merge keys, tags, any problem to report.
    rows = fast_rows(data, dataset, max_depth=max_depth) if fast else None
    if rows is not None:
        return LoadedFile(dataset, rows)
    try:
        loader = _StrictSafeLoader(data)
    except yaml.reader.ReaderError as exc:
        # PyYAML's pure-Python reader checks the first chunk as it is created.
        raise FileProblem(reader_problem(data, path, exc, byte_offsets=_C_PARSER)) from None
    loader.display_path = path
    try:
        root = loader.get_single_node()
        if root is None or (isinstance(root, ScalarNode) and root.tag == NULL_TAG):
            # No document, or an empty one (a lone ---): an empty dataset.
            return LoadedFile(dataset, [])
        unsafe = check_node_graph(root, path, max_alias_nodes=max_alias_nodes, max_depth=max_depth)
        if unsafe is not None:
            raise FileProblem(unsafe)
        rows = list(_rows_of(loader, root, dataset, path))
        return LoadedFile(dataset, rows, in_file_order(loader.problems))
    except yaml.reader.ReaderError as exc:
        raise FileProblem(reader_problem(data, path, exc, byte_offsets=_C_PARSER)) from None
    except yaml.MarkedYAMLError as exc:
        raise FileProblem(syntax_problem(data, path, exc)) from None
    except yaml.YAMLError as exc:
        raise FileProblem(Problem(path, f"invalid YAML: {exc}")) from None
    except RecursionError:
        # Only PyYAML's pure-Python composer recurses this deep; libyaml stops at 1,000 levels.
        raise FileProblem(
            Problem(path, f"nested too deeply; a dataset nests at most {max_depth} levels")
        ) from None
    finally:
        loader.dispose()


def _rows_of(loader: _StrictSafeLoader, root: Node, dataset: Dataset, path: str) -> Iterator[Row]:
    if isinstance(root, MappingNode):
        yield from _rows_of_keyed_mapping(loader, root, dataset, path)
    elif isinstance(root, SequenceNode):
        for item in root.value:
            if not isinstance(item, MappingNode):
                loader.problems.append(
                    Problem(
                        mark_position(path, item.start_mark),
                        f"a row must be a mapping of column: value, found {_node_kind(item)}",
                    )
                )
                continue
            row = _row_mapping(loader, item, path)
            if row is not None:
                yield Row(row[0], mark_position(path, item.start_mark), row[1], row[2])
    else:
        raise FileProblem(
            Problem(
                mark_position(path, root.start_mark),
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
                mark_position(path, root.start_mark),
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
                    mark_position(path, value_node.start_mark),
                    f"the row for {show(key)} must be a mapping of column: value, "
                    f"found {_node_kind(value_node)}",
                )
            )
            continue
        if key_column in values and values[key_column] != key:
            loader.problems.append(
                Problem(
                    Position(path, *positions[key_column]),
                    f"{key_column} is {show(values[key_column])} but the row is filed under "
                    f"{show(key)}; drop the {key_column} line or make them agree",
                )
            )
            continue
        values[key_column] = key
        positions[key_column] = key_spot
        texts.pop(key_column, None)
        if is_retyped_plain_scalar(key_node):
            texts[key_column] = key_node.value
        yield Row(values, row_position, positions, texts)


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
                    mark_position(path, key_node.start_mark),
                    f"column names are strings; {show(column)} is "
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
        if is_retyped_plain_scalar(value_node):
            texts[column] = value_node.value
    return values, positions, texts


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the scalar {shorten(node.value)!r}"
