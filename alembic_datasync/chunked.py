"""Sync a CSV dataset a chunk of rows at a time: memory bounded by the chunk, not the file.

A CSV file of a million rows does not fit the plan-everything-then-write
pipeline: the file's rows, the table's, the plan and the records would all be
in memory at once (1 to 1.7 GiB).  So `sync` takes such a dataset
`CHUNK_ROWS` rows at a time: it reads the chunk from the file, checks it,
reads the table's rows of the chunk's keys (``WHERE key IN (...)``), plans
the chunk with the planner, writes it, reads it back, and lets it go.  What
crosses chunks is compact: one 64-bit hash a key of the file (keys the file
lists twice, rows to prune), the state being written (compressed), and
the first `plans.KEPT_CHANGES` row changes for the report and the history,
the others counted.  The whole sync is still one unit of work: a problem
found in the last chunk rolls back the first.

What a chunk cannot see is why some datasets are planned whole, as before
(`streamable`): rows that refer to rows of their own table, a table that
another dataset of the sync fills or refers to, a unique column the file
writes besides the key (whose values may move between rows only in the
whole plan's order), a key only the database compares, or a floating-point
one.  Keys a collation compares loosely (MariaDB's default, citext) are
hashed folded (`matching.fold`:
any two keys the database calls equal fold alike), and the few that fold
alike across chunks are asked about, as the planner asks.  An audit
(``--check``, ``--dry-run``) is planned in chunks too: each chunk's rows
are audited as planned, and the table's rows the file does not list are
read once at the end, as pruning reads them.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import heapq
import itertools
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, or_, select
from sqlalchemy import types as sqltypes

from .applied import FORMAT, AppliedRows, LastApplied, encoded_rows
from .check import check_file, duplicate_key_problem
from .column_types import Unreadable, ValueRule
from .dataset import Dataset, table_of
from .encoding import PACKING, dumps
from .errors import DatasetFileMissing, Problem
from .files import DEFAULT_MAX_FILE_SIZE, csv_chunks, csv_columns, is_csv
from .keys import key_label, key_reader, same_key_problem
from .matching import KeyClasses, fold, loose_key_columns
from .planner import empty_file_problem, null_key_notes, plan_dataset, unowned_note
from .plans import KEPT_CHANGES, DatasetPlan, RowChange
from .readback import values_not_kept
from .reading import by_keys, read_rows, rows_in_batches
from .references import (
    ResolvedReference,
    known_names,
    unknown_references,
    with_natural_keys,
    with_own_rules,
)
from .rows import FileProblem, Row
from .tables import (
    UniqueKey,
    column_rules,
    non_transactional_problem,
    referred_tables,
    self_references,
    unique_keys,
)
from .writer import write_plans

#: Rows of the file planned and written at a time.
CHUNK_ROWS = 10_000

#: `plans.DatasetPlan.table_rows` of a chunk's plan: the check after writing
#: reads a chunk's rows back by key, never the whole table.
_WHOLE_TABLE_NEVER = 2**62


def streamable(
    connection: Connection,
    dataset: Dataset,
    table: Table | None,
    run: Sequence[tuple[Dataset, Table | None]],
    *,
    base_dir: Any,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
) -> bool:
    """Whether ``dataset`` is synced a chunk at a time (`sync_in_chunks`), not planned whole.

    A CSV file whose table exists, has the key columns (compared by a Python
    rule, not by the database), refers to no row of itself and rolls back;
    that no other dataset of the sync (``run``) shares, refers to or is
    referred to by; and whose header writes no column of a unique key other
    than the dataset's own.
    """
    if table is None or not is_csv(dataset.resolve(base_dir)):
        return False
    key_columns = dataset.key_columns
    if any(column not in table.c for column in key_columns):
        return False  # the check says so, once, planned whole
    if self_references(table) or non_transactional_problem(dataset, table) is not None:
        return False
    mine = (table.schema, table.name)
    referred = referred_tables(table)
    referred |= {(r.schema, r.table) for r in dataset.reference_list}
    for other, other_table in run:
        if other is dataset:
            continue
        theirs = table_of(other)
        if theirs == table_of(dataset) or theirs in referred:
            return False
        if any((r.schema, r.table) == table_of(dataset) for r in other.reference_list):
            return False
        if other_table is not None and (
            (other_table.schema, other_table.name) in referred
            or mine in referred_tables(other_table)
        ):
            return False
    rules = column_rules(table, connection.dialect.name)
    if any(rules[column].by_database for column in key_columns):
        # Keys the database compares (no Python rule): a chunk's forms are its own.
        return False
    if any(isinstance(table.c[column].type, sqltypes.Float) for column in key_columns):
        # A REAL key never equals the file's number sent as a double (0.1 is not
        # 0.1::real): the chunks' reads by key would find no row.
        return False
    # A unique column the file writes, other than the key: a value may move from
    # one row to another, which only the whole plan's order (deletes, then
    # updates, then inserts) writes without a conflict.
    written = set(csv_columns(dataset, base_dir, max_file_size))
    key = frozenset(key_columns)
    return not any(
        unique.columns != key and unique.columns & written
        for unique in unique_keys(table, connection)
    )


@dataclass
class Streamed:
    """What `sync_in_chunks` did: the plan (None: the file is missing), problems, warnings."""

    plan: DatasetPlan | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The values the file writes into secret columns: kept out of messages.
    secrets: set[str] = field(default_factory=set)


def sync_in_chunks(
    connection: Connection,
    dataset: Dataset,
    table: Table,
    rules: dict[str, ValueRule],
    references: Sequence[ResolvedReference],
    *,
    unique: Sequence[UniqueKey],
    model_known: bool,
    last: LastApplied | None,
    base_dir: Any,
    max_file_size: int,
    environment: str | None,
    strict: bool,
    write: bool,
    audit: bool = False,
) -> Streamed:
    """Plan ``dataset`` a chunk of rows at a time and, with ``write``, write each chunk.

    ``audit`` is the planner's: also what the sync leaves alone.

    Writes nothing once a problem is found (the caller raises and rolls the
    unit of work back); the plan is then only what the problems need.  The
    returned plan holds the counts, the first `KEPT_CHANGES` changes and the
    state to record; it is ``written`` when its rows are in the table.
    """
    result = Streamed(None)
    try:
        return _sync(
            connection,
            dataset,
            table,
            rules,
            references,
            unique,
            model_known,
            last,
            base_dir,
            max_file_size,
            environment,
            write,
            audit,
            result,
        )
    except DatasetFileMissing as missing:
        if strict:
            result.problems = [Problem(missing.path, missing.reason)]
        else:
            result.warnings = [f"{missing}; table {missing.dataset!r} left unchanged"]
        result.plan = None
        return result
    except FileProblem as unreadable:
        # As for a file planned whole: a file that cannot be read is that one problem.
        result.problems = [unreadable.problem]
        result.plan = None
        return result


def _sync(
    connection: Connection,
    dataset: Dataset,
    table: Table,
    rules: dict[str, ValueRule],
    references: Sequence[ResolvedReference],
    unique: Sequence[UniqueKey],
    model_known: bool,
    last: LastApplied | None,
    base_dir: Any,
    max_file_size: int,
    environment: str | None,
    write: bool,
    audit: bool,
    result: Streamed,
) -> Streamed:
    key_columns = dataset.key_columns
    key_of = key_reader(key_columns, rules)
    # Pruning is done once the whole file is known (`_unlisted`), never by a chunk.
    chunk_dataset = replace(dataset, prune=False, allow_empty=False)
    known = {id(reference): known_names(reference, [], in_table=True) for reference in references}
    plan = DatasetPlan(
        dataset,
        table,
        total=0,
        unique_keys=list(unique),
        rules=rules,
        references=list(references),
        audited=audit,
    )
    state = _StateText(key_columns)
    folding = _Folding(connection, table, key_columns, rules)
    remembered = _Remembered(last, key_columns, rules, folding)

    def stored_keys(values: list[tuple[Any, ...]]) -> list[Sequence[Any]]:
        """The keys the table stores for these keys (as written), by the database's compare."""
        conditions = _key_conditions(connection, table, key_columns, rules, values)
        return [
            row
            for condition in conditions
            for row in read_rows(connection, table, list(key_columns), rules, condition)
        ]

    listed = _Hashes()  # folded, where the key is loose
    exact = _Hashes() if folding.loose else listed
    problems = result.problems
    columns_read: dict[str, None] = {}
    let_go = [0, 0, 0]
    seen: set[Problem] = set()
    with csv_chunks(dataset, base_dir, max_file_size, environment, CHUNK_ROWS) as chunks:
        for chunk in chunks:
            if dataset.secret_columns:
                result.secrets |= chunk.secret_values()
            checked = check_file(chunk, table, rules)
            # A problem of the header or of the declaration: every chunk finds it again.
            problems.extend(p for p in checked.problems if p not in seen)
            seen.update(checked.problems)
            valid = replace(checked.valid, dataset=chunk_dataset)
            problems.extend(unknown_references(valid, references, lambda r: known[id(r)]))
            # Valid rows name their key (the check refuses a row without one).
            keys = [key for key in map(key_of, valid.rows) if key is not None]
            # Every key the chunk names, also of rows with other problems (as the
            # check finds a duplicate of a row with a bad value).
            listed.add({folding.hash(key) for key in checked.keyed})
            if exact is not listed:
                exact.add({key_hash(key) for key in checked.keyed})
            part, found = plan_dataset(
                connection,
                valid,
                table,
                rules,
                unique=unique,
                model_known=model_known,
                audit=audit,
                last=remembered.for_rows(valid.rows, keys, stored_keys),
                references=references,
                rows_where=_key_conditions(
                    connection,
                    table,
                    key_columns,
                    rules,
                    (tuple(row.values[column] for column in key_columns) for row in valid.rows),
                ),
            )
            problems.extend(found)
            if write and not problems and part.has_changes:
                part.table_rows = _WHOLE_TABLE_NEVER
                write_plans(connection, [part])
                result.warnings.extend(values_not_kept(connection, [part]))
            plan.total += part.total
            plan.unchanged += part.unchanged
            _keep(plan, part.creates + part.updates, let_go)
            plan.unmanaged.extend(part.unmanaged)
            plan.owned.extend(part.owned)
            assert part.applied is not None
            state.add(part.applied.rows)
            columns_read.update(dict.fromkeys(part.applied.columns_read))
            del chunk, checked, valid, keys, part
            # What a chunk's statements left in cycles: the sync pauses the collector.
            gc.collect(0)
        digest = chunks.digest
    every, repeated = listed.merged()
    exactly = exact.merged()[0] if exact is not listed else every
    rereading = _Rereading(dataset, table, rules, folding, base_dir, max_file_size)
    if repeated:
        problems.extend(_duplicates(rereading, repeated, problems))
    selected = list(columns_read) or list(key_columns)
    if (dataset.prune or audit) and not problems:
        _unlisted(
            connection,
            plan,
            (exactly, every, rereading),
            remembered,
            selected,
            references,
            write,
            let_go,
            problems,
        )
    elif not dataset.prune:
        _note_null_keys(connection, plan)
    plan.let_go = (let_go[0], let_go[1], let_go[2])
    plan.applied = AppliedRows(
        key_columns, columns_read=tuple(selected), source_digest=digest, stored=state.stored()
    )
    plan.written = write and not problems
    result.plan = plan
    return result


