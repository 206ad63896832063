"""Issue 14, part 1: references by natural key, through the Python API on the three databases.

The file writes ``provider_id: openai``; the table stores the id of the
``llm_provider`` row named ``openai``.  Plans show the name, never the id;
an unknown name is a problem at its line naming the closest one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import (
    Dataset,
    InvalidDatasets,
    SyncReport,
    plan,
    sync,
    validate_datasets,
)
from alembic_datasync.offline import offline_script
from alembic_datasync.report import dataset_json

metadata = sa.MetaData()
PROVIDER = sa.Table(
    "llm_provider",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, unique=True),
    sa.Column("api_base", sa.String(200)),
)
NODE = sa.Table(
    "llm_node_configuration",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("node_name", sa.String(100), nullable=False, unique=True),
    sa.Column("provider_id", sa.Integer, sa.ForeignKey("llm_provider.id")),
    sa.Column("default_model", sa.String(100)),
)

PROVIDERS = Dataset("providers.yaml", table="llm_provider", key="name", prune=True)
NODES = Dataset(
    "nodes.yaml",
    table="llm_node_configuration",
    key="node_name",
    references={"provider_id": ("llm_provider", "name")},
)


@pytest.fixture
def fk_engine(engine: sa.Engine) -> sa.Engine:
    """``engine`` with the two tables, SQLite enforcing foreign keys as the servers do."""
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def enforce_foreign_keys(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

    metadata.create_all(engine)
    return engine


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def run_sync(engine: sa.Engine, folder: Path, datasets: list[Dataset]) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder)


def run_plan(engine: sa.Engine, folder: Path, datasets: list[Dataset]) -> SyncReport:
    with engine.connect() as connection:
        return plan(connection, datasets, base_dir=folder, audit=True)


def nodes(engine: sa.Engine) -> dict[str, str | None]:
    """Each node's provider, by name, as the database joins them."""
    query = (
        "SELECT n.node_name, p.name FROM llm_node_configuration n "
        "LEFT JOIN llm_provider p ON p.id = n.provider_id"
    )
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.exec_driver_sql(query)}


