"""Issue 14, parts 1 and 3, through the real ``alembic`` command on the three databases.

The example project gains an ``llm_provider`` table; each node names its
provider (``provider_id: openai``), and the application owns
``default_temperature`` once a node exists (``create_only``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from provider_project import provider_project, providers_of_nodes

from alembic_project import Project

NODES = "config/llm_nodes.yaml"
PROVIDERS = "config/llm_providers.yaml"


@pytest.fixture
def deployed(database_url: sa.URL, tmp_path: Path) -> Project:
    project = provider_project(tmp_path / "project", database_url)
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    return project


def move_reply_drafting_to_anthropic(project: Project, name: str = "anthropic") -> None:
    project.edit(
        NODES,
        'reply_drafting:\n  default_model: "gpt-4o"\n  provider_id: openai',
        f'reply_drafting:\n  default_model: "claude-sonnet-4"\n  provider_id: {name}',
    )


def test_upgrade_writes_the_providers_then_the_nodes_that_name_them(deployed: Project) -> None:
    assert set(providers_of_nodes(deployed).values()) == {"openai"}
    assert len(providers_of_nodes(deployed)) == 8
    again = deployed.run("upgrade", "head")
    assert again.datasync_lines() == [
        "datasync: llm_provider (config/llm_providers.yaml): 2 total, 0 created, 0 updated, "
        "2 unchanged",
        "datasync: llm_node_configuration (config/llm_nodes.yaml): 8 total, 0 created, "
        "0 updated, 8 unchanged",
    ]


def test_a_new_provider_and_the_node_moving_to_it_sync_in_one_upgrade(deployed: Project) -> None:
    deployed.edit(
        PROVIDERS, "anthropic:", 'mistral:\n  api_base: "https://api.mistral.ai"\n\nanthropic:'
    )
    move_reply_drafting_to_anthropic(deployed, "mistral")
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[-3:] == [
        "  ~ reply_drafting",
        "      default_model: 'gpt-4o' -> 'claude-sonnet-4'",
        "      provider_id: 'openai' -> 'mistral'",
    ]
    assert providers_of_nodes(deployed)["reply_drafting"] == "mistral"
    check = deployed.run("datasync", "--check")
    assert check.returncode == 0, check.output


def test_an_unknown_provider_fails_validate_and_writes_nothing(deployed: Project) -> None:
    move_reply_drafting_to_anthropic(deployed, "antropic")
    problem = (
        "config/llm_nodes.yaml:31:16: provider_id: no row of 'llm_provider' has name "
        "'antropic' (did you mean 'anthropic'?); add the row to 'llm_provider' (or its dataset "
        "file), or fix the name"
    )
    validate = deployed.run("datasync", "--validate")
    assert validate.returncode != 0
    assert f"  {problem}" in validate.output.splitlines()
    upgrade = deployed.run("-x", "datasync=strict", "upgrade", "head")
    assert upgrade.returncode != 0
    assert problem in upgrade.output
    assert providers_of_nodes(deployed)["reply_drafting"] == "openai"
    assert deployed.query(
        "SELECT default_model FROM llm_node_configuration WHERE node_name = 'reply_drafting'"
    ) == [("gpt-4o",)]


def test_check_leaves_the_application_owned_temperature_alone(deployed: Project) -> None:
    deployed.execute(
        "UPDATE llm_node_configuration SET default_temperature = 0.5 "
        "WHERE node_name = 'translation'"
    )
    check = deployed.run("datasync", "--check")
    assert check.returncode == 0, check.output
    assert check.stdout.splitlines()[2:] == [
        "  default_temperature: owned by the application, not compared (create_only: written "
        "only when a row is created)",
        "  1 value in the table differs from the file, left as the application set it:",
        "      translation: default_temperature = 0.5 (the file writes 0.3)",
    ]
    document = json.loads(deployed.run("datasync", "--check", "--format", "json").stdout)
    assert (document["status"], document["exit_status"]) == ("in_sync", 0)
    assert document["datasets"][1]["owned"]["values"] == [
        {
            "key": {"node_name": "translation"},
            "label": "translation",
            "column": "default_temperature",
            "value": 0.5,
            "file": 0.3,
        }
    ]
    # Neither a deploy nor a changed or removed line in the file undoes it.
    deployed.edit(NODES, "  default_temperature: 0.3\n", "")
    upgrade = deployed.run("upgrade", "head")
    assert upgrade.returncode == 0, upgrade.output
    assert deployed.query(
        "SELECT default_temperature FROM llm_node_configuration WHERE node_name = 'translation'"
    ) == [(0.5,)]
    # A value the file owns is drift as before.
    deployed.execute(
        "UPDATE llm_node_configuration SET default_model = 'x' WHERE node_name = 'translation'"
    )
    assert deployed.run("datasync", "--check").returncode == 1


def test_an_insert_only_provider_table_keeps_what_an_admin_changed(
    database_url: sa.URL, tmp_path: Path
) -> None:
    datasets = """[
        Dataset("config/llm_providers.yaml", table="llm_provider", key="name", insert_only=True),
        Dataset(
            "config/llm_nodes.yaml",
            table="llm_node_configuration",
            key="node_name",
            references={"provider_id": ("llm_provider", "name")},
        ),
    ]"""
    project = provider_project(tmp_path / "project", database_url, datasets)
    assert project.run("upgrade", "head").returncode == 0
    project.execute(
        "UPDATE llm_provider SET api_base = 'https://proxy.internal' WHERE name = 'openai'"
    )
    project.edit(
        PROVIDERS, "anthropic:", 'mistral:\n  api_base: "https://api.mistral.ai"\n\nanthropic:'
    )
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[:3] == [
        "datasync: llm_provider (config/llm_providers.yaml): 3 total, 1 created, 0 updated, "
        "2 unchanged (insert-only: rows that exist are not compared)",
        "  + mistral",
        "      api_base: 'https://api.mistral.ai'",
    ]
    assert project.query("SELECT name, api_base FROM llm_provider ORDER BY name") == [
        ("anthropic", "https://api.anthropic.com"),
        ("mistral", "https://api.mistral.ai"),
        ("openai", "https://proxy.internal"),
    ]
    assert project.run("datasync", "--check").returncode == 0


def test_export_and_the_editor_schema_speak_names(deployed: Project) -> None:
    export = deployed.run("datasync", "export", "--dataset", "llm_node_configuration")
    assert export.returncode == 0, export.output
    exported = yaml.safe_load((deployed.folder / NODES).read_text())
    assert {row["provider_id"] for row in exported.values()} == {"openai"}
    schema = deployed.run("datasync", "schema", "--dataset", "llm_node_configuration")
    assert schema.returncode == 0, schema.output
    row = json.loads(schema.stdout)["additionalProperties"]
    assert row["properties"]["provider_id"] == {
        "type": ["string", "null"],
        "maxLength": 50,
        "description": "the name of a row of llm_provider",
    }


def test_the_offline_script_looks_the_provider_up_by_name(deployed: Project) -> None:
    run = deployed.run("-x", "datasync=sql", "upgrade", "0001:head", "--sql")
    assert run.returncode == 0, run.output
    statements = [" ".join(part.split()) for part in run.stdout.split(";\n")]
    inserts = [s for s in statements if s.startswith("INSERT INTO llm_node_configuration")]
    assert len(inserts) == 8
    subquery = "(SELECT llm_provider.id FROM llm_provider WHERE llm_provider.name = 'openai')"
    assert all(subquery in insert for insert in inserts)
    # No UPDATE sets the application-owned temperature.
    updates = [s for s in statements if s.startswith("UPDATE llm_node_configuration")]
    assert len(updates) == 8
    assert not any("default_temperature=" in u.split(" WHERE ")[0] for u in updates)
