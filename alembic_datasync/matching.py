"""Which table row a file row is: keys are equal when the database says they are.

Python compares text exactly, but a database may not: on MariaDB's default
collations ``Foo``, ``foo``, ``foo `` and ``café``/``cafe`` are one key; so they
are in a PostgreSQL ``citext`` column or one with a nondeterministic
collation, and in an SQLite column declared ``COLLATE NOCASE``.  Matching
rows by Python equality there would plan a create that the database turns
into an overwrite of another row.

`loose_key_columns` finds the key columns whose equality is looser than
Python's and says how to make the database compare a value as that column
does.  `KeyClasses` then puts keys into classes of equal keys: keys whose
`fold` (a deliberately coarse normalisation: case, accents, punctuation and
trailing spaces dropped) coincides are candidates, and the database decides
each candidate pair.  Keys whose folds differ are never compared, so a sync
with no near-duplicate keys sends no extra query at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, String, Table, and_, bindparam, cast, func, select, text, true
from sqlalchemy.dialects import mysql
from sqlalchemy.sql.elements import ColumnElement

#: Makes the database compare a bound value the way it compares the column's values.
Comparator = Callable[[Any], ColumnElement[Any]]

#: A key as the planner matches it (canonical) and as written or stored (raw).
_Key = tuple[tuple[Any, ...], tuple[Any, ...]]

#: Candidate pairs sent to the database in one query.
_PAIRS_PER_QUERY = 200

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def loose_key_columns(
    connection: Connection, table: Table, key_columns: Sequence[str]
) -> dict[str, Comparator]:
    """The key columns the database compares more loosely than Python, each with its comparator.

    Empty for keys compared exactly (numbers, PostgreSQL's deterministic
    collations, SQLite's BINARY, MySQL's binary and NO PAD binary collations).
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return _postgresql_loose(connection, table, key_columns)
    if dialect in ("mysql", "mariadb"):
        return _mysql_loose(connection, table, key_columns)
    if dialect == "sqlite":
        return _sqlite_loose(connection, table, key_columns)
    return {}


def _postgresql_loose(
    connection: Connection, table: Table, key_columns: Sequence[str]
) -> dict[str, Comparator]:
    found = connection.execute(
        text(
            "SELECT a.attname, t.typname, co.collname, co.collisdeterministic"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_type t ON t.oid = a.atttypid"
            " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE c.relname = :table AND n.nspname = COALESCE(:schema, current_schema())"
            " AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        {"table": table.name, "schema": table.schema},
    )
    columns = {name: (type_name, collation, exact) for name, type_name, collation, exact in found}
    loose: dict[str, Comparator] = {}
    for name in key_columns:
        type_name, collation, deterministic = columns.get(name, (None, None, True))
        if type_name == "citext":
            # citext compares lower(a) = lower(b); the extension may live in a
            # schema the search path leaves out, so lower() rather than a cast.
            loose[name] = _lowered
        elif collation and deterministic is False:
            loose[name] = _collated(collation)
    return loose


def _lowered(value: Any) -> ColumnElement[Any]:
    return func.lower(bindparam(None, value, type_=String()))


def _collated(collation: str, charset: str | None = None) -> Comparator:
    def compare(value: Any) -> ColumnElement[Any]:
        param: ColumnElement[Any] = bindparam(None, value, type_=String())
        if charset is not None:
            param = cast(param, mysql.CHAR(charset=charset))
        return param.collate(collation)

    return compare


def _mysql_loose(
    connection: Connection, table: Table, key_columns: Sequence[str]
) -> dict[str, Comparator]:
    found = connection.execute(
        text(
            "SELECT COLUMN_NAME, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        ),
        {"schema": table.schema, "table": table.name},
    )
    collations = {name: (charset, collation) for name, charset, collation in found}
    loose: dict[str, Comparator] = {}
    for name in key_columns:
        charset, collation = collations.get(name, (None, None))
        if not collation or collation == "binary" or collation.endswith("_nopad_bin"):
            continue
        if not (_NAME.match(collation) and _NAME.match(charset or "")):
            continue
        # Bound values arrive in the connection's character set (utf8mb4).
        loose[name] = _collated(collation, None if charset == "utf8mb4" else charset)
    return loose


def _sqlite_loose(
    connection: Connection, table: Table, key_columns: Sequence[str]
) -> dict[str, Comparator]:
    created = connection.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table.name},
    ).scalar()
    declared = _sqlite_column_collations(created or "")
    loose: dict[str, Comparator] = {}
    for name in key_columns:
        collation = declared.get(name.lower())
        if collation and collation.upper() != "BINARY" and _NAME.match(collation):
            loose[name] = _collated(collation)
    return loose


