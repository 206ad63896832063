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
    DatasyncError,
    InvalidDatasets,
    Position,
    Problem,
)
from .plan import ColumnChange, DatasetPlan, RowChange
from .sync import SyncReport, apply, plan, sync

try:
    __version__ = version("alembic-datasync")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "ApplyFailed",
    "ColumnChange",
    "Dataset",
    "DatasetFileMissing",
    "DatasetPlan",
    "DatasyncError",
    "InvalidDatasets",
    "Position",
    "Problem",
    "RowChange",
    "SyncReport",
    "apply",
    "plan",
    "sync",
]
