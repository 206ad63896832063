"""Reading the dataset files: bytes from disk, rows from `loader`, one loop for every caller.

Every way a file can be unreadable (missing, a directory, a pipe, too large,
unreadable bytes) ends as `DatasetFileMissing` or a `Problem`, never as
another exception; `read_files` collects them for every dataset, so one run
reports them all.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .dataset import Dataset
from .errors import DatasetFileMissing, Problem
from .overlays import combined_digest, csv_overlay_problem, merge, overlay_dataset, overlay_path
from .rows import FileProblem, LoadedFile

if TYPE_CHECKING:
    from .csvload import CsvChunks

#: YAML files above this size are refused before parsing, and CSV records (bytes).
DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


def is_csv(path: Path) -> bool:
    """Whether ``path`` names a CSV dataset file (read by `csvload`, streamed)."""
    return path.suffix.lower() == ".csv"


def _regular_file(dataset: Dataset, path: Path) -> os.stat_result:
    """``path``'s stat; `FileProblem` unless it is a regular file (`FileNotFoundError` passes)."""
    shown = dataset.display_path
    kind = "CSV" if is_csv(path) else "YAML"
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem(
            Problem(shown, f"is a directory, not a {kind} file: point the dataset at a file")
        )
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(
            Problem(
                shown,
                f"is not a regular file (a device or a pipe?): point the dataset at a {kind} file",
            )
        )
    return info


def read_source(dataset: Dataset, path: Path, max_size: int) -> bytes:
    """The file's bytes; `DatasetFileMissing` or `FileProblem` when it cannot be read."""
    shown = dataset.display_path
    try:
        info = _regular_file(dataset, path)
        if info.st_size > max_size:
            raise _too_large(shown, info.st_size, max_size)
        with path.open("rb") as file:
            # Read one byte past the limit: a file that grew since stat() is
            # still refused without reading all of it.
            data = file.read(max_size + 1)
        if len(data) > max_size:
            raise _too_large(shown, len(data), max_size)
        return data
    except FileNotFoundError:
        raise DatasetFileMissing(dataset.label, shown) from None
    except OSError as exc:
        raise _unreadable(dataset, exc) from None


def _too_large(shown: str, size: int, max_size: int) -> FileProblem:
    return FileProblem(
        Problem(
            shown,
            f"file is {size:,} bytes, over the limit of {max_size:,}; split it, or raise "
            f"the limit (max_file_size)",
        )
    )


def load_dataset(
    dataset: Dataset,
    base_dir: str | os.PathLike[str] | None = None,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
    environment: str | None = None,
) -> LoadedFile:
    """Read and parse ``dataset``'s file: YAML, or CSV for a ``.csv`` file.

    A YAML file is read whole, and refused over ``max_size`` bytes; a CSV
    file is streamed, any size, and ``max_size`` bounds one record instead.
    With ``environment``, the file's overlay for it (`overlays`), when there
    is one, is merged in.  Raises `DatasetFileMissing` when the file does not
    exist and `FileProblem` for anything else that stops it being read;
    problems of single rows are in the result's ``problems``.
    """
    # The readers are imported when a file is read: a sync whose files have
    # not changed reads their bytes for a digest, and never parses them.
    from .csvload import read_csv
    from .loader import parse_file

    path = dataset.resolve(base_dir)
    if is_csv(path):
        if environment is not None and overlay_path(path, environment).exists():
            raise FileProblem(csv_overlay_problem(dataset, environment))
        with _opened(dataset, path) as file:
            try:
                return read_csv(file, path, dataset, max_size)
            except OSError as exc:
                raise _unreadable(dataset, exc) from None
    source = read_source(dataset, path, max_size)
    loaded = parse_file(source, dataset)
    loaded.source_digest = source_digest(source)
    if environment is None:
        return loaded
    overlay = _overlay_source(dataset, path, max_size, environment)
    if overlay is None:
        return loaded
    merged = merge(loaded, parse_file(overlay, overlay_dataset(dataset, environment)), environment)
    merged.source_digest = combined_digest(
        loaded.source_digest, environment, source_digest(overlay)
    )
    return merged


@contextmanager
def csv_chunks(
    dataset: Dataset,
    base_dir: str | os.PathLike[str] | None,
    max_size: int,
    environment: str | None,
    rows: int,
) -> Iterator[CsvChunks]:
    """``dataset``'s CSV file opened for reading ``rows`` rows at a time (`csvload.CsvChunks`).

    Raises `DatasetFileMissing` and `FileProblem` as `load_dataset` does, on
    opening or (a record at fault) while the chunks are read.
    """
    from .csvload import CsvChunks

    path = dataset.resolve(base_dir)
    if environment is not None and overlay_path(path, environment).exists():
        raise FileProblem(csv_overlay_problem(dataset, environment))
    with _opened(dataset, path) as file:
        try:
            yield CsvChunks(file, path, dataset, max_size, rows=rows)
        except OSError as exc:
            raise _unreadable(dataset, exc) from None


