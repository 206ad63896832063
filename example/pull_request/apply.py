"""A later pull request to the example project, applied to a copy of it (never to example/).

It adds an ``llm_provider`` table (migration 0002 and ``config/llm_providers.yaml``);
every node names its provider (``provider_id: openai``), looked up by name; and the
admin page owns ``default_temperature`` once a node exists. README, "References and
ownership", explains each line. ``make example`` runs it as its last chapter; the
tests (tests/provider_project.py) build their projects with it.

    python pull_request/apply.py PROJECT_FOLDER
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: The datasets env.py declares after this pull request.
DATASETS = """[
        Dataset("config/llm_providers.yaml", table="llm_provider", key="name"),
        Dataset(
            "config/llm_nodes.yaml",
            table="llm_node_configuration",
            key="node_name",
            references={"provider_id": ("llm_provider", "name")},
            create_only=("default_temperature",),
        ),
    ]"""

#: What env.py declares before it.
EXAMPLE_DATASETS = (
    '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]'
)

PROVIDER_MODEL = """

class LLMProvider(Base):
    __tablename__ = "llm_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    api_base: Mapped[str | None] = mapped_column(sa.String(200))
"""

MIGRATION = "migrations/versions/0002_create_llm_provider.py"
PROVIDERS = "config/llm_providers.yaml"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"{path}: the pull request expects {old!r} there")
    path.write_text(text.replace(old, new, 1))


def apply(project: Path, datasets: str = DATASETS) -> None:
    """Apply the pull request to the copy of the example in ``project``."""
    for name in (MIGRATION, PROVIDERS):
        shutil.copyfile(HERE / name, project / name)
    models = project / "app/models.py"
    replace(
        models,
        "    azure_max_tokens: Mapped[int | None]\n",
        "    azure_max_tokens: Mapped[int | None]\n"
        '    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("llm_provider.id"))\n',
    )
    models.write_text(models.read_text() + PROVIDER_MODEL)
    nodes = project / "config/llm_nodes.yaml"
    nodes.write_text(
        re.sub(
            r'^(  default_model: "[^"]*"[^\n]*\n)',
            r"\1  provider_id: openai\n",
            nodes.read_text(),
            flags=re.MULTILINE,
        )
    )
    replace(project / "migrations/env.py", EXAMPLE_DATASETS, datasets)


if __name__ == "__main__":
    apply(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
