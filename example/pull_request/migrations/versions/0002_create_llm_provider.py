"""create llm_provider, and llm_node_configuration.provider_id

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