def _sqlite_column_collations(create_sql: str) -> dict[str, str]:
    """Column name (lower case) -> the collation its definition declares, from CREATE TABLE."""
    start, end = create_sql.find("("), create_sql.rfind(")")
    if start < 0 or end <= start:
        return {}
    body = create_sql[start + 1 : end]
    pieces: list[str] = []
    depth = 0
    current: list[str] = []
    quote: str | None = None
    for character in body:
        if quote:
            if character == quote:
                quote = None
        elif character in "\"'`[":
            quote = "]" if character == "[" else character
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "," and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(character)
    pieces.append("".join(current))
    collations: dict[str, str] = {}
    for piece in pieces:
        match = re.match(r'\s*(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))(.*)', piece, re.S)
        if match is None:
            continue
        name = next(group for group in match.groups()[:4] if group)
        collate = re.search(r'\bCOLLATE\s+"?(\w+)"?', match.group(5), re.I)
        if collate is not None:
            collations[name.lower()] = collate.group(1)
    return collations


def fold(value: Any) -> Any:
    """A coarse form of a text key: any two keys a collation calls equal fold alike.

    Case, accents, punctuation, spaces and invisible characters are dropped,
    so far more keys fold alike than any database calls equal: folding only
    picks the pairs the database is asked about.
    """
    if not isinstance(value, str):
        return value
    decomposed = unicodedata.normalize("NFKD", value).casefold()
    return "".join(
        character
        for character in decomposed
        if unicodedata.category(character)[0] in "LN" and not unicodedata.combining(character)
    )


class KeyClasses:
    """Keys grouped into classes the database considers equal.

    ``positions`` maps each loose key column to its index in the key tuples;
    keys are canonical tuples (what the planner matches on), and ``raw`` the
    values as written or stored, which the database compares.
    """

    def __init__(
        self,
        connection: Connection,
        loose: dict[str, Comparator],
        positions: dict[str, int],
    ) -> None:
        self.connection = connection
        self.loose = loose
        self.positions = positions
        self._parent: dict[Hashable, Hashable] = {}

    def representative(self, key: Hashable) -> Hashable:
        """The key that stands for ``key``'s class (``key`` itself when it is alone)."""
        parent = self._parent.get(key, key)
        if parent == key:
            return key
        root = self.representative(parent)
        self._parent[key] = root
        return root

    def add(self, keys: Iterable[_Key]) -> None:
        """Classify ``keys`` (pairs of canonical key and raw key) against each other.

        Within each group of keys that fold alike, the first key is asked
        about against every other; those the database calls equal join its
        class, and the rest form the next round's group.
        """
        # Keys are grouped by the hash of their folded form: a group of more
        # than one is asked about (two folded forms of one hash only add a
        # question); a key alone keeps no group of its own (100,000 keys,
        # most of them alone).
        loose = set(self.positions.values())
        alone: dict[int, _Key] = {}
        groups: dict[int, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
        for key in keys:
            canonical, raw = key
            folded = hash(
                tuple(fold(part) if i in loose else part for i, part in enumerate(canonical))
            )
            members = groups.get(folded)
            if members is not None:
                members[canonical] = raw
                continue
            first = alone.setdefault(folded, key)
            if first is not key:
                if first[0] == canonical:
                    alone[folded] = key
                else:
                    groups[folded] = {first[0]: first[1], canonical: raw}
        pending = [list(members.items()) for members in groups.values()]
        while pending:
            pairs = [(group[0], other) for group in pending for other in group[1:]]
            verdicts: list[bool] = []
            for start in range(0, len(pairs), _PAIRS_PER_QUERY):
                verdicts.extend(self._ask(pairs[start : start + _PAIRS_PER_QUERY]))
            left: dict[int, list[_Key]] = {}
            number = 0
            for index, group in enumerate(pending):
                for other in group[1:]:
                    if verdicts[number]:
                        self._parent[self.representative(other[0])] = self.representative(
                            group[0][0]
                        )
                    else:
                        left.setdefault(index, []).append(other)
                    number += 1
            pending = [rest for rest in left.values() if len(rest) > 1]

    def _ask(self, pairs: list[tuple[_Key, _Key]]) -> list[bool]:
        """Whether the database calls each pair of keys equal."""
        expressions = []
        for number, ((_, raw_a), (_, raw_b)) in enumerate(pairs):
            conditions = [
                compare(raw_a[self.positions[name]]) == compare(raw_b[self.positions[name]])
                for name, compare in self.loose.items()
            ]
            expressions.append(and_(true(), *conditions).label(f"p{number}"))
        row = self.connection.execute(select(*expressions)).one()
        return [bool(value) for value in row]
