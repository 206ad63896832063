"""The exceptions alembic_datasync raises, all under one base.

`DatasyncError` subclasses Alembic's `CommandError`, so the stock `alembic`
command line prints any of them as a one-line ``FAILED: ...`` with no
traceback.  Each carries the positions of what it reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alembic.util import CommandError
from sqlalchemy import exc as sa_exc


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a dataset file: path as the user wrote it, 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a dataset: where, and a message that says what to do."""

    position: Position | str | None
    message: str

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.position}: {self.message}"


def in_file_order(problems: Iterable[Problem], paths: Sequence[str] = ()) -> list[Problem]:
    """``problems`` sorted by file, then line and column; those about a whole file first.

    Files come in the order of ``paths`` (the datasets' declaration order);
    problems of other files, and those with no position, keep their place first.
    """
    rank = {path: number for number, path in enumerate(paths, 1)}

    def order(problem: Problem) -> tuple[int, int, int]:
        position = problem.position
        if isinstance(position, Position):
            return (rank.get(position.path, 0), position.line, position.column)
        return (rank.get(position, 0) if position is not None else 0, 0, 0)

    return sorted(problems, key=order)


class DatasyncError(CommandError):
    """Base class of every error alembic_datasync raises on purpose."""


class DatasetFileMissing(DatasyncError):
    """A dataset's file does not exist."""

    def __init__(self, dataset: str, path: str) -> None:
        self.dataset = dataset
        self.path = path
        #: What is wrong, without the path: the message of the `Problem` it becomes.
        self.reason = (
            f"dataset file for {dataset!r} not found; create it, or fix the path in the "
            f"Dataset(...) declaration"
        )
        super().__init__(f"{path}: {self.reason}")


class InvalidDatasets(DatasyncError):
    """The dataset files have problems; nothing was written.

    ``problems`` lists every problem found in every file, in file order.
    ``writes=False`` for a check that never writes (``--validate``), whose
    message then does not say "nothing written".
    """

    def __init__(self, problems: Sequence[Problem], *, writes: bool = True) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        lines = [f"{head} in dataset files{', nothing written' if writes else ''}:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))


class ApplyFailed(DatasyncError):
    """The database refused a statement of the sync; the whole sync was rolled back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class LockTimeout(DatasyncError):
    """Another process held the deploy lock for longer than the timeout."""


class DatasetsOutOfSync(DatasyncError):
    """``--check`` found that syncing would write: the database differs from the dataset files.

    ``report`` is the plan that would bring the database in line; ``counts``
    says what it writes (``1 to update``).
    """

    def __init__(self, report: object, counts: str = "") -> None:
        self.report = report
        what = f" ({counts})" if counts else ""
        super().__init__(
            f"`alembic datasync` would write{what}: the files changed since the last sync, or "
            f"values they write were edited in the database; `alembic upgrade head` or "
            f"`alembic datasync` brings it in line"
        )


def database_error_message(error: sa_exc.SQLAlchemyError) -> str:
    """One line for a database error: what the driver said, and what to check."""
    original = getattr(error, "orig", None) or error
    said = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    # Connecting failed (no statement yet): the URL or the server.  A statement
    # the database failed (SQLite reports a syntax error as operational) is not that.
    connecting = getattr(error, "statement", None) is None
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) and connecting:
        return (
            f"cannot use the database: {said}; check the URL (sqlalchemy.url, or the "
            f"environment variable env.py reads it from) and that the server is up"
        )
    return f"the database refused a statement: {said}"
