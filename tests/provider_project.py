"""The example project with an ``llm_provider`` table that the LLM nodes refer to by name.

A copy of example/ (never example/ itself) gains the provider model, its
migration, ``config/llm_providers.yaml``, a ``provider_id: ...`` in every node,
and the datasets of issue 14: the nodes refer to their provider by name, and
the application owns ``default_temperature`` once a node exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from alembic_project import Project, copy_example

ENV_PY = "migrations/env.py"

#: The datasets env.py declares (the lines the README shows).
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

PROVIDERS_YAML = """\
# The LLM providers the nodes use: llm_node_configuration.provider_id names one.
openai:
  api_base: "https://api.openai.com/v1"

anthropic:
  api_base: "https://api.anthropic.com"
"""

PROVIDER_MODEL = """

class LLMProvider(Base):
    __tablename__ = "llm_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    api_base: Mapped[str | None] = mapped_column(sa.String(200))
"""

MIGRATION = '''"""create llm_provider, and llm_node_configuration.provider_id

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_provider",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, unique=True),
        sa.Column("api_base", sa.String(200)),
    )
    if op.get_context().dialect.name == "sqlite":
        # SQLite adds a column with its foreign key inline (it cannot ALTER constraints);
        # plain SQL also works in --sql mode, where batch mode cannot reflect the table.
        op.execute(
            "ALTER TABLE llm_node_configuration "
            "ADD COLUMN provider_id INTEGER REFERENCES llm_provider (id)"
        )
    else:
        op.add_column("llm_node_configuration", sa.Column("provider_id", sa.Integer))
        op.create_foreign_key(
            "fk_llm_node_configuration_provider",
            "llm_node_configuration",
            "llm_provider",
            ["provider_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("llm_node_configuration") as batch:
        batch.drop_constraint("fk_llm_node_configuration_provider", type_="foreignkey")
        batch.drop_column("provider_id")
    op.drop_table("llm_provider")
'''

EXAMPLE_DATASETS = (
    '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]'
)


def provider_project(folder: Path, url: sa.URL, datasets: str = DATASETS) -> Project:
    """A copy of example/ in ``folder`` with the provider table and the datasets ``datasets``."""
    project = copy_example(folder, url)
    models = project.folder / "app/models.py"
    text = models.read_text().replace(
        "    azure_max_tokens: Mapped[int | None]\n",
        "    azure_max_tokens: Mapped[int | None]\n"
        '    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("llm_provider.id"))\n',
    )
    models.write_text(text + PROVIDER_MODEL)
    (project.folder / "migrations/versions/0002_create_llm_provider.py").write_text(MIGRATION)
    (project.folder / "config/llm_providers.yaml").write_text(PROVIDERS_YAML)
    nodes = project.folder / "config/llm_nodes.yaml"
    nodes.write_text(
        re.sub(
            r'^(  default_model: "gpt[^"]*"\n)',
            r"\1  provider_id: openai\n",
            nodes.read_text(),
            flags=re.MULTILINE,
        )
    )
    project.edit(ENV_PY, EXAMPLE_DATASETS, datasets)
    return project


def providers_of_nodes(project: Project) -> dict[str, str | None]:
    """Each node's provider by name, as the database joins them."""
    rows = project.query(
        "SELECT n.node_name, p.name FROM llm_node_configuration n "
        "LEFT JOIN llm_provider p ON p.id = n.provider_id"
    )
    return {row[0]: row[1] for row in rows}
