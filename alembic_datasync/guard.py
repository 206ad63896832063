"""Refuse hostile or broken YAML with a position: before anything is built, and when parsing fails.

The loader composes a file into PyYAML's node graph, checks it here, and only
then builds values.  `check_node_graph` walks the graph once: only the
plain-data tags (no tag can build a Python object), bounded nesting, no alias
inside its own anchor, and a bounded number of nodes reached through aliases
(a "billion laughs" file is refused after a walk of what was actually written,
long before anything is expanded).  `reader_problem` and `syntax_problem` turn
PyYAML's errors about the bytes and the syntax (invalid UTF-8, a NUL byte, a
tab used for indentation, a stray byte-order mark...) into messages that say
where the problem is and what to do.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Position, Problem
from .yaml11 import YAML_TAG

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

#: How many nodes aliases may add when expanded, in total, before a file is
#: refused.  Legitimate reuse (a ``<<: *defaults`` mapping in every row) stays
#: far below; a "billion laughs" file passes it within a few levels.
DEFAULT_MAX_ALIAS_NODES = 1_000_000

#: How deeply collections may nest.  Rows are two levels; JSON values add a
#: few.  The bound keeps construction (recursive in PyYAML) far from Python's
#: recursion limit.
DEFAULT_MAX_DEPTH = 100


def mark_position(path: str, mark: Any) -> Position:
    """The `Position` of a PyYAML mark (0-based) in the file shown as ``path``."""
    return Position(path, mark.line + 1, mark.column + 1)


def show_tag(tag: str) -> str:
    """A tag as it is written in YAML: ``!!python/object``, ``!local``."""
    return "!!" + tag[len(YAML_TAG) :] if tag.startswith(YAML_TAG) else tag


def children(node: Node) -> Iterator[Node]:
    """The nodes directly under ``node``: a mapping's keys and values, a list's items."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node
    elif isinstance(node, SequenceNode):
        yield from node.value


def check_node_graph(
    root: Node, path: str, *, max_alias_nodes: int, max_depth: int
) -> Problem | None:
    """The problem that makes the composed graph unsafe to build, or None.

    PyYAML composes an alias as a second reference to the anchored node, so
    the graph is only as large as the text; what explodes is expanding it (a
    merge key copies, a JSON value is serialized in full).  One depth-first
    walk, visiting each distinct node once, adds up how many nodes every
    alias stands for and stops as soon as the total passes ``max_alias_nodes``.
    It also refuses tags outside `PLAIN_DATA_TAGS`, nesting deeper than
    ``max_depth`` and an alias inside its own anchor (a structure that
    contains itself, which no column can hold).
    """
    problem = _tag_problem(root, path)
    if problem is not None:
        return problem
    sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, once fully walked
    on_path: set[int] = {id(root)}
    through_aliases = 0
    # Frames: [node, its children, nodes counted so far under it]
    stack: list[list[Any]] = [[root, children(root), 1]]
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
                return Problem(
                    mark_position(path, child.start_mark),
                    f"aliases to this anchor and others expand to more than "
                    f"{max_alias_nodes:,} nodes (an alias bomb?); a dataset file may reuse "
                    f"anchors, but not multiply them without bound",
                )
            continue
        if id(child) in on_path:
            return Problem(
                mark_position(path, child.start_mark),
                "an alias refers to the anchor it is inside of, so the value would contain "
                "itself; no column can hold that: remove the alias",
            )
        problem = _tag_problem(child, path)
        if problem is not None:
            return problem
        if isinstance(child, ScalarNode):
            sizes[id(child)] = 1
            frame[2] += 1
            continue
        if len(stack) >= max_depth:
            return Problem(
                mark_position(path, child.start_mark),
                f"nested more than {max_depth} levels deep; a dataset row is a mapping of "
                f"column: value, and even JSON values do not need this depth",
            )
        on_path.add(id(child))
        stack.append([child, children(child), 1])
    return None


def _tag_problem(node: Node, path: str) -> Problem | None:
    tag = node.tag
    if tag in PLAIN_DATA_TAGS:
        return None
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
    return Problem(mark_position(path, node.start_mark), message)


def reader_problem(
    data: bytes, path: str, exc: yaml.reader.ReaderError, *, byte_offsets: bool
) -> Problem:
    """Invalid UTF-8, a NUL byte or a control character, at its line and column.

    ``byte_offsets``: libyaml reports the error's offset in bytes, PyYAML's
    own reader in characters.
    """
    position = _position_at_offset(data, exc.position, path, byte_offsets)
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


