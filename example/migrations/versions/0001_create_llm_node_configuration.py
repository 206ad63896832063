"""create llm_node_configuration

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_node_configuration",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("node_name", sa.String(100), nullable=False, unique=True),
        sa.Column("default_model", sa.String(100), nullable=False),
        sa.Column("default_temperature", sa.Float, nullable=False, server_default="0.7"),
        sa.Column("default_max_tokens", sa.Integer, nullable=False, server_default="1000"),
        sa.Column("langsmith_tracing", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("description", sa.Text),
        sa.Column("azure_model", sa.String(100)),
        sa.Column("azure_temperature", sa.Float),
        sa.Column("azure_max_tokens", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("llm_node_configuration")
