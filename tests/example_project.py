"""The example backend's model (example/app/models.py), for tests that want its tables."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

MODELS = Path(__file__).resolve().parent.parent / "example" / "app" / "models.py"


@cache
def _models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_app_models", MODELS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: SQLAlchemy resolves the Mapped[...] annotations through it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def example_model(name: str) -> Any:
    """The class ``name`` of the example's models module."""
    return getattr(_models(), name)
