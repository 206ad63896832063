"""Issue 14's CSV datasets through the real `alembic` script, on a copy of example/ whose
LLM nodes come from a CSV file: created, a resync writing nothing, a changed cell, NULL
against the empty string, a bad cell at file:line:col, --dry-run, --check and --validate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, Run, copy_example

NODES_CSV = "config/llm_nodes.csv"
SUMMARY = "datasync: llm_node_configuration (config/llm_nodes.csv): "
ENV_PY = "migrations/env.py"
YAML_DECLARATION = (
    'Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")'
)
CSV_DECLARATION = 'Dataset("config/llm_nodes.csv", table="llm_node_configuration", key="node_name")'

# An empty cell is NULL; "" is the empty string.  A quoted field holds commas,
# doubled quotes and line breaks (translation's record is lines 5 and 6).
CSV = (
    "node_name,default_model,default_temperature,default_max_tokens,langsmith_tracing,"
    "description,azure_model,azure_temperature,azure_max_tokens\n"
    "intent_classification,gpt-4o,0.2,2000,false,Classify what the user wants,,,\n"
    'email_classification,gpt-4o-mini,0.0,500,true,"Sort email, then queue it",,,\n'
    'reply_drafting,gpt-4o,0.7,1500,true,"",gpt-4o-eu,0.6,1200\n'
    'translation,gpt-4o,0.3,1000,true,"Translate ""as is"",\n'
    'keeping line breaks",,,\n'
)

#: A write to the LLM-node table, as SQLAlchemy's engine logger prints it.
DATA_WRITE = re.compile(
    r"\[sqlalchemy\.engine\.Engine\] (INSERT INTO|UPDATE|DELETE FROM) llm_node_configuration\b"
)


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    """The example, its LLM nodes declared from config/llm_nodes.csv."""
    project = copy_example(tmp_path / "project", database_url)
    project.edit(ENV_PY, YAML_DECLARATION, CSV_DECLARATION)
    (project.folder / "config" / "llm_nodes.yaml").unlink()
    (project.folder / NODES_CSV).write_text(CSV, encoding="utf-8")
    return project


@pytest.fixture
def deployed(project: Project) -> Project:
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    return project


def logging_statements(project: Project) -> None:
    """Make alembic.ini's logging print every statement the engine sends."""
    project.edit(
        "alembic.ini",
        "[logger_sqlalchemy]\nlevel = WARNING",
        "[logger_sqlalchemy]\nlevel = INFO",
    )


def data_writes(run: Run) -> list[str]:
    return [match.group(1) for match in DATA_WRITE.finditer(run.output)]


def test_a_csv_dataset_is_created_typed_by_its_columns(project: Project) -> None:
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    # Typed by the table's columns: numbers, booleans, NULL for an empty cell, '' for "".
    nulls = "azure_model: null  azure_temperature: null  azure_max_tokens: null"
    assert run.datasync_lines() == [
        SUMMARY + "4 total, 4 created, 0 updated, 0 unchanged",
        "  + intent_classification",
        "      default_model: 'gpt-4o'  default_temperature: 0.2  default_max_tokens: 2000  "
        f"langsmith_tracing: false  description: 'Classify what the user wants'  {nulls}",
        "  + email_classification",
        "      default_model: 'gpt-4o-mini'  default_temperature: 0.0  default_max_tokens: 500  "
        f"langsmith_tracing: true  description: 'Sort email, then queue it'  {nulls}",
        "  + reply_drafting",
        "      default_model: 'gpt-4o'  default_temperature: 0.7  default_max_tokens: 1500  "
        "langsmith_tracing: true  description: ''  azure_model: 'gpt-4o-eu'  "
        "azure_temperature: 0.6  azure_max_tokens: 1200",
        "  + translation",
        "      default_model: 'gpt-4o'  default_temperature: 0.3  default_max_tokens: 1000  "
        "langsmith_tracing: true  description: 'Translate \"as is\",\\nkeeping line breaks'  "
        f"{nulls}",
    ]
    nodes = project.nodes()
    assert nodes["intent_classification"] == (
        "gpt-4o",
        0.2,
        2000,
        False,
        "Classify what the user wants",
        None,
        None,
        None,
    )
    assert nodes["email_classification"][4] == "Sort email, then queue it"
    assert nodes["reply_drafting"][4:] == ("", "gpt-4o-eu", 0.6, 1200)
    assert nodes["translation"][4] == 'Translate "as is",\nkeeping line breaks'


