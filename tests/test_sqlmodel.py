"""A SQLModel model, the FastAPI template's style, works like a declarative one.

Apart from the rest of the model tests: sqlmodel needs SQLAlchemy 2.0.14 or
newer, so `make test-lowest` (SQLAlchemy 2.0.0) leaves this module out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from alembic_datasync import Dataset

from test_model_defaults import aware_stamp, run


class SQLModelNode(SQLModel, table=True):
    """The template's style: default_factory keys, plain Python defaults, onupdate by kwargs."""

    __tablename__ = "sqlmodel_node"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    node_name: str = Field(unique=True, index=True, max_length=100)
    default_model: str = Field(max_length=100)
    default_temperature: float = 0.7
    updated_at: dt.datetime | None = Field(default=None, sa_column_kwargs={"onupdate": aware_stamp})


def test_an_sqlmodel_model_works_like_a_declarative_one(engine: sa.Engine, tmp_path: Path) -> None:
    SQLModelNode.metadata.create_all(engine, tables=[SQLModelNode.__table__])  # type: ignore[attr-defined]
    dataset = Dataset("nodes.yaml", SQLModelNode)
    assert dataset.table == "sqlmodel_node"
    assert dataset.key_columns == ("node_name",)
    text = "a: {default_model: m1}\nb: {default_model: m2, default_temperature: 0.1}\n"
    run(engine, tmp_path, text, datasets=[dataset])
    run(engine, tmp_path, text.replace("m2", "m3"), datasets=[dataset])
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT node_name, id, default_temperature, updated_at FROM sqlmodel_node "
                "ORDER BY node_name"
            )
        ).all()
    assert [(name, temperature) for name, _, temperature, _ in found] == [("a", 0.7), ("b", 0.1)]
    assert found[0][1] != found[1][1]
    assert [updated is None for *_, updated in found] == [True, False]


def test_a_class_that_maps_no_table_is_refused() -> None:
    class NotATable(SQLModel):
        name: str

    with pytest.raises(ValueError) as caught:
        Dataset("x.yaml", NotATable, key="name")
    assert str(caught.value) == (
        "Dataset: NotATable is neither a table name, a Table nor a mapped model class "
        "(an SQLModel class maps a table only with table=True)"
    )
