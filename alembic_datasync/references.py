"""References by natural key: the file writes ``provider_id: openai``, the table stores the id.

A dataset declares ``references={"provider_id": ("llm_provider", "name")}``.
From the load to the report, the column holds the natural key: the file's
values are checked by the rule of ``llm_provider.name``, the table's ids are
read back to their names before the plan compares them, and plans, ``--check``
and the history show ``'openai'``, never the id.  Only the writer turns names
into ids (`read_ids`), right before each write, in the sync's transaction: a
provider created by another dataset of the same sync is written first (the
write order follows references as it follows foreign keys), so its new id is
there to be read.

A name that no row has, in the table or in the files of the same run, is a
problem at its line, with the closest known name (`unknown_references`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, select
from sqlalchemy import exc as sa_exc

from .column_types import ValueRule, rule_for
from .dataset import Dataset, Reference
from .display import show_value
from .errors import Problem
from .model import Metadata, model_in_metadata
from .rows import LoadedFile
from .tables import enforces_unique, unique_keys

#: Natural keys looked up per SELECT ... WHERE name IN (...).
_CHUNK = 2_000

#: Finds a referenced table: (schema, name) -> the table, or None when there is none.
TableFinder = Callable[[str | None, str], Table | None]


@dataclass(slots=True)
class ResolvedReference:
    """A declared `Reference`, found in the tables: what the column stores and how it is named.

    ``stored`` is the referred table's column whose value the referencing
    column holds (the foreign key's target, or the primary key); ``rule`` the
    natural key column's `ValueRule`, by which the file's values are checked
    and compared; ``own_rule`` the referencing column's own, by which its
    stored values are read.  ``names`` maps each stored id to its natural
    key, read when the plan is made.
    """

    declared: Reference
    target: Table
    stored: str
    rule: ValueRule
    own_rule: ValueRule
    names: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def column(self) -> str:
        return self.declared.column

    @property
    def natural_key(self) -> str:
        return self.declared.natural_key


def database_tables(connection: Connection, metadata: MetaData) -> TableFinder:
    """Finds referenced tables in the database, reflected into ``metadata`` (the referrer's)."""

    def find(schema: str | None, name: str) -> Table | None:
        try:
            return Table(name, metadata, schema=schema, autoload_with=connection)
        except sa_exc.NoSuchTableError:
            return None

    return find


def declared_tables(metadata: Metadata | None) -> TableFinder:
    """Finds referenced tables in the project's model (``target_metadata``), with no database."""
    return lambda schema, name: model_in_metadata(metadata, name, schema)


def resolve_references(
    dataset: Dataset, table: Table, find: TableFinder, dialect: str
) -> tuple[list[ResolvedReference], list[Problem]]:
    """The dataset's references found in the tables, and a problem for each that cannot be."""
    resolved: list[ResolvedReference] = []
    problems: list[Problem] = []
    for reference in dataset.reference_list:

        def problem(message: str, reference: Reference = reference) -> None:
            problems.append(
                Problem(
                    dataset.display_path,
                    f"references[{reference.column!r}] of {dataset.label!r}: {message}; fix the "
                    f"Dataset(...) references",
                )
            )

        if reference.column not in table.c:
            problem(
                f"{reference.column!r} is not a column of table {dataset.label!r}"
                f"{_closest(reference.column, [c.name for c in table.c])}"
            )
            continue
        target = find(reference.schema, reference.table)
        if target is None:
            problem(f"there is no table {reference.table_label!r}")
            continue
        if target.name == table.name and target.schema == table.schema:
            problem("a reference to the dataset's own table is not supported")
            continue
        if reference.natural_key not in target.c:
            problem(
                f"{reference.natural_key!r} is not a column of table {reference.table_label!r}"
                f"{_closest(reference.natural_key, [c.name for c in target.c])}"
            )
            continue
        if not enforces_unique(unique_keys(target), (reference.natural_key,)):
            problem(
                f"{reference.natural_key!r} is not unique in {reference.table_label!r}, so a "
                f"name could mean several rows; add a unique constraint on it in a migration"
            )
            continue
        stored = _stored_column(table, reference.column, target)
        if stored is None:
            problem(
                f"{reference.column!r} has no foreign key to {reference.table_label!r}, which "
                f"has no single-column primary key to refer to; add the foreign key in a "
                f"migration"
            )
            continue
        resolved.append(
            ResolvedReference(
                reference,
                target,
                stored,
                rule_for(target.c[reference.natural_key].type, dialect),
                rule_for(table.c[reference.column].type, dialect),
            )
        )
    return resolved, problems


def _stored_column(table: Table, column: str, target: Table) -> str | None:
    """The column of ``target`` that ``column`` stores: its foreign key's, else the primary key."""
    for foreign_key in table.c[column].foreign_keys:
        referred = foreign_key.column
        if referred.table.name == target.name and referred.table.schema == target.schema:
            return referred.name
    primary = list(target.primary_key.columns)
    return primary[0].name if len(primary) == 1 else None


def with_natural_rules(
    rules: dict[str, ValueRule], references: Sequence[ResolvedReference]
) -> dict[str, ValueRule]:
    """``rules`` where each referencing column checks and compares as its natural key does."""
    if not references:
        return rules
    return {**rules, **{r.column: r.rule for r in references}}


def with_own_rules(
    rules: dict[str, ValueRule], references: Sequence[ResolvedReference]
) -> dict[str, ValueRule]:
    """``rules`` where each referencing column reads as the table stores it (its ids)."""
    if not references:
        return rules
    return {**rules, **{r.column: r.own_rule for r in references}}


def read_names(connection: Connection, reference: ResolvedReference) -> dict[Any, Any]:
    """Every stored id of the referred table, mapped to its natural key."""
    target = reference.target
    query = select(target.c[reference.stored], target.c[reference.natural_key])
    return {stored: natural for stored, natural in connection.execute(query)}


def load_names(connection: Connection, references: Iterable[ResolvedReference]) -> None:
    """Read each reference's id -> natural key map; once per referred table and column."""
    read: dict[tuple[int, str, str], dict[Any, Any]] = {}
    for reference in references:
        which = (id(reference.target), reference.stored, reference.natural_key)
        if which not in read:
            read[which] = read_names(connection, reference)
        reference.names = read[which]


@dataclass(frozen=True, slots=True)
class NoName:
    """A stored id whose referred row has no natural key (NULL): equals no name a file writes."""

    stored: Any
    table: str

    def __repr__(self) -> str:
        return f"<{self.table} {self.stored!r} without a name>"


def with_natural_keys(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    references: Sequence[ResolvedReference],
) -> Sequence[Sequence[Any]]:
    """``rows`` (of ``columns``) with each referencing column's id turned into its natural key."""
    where = [
        (index, reference)
        for reference in references
        for index, column in enumerate(columns)
        if column == reference.column
    ]
    if not where:
        return rows
    named: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        for index, reference in where:
            stored = values[index]
            if stored is not None:
                name = reference.names.get(stored)
                values[index] = (
                    name if name is not None else NoName(stored, reference.declared.table_label)
                )
        named.append(tuple(values))
    return named


def name_rows(
    connection: Connection, rows: list[dict[str, Any]], references: Sequence[ResolvedReference]
) -> None:
    """Turn each referencing column's id in ``rows`` (as `exporter` reads them) into its name."""
    load_names(connection, references)
    for row in rows:
        for reference in references:
            stored = row.get(reference.column)
            if stored is not None:
                name = reference.names.get(stored)
                row[reference.column] = (
                    name if name is not None else NoName(stored, reference.declared.table_label)
                )


class MissingReference(ValueError):
    """A natural key that no row of the referred table has when the row is written."""

    def __init__(self, reference: ResolvedReference, value: Any) -> None:
        super().__init__(
            f"{reference.column}: no row of {reference.declared.table_label!r} has "
            f"{reference.natural_key} {show_value(value)} any more"
        )


def read_ids(
    connection: Connection, reference: ResolvedReference, wanted: Iterable[Any]
) -> dict[Any, Any]:
    """Canonical natural key -> stored id, for the ``wanted`` natural keys (the writer's lookup).

    Read in the writing transaction, so that rows another dataset of the
    same sync created just before are found.
    """
    target = reference.target
    natural, stored = target.c[reference.natural_key], target.c[reference.stored]
    canonical = reference.rule.canonical
    found: dict[Any, Any] = {}
    values = list(wanted)
    for start in range(0, len(values), _CHUNK):
        query = select(natural, stored).where(natural.in_(values[start : start + _CHUNK]))
        for name, identity in connection.execute(query):
            found[canonical(name)] = identity
    return found


def unknown_references(
    loaded: LoadedFile,
    references: Sequence[ResolvedReference],
    known: Callable[[ResolvedReference], dict[Any, Any] | None],
) -> list[Problem]:
    """A problem at each value of ``loaded`` that names no known row of its referred table.

    ``known`` gives each reference's known natural keys (canonical -> as
    written), or None where they cannot be known (nothing is then reported).
    """
    problems: list[Problem] = []
    for reference in references:
        names = known(reference)
        if names is None:
            continue
        rule = reference.rule
        for row in loaded.rows:
            value = row.values.get(reference.column)
            if value is None or rule.canonical(rule.to_db(value)) in names:
                continue
            problems.append(
                Problem(
                    row.position_of(reference.column),
                    f"{reference.column}: no row of {reference.declared.table_label!r} has "
                    f"{reference.natural_key} {show_value(value)}"
                    f"{_closest(str(value), [str(name) for name in names.values()])}; add the "
                    f"row to {reference.declared.table_label!r} (or its dataset file), or fix "
                    f"the name",
                )
            )
    return problems


def known_names(
    reference: ResolvedReference,
    files: Sequence[LoadedFile],
    *,
    in_table: bool,
    leaving: Iterable[Any] = (),
) -> dict[Any, Any] | None:
    """The natural keys a reference may name: canonical -> as written.

    Those the table holds (``in_table``: ``reference.names``, less the
    ``leaving`` ones the sync deletes), and those the ``files`` of the
    referred table write.  None when there is nothing to know them from (no
    table and no file).
    """
    if not in_table and not files:
        return None
    rule = reference.rule
    known: dict[Any, Any] = {}
    if in_table:
        gone = {rule.canonical(name) for name in leaving}
        for name in reference.names.values():
            if name is not None and rule.canonical(name) not in gone:
                known[rule.canonical(name)] = name
    for file in files:
        for row in file.rows:
            value = row.values.get(reference.natural_key)
            if value is not None:
                known.setdefault(rule.canonical(rule.to_db(value)), value)
    return known


def _closest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