def csv_columns(
    dataset: Dataset, base_dir: str | os.PathLike[str] | None, max_size: int
) -> list[str]:
    """The columns the header of ``dataset``'s CSV file names; none when it cannot be read
    (reading the file says why)."""
    from .csvload import csv_header

    try:
        with _opened(dataset, dataset.resolve(base_dir)) as file:
            return csv_header(file, dataset, max_size) or []
    except (DatasetFileMissing, FileProblem, OSError):
        return []


def _overlay_source(dataset: Dataset, path: Path, max_size: int, environment: str) -> bytes | None:
    """The bytes of ``dataset``'s overlay for ``environment``; None when it has none."""
    try:
        on_top = overlay_dataset(dataset, environment)
        return read_source(on_top, overlay_path(path, environment), max_size)
    except DatasetFileMissing:
        return None


def files_digest(
    dataset: Dataset,
    base_dir: str | os.PathLike[str] | None,
    max_size: int,
    environment: str | None = None,
) -> str:
    """The digest `load_dataset` gives the file (and its overlay), without parsing either.

    Raises as `load_dataset` does when a file cannot be read.
    """
    path = dataset.resolve(base_dir)
    digest = file_digest(dataset, path, max_size)
    if environment is None:
        return digest
    overlay = _overlay_source(dataset, path, max_size, environment)
    if overlay is None:
        return digest
    return combined_digest(digest, environment, source_digest(overlay))


@contextmanager
def _opened(dataset: Dataset, path: Path) -> Iterator[BinaryIO]:
    try:
        _regular_file(dataset, path)
        file = path.open("rb")
    except FileNotFoundError:
        raise DatasetFileMissing(dataset.label, dataset.display_path) from None
    except OSError as exc:
        raise _unreadable(dataset, exc) from None
    with file:
        yield file


def _unreadable(dataset: Dataset, exc: OSError) -> FileProblem:
    return FileProblem(Problem(dataset.display_path, f"cannot read the file: {exc.strerror}"))


def file_digest(dataset: Dataset, path: Path, max_size: int) -> str:
    """The SHA-256 of the dataset file's bytes, read as `load_dataset` reads them.

    A CSV file is streamed (any size); a YAML file over ``max_size`` is
    refused.  Raises `DatasetFileMissing` or `FileProblem` as `load_dataset` does.
    """
    if not is_csv(path):
        return source_digest(read_source(dataset, path, max_size))
    digest = hashlib.sha256()
    with _opened(dataset, path) as file:
        try:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        except OSError as exc:
            raise _unreadable(dataset, exc) from None
    return digest.hexdigest()


def source_digest(source: bytes) -> str:
    """The SHA-256 of a file's bytes: the state remembers which bytes were applied."""
    return hashlib.sha256(source).hexdigest()


@dataclass
class ReadFiles:
    """Every dataset file read, in declaration order.

    ``outcomes`` pairs each dataset with its `LoadedFile`, the `Problem` that
    stopped it being read, or the `DatasetFileMissing` that says it is not
    there (a warning or a problem: the caller's policy).
    """

    outcomes: list[tuple[Dataset, LoadedFile | Problem | DatasetFileMissing]] = field(
        default_factory=list
    )

    @property
    def loaded(self) -> list[LoadedFile]:
        """The files that could be read."""
        return [found for _, found in self.outcomes if isinstance(found, LoadedFile)]

    def secret_values(self) -> set[str]:
        """Every value the loaded files write into secret columns."""
        return {value for file in self.loaded for value in file.secret_values()}

    def usable(
        self,
        problems: list[Problem],
        *,
        strict: bool,
        warn: Callable[[DatasetFileMissing], None],
    ) -> Iterator[LoadedFile]:
        """The files that could be read, in declaration order; the others go to ``problems``.

        Each unreadable file's problem is appended as its turn comes, so the
        caller's own problems of earlier files stay before it.  A missing
        file is a problem when ``strict``; otherwise ``warn`` is told.
        """
        for _, found in self.outcomes:
            if isinstance(found, LoadedFile):
                yield found
            elif isinstance(found, Problem):
                problems.append(found)
            elif strict:
                problems.append(Problem(found.path, found.reason))
            else:
                warn(found)


def read_files(
    datasets: Sequence[Dataset],
    base_dir: str | os.PathLike[str] | None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    environment: str | None = None,
) -> ReadFiles:
    """Read and parse every dataset's file (with ``environment``'s overlays); nothing is raised."""
    read = ReadFiles()
    base = os.fspath(base_dir) if base_dir is not None else None
    for dataset in datasets:
        found: LoadedFile | Problem | DatasetFileMissing
        try:
            found = load_dataset(dataset, base, max_file_size, environment)
        except DatasetFileMissing as exc:
            found = exc
        except FileProblem as exc:
            found = exc.problem
        read.outcomes.append((dataset, found))
    return read
