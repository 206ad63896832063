"""alembic_datasync: declarative, version-controlled reference data for Alembic projects.

YAML files, each bound to a table, synced into the database after
``alembic upgrade head``: idempotent, planned, checked for drift.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .api import apply, plan, sync, validate_datasets
from .dataset import Dataset
from .environment import DataSync
from .errors import (
    ApplyFailed,
    DatasetFileMissing,
    DatasetsOutOfSync,
    DatasyncError,
    InvalidDatasets,
    LockTimeout,
    Position,
    Problem,
)
from .plans import ColumnChange, DatasetPlan, RowChange
from .report import SyncReport

try:
    __version__ = version("alembic-datasync")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "ApplyFailed",
    "ColumnChange",
    "DataSync",
    "Dataset",
    "DatasetFileMissing",
    "DatasetPlan",
    "DatasetsOutOfSync",
    "DatasyncError",
    "InvalidDatasets",
    "LockTimeout",
    "Position",
    "Problem",
    "RowChange",
    "SyncReport",
    "apply",
    "plan",
    "sync",
    "validate_datasets",
]