def key_hash(key: tuple[Any, ...]) -> int:
    """A 64-bit hash of a canonical key, equal for equal keys.

    `hash` itself, but for an integer, hashed by its digits: `hash` gives
    -1 and -2 one hash, and n and n + 2**61 - 1, where these are two ids a
    table may well hold; a text's hash is already SipHash.
    """
    if not any(type(part) is int for part in key):
        return hash(key)
    return hash(tuple(f"{part}\x00" if type(part) is int else part for part in key))


def _key_conditions(
    connection: Connection,
    table: Table,
    key_columns: tuple[str, ...],
    rules: dict[str, ValueRule],
    keys: Iterable[Sequence[Any]],
) -> list[ColumnElement[bool]]:
    """The WHERE of each SELECT that reads the table's rows of ``keys`` (as the file has them)."""
    steps = [rules[column].to_db for column in key_columns]
    stored = [tuple(to_db(part) for to_db, part in zip(steps, key, strict=True)) for key in keys]
    return by_keys(connection, table, key_columns, stored)


def _keep(plan: DatasetPlan, changes: list[RowChange], let_go: list[int]) -> None:
    """The first `KEPT_CHANGES` changes (file order; deletes as they come) into ``plan``;
    the others counted in ``let_go`` (creates, updates, deletes)."""
    room = max(KEPT_CHANGES - len(plan.creates) - len(plan.updates) - len(plan.deletes), 0)
    changes.sort(key=lambda change: change.position.line if change.position else 0)
    kept = {"create": plan.creates, "update": plan.updates, "delete": plan.deletes}
    for change in changes[:room]:
        kept[change.action].append(change)
    for change in changes[room:]:
        let_go[_ACTIONS.index(change.action)] += 1


