"""fastload against the loaders it must agree with: loader.parse_rows and yaml.load(CSafeLoader).

Agreement is strict: the same values of the same types in the same order (True
is not 1, 1.0 is not 1), the same row and value positions, and for input the
fast path declines, the same rows or the same error through the full loader.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alembic_datasync import Dataset
from alembic_datasync.fastload import fast_rows
from alembic_datasync.loader import parse_rows as parse_rows_any_path
from alembic_datasync.rows import FileProblem, Row, Spots

EXAMPLE = Path(__file__).parent.parent / "example" / "config" / "llm_nodes.yaml"

KEYED = Dataset("nodes.yaml", table="llm_node_configuration", key="node_name")
COMPOSITE = Dataset("flags.yaml", table="feature_flags", key=("tenant", "flag"))


def typed(value: Any) -> Any:
    """``value`` with every scalar's type made part of it, so True != 1 and nan == nan."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def strict(rows: list[Row]) -> list[Any]:
    """Everything a row holds, in order and typed (texts kept for retyped scalars too)."""
    return [
        (
            typed(row.values),
            row.position,
            list(row.value_positions.items()),
            list(getattr(row, "scalar_texts", {}).items()),
        )
        for row in rows
    ]


def outcome(parse: Any, text: str, dataset: Dataset) -> Any:
    try:
        return ("rows", strict(parse(text, dataset)))
    except FileProblem as exc:
        return ("problem", str(exc.problem))
    except Exception as exc:  # whatever the full loader raises, the fast road must raise too
        return ("exception", type(exc).__name__, str(exc))


def parse_rows(source: bytes | str, dataset: Dataset) -> list[Row]:
    """The full loader alone: parse_file would otherwise take the fast path itself."""
    return parse_rows_any_path(source, dataset, fast=False)


def yaml_load_rows(text: str, dataset: Dataset) -> list[Any] | None:
    """The rows' values as yaml.load(CSafeLoader) sees the file (key column added last).

    None where yaml.load fails: a complex key ``? [a, b]`` is a row key to
    load.parse_rows but an unhashable dict key to yaml.load.  In the tests
    ``check_agreement`` runs on, the fast path takes dozens of files whose rows
    are compared this way.
    """
    try:
        document = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    if document is None:
        return []
    if isinstance(document, list):
        return [typed(item) for item in document]
    (key_column,) = dataset.key_columns
    rows = []
    for key, columns in document.items():
        values = dict(columns or {})
        values[key_column] = key
        rows.append(typed(values))
    return rows


def check_agreement(text: str, dataset: Dataset) -> list[Row] | None:
    """Assert every agreement this module is about; the fast path's rows, if it took them."""
    fast = fast_rows(text, dataset)
    full = outcome(parse_rows, text, dataset)
    if fast is not None:
        assert full == ("rows", strict(fast))
    assert outcome(parse_rows_any_path, text, dataset) == full
    if full[0] == "rows":
        by_yaml_load = yaml_load_rows(text, dataset)
        # yaml.load's dict folds keys Python finds equal (true and 1) into one row.
        if by_yaml_load is not None and len(by_yaml_load) == len(full[1]):
            assert [row[0] for row in full[1]] == by_yaml_load
    return fast