def test_a_node_names_a_provider_created_by_a_dataset_declared_after_it(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    write(
        tmp_path, "providers.yaml", "openai: {api_base: 'https://api.openai.com'}\nanthropic: {}\n"
    )
    write(
        tmp_path,
        "nodes.yaml",
        "intent: {provider_id: openai, default_model: gpt-4o}\n"
        "summary: {provider_id: anthropic, default_model: claude}\n"
        "offline: {provider_id: null, default_model: local}\n",
    )
    report = run_sync(fk_engine, tmp_path, [NODES, PROVIDERS])
    assert nodes(fk_engine) == {"intent": "openai", "summary": "anthropic", "offline": None}
    node_plan = report.render().split("datasync: llm_node_configuration")[1]
    assert "  + intent\n      provider_id: 'openai'  default_model: 'gpt-4o'" in node_plan
    # Nothing to do the second time: the ids read back as the names the file writes.
    again = run_plan(fk_engine, tmp_path, [NODES, PROVIDERS])
    assert not again.has_changes
    assert again.summary_lines()[0].endswith("3 total, 0 to create, 0 to update, 3 unchanged")


def test_a_changed_reference_is_planned_and_shown_by_name(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "providers.yaml", "openai: {}\nanthropic: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\n")
    run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    write(tmp_path, "providers.yaml", "openai: {}\nanthropic: {}\nmistral: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: mistral}\n")
    planned = run_plan(fk_engine, tmp_path, [PROVIDERS, NODES])
    assert planned.plan_lines() == [
        "+ mistral",
        "~ intent",
        "    provider_id: 'openai' -> 'mistral'",
    ]
    change = dataset_json(planned.datasets[1])["changes"][0]
    assert change["columns"] == {"provider_id": {"old": "openai", "new": "mistral"}}
    report = run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    assert report.applied and not report.warnings
    assert nodes(fk_engine) == {"intent": "mistral"}
    assert not run_plan(fk_engine, tmp_path, [PROVIDERS, NODES]).has_changes


def test_a_provider_already_in_the_table_is_found_without_a_dataset(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    with fk_engine.begin() as connection:
        connection.execute(PROVIDER.insert(), [{"name": "openai"}, {"name": "anthropic"}])
    write(tmp_path, "nodes.yaml", "intent: {provider_id: anthropic}\n")
    run_sync(fk_engine, tmp_path, [NODES])
    assert nodes(fk_engine) == {"intent": "anthropic"}
    # An edit in the database is drift, shown by name.
    with fk_engine.begin() as connection:
        openai = connection.execute(sa.select(PROVIDER.c.id).where(PROVIDER.c.name == "openai"))
        connection.execute(NODE.update().values(provider_id=openai.scalar_one()))
    planned = run_plan(fk_engine, tmp_path, [NODES])
    assert planned.plan_lines() == ["~ intent", "    provider_id: 'openai' -> 'anthropic'"]


def test_an_unknown_name_is_a_problem_at_its_line_naming_the_closest(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    with fk_engine.begin() as connection:
        connection.execute(PROVIDER.insert(), [{"name": "anthropic"}])
    write(tmp_path, "providers.yaml", "openai: {}\n")
    write(
        tmp_path, "nodes.yaml", "intent: {provider_id: opneai}\nsummary: {provider_id: antropic}\n"
    )
    with pytest.raises(InvalidDatasets) as raised:
        run_sync(fk_engine, tmp_path, [NODES, PROVIDERS])
    assert [str(problem) for problem in raised.value.problems] == [
        "nodes.yaml:1:23: provider_id: no row of 'llm_provider' has name 'opneai' (did you mean "
        "'openai'?); add the row to 'llm_provider' (or its dataset file), or fix the name",
        "nodes.yaml:2:24: provider_id: no row of 'llm_provider' has name 'antropic' (did you "
        "mean 'anthropic'?); add the row to 'llm_provider' (or its dataset file), or fix the name",
    ]
    assert nodes(fk_engine) == {}


def test_a_provider_pruned_while_a_node_still_names_it_is_a_problem(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "providers.yaml", "openai: {}\nanthropic: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\n")
    run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    write(tmp_path, "providers.yaml", "anthropic: {}\n")
    with pytest.raises(InvalidDatasets) as raised:
        run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    assert [str(problem) for problem in raised.value.problems] == [
        "nodes.yaml:1:23: provider_id: no row of 'llm_provider' has name 'openai'; add the row "
        "to 'llm_provider' (or its dataset file), or fix the name"
    ]
    # Moving the node away in the same sync lets the provider go: update first, then delete.
    write(tmp_path, "nodes.yaml", "intent: {provider_id: anthropic}\n")
    report = run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    assert report.counts() == "1 to update, 1 to delete"
    assert nodes(fk_engine) == {"intent": "anthropic"}


@pytest.mark.parametrize(
    ("natural_key", "message"),
    [
        pytest.param(
            "title",
            "nodes.yaml: references['provider_id'] of 'llm_node_configuration': 'title' is not a "
            "column of table 'llm_provider'; fix the Dataset(...) references",
            id="not-a-column",
        ),
        pytest.param(
            "api_base",
            "nodes.yaml: references['provider_id'] of 'llm_node_configuration': 'api_base' is "
            "not unique in 'llm_provider', so a name could mean several rows; add a unique "
            "constraint on it in a migration; fix the Dataset(...) references",
            id="not-unique",
        ),
    ],
)
def test_a_wrong_declaration_is_a_problem_naming_the_fix(
    fk_engine: sa.Engine, tmp_path: Path, natural_key: str, message: str
) -> None:
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\n")
    wrong = Dataset(
        "nodes.yaml",
        table="llm_node_configuration",
        key="node_name",
        references={"provider_id": ("llm_provider", natural_key)},
    )
    with pytest.raises(InvalidDatasets) as raised:
        run_sync(fk_engine, tmp_path, [wrong])
    assert str(raised.value.problems[0]) == message


def test_validate_knows_the_names_the_files_write(tmp_path: Path) -> None:
    write(tmp_path, "providers.yaml", "openai: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\nsummary: {provider_id: opneai}\n")
    with pytest.raises(InvalidDatasets) as raised:
        validate_datasets([NODES, PROVIDERS], metadata, base_dir=tmp_path)
    assert [str(problem) for problem in raised.value.problems] == [
        "nodes.yaml:2:24: provider_id: no row of 'llm_provider' has name 'opneai' (did you mean "
        "'openai'?); add the row to 'llm_provider' (or its dataset file), or fix the name"
    ]
    # With no dataset of llm_provider, only the database knows its rows: not checked.
    validate_datasets([NODES], metadata, base_dir=tmp_path)


def test_the_offline_script_writes_a_reference_as_a_subquery(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "providers.yaml", "openai: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai, default_model: gpt-4o}\n")
    script = offline_script([NODES, PROVIDERS], metadata, fk_engine.dialect.name, base_dir=tmp_path)
    with fk_engine.begin() as connection:
        for statement in script:
            if not isinstance(statement, str):
                connection.execute(statement)
    assert nodes(fk_engine) == {"intent": "openai"}
    with fk_engine.connect() as connection:
        assert not plan(connection, [NODES, PROVIDERS], base_dir=tmp_path).has_changes


def test_the_history_holds_names(fk_engine: sa.Engine, tmp_path: Path) -> None:
    from alembic_datasync import sync_history, sync_record

    write(tmp_path, "providers.yaml", "openai: {}\nanthropic: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\n")
    run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    write(tmp_path, "nodes.yaml", "intent: {provider_id: anthropic}\n")
    run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    with fk_engine.connect() as connection:
        last = sync_history(connection, limit=1)[0]
        record = sync_record(connection, last.id)
    assert record is not None
    (nodes_record,) = [d for d in record.datasets if d.dataset == "llm_node_configuration"]
    assert nodes_record.changes is not None
    (change,) = nodes_record.changes[0].changes
    assert (change.column, change.old, change.new) == ("provider_id", "openai", "anthropic")
    assert json.dumps([change.old, change.new]) == '["openai", "anthropic"]'


def test_pruning_a_provider_that_a_row_outside_the_files_names_says_why_it_cannot(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    from alembic_datasync import ApplyFailed

    write(tmp_path, "providers.yaml", "openai: {}\nanthropic: {}\n")
    write(tmp_path, "nodes.yaml", "intent: {provider_id: openai}\n")
    run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    with fk_engine.begin() as connection:
        anthropic = connection.execute(
            sa.select(PROVIDER.c.id).where(PROVIDER.c.name == "anthropic")
        ).scalar_one()
        connection.execute(NODE.insert().values(node_name="by_the_app", provider_id=anthropic))
    write(tmp_path, "providers.yaml", "openai: {}\n")
    with pytest.raises(ApplyFailed) as raised:
        run_sync(fk_engine, tmp_path, [PROVIDERS, NODES])
    message = str(raised.value)
    assert message.startswith(
        "providers.yaml: the database refused to delete row 'anthropic' of 'llm_provider': "
    )
    assert message.endswith(
        " (rows of another table still refer to it: point them at another row, or keep this "
        "one in the file); nothing was written"
    )
    assert nodes(fk_engine) == {"intent": "openai", "by_the_app": "anthropic"}


def test_the_referred_table_may_be_the_projects_model() -> None:
    by_model = Dataset(
        "nodes.yaml",
        table=NODE,
        key="node_name",
        references={"provider_id": (PROVIDER, "name")},
    )
    assert by_model.reference_list == NODES.reference_list


def test_a_renamed_provider_is_never_skipped_by_the_no_parse_shortcut(
    fk_engine: sa.Engine, tmp_path: Path
) -> None:
    with fk_engine.begin() as connection:
        connection.execute(PROVIDER.insert(), [{"name": "openai"}, {"name": "anthropic"}])
    write(tmp_path, "nodes.yaml", "intent: {provider_id: anthropic}\n")
    run_sync(fk_engine, tmp_path, [NODES])
    run_sync(fk_engine, tmp_path, [NODES])  # verified: nothing to do
    # The nodes' table and file are as they were; only the referred name changed.
    with fk_engine.begin() as connection:
        connection.execute(
            PROVIDER.update().where(PROVIDER.c.name == "anthropic").values(name="anthropic-eu")
        )
    with pytest.raises(InvalidDatasets) as raised:
        run_sync(fk_engine, tmp_path, [NODES])
    assert [str(problem) for problem in raised.value.problems] == [
        "nodes.yaml:1:23: provider_id: no row of 'llm_provider' has name 'anthropic' (did you "
        "mean 'anthropic-eu'?); add the row to 'llm_provider' (or its dataset file), or fix the "
        "name"
    ]


def test_a_csv_file_names_providers_too(fk_engine: sa.Engine, tmp_path: Path) -> None:
    with fk_engine.begin() as connection:
        connection.execute(PROVIDER.insert(), [{"name": "openai"}, {"name": "1984"}])
    write(tmp_path, "nodes.csv", "node_name,provider_id\nintent,openai\nsummary,1984\nlocal,\n")
    csv_nodes = Dataset(
        "nodes.csv",
        table="llm_node_configuration",
        key="node_name",
        references={"provider_id": ("llm_provider", "name")},
    )
    report = run_sync(fk_engine, tmp_path, [csv_nodes])
    assert report.plan_lines()[:4] == [
        "+ intent",
        "    provider_id: 'openai'",
        "+ summary",
        "    provider_id: '1984'",
    ]
    assert nodes(fk_engine) == {"intent": "openai", "summary": "1984", "local": None}
    assert not run_plan(fk_engine, tmp_path, [csv_nodes]).has_changes
