"""Issue 14, part 3: who owns what, through the Python API on the three databases.

``insert_only=True``: rows the table lacks are created, rows it has are never
updated.  ``create_only=(...)``: those columns are written when a row is
created and never again; ``--check`` shows them as owned by the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, SyncReport, plan, sync
from alembic_datasync.offline import offline_script
from alembic_datasync.report import dataset_json

metadata = sa.MetaData()
NODE = sa.Table(
    "llm_node_configuration",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("node_name", sa.String(100), nullable=False, unique=True),
    sa.Column("default_model", sa.String(100)),
    sa.Column("default_temperature", sa.Float, server_default="0.7"),
)

OWNED_TEMPERATURE = Dataset(
    "nodes.yaml",
    table="llm_node_configuration",
    key="node_name",
    create_only=("default_temperature",),
)
INSERT_ONLY = Dataset(
    "nodes.yaml", table="llm_node_configuration", key="node_name", insert_only=True
)


@pytest.fixture
def tables(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def write(folder: Path, text: str) -> None:
    (folder / "nodes.yaml").write_text(text)


def run_sync(engine: sa.Engine, folder: Path, dataset: Dataset) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, [dataset], base_dir=folder)


def audit(engine: sa.Engine, folder: Path, dataset: Dataset) -> SyncReport:
    with engine.connect() as connection:
        return plan(connection, [dataset], base_dir=folder, audit=True)


def rows(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(NODE.c.node_name, NODE.c.default_model, NODE.c.default_temperature)
        )
        return {row[0]: tuple(row[1:]) for row in found}


def admin_sets(engine: sa.Engine, node: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(NODE.update().where(NODE.c.node_name == node).values(**values))


def test_a_create_only_column_is_written_once_and_never_updated(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "intent: {default_model: gpt-4o, default_temperature: 0.2}\n")
    created = run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    assert created.plan_lines() == [
        "+ intent",
        "    default_model: 'gpt-4o'  default_temperature: 0.2",
    ]
    assert rows(tables) == {"intent": ("gpt-4o", 0.2)}
    # Support tunes it in the admin page; the next deploy leaves it alone...
    admin_sets(tables, "intent", default_temperature=0.9)
    checked = audit(tables, tmp_path, OWNED_TEMPERATURE)
    assert not checked.has_changes
    assert checked.render().splitlines() == [
        "datasync: llm_node_configuration (nodes.yaml): 1 total, 0 to create, 0 to update, "
        "1 unchanged",
        "  default_temperature: owned by the application, not compared (create_only: written "
        "only when a row is created)",
        "  1 value in the table differs from the file, left as the application set it:",
        "      intent: default_temperature = 0.9 (the file writes 0.2)",
    ]
    document = dataset_json(checked.datasets[0])
    assert document["owned"] == {
        "insert_only": False,
        "create_only": ["default_temperature"],
        "note": "owned by the application, not compared",
        "values": [
            {
                "key": {"node_name": "intent"},
                "label": "intent",
                "column": "default_temperature",
                "value": 0.9,
                "file": 0.2,
            }
        ],
    }
    # ... as it does when the file's value changes, or when the line is removed.
    write(tmp_path, "intent: {default_model: gpt-4o-mini, default_temperature: 0.3}\n")
    changed = run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    assert changed.plan_lines() == ["~ intent", "    default_model: 'gpt-4o' -> 'gpt-4o-mini'"]
    write(tmp_path, "intent: {default_model: gpt-4o-mini}\n")
    removed = run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    assert not removed.has_changes
    assert rows(tables) == {"intent": ("gpt-4o-mini", 0.9)}
    # A new row still gets the file's value.
    write(tmp_path, "intent: {default_model: gpt-4o-mini}\nsummary: {default_temperature: 0.1}\n")
    run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    assert rows(tables)["summary"] == (None, 0.1)


def test_an_insert_only_dataset_creates_missing_rows_and_never_updates(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "intent: {default_model: gpt-4o, default_temperature: 0.2}\n")
    run_sync(tables, tmp_path, INSERT_ONLY)
    admin_sets(tables, "intent", default_model="qwen-32b")
    write(
        tmp_path,
        "intent: {default_model: gpt-4o}\nsummary: {default_model: claude, "
        "default_temperature: 0.5}\n",
    )
    checked = audit(tables, tmp_path, INSERT_ONLY)
    assert checked.render().splitlines() == [
        "datasync: llm_node_configuration (nodes.yaml): 2 total, 1 to create, 0 to update, "
        "1 unchanged (insert-only: rows that exist are not compared)",
        "  + summary",
        "      default_model: 'claude'  default_temperature: 0.5",
        "  rows that exist: owned by the application, not compared (insert_only=True)",
        "  1 value in the table differs from the file, left as the application set it:",
        "      intent: default_model = 'qwen-32b' (the file writes 'gpt-4o')",
    ]
    report = run_sync(tables, tmp_path, INSERT_ONLY)
    assert report.counts() == "1 to create"
    assert rows(tables) == {"intent": ("qwen-32b", 0.2), "summary": ("claude", 0.5)}
    # Nothing differs that the sync would write: the next check passes.
    assert not audit(tables, tmp_path, INSERT_ONLY).has_changes
    # A line removed from an existing row is not reverted either.
    write(tmp_path, "intent: {}\nsummary: {default_model: claude}\n")
    assert not run_sync(tables, tmp_path, INSERT_ONLY).has_changes
    assert rows(tables) == {"intent": ("qwen-32b", 0.2), "summary": ("claude", 0.5)}


def test_the_offline_script_leaves_owned_values_alone(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "intent: {default_model: gpt-4o, default_temperature: 0.2}\n")
    run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    admin_sets(tables, "intent", default_model="edited", default_temperature=0.9)
    write(tmp_path, "intent: {default_model: gpt-4o, default_temperature: 0.2}\nnew: {}\n")
    for dataset, expected in [
        (OWNED_TEMPERATURE, ("gpt-4o", 0.9)),
        (INSERT_ONLY, ("edited", 0.9)),
    ]:
        admin_sets(tables, "intent", default_model="edited")
        script = offline_script([dataset], metadata, tables.dialect.name, base_dir=tmp_path)
        with tables.begin() as connection:
            for statement in script:
                if not isinstance(statement, str):
                    connection.execute(statement)
        assert rows(tables)["intent"] == expected
        assert "new" in rows(tables)


def test_a_create_only_column_the_table_lacks_is_a_problem(
    tables: sa.Engine, tmp_path: Path
) -> None:
    from alembic_datasync import InvalidDatasets

    write(tmp_path, "intent: {default_model: gpt-4o}\n")
    wrong = Dataset(
        "nodes.yaml",
        table="llm_node_configuration",
        key="node_name",
        create_only=("default_temprature",),
    )
    with pytest.raises(InvalidDatasets) as raised:
        run_sync(tables, tmp_path, wrong)
    assert [str(p) for p in raised.value.problems] == [
        "nodes.yaml: create_only column 'default_temprature' is not a column of table "
        "'llm_node_configuration'; did you mean 'default_temperature'?; fix the Dataset(...) "
        "create_only"
    ]


def test_declarations_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="key column\\(s\\) node_name cannot be create_only"):
        Dataset("n.yaml", table="t", key="node_name", create_only=("node_name",))
    with pytest.raises(ValueError, match="insert_only must be True or False"):
        Dataset("n.yaml", table="t", key="k", insert_only="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="composite natural keys are not supported yet"):
        Dataset("n.yaml", table="t", key="k", references={"p": ("p", ("a", "b"))})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="key column 'p' cannot be a reference"):
        Dataset("n.yaml", table="t", key="p", references={"p": ("providers", "name")})


def test_dropping_create_only_from_the_declaration_plans_the_file_value_again(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "intent: {default_model: gpt-4o, default_temperature: 0.2}\n")
    run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    admin_sets(tables, "intent", default_temperature=0.9)
    run_sync(tables, tmp_path, OWNED_TEMPERATURE)
    run_sync(tables, tmp_path, OWNED_TEMPERATURE)  # verified: the shortcut may replay it
    plain = Dataset("nodes.yaml", table="llm_node_configuration", key="node_name")
    report = run_sync(tables, tmp_path, plain)
    assert report.plan_lines() == ["~ intent", "    default_temperature: 0.9 -> 0.2"]
    assert rows(tables) == {"intent": ("gpt-4o", 0.2)}