# Files the fast path must take, and get exactly right.
PLAIN_FILES = {
    "llm node shape": """\
        intent_classification:
          default_model: "gpt-4o"
          default_temperature: 0.2
          default_max_tokens: 2000
          langsmith_tracing: false
        email_classification:
          default_model: 'gpt-4o-mini'
          default_temperature: 0.0
          description: Sorts incoming mail
        """,
    "yaml 1.1 scalars": """\
        n1:
          a: no
          b: yes
          c: on
          d: Off
          e: 1.10
          f: 0755
          g: 0x1F
          h: 1_000
          i: 1:30
          j: .inf
          k: -.INF
          l: .nan
          m: ~
          n:
          o: 2001-12-14
          p: 2001-12-14t21:59:43.10-05:00
          q: +12
          r: 0b101
          s: '0755'
          t: "no"
          u: !!str 12
          v: !!float 3
          w: ! 12
          x: 6.8523015e+5
          y: 190:20:30.15
          z: !!binary aGVsbG8=
        "n2": {a: null, b: Null, c: NULL, d: "", e: ''}
        3: {a: 1}
        4.5: {a: 1}
        true: {a: 1}
        2001-01-01: {a: 1}
        """,
    "empty rows": """\
        first:
        second: ~
        third: null
        fourth: {}
        """,
    "key column written in the row": """\
        a: {node_name: a, x: 1}
        b: {x: 2, node_name: b}
        """,
    "nested values": """\
        n:
          tags: [a, b, 1, no]
          limits: {tokens: 100, "nested": {deep: [1, {x: y}]}}
          empty_list: []
        """,
    "flow and block mix, comments, unicode": """\
        # a comment
        "ключ": {модель: "gpt", t: 0.5}   # trailing comment
        'quoted key': {a: "multi\\nline", b: 'it''s'}
        literal:
          text: |
            two
            lines
          folded: >
            one
            line
        """,
    "empty file": "",
    "comments only": "# nothing here\n",
    "nan values": "a: {x: .nan, y: .nan}\n",
    "true and 1 are different keys": "true: {x: 1}\n1: {x: 2}\n",
}

LIST_FILES = {
    "list of rows": """\
        - {tenant: acme, flag: new_checkout, enabled: true}
        - {tenant: acme, flag: dark_mode, enabled: false}
        - tenant: globex
          flag: dark_mode
          enabled: yes
          note: pilot
        """,
    "empty list": "[]\n",
}

# Files the fast path hands to the full loader, which must then answer as always.
OTHER_FILES = {
    "merge keys": """\
        defaults: &defaults
          default_model: gpt-4o
          default_temperature: 0.2
        a:
          <<: *defaults
          default_max_tokens: 10
        b:
          <<: *defaults
          default_model: other
        """,
    "anchor on a scalar": "a: {x: &v 1, y: *v}\n",
    "duplicate top-level key": "a: {x: 1}\nb: {x: 2}\na: {x: 3}\n",
    "duplicate column": "a:\n  x: 1\n  x: 2\n",
    "duplicate int and float keys": "1: {x: 1}\n1.0: {x: 2}\n",
    # PyYAML builds every .nan as one shared float object, so they are duplicates.
    "duplicate nan keys": ".nan: {a: 1}\n.NaN: {a: 2}\n",
    "non-string column": "a:\n  1: x\n",
    "bool column": "a:\n  yes: x\n",
    "key column disagrees": "a: {node_name: b}\n",
    "row is a scalar": "a: 5\n",
    "row is a list": "a: [1, 2]\n",
    "top level scalar": "just text\n",
    "explicit empty document": "---\n",
    "two documents": "a: {x: 1}\n---\nb: {x: 2}\n",
    "python tag": "a: {x: !!python/name:os.system ''}\n",
    "unknown tag": "a: {x: !custom 1}\n",
    "set tag": "a: {x: !!set {p, q}}\n",
    "bad int": "a: {x: !!int abc}\n",
    "invalid yaml": "a: {x: 1\n",
    "tab indentation": "a:\n\tx: 1\n",
    "value tag": "a: {x: =}\n",
    "complex key": "? [a, b]\n: {x: 1}\n",
    "tagged root": "!!map {a: {x: 1}}\n",
    "list item is a scalar": "- {x: 1}\n- 2\n",
}


@pytest.mark.parametrize("name", sorted(PLAIN_FILES))
def test_fast_path_takes_plain_files_and_agrees(name: str) -> None:
    text = textwrap.dedent(PLAIN_FILES[name])
    assert check_agreement(text, KEYED) is not None


@pytest.mark.parametrize("name", sorted(LIST_FILES))
def test_fast_path_takes_lists_of_rows_and_agrees(name: str) -> None:
    assert check_agreement(textwrap.dedent(LIST_FILES[name]), COMPOSITE) is not None