_ACTIONS = ("create", "update", "delete")


class _Remembered:
    """What the state remembers of the dataset, compactly: a sorted hash a key it owns.

    `for_rows` gives the planner the `LastApplied` of one chunk's rows.  The
    keys other datasets of the table own (``shared``) are never pruned.
    """

    def __init__(
        self,
        last: LastApplied | None,
        key_columns: tuple[str, ...],
        rules: dict[str, ValueRule],
        folding: _Folding,
    ) -> None:
        self.known = last is not None and last.rows.key_columns == key_columns
        self.folding = folding
        #: Where the key compares loosely, the folded hash of each key owned.
        self.folded: array[int] | None = None
        self.last = last if self.known else None
        self._key_rules = [rules[column] for column in key_columns]
        self._key_columns = key_columns
        self.sets: list[tuple[str, ...]] = []
        self.common = 0
        self.other_set: dict[int, int] = {}  # hash -> set, for keys not of the common set
        self.owned = array("q")
        self.shared: set[int] = set()
        if last is None or not self.known:
            return
        index: dict[tuple[str, ...], int] = {}
        owned, folded = _Hashes(), _Hashes()
        run: list[int] = []
        folds: list[int] = []
        for key, columns in last.rows.each_row():
            number = index.setdefault(columns, len(index))
            canonical = self.canonical(key)
            hashed = key_hash(canonical)
            if number != self.common:  # most rows write the columns the first one writes
                self.other_set[hashed] = number
            run.append(hashed)
            if folding.loose:
                folds.append(folding.hash(canonical))
            if len(run) >= CHUNK_ROWS:
                owned.add(run)
                folded.add(folds)
                run, folds = [], []
        owned.add(run)
        folded.add(folds)
        self.sets = list(index)
        self.owned, _ = owned.merged()
        if folding.loose:
            self.folded, _ = folded.merged()
        self.shared = {key_hash(self.canonical(key)) for key in last.shared}

    def canonical(self, key: Sequence[Any]) -> tuple[Any, ...]:
        """A key as the state stores it (or as the file writes it), as the planner matches it."""
        return tuple(
            rule.canonical(rule.to_db(part))
            for rule, part in zip(self._key_rules, key, strict=True)
        )

    def owns(self, hashed: int) -> bool:
        """Whether a key of this hash may be the file's (`exactly` makes sure)."""
        return _contains(self.owned, hashed) and hashed not in self.shared

    def exactly(self, candidates: dict[tuple[Any, ...], Any]) -> list[Any]:
        """The values of ``candidates`` (by canonical key) whose key the state holds."""
        if not candidates or self.last is None:
            return []
        found = {
            canonical
            for canonical in map(self.canonical, (key for key, _ in self.last.rows.each_row()))
            if canonical in candidates
        }
        return [row for canonical, row in candidates.items() if canonical in found]

    def for_rows(
        self,
        rows: Sequence[Row],
        keys: Sequence[tuple[Any, ...]],
        stored_keys: Callable[[list[tuple[Any, ...]]], Iterable[Sequence[Any]]],
    ) -> LastApplied | None:
        """The state's `LastApplied`, of ``rows`` only (``keys``: theirs, canonical).

        A row whose key the state holds spelled another way a loose collation
        calls equal (``b3`` stored, ``B3`` in the file) is looked up by the
        key the table stores for it (``stored_keys`` reads those of the keys
        it is given, as written), as the state remembers it.
        """
        if self.last is None:
            return None
        mine = AppliedRows(self._key_columns)
        respelled: list[tuple[Any, ...]] = []
        for row, key in zip(rows, keys, strict=True):
            value = tuple(row.values[column] for column in self._key_columns)
            if (
                not self._add(mine, key_hash(key), value)
                and self.folded is not None
                and _contains(self.folded, self.folding.hash(key))
            ):
                respelled.append(value)
        if respelled:
            for stored in stored_keys(respelled):
                self._add(mine, key_hash(self.canonical(stored)), tuple(stored))
        return LastApplied(mine)

    def _add(self, applied: AppliedRows, hashed: int, key: tuple[Any, ...]) -> bool:
        if not _contains(self.owned, hashed):
            return False
        number = self.other_set.get(hashed, self.common)
        applied.rows.append((key, self.sets[number]))
        return True


