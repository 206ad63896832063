"""Initialize models

Revision ID: e2412789c190
Revises:
Create Date: 2026-11-26 06:10:00.000000

"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision = "e2412789c190"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("hashed_password", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_email"), "user", ["email"], unique=True)
    op.create_table(
        "item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "llm_node_configuration",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("node_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("default_model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("default_temperature", sa.Float(), nullable=False),
        sa.Column("default_max_tokens", sa.Integer(), nullable=False),
        sa.Column("langsmith_tracing", sa.Boolean(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("azure_model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("azure_temperature", sa.Float(), nullable=True),
        sa.Column("azure_max_tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_llm_node_configuration_node_name"),
        "llm_node_configuration",
        ["node_name"],
        unique=True,
    )


def downgrade():
    op.drop_index(op.f("ix_llm_node_configuration_node_name"), table_name="llm_node_configuration")
    op.drop_table("llm_node_configuration")
    op.drop_table("item")
    op.drop_index(op.f("ix_user_email"), table_name="user")
    op.drop_table("user")