def test_an_unchanged_csv_file_writes_nothing(deployed: Project) -> None:
    logging_statements(deployed)
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [SUMMARY + "4 total, 0 created, 0 updated, 4 unchanged"]
    assert data_writes(run) == []
    assert "[sqlalchemy.engine.Engine] SELECT" in run.output  # the logging is on


def test_a_changed_cell_updates_that_row_alone(deployed: Project) -> None:
    logging_statements(deployed)
    deployed.edit(NODES_CSV, "email_classification,gpt-4o-mini,", "email_classification,qwen-32b,")
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        SUMMARY + "4 total, 0 created, 1 updated, 3 unchanged",
        "  ~ email_classification",
        "      default_model: 'gpt-4o-mini' -> 'qwen-32b'",
    ]
    assert data_writes(run) == ["UPDATE"]
    assert deployed.nodes()["email_classification"][0] == "qwen-32b"


def test_an_empty_cell_is_null_and_two_quotes_the_empty_string(deployed: Project) -> None:
    # reply_drafting's description goes from "" to an empty cell (NULL); intent_classification's
    # azure_model from an empty cell (NULL) to "" (the empty string).
    deployed.edit(NODES_CSV, 'true,"",gpt-4o-eu', "true,,gpt-4o-eu")
    deployed.edit(NODES_CSV, "what the user wants,,,", 'what the user wants,"",,')
    run = deployed.run("datasync")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines() == [
        SUMMARY + "4 total, 0 created, 2 updated, 2 unchanged",
        "  ~ intent_classification",
        "      azure_model: null -> ''",
        "  ~ reply_drafting",
        "      description: '' -> null",
    ]
    nodes = deployed.nodes()
    assert nodes["intent_classification"][5] == ""
    assert nodes["reply_drafting"][4] is None
    again = deployed.run("datasync", "--check")
    assert again.returncode == 0, again.output


def test_a_bad_cell_is_named_at_its_line_and_column_and_nothing_is_written(
    deployed: Project,
) -> None:
    before = deployed.nodes()
    deployed.edit(NODES_CSV, "gpt-4o-mini,0.0,500,true,", "gpt-4o-mini,0.0,500,maybe,")
    # The cell after translation's two-line description: line 6, not the record's line 5.
    deployed.edit(NODES_CSV, 'line breaks",,,', 'line breaks",,warm,')
    problems = [
        "config/llm_nodes.csv:3:42: langsmith_tracing expects true or false, got 'maybe'",
        "config/llm_nodes.csv:6:23: azure_temperature expects a number, got 'warm'",
    ]
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        "datasync: 2 problems in dataset files, nothing written:",
        *(f"datasync:   {problem}" for problem in problems),
        "datasync: nothing written; the upgrade goes on (strict mode would fail it)",
    ]
    strict = deployed.run("-x", "datasync=strict", "upgrade", "head")
    assert strict.returncode == 255, strict.output
    assert strict.stdout.splitlines() == [
        "FAILED: 2 problems in dataset files, nothing written:",
        *(f"  {problem}" for problem in problems),
    ]
    assert "Traceback" not in run.output + strict.output
    assert deployed.nodes() == before


