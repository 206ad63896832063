"""Issue 13 through the real `alembic` script on a copy of example/: removed lines revert,
prune deletes only owned rows, `alembic datasync history`, the tables beside alembic_version."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example

SUMMARY = "datasync: llm_node_configuration (config/llm_nodes.yaml): "
NODES_YAML = "config/llm_nodes.yaml"
ENV_PY = "migrations/env.py"
DECLARATION = 'Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")'


@pytest.fixture
def deployed(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    return project


def test_an_azure_override_added_then_deleted_is_null_again(deployed: Project) -> None:
    # The LLM-node guide's rollback: edit the YAML and redeploy.
    tokens = "  default_max_tokens: 2000\n"
    override = '  azure_model: "gpt-4o-eu"\n'
    deployed.edit(NODES_YAML, tokens, tokens + override)
    added = deployed.run("upgrade", "head")
    assert added.returncode == 0, added.output
    assert added.datasync_lines() == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ intent_classification",
        "      azure_model: null -> 'gpt-4o-eu'",
    ]
    assert deployed.nodes()["intent_classification"][5] == "gpt-4o-eu"
    deployed.edit(NODES_YAML, tokens + override, tokens)
    removed = deployed.run("upgrade", "head")
    assert removed.returncode == 0, removed.output
    assert removed.datasync_lines() == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ intent_classification",
        "      azure_model: 'gpt-4o-eu' -> NULL (removed from the file)",
    ]
    assert deployed.nodes()["intent_classification"][5] is None
    again = deployed.run("upgrade", "head")
    assert again.datasync_lines() == [SUMMARY + "8 total, 0 created, 0 updated, 8 unchanged"]


def test_an_override_present_since_the_first_deploy_reverts_too(deployed: Project) -> None:
    deployed.edit(
        NODES_YAML,
        '  azure_model: "gpt-4o-eu"\n  azure_temperature: 0.6\n',
        "  azure_temperature: 0.6\n",
    )
    check = deployed.run("datasync", "--check")
    assert check.returncode == 1, check.output
    assert check.stdout.splitlines()[:3] == [
        SUMMARY + "8 total, 0 to create, 1 to update, 7 unchanged",
        "  ~ reply_drafting",
        "      azure_model: 'gpt-4o-eu' -> NULL (removed from the file)",
    ]
    done = deployed.run("datasync")
    assert done.returncode == 0, done.output
    assert deployed.nodes()["reply_drafting"][5:7] == (None, 0.6)


def test_prune_deletes_nodes_the_file_wrote_never_those_the_application_inserted(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    project.edit(ENV_PY, DECLARATION, DECLARATION[:-1] + ", prune=True)")
    assert project.run("upgrade", "head").returncode == 0
    project.execute(
        "INSERT INTO llm_node_configuration (node_name, default_model) "
        "VALUES ('added_by_the_app', 'gpt-4o')"
    )
    path = project.folder / NODES_YAML
    text = path.read_text()
    start = text.index("translation:")
    path.write_text(text[:start] + text[text.index("ticket_routing:") :])
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        SUMMARY + "7 total, 0 created, 0 updated, 7 unchanged, 1 deleted",
        "  - translation",
    ]
    nodes = project.nodes()
    assert "translation" not in nodes
    assert nodes["added_by_the_app"][0] == "gpt-4o"
    assert len(nodes) == 8


def test_history_lists_the_syncs_and_shows_one(deployed: Project) -> None:
    deployed.edit(
        NODES_YAML,
        'intent_classification:\n  default_model: "gpt-4o"',
        'intent_classification:\n  default_model: "qwen-32b"',
    )
    assert deployed.run("upgrade", "head").returncode == 0
    assert deployed.run("upgrade", "head").returncode == 0  # writes nothing: no record

    listed = deployed.run("datasync", "history")
    assert listed.returncode == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("sync 2: ") and ", at 0001, by " in lines[0]
    assert lines[0].endswith(" (alembic upgrade), not strict")
    assert lines[1] == "  llm_node_configuration (config/llm_nodes.yaml): " + (
        "8 total, 0 created, 1 updated, 7 unchanged"
    )
    assert lines[2].startswith("sync 1: ")
    assert lines[3].endswith("8 total, 8 created, 0 updated, 0 unchanged")

    one = deployed.run("datasync", "history", "2")
    assert one.returncode == 0, one.output
    assert one.stdout.splitlines()[1:] == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ intent_classification",
        "      default_model: 'gpt-4o' -> 'qwen-32b'",
    ]

    limited = deployed.run("datasync", "history", "-n", "1", "--format", "json")
    assert limited.returncode == 0, limited.output
    (record,) = json.loads(limited.stdout)
    assert (record["id"], record["revisions"], record["strict"]) == (2, ["0001"], False)
    assert record["datasets"][0]["updated"] == 1 and "changes" not in record["datasets"][0]

    shown = json.loads(deployed.run("datasync", "history", "2", "--format", "json").stdout)
    assert shown["datasets"][0]["changes"] == [
        {
            "action": "update",
            "key": {"node_name": "intent_classification"},
            "label": "intent_classification",
            "changes": [
                {"column": "default_model", "old": "gpt-4o", "new": "qwen-32b", "removed": False}
            ],
        }
    ]

    other = deployed.run("datasync", "history", "--dataset", "feature_flags")
    assert other.stdout.splitlines() == [
        "datasync: no sync in the history changed the dataset 'feature_flags'"
    ]
    missing = deployed.run("datasync", "history", "99")
    assert missing.returncode == 255
    assert missing.lines("FAILED: ") == [
        "FAILED: the history has no sync 99; `alembic datasync history` lists the syncs"
    ]


def test_autogenerate_leaves_the_tools_tables_alone(deployed: Project) -> None:
    assert deployed.has_table("alembic_datasync_state")
    check = deployed.run("check")
    assert check.returncode == 0, check.output
    assert "No new upgrade operations detected." in check.output


@pytest.fixture
def version_schema(database_url: sa.URL) -> Iterator[str]:
    """A schema (PostgreSQL) or database (MySQL) of its own for Alembic's version table."""
    name = f"ds_v_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    statement = "SCHEMA" if database_url.get_backend_name() == "postgresql" else "DATABASE"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE {statement} {name}")
    try:
        yield name
    finally:
        with admin.connect() as connection:
            cascade = " CASCADE" if statement == "SCHEMA" else ""
            connection.exec_driver_sql(f"DROP {statement} IF EXISTS {name}{cascade}")
        admin.dispose()


@pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)
def test_the_tables_live_in_the_version_tables_schema(
    database_url: sa.URL, tmp_path: Path, version_schema: str
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    project.edit(
        ENV_PY,
        "connection=connection, target_metadata=target_metadata",
        f"connection=connection, target_metadata=target_metadata, "
        f"version_table_schema={version_schema!r}",
    )
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    engine = project.engine()
    try:
        inspector = sa.inspect(engine)
        for name in ("alembic_version", "alembic_datasync_state", "alembic_datasync_history"):
            assert inspector.has_table(name, schema=version_schema), name
            assert not inspector.has_table(name), name
    finally:
        engine.dispose()
    assert project.query(
        f"SELECT dataset, row_count FROM {version_schema}.alembic_datasync_state"
    ) == [("llm_node_configuration", 8)]
    history = project.run("datasync", "history")
    assert history.stdout.splitlines()[0].startswith("sync 1: ")


@pytest.mark.parametrize("prune", ["True", "'all'"])
def test_an_offline_script_prunes_only_with_prune_all(
    database_url: sa.URL, tmp_path: Path, prune: str
) -> None:
    # The script cannot know which rows the file wrote (the state is online).
    project = copy_example(tmp_path / "project", database_url)
    project.edit(ENV_PY, DECLARATION, DECLARATION[:-1] + f", prune={prune})")
    run = project.run("-x", "datasync=sql", "upgrade", "head", "--sql")
    assert run.returncode == 0, run.output
    deletes = [line for line in run.stdout.splitlines() if line.startswith("DELETE FROM")]
    note = (
        "-- datasync: prune=True deletes only rows the file wrote at an earlier sync, which "
        "only the online sync knows (its state): the script deletes nothing (prune='all' "
        "deletes every row the file does not list)"
    )
    if prune == "True":
        assert deletes == [] and note in run.stdout.splitlines()
    else:
        assert len(deletes) == 1 and note not in run.stdout
