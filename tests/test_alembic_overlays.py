"""Per-environment values (issue 14, part 2) through the real `alembic` script on a copy of
example/: `-x datasync_env=`, `alembic datasync --env`, DATASYNC_ENV, DataSync(environment=),
--check, --validate over every environment, the offline script, export."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example

NODES_YAML = "config/llm_nodes.yaml"
STAGING_YAML = "config/llm_nodes.staging.yaml"
ENV_PY = "migrations/env.py"
DECLARATION = 'Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")'
BOTH = "datasync: llm_node_configuration (config/llm_nodes.yaml + config/llm_nodes.staging.yaml): "
BASE = "datasync: llm_node_configuration (config/llm_nodes.yaml): "

STAGING = """\
# Staging: cheaper models for the nodes that run on every message.
intent_classification:
  default_model: "gpt-4o-mini"

entity_extraction:
  default_model: "gpt-4o-mini"
  default_max_tokens: 800

translation:
  $remove: true

staging_smoke_test:
  default_model: "gpt-4o-mini"
  default_temperature: 0.0
  default_max_tokens: 50
  langsmith_tracing: true
  description: "Answers 'pong': a canary for staging deploys"
"""


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    (project.folder / STAGING_YAML).write_text(STAGING)
    return project


def test_upgrade_with_x_datasync_env_merges_the_staging_overlay(project: Project) -> None:
    run = project.run("-x", "datasync_env=staging", "upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == BOTH + "8 total, 8 created, 0 updated, 0 unchanged"
    nodes = project.nodes()
    assert "translation" not in nodes
    assert nodes["intent_classification"][:3] == ("gpt-4o-mini", 0.2, 2000)
    assert nodes["entity_extraction"][:3] == ("gpt-4o-mini", 0.0, 800)
    assert nodes["staging_smoke_test"][:3] == ("gpt-4o-mini", 0.0, 50)
    # The environment variable chooses it too: nothing to do.
    again = project.run("datasync", "--check", DATASYNC_ENV="staging")
    assert again.returncode == 0, again.output
    assert again.stdout.splitlines()[0] == BOTH + "8 total, 0 to create, 0 to update, 8 unchanged"
    # An edit of the overlay alone is drift for staging, and synced.
    project.edit(STAGING_YAML, "default_max_tokens: 800", "default_max_tokens: 900")
    check = project.run("datasync", "--env", "staging", "--check")
    assert check.returncode == 1, check.output
    assert check.stdout.splitlines()[:3] == [
        BOTH + "8 total, 0 to create, 1 to update, 7 unchanged",
        "  ~ entity_extraction",
        "      default_max_tokens: 800 -> 900 (config/llm_nodes.staging.yaml:7)",
    ]
    synced = project.run("datasync", "--env", "staging")
    assert synced.returncode == 0, synced.output
    assert project.nodes()["entity_extraction"][2] == 900
    # Without an environment the base file alone is the truth: --check says what differs.
    base = project.run("datasync", "--check")
    assert base.returncode == 1, base.output
    assert base.stdout.splitlines()[:6] == [
        BASE + "8 total, 1 to create, 2 to update, 5 unchanged",
        "  ~ intent_classification",
        "      default_model: 'gpt-4o-mini' -> 'gpt-4o'",
        "  ~ entity_extraction",
        "      default_model: 'gpt-4o-mini' -> 'gpt-4o'",
        "      default_max_tokens: 900 -> 1500",
    ]


def test_the_plan_names_the_overlay_line_of_each_value(project: Project) -> None:
    assert project.run("upgrade", "head").returncode == 0
    run = project.run("-x", "datasync_env=staging", "datasync", "--dry-run")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines() == [
        BOTH + "8 total, 1 to create, 2 to update, 5 unchanged",
        "  ~ intent_classification",
        "      default_model: 'gpt-4o' -> 'gpt-4o-mini' (config/llm_nodes.staging.yaml:3)",
        "  ~ entity_extraction",
        "      default_model: 'gpt-4o' -> 'gpt-4o-mini' (config/llm_nodes.staging.yaml:6)",
        "      default_max_tokens: 1500 -> 800 (config/llm_nodes.staging.yaml:7)",
        "  + staging_smoke_test (config/llm_nodes.staging.yaml:12)",
        "      default_model: 'gpt-4o-mini'  default_temperature: 0.0  default_max_tokens: 50  "
        "langsmith_tracing: true  description: \"Answers 'pong': a canary for staging deploys\"",
        "  1 row in the table but not in the file, kept (the dataset does not prune; "
        "prune='all' would delete it):",
        "      translation (removed in config/llm_nodes.staging.yaml:10)",
    ]
    assert "staging_smoke_test" not in project.nodes()


def test_env_py_chooses_a_default_that_x_and_the_variable_override(project: Project) -> None:
    project.edit(ENV_PY, DECLARATION + "],", DECLARATION + '],\n    environment="staging",')
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == BOTH + "8 total, 8 created, 0 updated, 0 unchanged"
    # An empty name chooses no environment: the base file alone.
    for chosen in (project.run("-x", "datasync_env=", "datasync", "--check"),):
        assert chosen.returncode == 1, chosen.output
        assert chosen.stdout.splitlines()[0] == BASE + (
            "8 total, 1 to create, 2 to update, 5 unchanged"
        )
    empty_variable = project.run("datasync", "--check", DATASYNC_ENV="")
    assert empty_variable.stdout.splitlines()[0] == BASE + (
        "8 total, 1 to create, 2 to update, 5 unchanged"
    )
    # -x comes before the environment variable.
    x_first = project.run("-x", "datasync_env=staging", "datasync", "--check", DATASYNC_ENV="")
    assert x_first.returncode == 0, x_first.output
    conflict = project.run("-x", "datasync_env=staging", "datasync", "--env", "production")
    assert conflict.returncode == 255
    assert conflict.lines("FAILED: ") == [
        "FAILED: --env production and -x datasync_env=staging name different environments: "
        "give one of them"
    ]


def test_an_unknown_environment_warns_and_syncs_the_base(project: Project) -> None:
    run = project.run("-x", "datasync_env=stagign", "upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[:2] == [
        "datasync: warning: no dataset file has an overlay for the environment 'stagign' "
        "(none of config/llm_nodes.stagign.yaml exists): the base files alone are synced",
        BASE + "8 total, 8 created, 0 updated, 0 unchanged",
    ]
    bad = project.run("datasync", "--env", "../production", "--dry-run")
    assert bad.returncode == 255
    assert bad.lines("FAILED: ") == [
        "FAILED: --env '../production' cannot name an overlay file: an environment's name is "
        "letters, digits, '_' and '-' (e.g. staging, production)"
    ]


def test_validate_checks_the_base_and_every_overlay(project: Project) -> None:
    valid = project.run("datasync", "--validate")
    assert valid.returncode == 0, valid.output
    assert valid.stdout.splitlines() == [
        "datasync: 1 dataset file is valid against target_metadata, alone and merged with the "
        "overlays of staging (no database used)"
    ]
    (project.folder / "config" / "llm_nodes.production.yaml").write_text(
        "intent_clasification:\n  default_model: gpt-4.1\nreply_drafting:\n"
        "  default_max_tokens: lots\n"
    )
    run = project.run("datasync", "--validate")
    assert run.returncode == 255
    failed = run.stdout.splitlines()
    assert failed[failed.index("FAILED: 2 problems in dataset files:") + 1 :] == [
        "  config/llm_nodes.production.yaml:1:1: the production overlay adds the row "
        "'intent_clasification', which the base file config/llm_nodes.yaml does not list, but "
        "leaves out 'default_temperature', 'default_max_tokens', 'langsmith_tracing' and "
        "'description', which every row of the base writes: a row an overlay adds is written "
        "in full (write null for a column left empty); to change a row of the base instead, "
        "spell its key as the base does; did you mean 'intent_classification'?",
        "  config/llm_nodes.production.yaml:4:23: default_max_tokens expects a whole number, "
        "got 'lots'",
    ]


def test_the_offline_script_takes_the_environment(project: Project) -> None:
    run = project.run(
        "-x", "datasync=sql", "-x", "datasync_env=staging", "upgrade", "head", "--sql"
    )
    assert run.returncode == 0, run.output
    assert "staging_smoke_test" in run.stdout
    base = project.run("-x", "datasync=sql", "upgrade", "head", "--sql")
    assert "staging_smoke_test" not in base.stdout and "translation" in base.stdout


def test_export_rewrites_the_base_only_and_says_so(project: Project) -> None:
    assert project.run("upgrade", "head").returncode == 0
    project.execute(
        "UPDATE llm_node_configuration SET default_max_tokens = 2100 "
        "WHERE node_name = 'intent_classification'"
    )
    run = project.run("datasync", "export", "--dataset", "llm_node_configuration")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines()[1:] == [
        "datasync: note: export writes the base file only, from the table's values; not "
        "rewritten: config/llm_nodes.staging.yaml (if this database was synced with an "
        "environment, its values are now in the base file: review the diff)"
    ]
    assert "default_max_tokens: 2100" in (project.folder / NODES_YAML).read_text()
    assert (project.folder / STAGING_YAML).read_text() == STAGING
