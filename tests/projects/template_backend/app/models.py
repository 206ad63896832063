"""The backend's tables, in the template's style: SQLModel, UUID keys made by the application."""

import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def get_datetime_utc() -> datetime:
    return datetime.now(timezone.utc)


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    full_name: str | None = Field(default=None, max_length=255)
    hashed_password: str


class Item(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=255)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")


class LLMNodeConfiguration(SQLModel, table=True):
    """Which LLM each pipeline node uses, with its settings; rows kept in config/llm_nodes.yaml."""

    __tablename__ = "llm_node_configuration"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    node_name: str = Field(unique=True, index=True, max_length=100)
    default_model: str = Field(max_length=100)
    default_temperature: float = 0.7
    default_max_tokens: int = 1000
    langsmith_tracing: bool = True
    description: str | None = Field(default=None, max_length=255)
    azure_model: str | None = Field(default=None, max_length=100)
    azure_temperature: float | None = None
    azure_max_tokens: int | None = None
    created_at: datetime = Field(
        default_factory=get_datetime_utc,
        sa_type=DateTime(timezone=True),  # type: ignore[call-overload]
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),  # type: ignore[call-overload]
        sa_column_kwargs={"onupdate": get_datetime_utc},
    )
