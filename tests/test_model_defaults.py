"""New rows get what the application would give them; updated rows get the model's onupdate.

Through the Python API, on SQLite, PostgreSQL and MySQL/MariaDB: the model's
defaults (scalars, callables, SQLModel's ``default_factory``, context-sensitive
callables, SQL expressions) fill what the file leaves out, taken from
``metadata=`` or from the model a dataset is declared with; ``onupdate``
columns are set on the rows an update writes and on no other; a no-op sync
writes nothing.  Also `Dataset(path, Model)` and its natural key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from alembic_datasync import ApplyFailed, Dataset, InvalidDatasets, plan, sync, validate_datasets
from alembic_datasync.writer import COPY_THRESHOLD

from conftest import StatementLog

_ticks = itertools.count(1)


def stamp() -> dt.datetime:
    """A distinct timestamp on every call, so that a test sees which rows got one."""
    return dt.datetime(2030, 1, 1) + dt.timedelta(seconds=next(_ticks))


def aware_stamp() -> dt.datetime:
    return stamp().replace(tzinfo=dt.timezone.utc)


def slug_of_name(context: Any) -> str:
    """A context-sensitive default: computed from the row's own parameters."""
    return f"node-{context.get_current_parameters()['name']}"


class Base(DeclarativeBase):
    pass


class Node(Base):
    """A declarative model whose database knows none of its defaults."""

    __tablename__ = "node"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    model: Mapped[str] = mapped_column(sa.String(50))
    temperature: Mapped[float] = mapped_column(default=0.7)
    tracing: Mapped[bool] = mapped_column(default=True)
    slug: Mapped[str] = mapped_column(sa.String(60), default=slug_of_name)
    note: Mapped[str | None] = mapped_column(sa.String(50))
    origin: Mapped[str] = mapped_column(sa.String(10), default=sa.func.lower("YAML"))  # SQL
    created_at: Mapped[dt.datetime] = mapped_column(default=stamp)
    updated_at: Mapped[dt.datetime | None] = mapped_column(onupdate=stamp)


# The table as the database has it: no default at all (a migration written by hand).
bare = sa.MetaData()
sa.Table(
    "node",
    bare,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, unique=True),
    sa.Column("model", sa.String(50), nullable=False),
    sa.Column("temperature", sa.Float, nullable=False),
    sa.Column("tracing", sa.Boolean, nullable=False),
    sa.Column("slug", sa.String(60), nullable=False),
    sa.Column("note", sa.String(50)),
    sa.Column("origin", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime),
)

NODES = """\
a:
  model: m1
b:
  model: m2
  temperature: 0.2
c:
  model: m3
  tracing: false
"""

BY_NAME = Dataset("nodes.yaml", table="node", key="name")


@pytest.fixture
def engine_with_nodes(engine: sa.Engine) -> sa.Engine:
    bare.create_all(engine)
    return engine


def rows(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT * FROM node")).mappings().all()
    return {row["name"]: dict(row) for row in found}


def run(engine: sa.Engine, folder: Path, text: str, **options: Any) -> Any:
    (folder / "nodes.yaml").write_text(text)
    datasets = options.pop("datasets", [BY_NAME])
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder, **options)


def test_new_rows_get_the_models_defaults_each_its_own(
    engine_with_nodes: sa.Engine, tmp_path: Path
) -> None:
    report = run(engine_with_nodes, tmp_path, NODES, metadata=Base.metadata)
    assert report.plan_lines()[:2] == [
        "+ a",
        "    model: 'm1'  id: (generated)  slug: (generated)  origin: (generated)  "
        "created_at: (generated)",
    ]
    found = rows(engine_with_nodes)
    assert {name: row["temperature"] for name, row in found.items()} == {
        "a": 0.7,
        "b": 0.2,
        "c": 0.7,
    }
    assert [bool(found[n]["tracing"]) for n in "abc"] == [True, True, False]
    assert [found[n]["slug"] for n in "abc"] == ["node-a", "node-b", "node-c"]
    assert {row["origin"] for row in found.values()} == {"yaml"}
    assert len({str(row["id"]) for row in found.values()}) == 3
    assert len({row["created_at"] for row in found.values()}) == 3
    assert all(row["updated_at"] is None for row in found.values())


def test_the_model_a_dataset_is_declared_with_needs_no_metadata(
    engine_with_nodes: sa.Engine, tmp_path: Path
) -> None:
    report = run(engine_with_nodes, tmp_path, NODES, datasets=[Dataset("nodes.yaml", Node)])
    assert report.summary_lines() == [
        "datasync: node (nodes.yaml): 3 total, 3 created, 0 updated, 0 unchanged"
    ]
    assert rows(engine_with_nodes)["a"]["slug"] == "node-a"