def test_dry_run_and_check_show_the_plan_and_write_nothing(deployed: Project) -> None:
    deployed.edit(NODES_CSV, "reply_drafting,gpt-4o,0.7,", "reply_drafting,gpt-4o,0.75,")
    before = deployed.nodes()
    plan = [
        SUMMARY + "4 total, 0 to create, 1 to update, 3 unchanged",
        "  ~ reply_drafting",
        "      default_temperature: 0.7 -> 0.75",
    ]
    dry = deployed.run("datasync", "--dry-run")
    assert dry.returncode == 0, dry.output
    assert dry.stdout.splitlines()[:3] == plan
    check = deployed.run("datasync", "--check")
    assert check.returncode == 1, check.output
    assert check.stdout.splitlines()[:3] == plan
    assert deployed.nodes() == before
    assert deployed.run("upgrade", "head").returncode == 0
    assert deployed.nodes()["reply_drafting"][1] == 0.75
    again = deployed.run("datasync", "--check")
    assert again.returncode == 0, again.output
    assert again.stdout.splitlines() == [SUMMARY + "4 total, 0 to create, 0 to update, 4 unchanged"]


def test_validate_checks_a_csv_file_against_the_models(project: Project) -> None:
    valid = project.run("datasync", "--validate")
    assert valid.returncode == 0, valid.output
    assert valid.stdout.splitlines() == [
        "datasync: 1 dataset file is valid against target_metadata (no database used)"
    ]
    project.edit(NODES_CSV, "default_max_tokens,", "default_max_tokenz,")
    project.edit(NODES_CSV, "reply_drafting,gpt-4o,0.7,", "reply_drafting,gpt-4o,hot,")
    invalid = project.run("datasync", "--validate")
    assert invalid.returncode == 255, invalid.output
    # The unknown column once, at the header; not once a row.
    assert invalid.stdout.splitlines() == [
        "FAILED: 2 problems in dataset files:",
        "  config/llm_nodes.csv:1:45: unknown column 'default_max_tokenz' for table "
        "'llm_node_configuration'; did you mean 'default_max_tokens'?",
        "  config/llm_nodes.csv:4:23: default_temperature expects a number, got 'hot'",
    ]
    assert project.has_table("llm_node_configuration") is False


def node_records(count: int, *, changed: int | None = None) -> str:
    """``count`` LLM nodes of the header's shape; node ``changed`` on another model."""
    header = CSV.splitlines()[0]
    records = [
        f"node_{number:05d},{'qwen-32b' if number == changed else 'gpt-4o'},0.2,2000,false,"
        f"Node {number},,,"
        for number in range(count)
    ]
    return "\n".join([header, *records]) + "\n"


def test_a_csv_file_of_several_chunks_is_written_a_chunk_at_a_time(project: Project) -> None:
    logging_statements(project)
    (project.folder / NODES_CSV).write_text(node_records(25_000), encoding="utf-8")
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    lines = run.datasync_lines()
    assert lines[0] == SUMMARY + "25000 total, 25000 created, 0 updated, 0 unchanged"
    assert lines[-1] == (
        "  ... and 24,900 more changed rows (a CSV dataset planned in chunks lists its first "
        "10,000)"
    )
    # 10,000 + 10,000 + 5,000 rows: one INSERT a chunk.
    assert data_writes(run) == ["INSERT INTO"] * 3
    assert project.query("SELECT count(*) FROM llm_node_configuration") == [(25_000,)]
    (project.folder / NODES_CSV).write_text(node_records(25_000, changed=24_000))
    again = project.run("upgrade", "head")
    assert again.returncode == 0, again.output
    assert again.datasync_lines() == [
        SUMMARY + "25000 total, 0 created, 1 updated, 24999 unchanged",
        "  ~ node_24000",
        "      default_model: 'gpt-4o' -> 'qwen-32b'",
    ]
    assert data_writes(again) == ["UPDATE"]
    # A key the file lists twice, in two chunks: nothing written, the line of each named.
    twice = node_records(25_000).replace("node_20000,", "node_00007,")
    (project.folder / NODES_CSV).write_text(twice, encoding="utf-8")
    refused = project.run("-x", "datasync=strict", "upgrade", "head")
    assert refused.returncode == 255, refused.output
    assert refused.stdout.splitlines() == [
        "FAILED: 1 problem in dataset files, nothing written:",
        "  config/llm_nodes.csv:20002:1: duplicate key 'node_00007': first at line 9, again "
        "at line 20002; remove one",
    ]
    assert project.query(
        "SELECT default_model FROM llm_node_configuration WHERE node_name = 'node_24000'"
    ) == [("qwen-32b",)]
