"""An SQLModel backend shaped like fastapi/full-stack-fastapi-template's adopts it with the README's lines.

tests/projects/template_backend is such a backend before adoption: UUID keys
made by ``default_factory``, Python-side defaults, an ``onupdate`` timestamp,
``target_metadata = SQLModel.metadata``, the template's logging config, a
prestart script running ``alembic upgrade head``.  Each test copies it, adds
the README's env.py lines, and drives the real ``alembic`` command on
SQLite, PostgreSQL and MariaDB: the deploy workflow and the three LLM-node
scenarios of the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_project import BIN, Project, Run

TEMPLATE = Path(__file__).resolve().parent / "projects" / "template_backend"
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SUMMARY = "datasync: llm_node_configuration (config/llm_nodes.yaml): "
NODES_YAML = "config/llm_nodes.yaml"

# The README's lines for an SQLModel project, verbatim (test_the_readme_shows_these_lines).
DECLARATION = """\
from alembic_datasync import Dataset, DataSync  # noqa
from app.models import LLMNodeConfiguration  # noqa

datasync = DataSync(context, [Dataset("config/llm_nodes.yaml", LLMNodeConfiguration)])
"""
CALL = "datasync.run()"
ANCHOR = "target_metadata = SQLModel.metadata\n"


class TemplateProject(Project):
    """The template backend: its modules are found the way its Docker image finds them."""

    def run(self, *args: str, program: Path | None = None, **env: str) -> Run:
        return super().run(*args, program=program, PYTHONPATH=str(self.folder), **env)

    def prestart(self) -> Run:
        """The container's prestart script, with the test's environment as its PATH."""
        path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        return self._run(
            ["bash", "scripts/prestart.sh"], {"PYTHONPATH": str(self.folder), "PATH": path}
        )

    def rows(self) -> dict[str, dict[str, Any]]:
        """Every node by name: its id, settings and timestamps."""
        found = self.query(
            "SELECT node_name, id, default_model, default_temperature, default_max_tokens, "
            "langsmith_tracing, azure_model, created_at, updated_at FROM llm_node_configuration"
        )
        names = (
            "id",
            "default_model",
            "default_temperature",
            "default_max_tokens",
            "langsmith_tracing",
            "azure_model",
            "created_at",
            "updated_at",
        )
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in found}


def adopt(env_py: Path) -> None:
    """Edit the template's env.py as the README says: the declarations, one call."""
    text = env_py.read_text()
    assert text.count(ANCHOR) == 1
    text = text.replace(ANCHOR, f"{ANCHOR}\n{DECLARATION}", 1)
    head, call, tail = text.rpartition("context.run_migrations()\n")
    indent = re.search(r"([ \t]*)$", head).group(1)  # type: ignore[union-attr]
    env_py.write_text(f"{head}{call}{indent}{CALL}\n{tail}")


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> TemplateProject:
    folder = tmp_path / "backend"
    shutil.copytree(TEMPLATE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    adopt(folder / "app" / "alembic" / "env.py")
    return TemplateProject(folder, database_url)


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def test_the_readme_shows_these_lines() -> None:
    section = README.split("## Use it in your project", 1)[1]
    assert DECLARATION in section
    assert ANCHOR in section
    assert f"context.run_migrations()\n            {CALL}" in section


def test_first_deploy_creates_every_node_with_its_generated_id(project: TemplateProject) -> None:
    run = project.prestart()
    assert run.returncode == 0, run.output
    assert "+ alembic upgrade head" in run.stderr
    lines = run.datasync_lines()
    assert lines[0] == SUMMARY + "5 total, 5 created, 0 updated, 0 unchanged"
    assert lines[1:5] == [
        "  + intent_classification",
        "      default_model: 'gpt-4o'  default_temperature: 0.2  default_max_tokens: 2000  "
        "langsmith_tracing: false  description: 'Classify what the user wants'  "
        "id: (generated)  created_at: (generated)",
        "  + email_classification",
        "      default_model: 'gpt-4o-mini'  default_temperature: 0.0  default_max_tokens: 500  "
        "description: 'Sort incoming email into queues'  id: (generated)  created_at: (generated)",
    ]
    rows = project.rows()
    assert len(rows) == 5
    # Each row its own UUID, made by the model's default_factory.
    assert len({as_uuid(row["id"]) for row in rows.values()}) == 5
    assert all(row["created_at"] is not None for row in rows.values())
    assert all(row["updated_at"] is None for row in rows.values())
    # What the file leaves out, the model's defaults fill.
    assert rows["email_classification"]["langsmith_tracing"] in (True, 1)
    assert rows["reply_drafting"]["default_temperature"] == 0.7
    assert rows["intent_classification"]["langsmith_tracing"] in (False, 0)


def test_a_table_name_takes_the_defaults_from_target_metadata(
    database_url: sa.URL, tmp_path: Path
) -> None:
    """Declared by table name, the dataset gets the model from what env.py gives Alembic."""
    folder = tmp_path / "backend"
    shutil.copytree(TEMPLATE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    env_py = folder / "app" / "alembic" / "env.py"
    adopt(env_py)
    env_py.write_text(
        env_py.read_text().replace(
            'Dataset("config/llm_nodes.yaml", LLMNodeConfiguration)',
            'Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")',
        )
    )
    project = TemplateProject(folder, database_url)
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == SUMMARY + "5 total, 5 created, 0 updated, 0 unchanged"
    assert len({as_uuid(row["id"]) for row in project.rows().values()}) == 5


def test_scenarios_update_exactly_the_changed_rows_and_their_updated_at(
    project: TemplateProject,
) -> None:
    assert project.prestart().returncode == 0
    first = project.rows()

    again = project.run("upgrade", "head")
    assert again.returncode == 0, again.output
    assert again.datasync_lines() == [SUMMARY + "5 total, 0 created, 0 updated, 5 unchanged"]
    assert project.rows() == first  # not even updated_at moved

    # Scenario 1: switch a node to Qwen 32B.
    project.edit(
        NODES_YAML,
        'intent_classification:\n  default_model: "gpt-4o"',
        'intent_classification:\n  default_model: "qwen-32b"  # Changed from "gpt-4o"',
    )
    one = project.prestart()
    assert one.returncode == 0, one.output
    assert one.datasync_lines() == [
        SUMMARY + "5 total, 0 created, 1 updated, 4 unchanged",
        "  ~ intent_classification",
        "      default_model: 'gpt-4o' -> 'qwen-32b'",
    ]
    after_one = project.rows()
    assert after_one["intent_classification"]["default_model"] == "qwen-32b"
    assert after_one["intent_classification"]["updated_at"] is not None
    assert after_one["intent_classification"]["id"] == first["intent_classification"]["id"]
    others = {k: v for k, v in after_one.items() if k != "intent_classification"}
    assert others == {k: v for k, v in first.items() if k != "intent_classification"}

    # Scenario 2: disable tracing for a high-volume node (the model's default was true).
    project.edit(
        NODES_YAML,
        "  default_max_tokens: 500\n",
        "  default_max_tokens: 500\n  langsmith_tracing: false  # Changed from true\n",
    )
    two = project.prestart()
    assert two.datasync_lines() == [
        SUMMARY + "5 total, 0 created, 1 updated, 4 unchanged",
        "  ~ email_classification",
        "      langsmith_tracing: true -> false",
    ]
    after_two = project.rows()
    assert after_two["email_classification"]["langsmith_tracing"] in (False, 0)
    assert after_two["email_classification"]["updated_at"] is not None
    # Scenario 1's row is not touched again.
    assert after_two["intent_classification"] == after_one["intent_classification"]
    assert {k: v for k, v in after_two.items() if k != "email_classification"} == {
        k: v for k, v in after_one.items() if k != "email_classification"
    }

    # Scenario 3: add a node.
    path = project.folder / NODES_YAML
    path.write_text(
        path.read_text() + "\nsummary_generator:\n"
        '  default_model: "qwen-32b"\n'
        "  default_temperature: 0.4\n"
        "  default_max_tokens: 1500\n"
        "  langsmith_tracing: false\n"
        '  description: "Generate email summaries"\n'
    )
    three = project.prestart()
    assert three.datasync_lines() == [
        SUMMARY + "6 total, 1 created, 0 updated, 5 unchanged",
        "  + summary_generator",
        "      default_model: 'qwen-32b'  default_temperature: 0.4  default_max_tokens: 1500  "
        "langsmith_tracing: false  description: 'Generate email summaries'  "
        "id: (generated)  created_at: (generated)",
    ]
    after_three = project.rows()
    assert after_three["summary_generator"]["updated_at"] is None
    assert as_uuid(after_three["summary_generator"]["id"]) not in {
        as_uuid(row["id"]) for row in after_two.values()
    }
    assert {k: v for k, v in after_three.items() if k != "summary_generator"} == after_two

    final = project.run("upgrade", "head")
    assert final.datasync_lines() == [SUMMARY + "6 total, 0 created, 0 updated, 6 unchanged"]
    assert project.rows() == after_three


def test_check_and_json_plan_in_ci(project: TemplateProject) -> None:
    assert project.prestart().returncode == 0
    check = project.run("datasync", "--check")
    assert check.returncode == 0, check.output
    assert check.stdout.splitlines() == [SUMMARY + "5 total, 0 to create, 0 to update, 5 unchanged"]

    for _ in range(2):  # both gpt-4o-mini nodes
        project.edit(
            NODES_YAML, '  default_model: "gpt-4o-mini"\n', '  default_model: "qwen-32b"\n'
        )
    plan = project.run("datasync", "--check", "--format", "json")
    assert plan.returncode == 1, plan.output
    document = json.loads(plan.stdout)
    assert document["status"] == "out_of_sync"
    assert document["datasets"][0]["counts"] == {
        "total": 5,
        "create": 0,
        "update": 2,
        "delete": 0,
        "unchanged": 3,
    }
    assert [
        (change["label"], change["line"], change["columns"])
        for change in document["datasets"][0]["changes"]
    ] == [
        ("email_classification", 12, {"default_model": {"old": "gpt-4o-mini", "new": "qwen-32b"}}),
        ("sentiment_analysis", 32, {"default_model": {"old": "gpt-4o-mini", "new": "qwen-32b"}}),
    ]


def test_validate_and_the_sync_agree_on_a_node_that_cannot_be_created(
    project: TemplateProject,
) -> None:
    valid = project.run("datasync", "--validate")
    assert valid.returncode == 0, valid.output
    assert valid.stdout.splitlines() == [
        "datasync: 1 dataset file is valid against target_metadata (no database used)"
    ]
    path = project.folder / NODES_YAML
    path.write_text(path.read_text() + "\nsummary_generator:\n  default_temperature: 0.4\n")
    problem = (
        "config/llm_nodes.yaml:39:1: {head}: it leaves out 'default_model', which cannot be NULL "
        "and has no default in the model or the database; add it to the row, or give the column "
        "a default"
    )
    invalid = project.run("datasync", "--validate")
    assert invalid.returncode == 255
    assert invalid.stdout.splitlines() == [
        "FAILED: 1 problem in dataset files:",
        "  "
        + problem.format(
            head="row 'summary_generator' of 'llm_node_configuration' cannot be created where "
            "it is new"
        ),
    ]
    refused = project.run("-x", "datasync=strict", "upgrade", "head")
    assert refused.returncode == 255
    assert refused.stdout.splitlines() == [
        "FAILED: 1 problem in dataset files, nothing written:",
        "  "
        + problem.format(
            head="new row 'summary_generator' of 'llm_node_configuration' cannot be created"
        ),
    ]
