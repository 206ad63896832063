"""alembic_datasync: declarative, version-controlled reference data for Alembic projects.

YAML files, each bound to a table, synced into the database after
``alembic upgrade head``: idempotent, planned, checked for drift.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .dataset import Dataset
from .errors import (
    ApplyFailed,
    DatasetFileMissing,
    DatasetsOutOfSync,
    DatasyncError,
    InvalidDatasets,
    Position,
    Problem,
)
from .hook import DataSync
from .plan import ColumnChange, DatasetPlan, RowChange
from .sync import SyncReport, apply, plan, sync
from .validate import validate_datasets

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
    "Position",
    "Problem",
    "RowChange",
    "SyncReport",
    "apply",
    "plan",
    "sync",
    "validate_datasets",
]
