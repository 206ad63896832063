"""The LLMNodeConfiguration table: the model, temperature and token limit of each node."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class LLMNodeConfiguration(Base):
    __tablename__ = "llm_node_configuration"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    default_model: Mapped[str] = mapped_column(sa.String(100))
    default_temperature: Mapped[float] = mapped_column(sa.Float, server_default="0.7")
    default_max_tokens: Mapped[int] = mapped_column(server_default="1000")
    langsmith_tracing: Mapped[bool] = mapped_column(server_default=sa.true())
    description: Mapped[str | None] = mapped_column(sa.Text)
    azure_model: Mapped[str | None] = mapped_column(sa.String(100))
    azure_temperature: Mapped[float | None] = mapped_column(sa.Float)
    azure_max_tokens: Mapped[int | None]