def _contains(ordered: array[int], value: int) -> bool:
    at = bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


class _Hashes:
    """64-bit hashes of keys, added a run at a time, then merged into one sorted array."""

    def __init__(self) -> None:
        self._runs: list[array[int]] = []

    def add(self, hashes: Iterable[int]) -> None:
        self._runs.append(array("q", sorted(hashes)))

    def merged(self) -> tuple[array[int], set[int]]:
        """Every hash, sorted, and those added more than once (by two runs, or one run twice)."""
        ordered = array("q", heapq.merge(*self._runs))
        self._runs = []
        return ordered, {a for a, b in itertools.pairwise(ordered) if a == b}


class _Folding:
    """How keys are hashed to be compared across chunks: exactly, or folded where loose."""

    def __init__(
        self,
        connection: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        rules: dict[str, ValueRule],
    ) -> None:
        self.connection = connection
        self.key_columns = key_columns
        self.loose = loose_key_columns(connection, table, key_columns)
        self._at = {key_columns.index(name) for name in self.loose}
        self._to_db = [rules[column].to_db for column in key_columns]

    def hash(self, key: tuple[Any, ...]) -> int:
        """The key's hash; of its folded form where a column compares loosely."""
        if not self.loose:
            return key_hash(key)
        at = self._at
        return key_hash(tuple(fold(part) if i in at else part for i, part in enumerate(key)))

    def classes(self, rows: Iterable[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> KeyClasses:
        """The database's verdict on keys (canonical, as written or stored) that fold alike."""
        found = KeyClasses(
            self.connection,
            self.loose,
            {name: self.key_columns.index(name) for name in self.loose},
        )
        found.add(rows)
        return found

    def raw(self, row: Row) -> tuple[Any, ...]:
        """A file row's key as the database compares it."""
        return tuple(
            to_db(row.values[column])
            for to_db, column in zip(self._to_db, self.key_columns, strict=True)
        )


@dataclass
class _Rereading:
    """The file read again for the few rows whose folded keys are wanted."""

    dataset: Dataset
    table: Table
    rules: dict[str, ValueRule]
    folding: _Folding
    base_dir: Any
    max_file_size: int

    def rows(self, wanted: set[int]) -> list[tuple[Row, tuple[Any, ...]]]:
        """The rows whose key's (folded) hash is ``wanted``, with their keys, in file order."""
        found = []
        dataset, base_dir, size = self.dataset, self.base_dir, self.max_file_size
        with csv_chunks(dataset, base_dir, size, None, CHUNK_ROWS) as chunks:
            for chunk in chunks:
                for key, row in check_file(chunk, self.table, self.rules).keyed.items():
                    if self.folding.hash(key) in wanted:
                        found.append((row, key))
        return found


def _duplicates(
    rereading: _Rereading, repeated: set[int], problems: Sequence[Problem]
) -> list[Problem]:
    """Keys listed in two chunks, read the file again for: as the check and the planner name them.

    A row whose position has a problem already (two rows of one chunk) is not named again.
    """
    dataset = rereading.dataset
    named = {problem.position for problem in problems}
    first_of: dict[tuple[Any, ...], Row] = {}
    found: list[Problem] = []
    for row, key in rereading.rows(repeated):
        first = first_of.setdefault(key, row)
        if first is not row and row.position not in named:
            found.append(duplicate_key_problem(row, first, dataset.key_columns))
    folding = rereading.folding
    if folding.loose and len(first_of) > 1:
        classes = folding.classes((key, folding.raw(row)) for key, row in first_of.items())
        first_of_class: dict[Any, Row] = {}
        for key, row in first_of.items():
            first = first_of_class.setdefault(classes.representative(key), row)
            if first is not row and row.position not in named:
                found.append(same_key_problem(row, first, dataset))
    return found


def _unlisted(
    connection: Connection,
    plan: DatasetPlan,
    listed: tuple[array[int], array[int], _Rereading],
    remembered: _Remembered,
    selected: list[str],
    references: Sequence[ResolvedReference],
    write: bool,
    let_go: list[int],
    problems: list[Problem],
) -> None:
    """The table's rows the file does not list: deleted when they are the file's to prune
    (those it owns, every one with ``prune='all'``), listed by an audit when it does not prune."""
    dataset, table = plan.dataset, plan.table
    key_columns = dataset.key_columns
    width = len(key_columns)
    rules = plan.rules
    canonicals = [rules[column].canonical for column in key_columns]
    prune_all = dataset.prune == "all"
    doomed: list[Any] = []
    unlisted = 0
    exactly, folded, rereading = listed
    folding = rereading.folding
    reading = with_own_rules(rules, list(references))
    # Rows whose key folds like a key of the file without being one: the
    # database says whether the two are one key (few, if any).
    maybe: list[tuple[tuple[Any, ...], Any]] = []
    unlisted_rows: list[tuple[tuple[Any, ...], Any]] = []
    counted = [0, 0, 0]  # rows with a key, with a NULL in it, with one unreadable

    def again() -> None:
        """The table is read once more around a value the driver cannot read: all of it."""
        counted[:] = [0, 0, 0]
        maybe.clear()
        unlisted_rows.clear()

    for batch in rows_in_batches(connection, table, selected, reading, None, again=again):
        for row in with_natural_keys(batch, selected, list(references)):
            key = row[:width]
            if any(value is None for value in key):
                counted[1] += 1
                continue
            if any(type(value) is Unreadable for value in key):
                counted[2] += 1
                continue
            counted[0] += 1
            canonical = tuple(c(v) for c, v in zip(canonicals, key, strict=True))
            if _contains(exactly, key_hash(canonical)):
                continue
            if folding.loose and _contains(folded, folding.hash(canonical)):
                maybe.append((canonical, row))
                continue
            unlisted_rows.append((canonical, row))
    if maybe:
        in_file = rereading.rows({folding.hash(canonical) for canonical, _ in maybe})
        classes = folding.classes(
            [(key, folding.raw(row)) for row, key in in_file]
            + [(canonical, tuple(row[:width])) for canonical, row in maybe]
        )
        listed_classes = {classes.representative(key) for _, key in in_file}
        unlisted_rows.extend(
            (canonical, row)
            for canonical, row in maybe
            if classes.representative(canonical) not in listed_classes
        )
    owned: dict[tuple[Any, ...], Any] = {}
    for canonical, row in unlisted_rows:
        unlisted += 1
        if not dataset.prune:
            plan.unlisted.append(tuple(row[:width]))
        elif prune_all:
            doomed.append(tuple(row))
        elif remembered.owns(key_hash(canonical)):
            owned[canonical] = tuple(row)
    # A hash the state holds may be another key's: only rows whose key the
    # state holds exactly are deleted.
    doomed.extend(remembered.exactly(owned))
    kept, unkeyed, unreadable = counted
    null_key_notes(plan, unkeyed, unreadable)
    plan.unlisted.sort(key=key_label)
    if dataset.prune and remembered.last is None and not prune_all and unlisted:
        plan.notes.append(unowned_note(unlisted))
    if not doomed:
        return
    if not plan.total and not dataset.allow_empty:
        problems.append(empty_file_problem(dataset, kept, len(doomed)))
        return
    for start in range(0, len(doomed), KEPT_CHANGES):
        part = DatasetPlan(dataset, table, total=0, rules=rules, references=list(references))
        for row in doomed[start : start + KEPT_CHANGES]:
            db_key = tuple(row[:width])
            values = dict(zip(selected, row, strict=True))
            part.deletes.append(RowChange("delete", db_key, key_label(db_key), values))
        if write:
            write_plans(connection, [part])
        _keep(plan, part.deletes, let_go)


def _note_null_keys(connection: Connection, plan: DatasetPlan) -> None:
    """The note of rows with a NULL key, which the chunks' SELECTs by key never read."""
    table = plan.table
    count = connection.scalar(
        select(func.count()).where(
            or_(*(table.c[column].is_(None) for column in plan.dataset.key_columns))
        )
    )
    null_key_notes(plan, int(count or 0), 0)


class _StateText:
    """The state's document of the rows applied (`applied.AppliedRows.document`), made a
    chunk at a time: its digest and its compressed text as `state` records them, the same
    as of the whole document's `encoding.dumps` text, never the text itself."""

    def __init__(self, key_columns: tuple[str, ...]) -> None:
        self.sets: dict[tuple[str, ...], int] = {}
        self._digest = hashlib.sha256(f"{PACKING} ".encode())
        self._packer = zlib.compressobj(6)
        self._packed: list[bytes] = []
        self._first = True
        self._add(f'{{"format":{FORMAT},"key":{dumps(list(key_columns))},"rows":[')

    def _add(self, text: str) -> None:
        data = text.encode()
        self._digest.update(data)
        self._packed.append(self._packer.compress(data))

    def add(self, rows: Iterable[tuple[tuple[Any, ...], tuple[str, ...]]]) -> None:
        encoded = encoded_rows(rows, self.sets)
        if encoded:
            self._add(("" if self._first else ",") + dumps(encoded)[1:-1])
            self._first = False

    def stored(self) -> tuple[str, str]:
        """The document's digest (`state`'s ``rows_digest``) and its packed text."""
        self._add(f'],"sets":{dumps([list(c) for c in self.sets])}}}')
        self._packed.append(self._packer.flush())
        return self._digest.hexdigest(), base64.b64encode(b"".join(self._packed)).decode("ascii")
