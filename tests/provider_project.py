"""The example project with an ``llm_provider`` table that the LLM nodes refer to by name.

A copy of example/ (never example/ itself) with the pull request of
example/pull_request/ applied: the provider model, its migration,
``config/llm_providers.yaml``, a ``provider_id: ...`` in every node, and the
datasets of issue 14: the nodes refer to their provider by name, and the
application owns ``default_temperature`` once a node exists.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

from alembic_project import EXAMPLE, Project, copy_example

PULL_REQUEST = EXAMPLE / "pull_request" / "apply.py"


def _pull_request() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_pull_request", PULL_REQUEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pull_request = _pull_request()

#: The datasets env.py declares (the lines the README shows).
DATASETS: str = pull_request.DATASETS


def provider_project(folder: Path, url: sa.URL, datasets: str = DATASETS) -> Project:
    """A copy of example/ in ``folder`` with example/pull_request/ applied, declaring
    ``datasets``."""
    project = copy_example(folder, url)
    pull_request.apply(project.folder, datasets)
    return project


def providers_of_nodes(project: Project) -> dict[str, str | None]:
    """Each node's provider by name, as the database joins them."""
    rows = project.query(
        "SELECT n.node_name, p.name FROM llm_node_configuration n "
        "LEFT JOIN llm_provider p ON p.id = n.provider_id"
    )
    return {row[0]: row[1] for row in rows}
