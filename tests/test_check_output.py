"""`alembic datasync --check` tells the whole truth, as text and as JSON for CI bots.

It exits 1 exactly when `alembic datasync` would write; it lists, without
failing, what the sync leaves alone; a missing file fails it and
``--validate``; ``--format json`` prints one document on stdout, errors
included, with the exit status of text mode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example

SUMMARY = "datasync: llm_node_configuration (config/llm_nodes.yaml): "
NODES_YAML = "config/llm_nodes.yaml"


@pytest.fixture
def deployed(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    return project


def document(stdout: str) -> dict[str, Any]:
    """The JSON document: stdout holds nothing else."""
    found: dict[str, Any] = json.loads(stdout)
    assert found["schema_version"] == 1
    return found


def test_check_lists_what_the_sync_leaves_alone_without_failing(deployed: Project) -> None:
    deployed.execute(
        "INSERT INTO llm_node_configuration (node_name, default_model) VALUES ('legacy', 'm')"
    )
    deployed.execute(
        "UPDATE llm_node_configuration SET azure_model = 'by-hand' WHERE node_name = 'translation'"
    )
    check = deployed.run("datasync", "--check")
    assert check.returncode == 0, check.output
    assert check.stdout.splitlines() == [
        SUMMARY + "8 total, 0 to create, 0 to update, 8 unchanged",
        "  1 row in the table but not in the file, kept (the dataset does not prune; "
        "prune='all' would delete it):",
        "      legacy",
        "  1 value set in the table in columns the file does not write for that row, left as "
        "they are:",
        "      translation: azure_model = 'by-hand'",
    ]
    # A value the file writes, edited by hand, is what the sync would write back: exit 1.
    deployed.execute(
        "UPDATE llm_node_configuration SET default_max_tokens = 1 WHERE node_name = 'translation'"
    )
    drift = deployed.run("datasync", "--check")
    assert drift.returncode == 1, drift.output
    assert drift.stdout.splitlines()[1:3] == [
        "  ~ translation",
        "      default_max_tokens: 1 -> 4000",
    ]
    assert drift.stdout.splitlines()[-1] == (
        "datasync: out of sync: `alembic datasync` would write (1 to update): the files changed "
        "since the last sync, or values they write were edited in the database; `alembic "
        "upgrade head` or `alembic datasync` brings it in line"
    )


def test_a_missing_file_fails_check_and_validate_but_not_the_deploy(deployed: Project) -> None:
    (deployed.folder / NODES_YAML).unlink()
    missing = (
        "config/llm_nodes.yaml: dataset file for 'llm_node_configuration' not found; create it, "
        "or fix the path in the Dataset(...) declaration"
    )
    check = deployed.run("datasync", "--check")
    assert check.returncode == 255
    assert check.stdout.splitlines() == [
        "FAILED: 1 problem in dataset files, nothing written:",
        f"  {missing}",
    ]
    validate = deployed.run("datasync", "--validate")
    assert validate.returncode == 255
    assert validate.stdout.splitlines() == ["FAILED: 1 problem in dataset files:", f"  {missing}"]
    upgrade = deployed.run("upgrade", "head")
    assert upgrade.returncode == 0, upgrade.output
    assert upgrade.lines("WARNI [alembic.datasync]") == [
        f"WARNI [alembic.datasync] datasync: warning: {missing}; table "
        "'llm_node_configuration' left unchanged"
    ]


def test_json_plan_has_counts_changes_and_positions(deployed: Project) -> None:
    deployed.edit(NODES_YAML, 'default_model: "gpt-4o"', 'default_model: "qwen-32b"')
    deployed.execute("DELETE FROM llm_node_configuration WHERE node_name = 'translation'")
    deployed.execute(
        "INSERT INTO llm_node_configuration (node_name, default_model) VALUES ('legacy', 'm')"
    )
    for args in (("--dry-run",), ("--check",)):
        run = deployed.run("datasync", *args, "--format", "json")
        assert run.returncode == (1 if args == ("--check",) else 0), run.output
        found = document(run.stdout)
        assert found["command"] == args[0].lstrip("-")
        assert found["status"] == ("out_of_sync" if args == ("--check",) else "planned")
        assert found["exit_status"] == run.returncode
        [dataset] = found["datasets"]
        assert dataset["counts"] == {
            "total": 8,
            "create": 1,
            "update": 1,
            "delete": 0,
            "unchanged": 6,
        }
        assert dataset["changes"] == [
            {
                "action": "update",
                "key": {"node_name": "intent_classification"},
                "label": "intent_classification",
                "line": 5,
                "column": 1,
                "columns": {"default_model": {"old": "gpt-4o", "new": "qwen-32b"}},
            },
            {
                "action": "create",
                "key": {"node_name": "translation"},
                "label": "translation",
                "line": 43,
                "column": 1,
                "columns": {
                    "default_model": {"new": "gpt-4o"},
                    "default_temperature": {"new": 0.3},
                    "default_max_tokens": {"new": 4000},
                    "langsmith_tracing": {"new": False},
                    "description": {"new": "Translate messages into the agent's language"},
                },
            },
        ]
        assert dataset["not_in_file"] == {"pruned": False, "rows": [{"node_name": "legacy"}]}
        assert dataset["unmanaged_values"] == []
        assert found["problems"] == [] and found["error"] is None


def test_json_reports_problems_with_positions_and_exits_as_text_does(deployed: Project) -> None:
    deployed.edit(NODES_YAML, "default_temperature: 0.2\n", "default_temprature: 0.2\n")
    for args in (("--check",), ("--dry-run",), ("--validate",)):
        run = deployed.run("datasync", *args, "--format", "json")
        assert run.returncode == 255, run.output
        found = document(run.stdout)
        assert found["status"] == "failed"
        assert found["exit_status"] == 255
        assert found["problems"] == [
            {
                "file": "config/llm_nodes.yaml",
                "line": 7,
                "column": 23,
                "message": "unknown column 'default_temprature' for table "
                "'llm_node_configuration'; did you mean 'default_temperature'?",
            }
        ]
        assert "FAILED" not in run.stdout


def test_json_reports_an_unreachable_database(tmp_path: Path) -> None:
    project = copy_example(
        tmp_path / "project", sa.make_url("postgresql+psycopg://nobody@127.0.0.1:1/unreachable")
    )
    run = project.run("datasync", "--check", "--format", "json")
    assert run.returncode == 255
    found = document(run.stdout)
    assert found["status"] == "failed"
    assert found["error"].startswith("cannot use the database: ")
    assert "Traceback" not in run.output