def _position_at_offset(data: bytes, offset: int, path: str, byte_offsets: bool) -> Position:
    if byte_offsets:
        return _position_at_byte(data, offset, path)
    text = data.decode("utf-8", errors="replace")
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(path, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _position_at_byte(data: bytes, offset: int, path: str) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Position(path, data.count(b"\n", 0, offset) + 1, column)


def syntax_problem(data: bytes, path: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A parse error at its position; a tab, a stray byte-order mark or a second document named."""
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
            mark_position(path, mark),
            "a second YAML document starts here; a dataset file is one document: remove "
            "the --- line, or move what follows it to a file of its own",
        )
    detail = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        detail = f"{exc.context}: {exc.problem}"
    opened = exc.context_mark
    if opened is not None and exc.problem_mark is not None and _opens(exc.context or ""):
        start, stop = mark_position(path, opened), mark_position(path, exc.problem_mark)
        if (start.line, start.column) < (stop.line, stop.column):
            # An unclosed quote or bracket: the parser only gives up far below,
            # where the next quote or bracket happens to be; lead with where it opens.
            return Problem(
                start,
                f"invalid YAML: {detail} at {stop.line}:{stop.column}, where the parser gave "
                f"up; check the {_what_opens(exc.context or '')} that opens here: is it closed?",
            )
    quote = _multiline_quote_before(data, mark)
    if quote is not None:
        start, stop = mark_position(path, quote), mark_position(path, mark)
        return Problem(
            start,
            f"invalid YAML: a quoted value opens here and runs over several lines, then at "
            f"{stop.line}:{stop.column} the parser gave up ({detail}); is the quote that opens "
            f"here closed on its own line?",
        )
    return Problem(mark_position(path, mark), f"invalid YAML: {detail}")


def _multiline_quote_before(data: bytes, mark: Any) -> Any:
    """The start of a quoted value spanning lines just before ``mark``, or None.

    Legal YAML, but rare in a dataset file: a quote left open swallows the
    lines below it up to the next quote, and the parser only stumbles after.
    """
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    last = None
    try:
        for token in yaml.scan(data, Loader=loader):
            if (token.start_mark.line, token.start_mark.column) >= (mark.line, mark.column):
                break
            last = token
    except yaml.YAMLError:
        pass
    if (
        isinstance(last, yaml.ScalarToken)
        and last.style in ("'", '"')
        and last.end_mark.line > last.start_mark.line
        and mark.line - last.end_mark.line <= 1
    ):
        return last.start_mark
    return None


def _opens(context: str) -> bool:
    """True for a parser context that is something opened and not yet closed."""
    return any(word in context for word in ("quoted scalar", "flow mapping", "flow sequence"))


def _what_opens(context: str) -> str:
    if "quoted scalar" in context:
        return "quote"
    return "bracket" if "sequence" in context else "brace"


#: Line breaks YAML counts that editors, diffs and grep do not (NEL, U+2028, U+2029).
_YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")


class EditorLines:
    """Turns YAML's line numbers into an editor's, for a text with breaks only YAML sees.

    YAML also ends a line at NEL, U+2028 and U+2029; an editor (and a diff)
    does not, so a quoted value holding one would shift every later position
    by a line.  `for_text` gives None for the usual text that has none.
    """

    def __init__(self, text: str) -> None:
        # Where each line starts, as YAML counts lines, and as an editor does.
        self.yaml_starts = [0]
        index = 0
        while index < len(text):
            character = text[index]
            if character == "\r" and text[index + 1 : index + 2] == "\n":
                index += 1
            if character in "\r\n" or character in _YAML_ONLY_BREAKS:
                self.yaml_starts.append(index + 1)
            index += 1
        self.editor_starts = [0] + [
            index + 1
            for index, character in enumerate(text)
            if character == "\n" or (character == "\r" and text[index + 1 : index + 2] != "\n")
        ]

    @classmethod
    def for_text(cls, data: bytes) -> EditorLines | None:
        """The line map of ``data``, or None when YAML and an editor count lines alike."""
        text = data.decode("utf-8", errors="replace")
        if not any(character in text for character in _YAML_ONLY_BREAKS):
            return None
        return cls(text)

    def position(self, position: Position) -> Position:
        """``position`` (YAML's lines) as an editor shows it."""
        line, column = self.spot(position.line, position.column)
        return Position(position.path, line, column)

    def spot(self, line: int, column: int) -> tuple[int, int]:
        """(line, column), 1-based, from YAML's count to an editor's."""
        if not 1 <= line <= len(self.yaml_starts):
            return line, column
        offset = self.yaml_starts[line - 1] + column - 1
        editor_line = bisect.bisect_right(self.editor_starts, offset)
        return editor_line, offset - self.editor_starts[editor_line - 1] + 1

    def problem(self, problem: Problem) -> Problem:
        """``problem`` with its position as an editor shows it."""
        if not isinstance(problem.position, Position):
            return problem
        return Problem(self.position(problem.position), problem.message)