@pytest.mark.parametrize("name", sorted(OTHER_FILES))
def test_unusual_files_go_to_the_full_loader_with_the_same_result(name: str) -> None:
    text = textwrap.dedent(OTHER_FILES[name])
    assert fast_rows(text, KEYED) is None
    check_agreement(text, KEYED)


def test_keyed_file_for_a_composite_key_goes_to_the_full_loader() -> None:
    text = "a: {tenant: t, flag: f}\n"
    assert fast_rows(text, COMPOSITE) is None
    check_agreement(text, COMPOSITE)


def test_example_dataset_agrees_from_bytes_and_text() -> None:
    data = EXAMPLE.read_bytes()
    assert strict(fast_rows(data, KEYED) or []) == strict(parse_rows(data, KEYED))
    assert check_agreement(data.decode(), KEYED) is not None


def test_byte_order_mark_and_crlf_line_ends() -> None:
    data = "\ufeffa:\r\n  x: 1\r\n  y: no\r\n".encode()
    assert strict(fast_rows(data, KEYED) or []) == strict(parse_rows(data, KEYED))


def test_deep_nesting_goes_to_the_full_loader() -> None:
    deep = "a: {x: " + "[" * 150 + "]" * 150 + "}\n"
    assert fast_rows(deep, KEYED) is None
    check_agreement(deep, KEYED)
    shallow = "a: {x: " + "[" * 20 + "1" + "]" * 20 + "}\n"
    assert check_agreement(shallow, KEYED) is not None


def test_collector_state_is_restored() -> None:
    import gc

    assert gc.isenabled()
    fast_rows("a: {x: 1}\n", KEYED)
    fast_rows("a: {x: 1\n", KEYED)
    assert gc.isenabled()


# -- generated input ---------------------------------------------------------

TRICKY_SCALARS = [
    "no", "yes", "on", "off", "y", "n", "NO", "True", "FALSE", "null", "Null", "~", "",
    "1.10", "0755", "0x1F", "0b101", "1_000", "+12", "-0", "0.", ".5", "1e3", "6.8523015e+5",
    "1:30", "190:20:30.15", ".inf", "-.Inf", ".nan", "2001-12-14", "2001-12-14 21:59:43.10 -5",
    "12:30", "=", "<<", "!", "@x", "a b", "0o17", "09", "1,000", "x: y", "- a", "#c", "'q'",
]  # fmt: skip
WORDS = ["node", "model", "gpt-4o", "qwen", "abc", "dark_mode", "Ünïcødé", "a.b", "x-y"]


def scalar_text() -> st.SearchStrategy[str]:
    raw = st.one_of(
        st.sampled_from(TRICKY_SCALARS),
        st.sampled_from(WORDS),
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(alphabet="abcxyz019 .:-_#'\"!&*<>=?%@`|~\\", max_size=8),
    )

    def spell(pair: tuple[str, int]) -> str:
        text, style = pair
        if style == 0:
            return text
        if style == 1:
            return "'" + text.replace("'", "''") + "'"
        if style == 2:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"!!str {text}" if style == 3 else f"!!int {text}"

    return st.tuples(raw, st.sampled_from([0, 0, 0, 1, 2, 3, 4])).map(spell)


