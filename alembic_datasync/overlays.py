"""Per-environment values: a base dataset file and an overlay file per environment.

Next to ``config/llm_nodes.yaml``, the file ``config/llm_nodes.staging.yaml``
is the overlay of the environment ``staging``: the base file's stem, a dot,
the environment's name, the base file's suffix.  When an environment is
chosen, its overlay is merged into the base's rows before anything else looks
at them (checks, plan, state):

- a row whose key the base lists changes that row: only the columns it
  names, the others keep the base's values;
- a row whose key the base does not list is a row of its own, added: it is
  written in full, at least every column that all the base's rows write (so
  that a misspelt key meant to change a row is an error, not a new row);
- a row that names its key and ``$remove: true`` takes the base's row out,
  as if its lines were deleted from the base file.

Keys match as the files spell them (``intent_classification`` in both).
Each merged value remembers which file wrote it (`rows.Row.origins`), so
messages and the plan point into the overlay.  With no environment chosen,
overlays are not read at all.  CSV files take no overlay.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from .dataset import Dataset
from .display import did_you_mean, listing, show
from .errors import DatasyncError, Position, Problem
from .keys import describe_key
from .rows import LoadedFile, Row

if TYPE_CHECKING:
    from .plans import DatasetPlan

#: The column an overlay row writes to take the base's row out: ``$remove: true``.
REMOVE = "$remove"

#: The environment variable that chooses the environment (below ``-x datasync_env=``).
ENVIRONMENT_VARIABLE = "DATASYNC_ENV"

#: The ``-x`` argument that chooses the environment: ``-x datasync_env=staging``.
X_ENVIRONMENT = "datasync_env"

_NAME = re.compile(r"[A-Za-z0-9_-]+")


def checked_environment(name: str | None, where: str = "environment") -> str | None:
    """``name`` when it can name an overlay file, None for no environment; else `DatasyncError`.

    An empty name means no environment (the base files alone).
    """
    if name is None or name == "":
        return None
    if not _NAME.fullmatch(name):
        raise DatasyncError(
            f"{where} {name!r} cannot name an overlay file: an environment's name is letters, "
            f"digits, '_' and '-' (e.g. staging, production)"
        )
    return name


def overlay_path(base: Path, environment: str) -> Path:
    """Where the overlay of ``environment`` is, next to the base file ``base``."""
    return base.with_name(f"{base.stem}.{environment}{base.suffix}")


def display_overlay(dataset: Dataset, environment: str) -> str:
    """The overlay's path as messages show it: next to the base's path as the user wrote it."""
    return overlay_path(Path(dataset.display_path), environment).as_posix()


def overlay_dataset(dataset: Dataset, environment: str) -> Dataset:
    """``dataset`` pointed at its overlay file, for the loaders (positions name the overlay)."""
    return replace(dataset, path=overlay_path(Path(dataset.path), environment))


def environment_warnings(
    datasets: Sequence[Dataset], base_dir: str | os.PathLike[str] | None, environment: str | None
) -> list[str]:
    """A warning when ``environment`` is chosen and no dataset has an overlay for it.

    Not an error: an environment may well use the base values everywhere
    (production, say); the warning names the files looked for, so that a
    misspelt name shows.
    """
    if environment is None or not datasets:
        return []
    if any(overlay_path(d.resolve(base_dir), environment).is_file() for d in datasets):
        return []
    looked = ", ".join(display_overlay(d, environment) for d in datasets[:3])
    more = ", ..." if len(datasets) > 3 else ""
    return [
        f"no dataset file has an overlay for the environment {environment!r} (none of "
        f"{looked}{more} exists): the base files alone are synced"
    ]


def note_overlays(
    plans: Sequence[DatasetPlan], base_dir: str | os.PathLike[str] | None, environment: str | None
) -> None:
    """Tell each plan which overlay file was merged into its dataset's, for the summary line."""
    if environment is None:
        return
    for plan in plans:
        if overlay_path(plan.dataset.resolve(base_dir), environment).is_file():
            plan.overlay = display_overlay(plan.dataset, environment)


def found_environments(base: Path, taken: set[Path]) -> list[str]:
    """The environments with an overlay next to ``base``, by name.

    ``taken`` are the files the datasets declare as their own: a file
    ``llm_nodes.extra.yaml`` that is another dataset's base is no overlay.
    """
    if not base.parent.is_dir():
        return []
    names = []
    prefix, suffix = f"{base.stem}.", base.suffix
    for candidate in base.parent.iterdir():
        name = candidate.name
        if not (name.startswith(prefix) and name.endswith(suffix)) or candidate.resolve() in taken:
            continue
        environment = name[len(prefix) : len(name) - len(suffix)] if suffix else name[len(prefix) :]
        if _NAME.fullmatch(environment) and candidate.is_file():
            names.append(environment)
    return sorted(names)


