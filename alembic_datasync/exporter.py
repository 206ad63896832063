"""Export a table's rows as a dataset file that reads back exactly: adopting a table, or the
follow-up pull request after an emergency edit in the database.

Values are spelled so that YAML reads them back as the table holds them:
text YAML 1.1 would misread (``NO``, ``1.10``, ``0755``, ``12:30``) is quoted,
decimals keep every digit, times of day are quoted, binary data is
``!!binary``, JSON is nested YAML.  Rows come in key order, the key as the
mapping's keys (one key column) or in each row (a composite key), and NULL
columns are left out (a dataset file that does not write a column leaves it
alone).

`reexport` rewrites a declared dataset's file from its table and keeps the
text of every row block the table did not change, comments included.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from sqlalchemy import Column, Connection, Integer, Table, select, text

from .column_types import ValueRule
from .dataset import Dataset
from .rows import LoadedFile, Row

#: Characters a quoted YAML value must escape rather than write as they are.
_ESCAPED = {"\x85", "\u2028", "\u2029", "\ufeff"}


class _ExactDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with the spellings that read back exactly."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(c in _ESCAPED or not (c.isprintable() or c == "\n") for c in value):
        # Double quotes spell them as escapes (\L, \x01): nothing an editor hides.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        # A literal block keeps lines as lines; PyYAML quotes where it cannot.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


def _represent_decimal(dumper: yaml.SafeDumper, value: decimal.Decimal) -> yaml.ScalarNode:
    if not value.is_finite():
        return dumper.represent_float(float(value))
    spelled = format(value, "f")
    if "." not in spelled:
        return dumper.represent_scalar("tag:yaml.org,2002:int", spelled)
    return dumper.represent_scalar("tag:yaml.org,2002:float", spelled)


def _represent_as_text(dumper: yaml.SafeDumper, value: Any) -> yaml.ScalarNode:
    spelled = value.isoformat() if isinstance(value, dt.time) else str(value)
    return _represent_str(dumper, spelled)


def _represent_memoryview(dumper: yaml.SafeDumper, value: memoryview) -> yaml.ScalarNode:
    return dumper.represent_binary(bytes(value))


def _represent_interval(dumper: yaml.SafeDumper, value: dt.timedelta) -> yaml.ScalarNode:
    """An interval as PostgreSQL writes one (``1 day 02:00:00``), which it reads back."""
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    spelled = f"{value.days} days {hours:02d}:{minutes:02d}:{seconds:02d}"
    if value.microseconds:
        spelled += f".{value.microseconds:06d}"
    return _represent_str(dumper, spelled)


def _represent_as_its_text(dumper: yaml.SafeDumper, value: object) -> yaml.ScalarNode:
    """Any other value a driver returns (an address, a range...): its text, which the
    database reads back as the same value."""
    return _represent_str(dumper, str(value))


_ExactDumper.add_representer(str, _represent_str)
_ExactDumper.add_representer(decimal.Decimal, _represent_decimal)
_ExactDumper.add_representer(dt.time, _represent_as_text)
_ExactDumper.add_representer(uuid.UUID, _represent_as_text)
_ExactDumper.add_representer(memoryview, _represent_memoryview)
_ExactDumper.add_multi_representer(dt.timedelta, _represent_interval)
_ExactDumper.add_multi_representer(object, _represent_as_its_text)


def dump(document: Any) -> str:
    """``document`` as YAML that reads back exactly (see the module's docstring)."""
    return yaml.dump(
        document,
        Dumper=_ExactDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**16,
    )


def exported_columns(
    table: Table, key_columns: Sequence[str], columns: Sequence[str] | None = None
) -> list[str]:
    """The columns an export writes: ``columns`` (key first), or every column a file may write.

    Left out by default: columns the database generates (computed, identity)
    and a surrogate integer primary key when the dataset's key is another column.
    """
    if columns:
        return [str(name) for name in dict.fromkeys([*key_columns, *columns])]
    chosen = []
    for column in table.columns:
        generated = column.computed is not None or column.identity is not None
        if column.name in key_columns or not (generated or _surrogate_key(table, column)):
            chosen.append(str(column.name))
    return list(dict.fromkeys([*key_columns, *chosen]))


def _surrogate_key(table: Table, column: Column[Any]) -> bool:
    return (
        column.primary_key
        and len(table.primary_key.columns) == 1
        and isinstance(column.type, Integer)
        and column.autoincrement in (True, "auto")
    )


def read_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    key_columns: Sequence[str],
    where: str | None = None,
    rules: dict[str, ValueRule] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The table's rows (``columns`` only) in key order, NULLs left out, as a file writes them.

    ``rules`` (the columns' `ValueRule`) turn what the driver returns into
    what a file writes (MySQL's TINYINT(1) 1 is true).  Rows with a NULL in a
    key column cannot be named by a file: they are left out and counted.
    """
    query = select(*(table.c[name] for name in columns)).order_by(
        *(table.c[name] for name in key_columns)
    )
    if where:
        query = query.where(text(where))
    rows = []
    unnamed = 0
    for found in connection.execute(query):
        row = dict(zip(columns, found, strict=True))
        if any(row[name] is None for name in key_columns):
            unnamed += 1
            continue
        rows.append(
            {
                name: rules[name].to_db(value) if rules else value
                for name, value in row.items()
                if value is not None
            }
        )
    return rows, unnamed


def document_of(rows: Iterable[dict[str, Any]], key_columns: Sequence[str]) -> Any:
    """Rows in a dataset file's shape: a mapping by key for one key column, else a list."""
    if len(key_columns) == 1:
        key = key_columns[0]
        return {row[key]: {c: v for c, v in row.items() if c != key} or None for row in rows}
    return list(rows)


def render(rows: Sequence[dict[str, Any]], key_columns: Sequence[str], header: str = "") -> str:
    """A whole dataset file for ``rows``."""
    if not rows:
        return header + ("{}\n" if len(key_columns) == 1 else "[]\n")
    return header + dump(document_of(rows, key_columns))


def reexport(
    loaded: LoadedFile,
    source: str,
    rows: Sequence[dict[str, Any]],
    rules: dict[str, ValueRule],
) -> tuple[str, int]:
    """The file ``source`` (already ``loaded``) rewritten from the table's ``rows``.

    A keyed file keeps the text of every row whose values the table holds
    unchanged (its comments too), drops rows the table no longer has and
    appends the table's new rows; a row the table changed is written anew.
    A list of rows is written anew as a whole.  Also returns how many row
    blocks were kept as they were.
    """
    key_columns = loaded.dataset.key_columns
    if len(key_columns) != 1 or not loaded.rows:
        return render(rows, key_columns), 0
    key = key_columns[0]
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = [row.position.line - 1 for row in loaded.rows]
    if starts != sorted(starts) or any(row.position.column != 1 for row in loaded.rows):
        return render(rows, key_columns), 0
    # Each row's block: the comments just above it, then its own lines.
    bounds = [*starts, len(lines)]
    blocks: dict[Any, tuple[Row, str, str]] = {}
    above = ""
    for number, row in enumerate(loaded.rows):
        body = lines[bounds[number] : bounds[number + 1]]
        trailing = len(body)
        while trailing > 1 and _is_comment(body[trailing - 1]):
            trailing -= 1
        blocks[_canonical_key(row.values[key], rules[key])] = (row, above, "".join(body[:trailing]))
        above = "".join(body[trailing:])
    parts = ["".join(lines[: starts[0]])]
    kept = 0
    for table_row in rows:
        found = blocks.get(_canonical_key(table_row[key], rules[key]))
        if found is None:
            parts.append(dump(document_of([table_row], key_columns)))
        elif _same_values(found[0], table_row, rules):
            parts.append(found[1] + found[2])
            kept += 1
        else:
            parts.append(found[1] + dump(document_of([table_row], key_columns)))
    parts.append(above)  # the comments below the last row
    return "".join(parts), kept


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _canonical_key(value: Any, rule: ValueRule) -> Any:
    return rule.canonical(rule.to_db(value))


def _same_values(row: Row, table_row: dict[str, Any], rules: dict[str, ValueRule]) -> bool:
    """True when the file's row writes exactly what the table holds in the exported columns."""
    written = {c: v for c, v in row.values.items() if v is not None}
    if set(written) != set(table_row):
        return False
    return all(
        rules[c].canonical(rules[c].to_db(v)) == rules[c].canonical(table_row[c])
        for c, v in written.items()
    )


def secret_columns(datasets: Sequence[Dataset], table: str, schema: str | None) -> set[str]:
    """The columns any declared dataset of this table keeps secret."""
    return {
        column
        for dataset in datasets
        if dataset.table == table and dataset.schema == schema
        for column in dataset.secret_columns
    }