def value_text(depth: int = 0) -> st.SearchStrategy[str]:
    if depth >= 2:
        return scalar_text()
    nested = st.one_of(
        st.lists(value_text(depth + 1), max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(st.tuples(scalar_text(), value_text(depth + 1)), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        ),
    )
    return st.one_of(scalar_text(), scalar_text(), scalar_text(), nested)


COLUMN_NAMES = st.one_of(
    st.sampled_from(["default_model", "node_name", "tenant", "flag", "x", "y", "z"]),
    st.sampled_from(["a", "b", "c", "note", "enabled", "'quoted'", '"no"']),
    st.sampled_from(WORDS),
    scalar_text(),
)


@st.composite
def keyed_file(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.one_of(st.sampled_from(WORDS), scalar_text()))
        pairs = draw(st.lists(st.tuples(COLUMN_NAMES, value_text()), max_size=5))
        style = draw(st.sampled_from(["block", "flow", "empty", "anchored", "merge"]))
        if style == "flow" or (style == "block" and not pairs):
            lines.append(f"{key}: {{{', '.join(f'{c}: {v}' for c, v in pairs)}}}")
        elif style == "empty":
            lines.append(f"{key}:")
        elif style == "anchored":
            lines.append(f"{key}: &r{len(lines)} {{{', '.join(f'{c}: {v}' for c, v in pairs)}}}")
        elif style == "merge" and lines and "&r" in lines[-1]:
            anchor = lines[-1].split("&", 1)[1].split(" ", 1)[0]
            lines.append(f"{key}: {{<<: *{anchor}{''.join(f', {c}: {v}' for c, v in pairs)}}}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"  {c}: {v}" for c, v in pairs)
    return "\n".join(lines) + "\n"


@st.composite
def listed_file(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        pairs = draw(st.lists(st.tuples(COLUMN_NAMES, value_text()), max_size=4))
        if not pairs or draw(st.booleans()):
            lines.append("- {" + ", ".join(f"{c}: {v}" for c, v in pairs) + "}")
        else:
            lines.append(f"- {pairs[0][0]}: {pairs[0][1]}")
            lines.extend(f"  {c}: {v}" for c, v in pairs[1:])
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyed_file())
def test_generated_keyed_files_agree(text: str) -> None:
    check_agreement(text, KEYED)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listed_file())
def test_generated_lists_of_rows_agree(text: str) -> None:
    check_agreement(text, COMPOSITE)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1:-{}[],'\"&*!<~ .\n#?|>", max_size=40))
def test_generated_noise_agrees(text: str) -> None:
    check_agreement(text, KEYED)


def test_generated_files_mostly_take_the_fast_path() -> None:
    """The differential tests above are not vacuous: plain rows do go the fast way."""
    unusable_plain = {"=", "<<", "!", "x: y", "- a", "#c", "'q'", "", "@x", "1,000"}
    usable = [t for t in TRICKY_SCALARS if t not in unusable_plain]
    text = "".join(f"n{i}: {{a: {s}, b: '{s}', c: [{s}]}}\n" for i, s in enumerate(usable))
    rows = check_agreement(text, KEYED)
    assert rows is not None
    assert len(rows) == len(usable)


def test_kept_texts_follow_the_shared_rule() -> None:
    """Both loaders keep the texts of the same scalars: unquoted, retyped (yaml11's rule)."""
    text = "no: {a: NO, b: 1.10, c: '1.10', d: text, e: ~, f: [yes], g: !!int 7}\n"
    rows = check_agreement(text, KEYED)
    assert rows is not None
    assert rows[0].scalar_texts == {"a": "NO", "b": "1.10", "g": "7", "node_name": "no"}


def test_positions_are_held_compactly_and_read_like_a_dict() -> None:
    text = textwrap.dedent(
        """\
        a:
          default_model: x
          default_temperature: 0.2
        b:
          default_model: y
          node_name: b
          default_temperature: 0.3
        c:
          default_model: z
          default_temperature: 0.4
        """
    )
    rows = fast_rows(text, KEYED)
    assert rows is not None
    full = parse_rows_any_path(text, KEYED, fast=False)
    for fast, slow in zip(rows, full, strict=True):
        assert isinstance(fast.value_positions, Spots)
        assert dict(fast.value_positions) == slow.value_positions
        assert list(fast.value_positions) == list(slow.value_positions)
    first, second, third = rows
    # The key column written in the row keeps its place, with the key's position.
    assert list(second.value_positions) == ["default_model", "node_name", "default_temperature"]
    assert second.value_positions["node_name"] == (4, 1)
    assert second.position_of("default_temperature").line == 7
    assert first.value_positions.get("azure_model") is None
    assert "default_model" in first.value_positions and "azure_model" not in first.value_positions
    with pytest.raises(KeyError):
        first.value_positions["azure_model"]
    # Rows writing the same columns in the same order share one tuple of names.
    assert first.value_positions._names is third.value_positions._names