def combined_digest(base_digest: str, environment: str, overlay_digest: str) -> str:
    """The digest of a base file merged with an overlay: changes with either file, or the name."""
    text = f"{base_digest}\n{environment}\n{overlay_digest}"
    return hashlib.sha256(text.encode()).hexdigest()


def csv_overlay_problem(dataset: Dataset, environment: str) -> Problem:
    """The problem of an overlay next to a CSV file: CSV datasets take none."""
    return Problem(
        display_overlay(dataset, environment),
        f"a CSV dataset file takes no overlay (an empty cell is NULL, so a CSV row cannot "
        f"leave a column as the base has it): put the {environment} rows in a CSV file of "
        f"their own, or rename this file if it is not meant as the {environment} overlay",
    )


def merge(base: LoadedFile, overlay: LoadedFile, environment: str) -> LoadedFile:
    """The rows of ``base`` with ``overlay`` applied, and the problems of both.

    The result's rows are the base's, in order, changed where the overlay
    says, without those it removes, then the rows the overlay adds.
    """
    from .yaml11 import mapping_key  # merging only: finding the overlay reads no YAML

    dataset = base.dataset
    key_columns = dataset.key_columns
    problems = list(base.problems) + list(overlay.problems)
    by_key: dict[tuple[Hashable, ...], int] = {}
    for index, row in enumerate(base.rows):
        key = _key(row, key_columns, mapping_key)
        if key is not None:
            by_key.setdefault(key, index)
    removed: set[int] = set()
    removals: dict[tuple[Any, ...], Position] = {}
    added: list[Row] = []
    # A row the overlay adds is written in full: at least what every base row writes.
    every_row_writes = _written_by_every_row(base.rows)
    overlaid: dict[tuple[Hashable, ...], Row] = {}
    for row in overlay.rows:
        key = _key(row, key_columns, mapping_key)
        if key is not None:
            first = overlaid.get(key)
            if first is not None:
                problems.append(
                    Problem(
                        row.position,
                        f"the {environment} overlay writes the row "
                        f"{describe_key(row, key_columns)!r} twice, first at line "
                        f"{first.position.line}: merge them into one",
                    )
                )
                continue
            overlaid[key] = row
        removal = _removal(row, key_columns, environment, problems)
        if removal is None:
            continue  # a problem, reported
        at = by_key.get(key) if key is not None else None
        if at is None:
            if removal:
                problems.append(
                    Problem(
                        row.position_of(REMOVE),
                        f"the {environment} overlay removes "
                        f"{describe_key(row, key_columns)!r}, which the base file "
                        f"{dataset.display_path} does not list; fix the key, or drop this row"
                        f"{_closest(row, base.rows, key_columns)}",
                    )
                )
                continue
            left_out = [column for column in every_row_writes if column not in row.values]
            if left_out:
                problems.append(_partial_addition(row, base, left_out, environment))
                continue
            row.origins = {column: row.position_of(column) for column in row.values}
            added.append(row)
        elif removal:
            removed.add(at)
            gone = tuple(base.rows[at].values[column] for column in key_columns)
            removals[gone] = row.position_of(REMOVE)
        else:
            _apply(base.rows[at], row, key_columns)
    rows = [row for index, row in enumerate(base.rows) if index not in removed] + added
    merged = LoadedFile(dataset, rows, problems, cells_are_text=base.cells_are_text)
    merged.header = base.header
    merged.removed = removals
    return merged


def _written_by_every_row(rows: list[Row]) -> list[str]:
    """The columns every row writes, in the first row's order."""
    if not rows:
        return []
    common = set(rows[0].values)
    for row in rows[1:]:
        common &= row.values.keys()
    return [column for column in rows[0].values if column in common]


def _partial_addition(row: Row, base: LoadedFile, left_out: list[str], environment: str) -> Problem:
    key_columns = base.dataset.key_columns
    return Problem(
        row.position,
        f"the {environment} overlay adds the row {describe_key(row, key_columns)!r}, which the "
        f"base file {base.dataset.display_path} does not list, but leaves out "
        f"{listing(left_out)}, which every row of the base writes: a row an overlay adds is "
        f"written in full (write null for a column left empty); to change a row of the base "
        f"instead, spell its key as the base does{_closest(row, base.rows, key_columns)}",
    )


