"""The JSON Schema for editors: made from the model, it accepts the example's file and
underlines what the sync would refuse (a misspelt column, a wrong type, too long a text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from alembic_datasync import Dataset
from alembic_datasync.editor_schema import dataset_schema
from alembic_datasync.planner import required_columns

from example_project import example_model

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "example" / "config" / "llm_nodes.yaml"
NODES = Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")


class EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server reads it: a date stays text (YAML 1.2)."""


EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def schema() -> dict[str, Any]:
    table = example_model("LLMNodeConfiguration").__table__
    return dataset_schema(NODES, table, required_columns(table))


def errors(text: str) -> list[str]:
    instance = yaml.load(text, Loader=EditorLoader)
    validator = jsonschema.Draft7Validator(schema())
    return sorted(error.message for error in validator.iter_errors(instance))


def test_the_example_file_is_valid_against_its_schema() -> None:
    jsonschema.Draft7Validator.check_schema(schema())
    assert errors(EXAMPLE_FILE.read_text()) == []


def test_a_misspelt_column_is_underlined() -> None:
    assert errors("n:\n  default_temprature: 0.2\n") == [
        "Additional properties are not allowed ('default_temprature' was unexpected)"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("default_max_tokens: many", "'many' is not of type 'integer'"),
        ("default_max_tokens: 3000000000", "3000000000 is greater than the maximum of 2147483647"),
        ("langsmith_tracing: 2", "2 is not of type 'boolean'"),
        (f"default_model: {'x' * 101}", f"'{'x' * 101}' is too long"),
        ("default_model: null", "None is not of type 'string'"),
    ],
)
def test_a_value_the_column_cannot_hold_is_underlined(row: str, message: str) -> None:
    assert errors(f"n:\n  {row}\n") == [message]


def test_required_on_create_lists_what_a_new_row_must_write() -> None:
    row = schema()["additionalProperties"]
    assert row["x-required-on-create"] == ["node_name", "default_model"]
    assert "node_name" not in row["properties"]  # it is the mapping's key


def test_the_schema_command_prints_the_schema_without_a_database(tmp_path: Path) -> None:
    import json

    import sqlalchemy as sa

    from alembic_project import copy_example

    # No database behind this URL: the schema comes from target_metadata, offline.
    unreachable = sa.make_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    project = copy_example(tmp_path / "project", unreachable)
    run = project.run("datasync", "schema")
    assert run.returncode == 0, run.output
    document = json.loads(run.stdout)
    assert document["title"] == "config/llm_nodes.yaml: rows of llm_node_configuration"
    assert document == schema()
    written = project.run("datasync", "schema", "--output", "nodes.schema.json")
    assert written.returncode == 0, written.output
    assert json.loads((project.folder / "nodes.schema.json").read_text()) == document