def test_without_the_model_a_generated_key_is_refused_with_advice_that_fits(
    engine_with_nodes: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    statements.clear()
    with pytest.raises(InvalidDatasets) as caught:
        run(engine_with_nodes, tmp_path, "a: {model: m1, temperature: 0.1, tracing: true}\n")
    assert [str(p) for p in caught.value.problems] == [
        "nodes.yaml:1:1: new row 'a' of 'node' cannot be created: it leaves out 'id', 'slug', 'origin' and "
        "'created_at', which cannot be NULL and have no default in the database; a generated "
        "key needs a default, not a value in the file: give 'id' one in the model "
        "(default=uuid.uuid4, or default_factory= in SQLModel) or in the database "
        "(server_default=, an identity); add them to the row, or give the columns a default; "
        "if the model has a default for them, pass the model: target_metadata to "
        "context.configure() in env.py, metadata= in the Python API"
    ]
    assert statements.writes == []


def test_onupdate_is_set_on_updated_rows_only_and_a_no_op_writes_nothing(
    engine_with_nodes: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    run(engine_with_nodes, tmp_path, NODES, metadata=Base.metadata)
    before = rows(engine_with_nodes)
    statements.clear()
    report = run(engine_with_nodes, tmp_path, NODES, metadata=Base.metadata)
    assert not report.has_changes
    assert statements.writes == []
    assert rows(engine_with_nodes) == before

    run(engine_with_nodes, tmp_path, NODES.replace("m2", "m2-new"), metadata=Base.metadata)
    after = rows(engine_with_nodes)
    assert after["b"]["model"] == "m2-new"
    assert after["b"]["updated_at"] is not None
    assert {n: after[n] for n in "ac"} == {n: before[n] for n in "ac"}
    assert {k: v for k, v in after["b"].items() if k not in ("model", "updated_at")} == {
        k: v for k, v in before["b"].items() if k not in ("model", "updated_at")
    }


def test_a_large_group_gets_a_value_per_row_copy_included(
    engine_with_nodes: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    """On PostgreSQL this many rows go through COPY, where the sync calls the defaults itself."""
    count = COPY_THRESHOLD + 5
    text = "".join(f"n{i}: {{model: m}}\n" for i in range(count))
    statements.clear()
    run(engine_with_nodes, tmp_path, text, metadata=Base.metadata)
    if engine_with_nodes.dialect.name == "postgresql":
        [insert] = statements.writes
        assert insert.startswith("INSERT INTO node (name, model, id, slug, created_at, ")
        assert "FROM _datasync_stage_" in insert
    found = rows(engine_with_nodes)
    assert len({str(row["id"]) for row in found.values()}) == count
    assert all(row["slug"] == f"node-{name}" for name, row in found.items())
    assert {row["origin"] for row in found.values()} == {"yaml"}
    assert len({row["created_at"] for row in found.values()}) == count
    statements.clear()
    run(
        engine_with_nodes, tmp_path, text.replace("model: m}", "model: m2}"), metadata=Base.metadata
    )
    updated = rows(engine_with_nodes)
    assert len({row["updated_at"] for row in updated.values()}) == count
    assert all(row["created_at"] == found[name]["created_at"] for name, row in updated.items())
    if engine_with_nodes.dialect.name == "postgresql":
        # The staged rows were written by one INSERT ... SELECT and one UPDATE ... FROM.
        assert len(statements.writes) == 1
        assert statements.writes[0].startswith("UPDATE node SET")
        assert "FROM _datasync_stage_" in statements.writes[0]
        assert "updated_at=_datasync_stage_" in statements.writes[0]


def test_validation_knows_the_model_defaults_too(tmp_path: Path) -> None:
    (tmp_path / "nodes.yaml").write_text(NODES)
    validate_datasets([BY_NAME], Base.metadata, base_dir=tmp_path)
    validate_datasets([Dataset("nodes.yaml", Node)], None, base_dir=tmp_path)
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets([BY_NAME], bare, base_dir=tmp_path)
    assert str(caught.value.problems[0]) == (
        "nodes.yaml:1:1: row 'a' of 'node' cannot be created where it is new: it leaves out "
        "'id', 'temperature', 'tracing', 'slug', 'origin' and 'created_at', which cannot be NULL and have no "
        "default in the model or the database; a generated key needs a default, not a value "
        "in the file: give 'id' one in the model (default=uuid.uuid4, or default_factory= in "
        "SQLModel) or in the database (server_default=, an identity); add them to the row, or "
        "give the columns a default"
    )


def test_check_lists_what_the_sync_leaves_alone(
    engine_with_nodes: sa.Engine, tmp_path: Path
) -> None:
    run(engine_with_nodes, tmp_path, NODES, metadata=Base.metadata)
    with engine_with_nodes.begin() as connection:
        connection.execute(sa.text("UPDATE node SET note = 'by hand', tracing = false"))
    run(engine_with_nodes, tmp_path, NODES + "d: {model: m4}\n", metadata=Base.metadata)
    (tmp_path / "nodes.yaml").write_text(NODES.replace("c:\n  model: m3\n  tracing: false\n", ""))
    with engine_with_nodes.connect() as connection:
        report = plan(connection, [BY_NAME], metadata=Base.metadata, base_dir=tmp_path, audit=True)
    assert not report.has_changes
    assert report.render().splitlines() == [
        "datasync: node (nodes.yaml): 2 total, 0 to create, 0 to update, 2 unchanged",
        "  2 rows in the table but not in the file, kept (the dataset does not prune; "
        "prune='all' would delete them):",
        "      c",
        "      d",
        "  4 values set in the table in columns the file does not write for that row, left as "
        "they are:",
        "      a: tracing = false",
        "      a: note = 'by hand'",
        "      b: tracing = false",
        "      b: note = 'by hand'",
    ]


# -- Dataset(path, Model) ---------------------------------------------------------


class Currency(Base):
    __tablename__ = "currency"
    code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Flag(Base):
    __tablename__ = "flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(20))
    flag: Mapped[str] = mapped_column(sa.String(20))
    __table_args__ = (sa.UniqueConstraint("tenant", "flag"),)


class Twice(Base):
    __tablename__ = "twice"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(3), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(3), unique=True)


def test_the_key_is_the_models_single_unique_natural_key() -> None:
    assert Dataset("n.yaml", Node).key_columns == ("name",)
    assert Dataset("c.yaml", Currency).key_columns == ("code",)  # a natural primary key
    assert Dataset("c.yaml", Currency.__table__).key_columns == ("code",)
    assert Dataset("c.yaml", table=Currency, key="name").key_columns == ("name",)


def test_a_key_that_cannot_be_told_is_an_error_that_says_why() -> None:
    with pytest.raises(ValueError) as ambiguous:
        Dataset("t.yaml", Twice)
    assert str(ambiguous.value) == (
        "Dataset for table 'twice': key= cannot be left out, it is ambiguous: the model has "
        "several unique columns ('code', 'slug'); name the one that identifies a row: key='code'"
    )
    with pytest.raises(ValueError) as composite:
        Dataset("f.yaml", Flag)
    assert str(composite.value) == (
        "Dataset for table 'flag': the model has no single-column unique key other than a "
        "generated primary key, so key= cannot be left out; name the column(s) that identify "
        "a row: key='...' or key=('a', 'b')"
    )
    assert Dataset("f.yaml", Flag, key=("tenant", "flag")).key_columns == ("tenant", "flag")
    with pytest.raises(ValueError) as no_model:
        Dataset("f.yaml", "flag")
    assert "key= is needed" in str(no_model.value)


def test_table_stays_the_name_and_replace_keeps_the_model() -> None:
    dataset = Dataset("n.yaml", Node, prune=True)
    assert dataset.table == "node"
    assert dataset.model is Node.__table__
    assert dataset.label == "node"
    copy = dataclasses.replace(dataset, prune=False)
    assert copy.model is Node.__table__
    assert copy.key_columns == ("name",)
    assert not copy.prune
    assert Dataset("n.yaml", table="node", key="name").model is None


def test_a_model_default_that_raises_fails_in_one_line_with_nothing_written(
    engine_with_nodes: sa.Engine, tmp_path: Path
) -> None:
    def broken() -> str:
        raise ValueError("no slug today")

    model = sa.MetaData()
    sa.Table(
        "node",
        model,
        *(
            sa.Column(
                column.name,
                column.type,
                primary_key=column.primary_key,
                default=broken if column.name == "slug" else getattr(column.default, "arg", None),
            )
            for column in Node.__table__.columns
        ),
    )
    with pytest.raises(ApplyFailed) as caught:
        run(engine_with_nodes, tmp_path, NODES, metadata=model)
    assert str(caught.value) == (
        "nodes.yaml: could not insert rows of 'node': the model's default for 'slug' failed: "
        "ValueError: no slug today; nothing was written"
    )
    assert rows(engine_with_nodes) == {}
