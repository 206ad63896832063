"""alembic_datasync: declarative, version-controlled reference data for Alembic projects.

YAML files, each bound to a table, synced into the database after
``alembic upgrade head``: idempotent, planned, checked for drift.

The names below are imported when first used (PEP 562): the plugin that adds
``alembic datasync`` to every ``alembic`` command imports this package, and a
stock command (``alembic current``, ``alembic history``) should not pay for
the sync engine it never runs.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import apply, plan, sync, sync_history, sync_record, validate_datasets
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
    from .history import SyncRecord
    from .origin import SyncOrigin
    from .plans import ColumnChange, DatasetPlan, RowChange
    from .report import SyncReport
    from .storage import StateTables

#: Each public name and the module that defines it.
_HOMES = {
    "ApplyFailed": "errors",
    "ColumnChange": "plans",
    "DataSync": "environment",
    "Dataset": "dataset",
    "DatasetFileMissing": "errors",
    "DatasetPlan": "plans",
    "DatasetsOutOfSync": "errors",
    "DatasyncError": "errors",
    "InvalidDatasets": "errors",
    "LockTimeout": "errors",
    "Position": "errors",
    "Problem": "errors",
    "RowChange": "plans",
    "StateTables": "storage",
    "SyncOrigin": "origin",
    "SyncRecord": "history",
    "SyncReport": "report",
    "apply": "api",
    "plan": "api",
    "sync": "api",
    "sync_history": "api",
    "sync_record": "api",
    "validate_datasets": "api",
}

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
    "StateTables",
    "SyncOrigin",
    "SyncRecord",
    "SyncReport",
    "apply",
    "plan",
    "sync",
    "sync_history",
    "sync_record",
    "validate_datasets",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(f".{home}", __name__), name)
    elif name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("alembic-datasync")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0+unknown"
    elif not name.startswith("_") and _is_module(name):
        # `import alembic_datasync` then `alembic_datasync.errors.DatasyncError`, as
        # when the package imported everything up front.
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def _is_module(name: str) -> bool:
    """Whether ``name`` is one of the package's modules."""
    return importlib.util.find_spec(f"{__name__}.{name}") is not None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