def _key(
    row: Row, key_columns: tuple[str, ...], mapping_key: Callable[[Any], Hashable]
) -> tuple[Hashable, ...] | None:
    """The row's key as the file spells it (``mapping_key``: as a YAML mapping's key would
    be); None when it has none or cannot be compared."""
    values = row.values
    if any(values.get(column) is None for column in key_columns):
        return None
    key = tuple(mapping_key(values[column]) for column in key_columns)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _removal(
    row: Row, key_columns: tuple[str, ...], environment: str, problems: list[Problem]
) -> bool | None:
    """True for a row that removes, False for one that writes; None (a problem) for neither."""
    if REMOVE not in row.values:
        return False
    flag = row.values[REMOVE]
    if flag is not True:
        problems.append(
            Problem(
                row.position_of(REMOVE),
                f"{REMOVE} takes true (remove the base's row in {environment}), not "
                f"{show(flag)}; to keep the row, drop the {REMOVE} line",
            )
        )
        return None
    others = [column for column in row.values if column != REMOVE and column not in key_columns]
    if others:
        problems.append(
            Problem(
                row.position_of(others[0]),
                f"a row that removes names only its key and {REMOVE}: true, but this one also "
                f"writes {listing(others)}; drop {'it' if len(others) == 1 else 'them'}, or drop "
                f"{REMOVE} to change the row instead",
            )
        )
        return None
    return True


def _apply(base: Row, overlay: Row, key_columns: tuple[str, ...]) -> None:
    """Write the overlay row's values over the base row's, each remembering the overlay."""
    origins = dict(base.origins) if base.origins else {}
    # The base row's positions may be held compactly (`rows.Spots`): a dict for the few
    # rows an overlay changes.
    positions = dict(base.value_positions)
    texts = dict(base.scalar_texts)  # the base row's may be shared (`rows.NO_TEXTS`)
    for column, value in overlay.values.items():
        if column in key_columns:
            continue
        base.values[column] = value
        spot = overlay.value_positions.get(column)
        if spot is not None:
            positions[column] = spot
        origins[column] = overlay.position_of(column)
        texts.pop(column, None)
        text = overlay.scalar_texts.get(column)
        if text is not None:
            texts[column] = text
    base.value_positions = positions
    base.scalar_texts = texts
    base.origins = origins


def _closest(row: Row, rows: list[Row], key_columns: tuple[str, ...]) -> str:
    if len(key_columns) != 1:
        return ""
    value = row.values.get(key_columns[0])
    if not isinstance(value, str):
        return ""
    names = [str(other.values[key_columns[0]]) for other in rows if key_columns[0] in other.values]
    return did_you_mean(value, names)


def added_row_problems(file: LoadedFile, table: Table, environment: str | None) -> list[Problem]:
    """Rows an overlay adds that leave out a column every new row must write.

    A row whose key the base does not list is a row of its own, so it must be
    written in full; the usual reason it is not is a misspelt key meant to
    change a base row, which the message says (with the closest base key).
    """
    if environment is None:
        return []
    from .tables import required_columns  # planning only, with the table reflected

    base_path = file.dataset.display_path
    required = required_columns(table)
    base_rows = [row for row in file.rows if row.position.path == base_path]
    problems = []
    for row in file.rows:
        if row.position.path == base_path:
            continue
        missing = [name for name in required if name not in row.values]
        if not missing:
            continue
        key = describe_key(row, file.dataset.key_columns)
        problems.append(
            Problem(
                row.position,
                f"the {environment} overlay adds the row {key!r}, which the base file "
                f"{base_path} does not list, and it leaves out {listing(missing)} (NOT NULL, "
                f"no default): a row an overlay adds is written in full; to change a row of "
                f"the base instead, spell its key as the base does"
                f"{_closest(row, base_rows, file.dataset.key_columns)}",
            )
        )
    return problems


def origin_of(row: Row, column: str) -> Position | None:
    """Where the overlay wrote ``column``'s value of ``row``; None when the base file did."""
    return row.origins.get(column) if row.origins else None


def mark_origins(plan: DatasetPlan, file: LoadedFile) -> None:
    """Give each row change of ``plan`` the places where an overlay wrote its values.

    A row the overlay removed, deleted or (without prune) left in the table,
    gets where the overlay removes it.
    """
    if file.removed:
        key_columns = plan.dataset.key_columns
        for number, change in enumerate(plan.deletes):
            where = file.removed.get(change.key)
            if where is not None:
                plan.deletes[number] = replace(change, origins=dict.fromkeys(key_columns, where))
        plan.removed_by = {key: file.removed[key] for key in plan.unlisted if key in file.removed}
    overlaid = {row.position: row.origins for row in file.rows if row.origins}
    if not overlaid:
        return
    for changes in (plan.creates, plan.updates):
        for number, change in enumerate(changes):
            origins = overlaid.get(change.position) if change.position is not None else None
            if origins:
                changes[number] = replace(change, origins=dict(origins))
