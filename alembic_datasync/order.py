"""The order of writes: decided by the foreign keys between datasets and within a table.

Between datasets, a parent table's new rows are inserted before the rows of
a child table that refer to them (and before its updates, which may move a
row under a new parent), and a child's rows are deleted or moved away
before the parent rows they referred to are deleted.  Where no foreign key
says otherwise, deletes come first (freeing unique values for what follows),
then updates, then inserts, in declaration order, as before.

A dataset's references by natural key (`references`) order its writes as
foreign keys do, whether or not the database declares one.

Within a table that refers to itself (a tree of categories), new rows are
inserted level by level, each after the rows it refers to, and deleted rows
go leaves first.  New rows that refer to each other in a cycle cannot be
inserted one after the other: `insert_levels` names them, unless the foreign
key is checked only at commit (INITIALLY DEFERRED).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

from .plans import DatasetPlan, RowChange
from .tables import SelfReference, referred_tables, self_references

#: The verbs of the writes, in their order where nothing else decides it.
VERBS = ("delete", "update", "insert")


def step_order(plans: Sequence[DatasetPlan]) -> list[tuple[DatasetPlan, str]]:
    """Every (plan, verb) to write, in an order the foreign keys between the tables allow."""
    where = {(plan.table.schema, plan.table.name): index for index, plan in enumerate(plans)}
    after: dict[tuple[int, str], set[tuple[int, str]]] = {
        (index, verb): set() for index in range(len(plans)) for verb in VERBS
    }
    for child, plan in enumerate(plans):
        if self_references(plan.table):
            after[(child, "update")].add((child, "insert"))
            after[(child, "delete")].add((child, "update"))
        for referred in _referred(plan):
            parent = where.get(referred)
            if parent is None or parent == child:
                continue
            after[(child, "insert")].add((parent, "insert"))
            after[(child, "update")].add((parent, "insert"))
            after[(parent, "delete")].update({(child, "delete"), (child, "update")})
    order = _topological(after, key=lambda step: (VERBS.index(step[1]), step[0]))
    return [(plans[index], verb) for index, verb in order]


def _referred(plan: DatasetPlan) -> set[tuple[str | None, str]]:
    """The tables ``plan``'s table refers to: by foreign key, and by the dataset's references."""
    by_reference = {
        (reference.target.schema or plan.table.schema, reference.target.name)
        for reference in plan.references
    }
    return referred_tables(plan.table) | by_reference


def _topological(
    after: dict[tuple[int, str], set[tuple[int, str]]],
    key: Callable[[tuple[int, str]], Any],
) -> list[tuple[int, str]]:
    """The steps with each after those it must follow, the smallest ``key`` first.

    Where the foreign keys between tables form a cycle no order satisfies,
    the smallest remaining step goes next anyway; the database then refuses
    the row, and the refusal names it.
    """
    waiting = {step: set(before) for step, before in after.items()}
    ready = [(key(step), step) for step, before in waiting.items() if not before]
    heapq.heapify(ready)
    done: list[tuple[int, str]] = []
    while waiting:
        if not ready:
            step = min(waiting, key=key)
            waiting[step].clear()
            ready.append((key(step), step))
        _, step = heapq.heappop(ready)
        if step not in waiting:
            continue
        del waiting[step]
        done.append(step)
        for other, before in waiting.items():
            if step in before:
                before.discard(step)
                if not before:
                    heapq.heappush(ready, (key(other), other))
    return done


def insert_levels(plan: DatasetPlan) -> tuple[list[list[RowChange]], list[RowChange]]:
    """The new rows in levels, each referring only to rows of earlier levels or the table.

    The second list holds rows that refer to each other in a cycle (empty
    when the table's foreign keys to itself are checked at commit).
    """
    references = [r for r in self_references(plan.table) if not r.deferred]
    return _levels(plan.creates, references, lambda change: change.values, referring_first=False)


def delete_levels(plan: DatasetPlan) -> list[list[RowChange]]:
    """The deleted rows in levels, rows that other deleted rows refer to last."""
    references = self_references(plan.table)
    levels, cycle = _levels(plan.deletes, references, lambda c: c.values, referring_first=True)
    return levels + ([cycle] if cycle else [])


def _levels(
    changes: list[RowChange],
    references: list[SelfReference],
    values_of: Callable[[RowChange], dict[str, Any]],
    *,
    referring_first: bool,
) -> tuple[list[list[RowChange]], list[RowChange]]:
    if not references or len(changes) < 2:
        return ([changes] if changes else []), []
    # Which change refers to which: by the referred columns' values.
    rows_by_referred: list[dict[tuple[Any, ...], int]] = []
    for reference in references:
        index: dict[tuple[Any, ...], int] = {}
        for number, change in enumerate(changes):
            values = values_of(change)
            if all(column in values for column in reference.referred):
                index[tuple(values[c] for c in reference.referred)] = number
        rows_by_referred.append(index)
    refers_to: list[set[int]] = [set() for _ in changes]
    for number, change in enumerate(changes):
        values = values_of(change)
        for reference, index in zip(references, rows_by_referred, strict=True):
            wanted = tuple(values.get(c) for c in reference.columns)
            other = index.get(wanted) if None not in wanted else None
            if other is not None and other != number:
                refers_to[number].add(other)
    if referring_first:
        # A row goes once every row referring to it has gone.
        referred_by: list[set[int]] = [set() for _ in changes]
        for number, targets in enumerate(refers_to):
            for referred_row in targets:
                referred_by[referred_row].add(number)
        refers_to = referred_by
    levels: list[list[RowChange]] = []
    placed: set[int] = set()
    remaining = set(range(len(changes)))
    while remaining:
        level = sorted(n for n in remaining if refers_to[n] <= placed)
        if not level:
            return levels, [changes[n] for n in sorted(_in_cycles(remaining, refers_to))]
        levels.append([changes[n] for n in level])
        placed.update(level)
        remaining.difference_update(level)
    return levels, []


def _in_cycles(remaining: set[int], refers_to: list[set[int]]) -> set[int]:
    """Of rows none of which could be placed, those on a cycle (not merely behind one)."""
    left = set(remaining)
    while True:
        referred = {target for n in left for target in refers_to[n] if target in left}
        if referred >= left:
            return left
        left &= referred
