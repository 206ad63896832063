"""The loader against broken and hostile input: every case a Problem with a position."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from alembic_datasync import Dataset, DatasetFileMissing
from alembic_datasync.files import load_dataset
from alembic_datasync.guard import DEFAULT_MAX_ALIAS_NODES
from alembic_datasync.loader import parse_file
from alembic_datasync.rows import FileProblem, LoadedFile

NODES = Dataset("nodes.yaml", table="llm_node_configuration", key="node_name")
FLAGS = Dataset("flags.yaml", table="feature_flags", key=("tenant", "flag"))


def refusal(source: bytes, dataset: Dataset = NODES) -> str:
    """The one problem that stops ``source`` being read."""
    with pytest.raises(FileProblem) as caught:
        parse_file(source, dataset)
    return str(caught.value.problem)


def problems(source: bytes, dataset: Dataset = NODES) -> list[str]:
    """The problems of single rows or values in ``source``."""
    return [str(p) for p in parse_file(source, dataset).problems]


# -- hostile input -------------------------------------------------------------


def test_python_object_tag_is_refused_at_the_tag() -> None:
    assert refusal(b"a:\n  cmd: !!python/object/apply:os.system ['ls']\n") == (
        "nodes.yaml:2:8: tag !!python/object/apply:os.system is refused: it would construct a "
        "Python object, and dataset files hold plain data only; remove the tag"
    )


def test_python_name_tag_on_a_key_is_refused() -> None:
    assert refusal(b"? !!python/name:os.system\n: {x: 1}\n") == (
        "nodes.yaml:1:3: tag !!python/name:os.system is refused: it would construct a Python "
        "object, and dataset files hold plain data only; remove the tag"
    )


def test_unknown_local_tag_is_refused() -> None:
    assert refusal(b"a:\n  x: !secret abc\n") == (
        "nodes.yaml:2:6: unknown tag !secret; dataset files hold plain YAML data: remove the "
        "tag, or quote the value if the ! belongs to it"
    )


def test_set_tag_is_not_supported() -> None:
    assert refusal(b"a:\n  x: !!set {q}\n") == (
        "nodes.yaml:2:6: tag !!set is not supported in dataset files; write a plain list or "
        "mapping, or a scalar without the tag"
    )


def billion_laughs(levels: int) -> bytes:
    lines = [b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        name, previous = bytes([97 + level]), bytes([96 + level])
        lines.append(name + b": &" + name + b" [" + b", ".join([b"*" + previous] * 9) + b"]")
    lines.append(b"row: {doc: *" + bytes([96 + levels]) + b"}")
    return b"\n".join(lines) + b"\n"


def test_billion_laughs_is_refused_quickly_in_little_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refusal(billion_laughs(10))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == (
        "nodes.yaml:6:4: aliases to this anchor and others expand to more than 1,000,000 nodes "
        "(an alias bomb?); a dataset file may reuse anchors, but not multiply them without bound"
    )
    assert elapsed < 0.5
    assert peak < 2 * 1024 * 1024


def test_merge_key_bomb_is_refused() -> None:
    # Each level merges the one before twice: merge keys copy, so this doubles.
    levels = [b"a0: &a0 {x: 1, y: 2}"]
    levels += [b"a%d: &a%d {<<: [*a%d, *a%d]}" % (i, i, i - 1, i - 1) for i in range(1, 40)]
    message = refusal(b"\n".join(levels) + b"\n")
    assert message.startswith("nodes.yaml:16:6: aliases to this anchor and others expand to more")


def test_moderate_alias_reuse_is_fine() -> None:
    source = b"_defaults: &defaults {default_model: m, default_temperature: 0.2}\n" + b"".join(
        b"n%d: {<<: *defaults, default_max_tokens: %d}\n" % (i, i) for i in range(2000)
    )
    loaded = parse_file(source, NODES)
    assert len(loaded.rows) == 2001
    assert loaded.rows[5].values == {
        "default_model": "m",
        "default_temperature": 0.2,
        "default_max_tokens": 4,
        "node_name": "n4",
    }


def test_alias_limit_is_configurable() -> None:
    source = b"a: &a {x: [1, 2, 3]}\nb: *a\nc: *a\n"
    assert len(parse_file(source, NODES).rows) == 3
    with pytest.raises(FileProblem) as caught:
        parse_file(source, NODES, max_alias_nodes=5)
    # Aliases are references to the anchored node: the position is the anchor's.
    assert str(caught.value.problem).startswith("nodes.yaml:1:4: aliases to this anchor")
    assert DEFAULT_MAX_ALIAS_NODES == 1_000_000


def test_alias_inside_its_own_anchor_is_refused() -> None:
    assert refusal(b"a: &x\n  b: *x\n") == (
        "nodes.yaml:1:4: an alias refers to the anchor it is inside of, so the value would "
        "contain itself; no column can hold that: remove the alias"
    )


def test_deep_nesting_is_refused_before_construction() -> None:
    assert refusal(b"a:\n  b: " + b"[" * 150 + b"]" * 150 + b"\n") == (
        "nodes.yaml:2:104: nested more than 100 levels deep; a dataset row is a mapping of "
        "column: value, and even JSON values do not need this depth"
    )


def test_nesting_beyond_libyaml_limit_is_a_problem_too() -> None:
    # libyaml 0.2.5 composes it and the walk refuses it; later libyaml stops at 1,000 levels.
    message = refusal(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n")
    assert message in (
        "nodes.yaml:1:1003: invalid YAML: while increasing flow level: exceeded maximum "
        "nesting depth",
        "nodes.yaml:1:103: nested more than 100 levels deep; a dataset row is a mapping of "
        "column: value, and even JSON values do not need this depth",
    )


# -- broken files --------------------------------------------------------------


def test_tab_used_for_indentation() -> None:
    assert refusal(b"a:\n\tdefault_model: m\n") == (
        "nodes.yaml:2:1: a tab is used for indentation, and YAML allows only spaces there; "
        "replace the tab with spaces"
    )


def test_tab_after_spaces_in_indentation() -> None:
    assert refusal(b"a:\n  default_model: m\n  \tdescription: x\n") == (
        "nodes.yaml:3:3: a tab is used for indentation, and YAML allows only spaces there; "
        "replace the tab with spaces"
    )


def test_tab_inside_a_value_is_fine() -> None:
    assert parse_file(b"a:\n  description: 'one\ttwo'\n", NODES).rows[0].values == {
        "description": "one\ttwo",
        "node_name": "a",
    }


def test_invalid_utf8() -> None:
    assert refusal(b"a:\n  description: caf\xe9 au lait\n") == (
        "nodes.yaml:2:19: is not valid UTF-8 (byte 0xe9 here); save the file as UTF-8"
    )


def test_invalid_utf8_column_counts_characters_not_bytes() -> None:
    assert refusal("a:\n  description: ünïcode \xff".encode().replace(b"\xc3\xbf", b"\xff")) == (
        "nodes.yaml:2:24: is not valid UTF-8 (byte 0xff here); save the file as UTF-8"
    )


def test_binary_file() -> None:
    assert refusal(bytes(range(256)) * 4) == (
        "nodes.yaml:1:1: contains a NUL byte, so it is not UTF-8 YAML text (a binary file, or "
        "text saved as UTF-16 without a byte-order mark?); point the dataset at a YAML file "
        "saved as UTF-8"
    )


def test_control_character() -> None:
    assert refusal(b"a:\n  description: x\x07y\n") == (
        "nodes.yaml:2:17: contains the control character U+0007, which YAML does not allow; "
        "remove it"
    )


def test_leading_utf8_byte_order_mark_is_accepted() -> None:
    # YAML allows one at the start, and Windows editors write it.
    loaded = parse_file(b"\xef\xbb\xbfa:\n  default_model: m\n", NODES)
    assert loaded.rows[0].values == {"default_model": "m", "node_name": "a"}
    assert loaded.rows[0].position_of("default_model").column == 18


def test_utf16_with_byte_order_mark_is_accepted() -> None:
    loaded = parse_file("a:\n  default_model: m\n".encode("utf-16"), NODES)
    assert loaded.rows[0].values == {"default_model": "m", "node_name": "a"}


def test_byte_order_mark_in_the_middle() -> None:
    assert refusal(b"a:\n  default_model: m\n\xef\xbb\xbfb:\n  default_model: n\n") == (
        "nodes.yaml:3:1: a byte-order mark (U+FEFF) in the middle of the file, probably from "
        "joining two files; delete it (it is invisible in most editors)"
    )


def test_second_document() -> None:
    assert refusal(b"a: {default_model: m}\n---\nb: {default_model: n}\n") == (
        "nodes.yaml:2:1: a second YAML document starts here; a dataset file is one document: "
        "remove the --- line, or move what follows it to a file of its own"
    )


def test_syntax_error_names_where_the_quote_opens_and_where_parsing_stopped() -> None:
    assert refusal(b'a:\n  default_model: "gpt-4o\n  default_temperature: 0.2\n') == (
        "nodes.yaml:2:18: invalid YAML: while scanning a quoted scalar: found unexpected end "
        "of stream at 4:1, where the parser gave up; check the quote that opens here: is it "
        "closed?"
    )


def test_empty_file_is_an_empty_dataset() -> None:
    assert parse_file(b"", NODES).rows == []
    assert parse_file(b"# nothing yet\n", NODES).rows == []
    assert parse_file(b"---\n", NODES).rows == []


def test_top_level_scalar() -> None:
    assert refusal(b"just text\n") == (
        "nodes.yaml:1:1: top level is the scalar 'just text'; a dataset file is either a "
        "mapping of key: {column: value} or a list of rows ({column: value} mappings)"
    )


def test_keyed_file_for_a_composite_key() -> None:
    assert refusal(b"acme: {enabled: true}\n", FLAGS) == (
        "flags.yaml:1:1: dataset 'feature_flags' has a composite key (tenant, flag): write the "
        "file as a list of rows, each naming every key column"
    )


def test_rows_that_are_not_mappings_are_all_reported() -> None:
    loaded = parse_file(b"a: 5\nb: {default_model: m}\nc: [1]\n", NODES)
    assert [row.values for row in loaded.rows] == [{"default_model": "m", "node_name": "b"}]
    assert [str(p) for p in loaded.problems] == [
        "nodes.yaml:1:4: the row for 'a' must be a mapping of column: value, found the scalar '5'",
        "nodes.yaml:3:4: the row for 'c' must be a mapping of column: value, found a list",
    ]


def test_list_items_that_are_not_mappings_are_all_reported() -> None:
    assert problems(b"- {tenant: a, flag: b}\n- 7\n- [x]\n", FLAGS) == [
        "flags.yaml:2:3: a row must be a mapping of column: value, found the scalar '7'",
        "flags.yaml:3:3: a row must be a mapping of column: value, found a list",
    ]


def test_key_written_twice_names_both_lines() -> None:
    assert problems(b"a:\n  default_model: m\n  default_model: n\nb: {}\nb: {}\n") == [
        "nodes.yaml:3:3: key 'default_model' is written twice in this mapping, first at line 2, "
        "again at line 3; YAML would silently keep only the last one: remove or merge one of them",
        "nodes.yaml:5:1: key 'b' is written twice in this mapping, first at line 4, again at "
        "line 5; YAML would silently keep only the last one: remove or merge one of them",
    ]


def test_column_name_that_is_not_a_string() -> None:
    assert problems(b"a:\n  1: x\n") == [
        "nodes.yaml:2:3: column names are strings; 1 is int: quote it if it really is a column name"
    ]


def test_key_column_disagreeing_with_the_row_key() -> None:
    assert problems(b"a:\n  node_name: b\n") == [
        "nodes.yaml:2:14: node_name is 'b' but the row is filed under 'a'; drop the node_name "
        "line or make them agree"
    ]


def test_number_too_long_to_convert_is_a_problem_not_a_crash() -> None:
    assert problems(b"a:\n  n: " + b"1" * 5000 + b"\n") == [
        "nodes.yaml:2:6: YAML reads 1111111111111111111111111111111111111... as !!int but "
        "cannot convert it; fix the value, or quote it if it is text"
    ]


def test_impossible_date_is_a_problem_not_a_crash() -> None:
    assert problems(b"a:\n  day: 2024-02-30\n") == [
        "nodes.yaml:2:8: YAML reads 2024-02-30 as a date, but it is not a valid one; fix the "
        'date, or quote it if it is text: "2024-02-30"'
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "nodes.yaml:2:6: YAML cannot read 'abc' as !!int; fix the value or the tag"),
        (
            "!!bool maybe",
            "nodes.yaml:2:6: YAML cannot read 'maybe' as !!bool; fix the value or the tag",
        ),
        (
            "!!timestamp soon",
            "nodes.yaml:2:6: YAML cannot read 'soon' as !!timestamp; fix the value or the tag",
        ),
        (
            "[1, !!float x]",
            "nodes.yaml:2:10: YAML cannot read 'x' as !!float; fix the value or the tag",
        ),
        (
            "!!binary abc",
            "nodes.yaml:2:6: invalid YAML: failed to decode base64 data: Incorrect padding",
        ),
        ("!!str [1]", "nodes.yaml:2:6: invalid YAML: expected a scalar node, but found sequence"),
        # Found by the fuzz campaign: an empty !!float or !!int raised IndexError.
        ("!!float", "nodes.yaml:2:6: YAML cannot read '' as !!float; fix the value or the tag"),
        ("!!int ''", "nodes.yaml:2:6: YAML cannot read '' as !!int; fix the value or the tag"),
    ],
)
def test_value_a_tag_cannot_build(value: str, message: str) -> None:
    assert problems(f"a:\n  n: {value}\n".encode()) == [message]


def test_empty_float_tag_on_a_row_key() -> None:
    # The fuzz campaign's one finding, as it found it.
    assert problems(b"? !!float ") == [
        "nodes.yaml:1:3: YAML cannot read '' as !!float; fix the value or the tag"
    ]


def test_bad_merge_key() -> None:
    assert problems(b"a:\n  <<: 1\n  x: 2\n") == [
        "nodes.yaml:2:7: invalid YAML: while constructing a mapping: expected a mapping or list "
        "of mappings for merging, but found scalar"
    ]


def test_retyped_scalars_keep_their_text() -> None:
    loaded = parse_file(b"NO:\n  a: 1.10\n  b: '1.10'\n  c: on\n  d: 0755\n  e: text\n", NODES)
    assert loaded.rows[0].scalar_texts == {"a": "1.10", "c": "on", "d": "0755", "node_name": "NO"}


# -- files on disk -------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetFileMissing):
        load_dataset(NODES, tmp_path)


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").mkdir()
    with pytest.raises(FileProblem) as caught:
        load_dataset(NODES, tmp_path)
    assert str(caught.value.problem) == (
        "nodes.yaml: is a directory, not a YAML file: point the dataset at a file"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_pipe_instead_of_a_file(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "nodes.yaml")
    with pytest.raises(FileProblem) as caught:
        load_dataset(NODES, tmp_path)
    assert str(caught.value.problem) == (
        "nodes.yaml: is not a regular file (a device or a pipe?): point the dataset at a YAML file"
    )


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_bytes(b"a: {default_model: m}\n" * 100)
    with pytest.raises(FileProblem) as caught:
        load_dataset(NODES, tmp_path, max_size=1000)
    assert str(caught.value.problem) == (
        "nodes.yaml: file is 2,200 bytes, over the limit of 1,000; split it, or raise the limit "
        "(max_file_size)"
    )
    assert isinstance(load_dataset(NODES, tmp_path, max_size=2200), LoadedFile)
