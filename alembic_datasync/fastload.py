"""A faster way to the same rows: build them straight from libyaml's event stream.

`loader.parse_file` composes a node graph and then constructs Python values
from it, which costs two passes, one ``Node`` and ``Mark`` pair per value and,
on large files, repeated runs of the cyclic garbage collector over the growing
graph.  `fast_rows` reads the events of PyYAML's C parser once and builds each
row's ``values`` and positions directly.  Scalars are still resolved by
PyYAML's own resolver and built by its own ``SafeConstructor`` functions, so
YAML 1.1 meanings (``no`` is False, ``1.10`` is 1.1, ``0755`` is 493) are
PyYAML's by construction, not re-implemented.

It only takes the common road: one document, no anchors, aliases, merge keys
or explicit collection tags, no duplicate keys, nothing an error message would
have to describe.  Anything else makes `fast_rows` return None, and `loader.parse_file`
then reads the text itself, which gives exactly the rows, or the error, it
always gave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

from .collector import collector_paused
from .dataset import Dataset
from .errors import Position
from .guard import DEFAULT_MAX_DEPTH
from .rows import NO_TEXTS, Row, Spots
from .yaml11 import is_retyped_plain_scalar, mapping_key

#: PyYAML's C loader, or None where PyYAML was built without libyaml.
_CLoader: Any = getattr(yaml, "CSafeLoader", None)

#: Scalar tags whose SafeConstructor function returns an immutable value; any
#: other tag (merge keys ``<<``, ``=``, python/*, unknown ones) leaves the fast path.
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "binary", "timestamp", "str")
)


class _LeaveFastPath(Exception):
    """The input needs the full loader: anchors, merge keys, an error to describe..."""


def _fast_path_available() -> bool:
    if _CLoader is None:
        return False
    # A wildcard implicit resolver or a path resolver would make the shortcuts
    # below (a plain scalar whose first character no resolver claims is a str;
    # a quoted one is always a str) wrong; PyYAML's SafeLoader registers neither.
    return None not in _CLoader.yaml_implicit_resolvers and not _CLoader.yaml_path_resolvers


def fast_rows(
    source: bytes | str, dataset: Dataset, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> list[Row] | None:
    """The rows the full loader gives for ``source``, or None when it must be asked itself.

    None means the file uses something only the full loader handles (anchors,
    aliases, merge keys, tags on collections, several documents, nesting near
    ``max_depth``) or has a problem to report; never that the rows would differ.
    """
    if not _fast_path_available():
        return None
    loader = _CLoader(source.encode("utf-8") if isinstance(source, str) else source)
    try:
        with collector_paused():
            return _RowBuilder(loader, dataset, max_depth).rows()
    except Exception:  # any surprise is the full loader's to report, as it always did
        return None
    finally:
        loader.dispose()


class _RowBuilder:
    """Rows from one loader's events; raises `_LeaveFastPath` at anything unusual."""

    def __init__(self, loader: Any, dataset: Dataset, max_depth: int) -> None:
        self.loader = loader
        self.next_event: Callable[[], Any] = loader.get_event
        self.dataset = dataset
        self.path = dataset.display_path
        # The full loader refuses a collection nested max_depth deep; stay well short of it.
        self.deepest_value = max_depth - 3
        self.claimed_first_chars = frozenset(loader.yaml_implicit_resolvers)
        self.constructors: dict[Any, Any] = loader.yaml_constructors
        # Plain scalars that resolve to something other than a string repeat a
        # lot (true, 0.2, 2000): resolve and construct each text once.
        self.plain_values: dict[str, tuple[Any, bool]] = {}
        # Whether the last scalar built as neither str nor None keeps its text.
        self.keeps_text = False
        # Column names and kept texts, each kept once for every row that writes it.
        self.shared: dict[str, str] = {}
        # The column names of rows, as one tuple per distinct sequence.
        self.shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def rows(self) -> list[Row]:
        self._expect(StreamStartEvent)
        event = self.next_event()
        if type(event) is StreamEndEvent:
            return []
        if type(event) is not DocumentStartEvent:
            raise _LeaveFastPath
        event = self.next_event()
        self._check_plain_collection(event)
        if type(event) is MappingStartEvent:
            rows = self._keyed_rows()
        elif type(event) is SequenceStartEvent:
            rows = self._listed_rows()
        else:
            raise _LeaveFastPath
        self._expect(DocumentEndEvent)
        # A second document is an error the full loader reports.
        self._expect(StreamEndEvent)
        return rows

    def _expect(self, kind: type) -> None:
        if type(self.next_event()) is not kind:
            raise _LeaveFastPath

    @staticmethod
    def _check_plain_collection(event: Any) -> None:
        if getattr(event, "anchor", None) is not None or getattr(event, "tag", None) is not None:
            raise _LeaveFastPath

    def _scalar(self, event: Any) -> Any:
        """The value SafeConstructor builds for a scalar event (no anchor).

        A result other than a str or None also sets ``keeps_text``.
        """
        if event.anchor is not None:
            raise _LeaveFastPath
        value: str = event.value
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:
                return value  # quoted: always a str
            if value and value[0] not in self.claimed_first_chars:
                return value  # plain, and no resolver claims its first character
            known = self.plain_values.get(value)
            if known is None:
                tag = self.loader.resolve(ScalarNode, value, event.implicit)
                known = self.plain_values[value] = self._construct(tag, event)
            built, self.keeps_text = known
            return built
        if tag == "!":
            tag = self.loader.resolve(ScalarNode, value, event.implicit)
        built, self.keeps_text = self._construct(tag, event)
        return built

    def _construct(self, tag: str, event: Any) -> tuple[Any, bool]:
        if tag not in _SCALAR_TAGS:
            raise _LeaveFastPath
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        built = self.constructors[tag](self.loader, node)
        # The full loader's rule for which values keep the text they were
        # written as (``NO`` read as false...), on the node it would see.
        return built, is_retyped_plain_scalar(node)

    def _value(self, event: Any, depth: int) -> Any:
        """The fully built value that starts with ``event``: scalar, list or dict."""
        kind = type(event)
        if kind is ScalarEvent:
            return self._scalar(event)
        self._check_plain_collection(event)
        if depth > self.deepest_value:
            raise _LeaveFastPath
        if kind is SequenceStartEvent:
            items: list[Any] = []
            while True:
                event = self.next_event()
                if type(event) is SequenceEndEvent:
                    return items
                items.append(self._value(event, depth + 1))
        if kind is MappingStartEvent:
            mapping: dict[Any, Any] = {}
            seen: set[Any] = set()
            while True:
                event = self.next_event()
                if type(event) is MappingEndEvent:
                    return mapping
                if type(event) is not ScalarEvent:
                    raise _LeaveFastPath
                key = self._scalar(event)
                marker = mapping_key(key)
                if marker in seen:
                    raise _LeaveFastPath
                seen.add(marker)
                mapping[key] = self._value(self.next_event(), depth + 1)
        raise _LeaveFastPath  # an alias

    def _row_mapping(self) -> tuple[dict[str, Any], list[str], list[int], dict[str, str]]:
        """One row's values, their columns and positions (line, column, ...) and kept texts.

        Called after the row's MappingStartEvent.  Column names and kept texts
        repeat on every row: each is kept once (`_shared`), not once a row.
        """
        values: dict[str, Any] = {}
        names: list[str] = []
        spots: list[int] = []
        texts: dict[str, str] = {}
        next_event = self.next_event
        scalar = self._scalar
        shared = self.shared.setdefault
        while True:
            event = next_event()
            if type(event) is not ScalarEvent:
                if type(event) is MappingEndEvent:
                    return values, names, spots, texts
                raise _LeaveFastPath
            column = scalar(event)
            if type(column) is not str or column in values:
                raise _LeaveFastPath
            column = shared(column, column)
            event = next_event()
            mark = event.start_mark
            if type(event) is ScalarEvent:
                value = values[column] = scalar(event)
                if value is not None and type(value) is not str and self.keeps_text:
                    texts[column] = shared(event.value, event.value)
            else:
                values[column] = self._value(event, 3)
            names.append(column)
            spots += (mark.line + 1, mark.column + 1)

    def _spots(self, names: list[str], spots: list[int]) -> Spots:
        """The compact positions of one row; rows writing the same columns share the names."""
        shape = tuple(names)
        return Spots.of(self.shapes.setdefault(shape, shape), spots)

    def _keyed_rows(self) -> list[Row]:
        if len(self.dataset.key_columns) != 1:
            raise _LeaveFastPath
        key_column = self.dataset.key_columns[0]
        path = self.path
        rows: list[Row] = []
        seen: set[Any] = set()
        while True:
            event = self.next_event()
            if type(event) is MappingEndEvent:
                return rows
            if type(event) is not ScalarEvent:
                raise _LeaveFastPath
            key = self._scalar(event)
            key_text = (
                event.value
                if key is not None and type(key) is not str and self.keeps_text
                else None
            )
            marker = mapping_key(key)
            if marker in seen:
                raise _LeaveFastPath
            seen.add(marker)
            key_mark: Any = event.start_mark
            key_spot = (key_mark.line + 1, key_mark.column + 1)
            event = self.next_event()
            if type(event) is MappingStartEvent:
                self._check_plain_collection(event)
                values, names, spots, texts = self._row_mapping()
            elif type(event) is ScalarEvent and self._scalar(event) is None:
                values, names, spots, texts = {}, [], [], {}
            else:
                raise _LeaveFastPath
            if key_column in values:
                # The full loader reports a key column that disagrees; one that agrees
                # is replaced by the key, with the key's text.
                if values[key_column] != key:
                    raise _LeaveFastPath
                texts.pop(key_column, None)
                # As a dict would: the key column keeps its place, with the key's position.
                index = names.index(key_column)
                spots[2 * index : 2 * index + 2] = key_spot
            else:
                names.append(key_column)
                spots += key_spot
            values[key_column] = key
            if key_text is not None:
                texts[key_column] = key_text
            position = Position(path, *key_spot)
            rows.append(Row(values, position, self._spots(names, spots), texts or NO_TEXTS))

    def _listed_rows(self) -> list[Row]:
        path = self.path
        rows: list[Row] = []
        while True:
            event = self.next_event()
            if type(event) is SequenceEndEvent:
                return rows
            if type(event) is not MappingStartEvent:
                raise _LeaveFastPath
            self._check_plain_collection(event)
            mark: Any = event.start_mark
            values, names, spots, texts = self._row_mapping()
            position = Position(path, mark.line + 1, mark.column + 1)
            rows.append(Row(values, position, self._spots(names, spots), texts or NO_TEXTS))
