"""Per-environment values (issue 14, part 2): a base file and an overlay file per environment,
through the Python API on SQLite, PostgreSQL and MariaDB, and the merge's own messages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, DatasyncError, InvalidDatasets, plan, sync, validate_datasets
from alembic_datasync.report import json_document

from conftest import StatementLog

metadata = sa.MetaData()
nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("model", sa.String(40), nullable=False),
    sa.Column("tokens", sa.Integer),
    sa.Column("note", sa.String(40)),
)

NODES = Dataset("nodes.yaml", table="nodes", key="name", prune=True)

BASE = """\
intent:
  model: gpt-4o
  tokens: 2000
entities:
  model: gpt-4o
  tokens: 1500
translation:
  model: gpt-4o
  tokens: 4000
"""

STAGING = """\
intent:
  model: gpt-4o-mini
translation:
  $remove: true
smoke_test:
  model: gpt-4o-mini
  tokens: 50
  note: canary
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "nodes.yaml", BASE)
    write(tmp_path, "nodes.staging.yaml", STAGING)
    return tmp_path


@pytest.fixture
def tables(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def rows(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(nodes).order_by(nodes.c.name)).all()
    return {row[0]: tuple(row[1:]) for row in found}


def test_without_an_environment_only_the_base_file_is_read(
    tables: sa.Engine, project: Path
) -> None:
    with tables.connect() as connection:
        report = sync(connection, [NODES], base_dir=project)
    assert report.summary_lines() == [
        "datasync: nodes (nodes.yaml): 3 total, 3 created, 0 updated, 0 unchanged, 0 deleted"
    ]
    assert rows(tables) == {
        "entities": ("gpt-4o", 1500, None),
        "intent": ("gpt-4o", 2000, None),
        "translation": ("gpt-4o", 4000, None),
    }


def test_the_overlay_changes_adds_and_removes_rows_and_the_plan_names_it(
    tables: sa.Engine, project: Path
) -> None:
    with tables.connect() as connection:
        sync(connection, [NODES], base_dir=project)
        report = sync(connection, [NODES], base_dir=project, environment="staging")
    assert report.render().splitlines() == [
        "datasync: nodes (nodes.yaml + nodes.staging.yaml): 3 total, 1 created, 1 updated, "
        "1 unchanged, 1 deleted",
        "  ~ intent",
        "      model: 'gpt-4o' -> 'gpt-4o-mini' (nodes.staging.yaml:2)",
        "  + smoke_test (nodes.staging.yaml:5)",
        "      model: 'gpt-4o-mini'  tokens: 50  note: 'canary'",
        "  - translation (removed in nodes.staging.yaml:4)",
    ]
    assert rows(tables) == {
        "entities": ("gpt-4o", 1500, None),
        "intent": ("gpt-4o-mini", 2000, None),
        "smoke_test": ("gpt-4o-mini", 50, "canary"),
    }
    # Back to no environment: the base's values again, the overlay's row gone.
    with tables.connect() as connection:
        back = sync(connection, [NODES], base_dir=project)
    assert back.render().splitlines() == [
        "datasync: nodes (nodes.yaml): 3 total, 1 created, 1 updated, 1 unchanged, 1 deleted",
        "  ~ intent",
        "      model: 'gpt-4o-mini' -> 'gpt-4o'",
        "  + translation",
        "      model: 'gpt-4o'  tokens: 4000",
        "  - smoke_test",
    ]


def test_a_value_only_the_overlay_writes_goes_back_to_its_default_without_it(
    tables: sa.Engine, project: Path
) -> None:
    write(project, "nodes.staging.yaml", "entities:\n  note: cheap\n")
    with tables.connect() as connection:
        staged = sync(connection, [NODES], base_dir=project, environment="staging")
        assert staged.datasets[0].creates[1].origins["note"].line == 2
        back = sync(connection, [NODES], base_dir=project)
    assert rows(tables)["entities"] == ("gpt-4o", 1500, None)
    assert back.plan_lines() == ["~ entities", "    note: 'cheap' -> NULL (removed from the file)"]


def test_an_edit_of_the_overlay_alone_is_synced_not_skipped_by_the_state(
    tables: sa.Engine, project: Path, statements: StatementLog
) -> None:
    with tables.connect() as connection:
        sync(connection, [NODES], base_dir=project, environment="staging")
        # The first sync that finds nothing to do verifies the state (`test_state`).
        sync(connection, [NODES], base_dir=project, environment="staging")
        statements.clear()
        again = sync(connection, [NODES], base_dir=project, environment="staging")
        assert again.datasets[0].from_state  # nothing changed: not even parsed
        assert again.summary_lines() == [
            "datasync: nodes (nodes.yaml + nodes.staging.yaml): 3 total, 0 created, "
            "0 updated, 3 unchanged, 0 deleted"
        ]
        assert statements.writes == []
        write(project, "nodes.staging.yaml", STAGING.replace("tokens: 50", "tokens: 60"))
        statements.clear()
        edited = sync(connection, [NODES], base_dir=project, environment="staging")
    assert not edited.datasets[0].from_state
    assert edited.plan_lines() == ["~ smoke_test", "    tokens: 50 -> 60 (nodes.staging.yaml:7)"]
    assert len(statements.writes) == 1
    assert rows(tables)["smoke_test"] == ("gpt-4o-mini", 60, "canary")


def test_switching_the_environment_with_unchanged_files_is_not_skipped_by_the_state(
    tables: sa.Engine, project: Path
) -> None:
    with tables.connect() as connection:
        sync(connection, [NODES], base_dir=project)
        assert sync(connection, [NODES], base_dir=project).datasets[0].total == 3
        assert sync(connection, [NODES], base_dir=project).datasets[0].from_state
        switched = sync(connection, [NODES], base_dir=project, environment="staging")
    assert not switched.datasets[0].from_state
    assert rows(tables)["intent"] == ("gpt-4o-mini", 2000, None)


def test_plan_takes_the_environment_and_writes_nothing(tables: sa.Engine, project: Path) -> None:
    with tables.connect() as connection:
        report = plan(connection, [NODES], base_dir=project, environment="staging")
    assert report.summary_lines() == [
        "datasync: nodes (nodes.yaml + nodes.staging.yaml): 3 total, 3 to create, 0 to update, "
        "0 unchanged, 0 to delete"
    ]
    assert rows(tables) == {}
    document = json_document("dry-run", "planned", 0, report)
    changes = document["datasets"][0]["changes"]
    assert changes[0]["columns"]["model"] == {
        "new": "gpt-4o-mini",
        "from": {"file": "nodes.staging.yaml", "line": 2, "column": 10},
    }
    assert changes[2]["file"] == "nodes.staging.yaml"
    assert (changes[2]["label"], changes[2]["line"]) == ("smoke_test", 5)
    json.dumps(document)


def test_an_environment_no_dataset_has_an_overlay_for_is_a_warning(
    tables: sa.Engine, project: Path
) -> None:
    with tables.connect() as connection:
        report = sync(connection, [NODES], base_dir=project, environment="stagign")
    assert report.warnings == [
        "no dataset file has an overlay for the environment 'stagign' (none of "
        "nodes.stagign.yaml exists): the base files alone are synced"
    ]
    assert rows(tables)["intent"] == ("gpt-4o", 2000, None)


def test_a_bad_value_in_the_overlay_is_reported_at_the_overlay(
    tables: sa.Engine, project: Path
) -> None:
    write(project, "nodes.staging.yaml", "intent:\n  tokens: many\n")
    with tables.connect() as connection, pytest.raises(InvalidDatasets) as raised:
        sync(connection, [NODES], base_dir=project, environment="staging")
    assert [str(p) for p in raised.value.problems] == [
        "nodes.staging.yaml:2:11: tokens expects a whole number, got 'many'"
    ]
    assert rows(tables) == {}


# -- the merge's own problems (no database) ---------------------------------------------------


def problems_of(project: Path, overlay: str, environment: str = "staging") -> list[str]:
    write(project, f"nodes.{environment}.yaml", overlay)
    with pytest.raises(InvalidDatasets) as raised:
        validate_datasets([NODES], metadata, base_dir=project)
    return [str(problem) for problem in raised.value.problems]


def test_a_misspelt_key_is_an_error_not_a_new_row(project: Path) -> None:
    assert problems_of(project, "intnet:\n  model: gpt-4o-mini\n") == [
        "nodes.staging.yaml:1:1: the staging overlay adds the row 'intnet', which the base "
        "file nodes.yaml does not list, but leaves out 'tokens', which every row of the base "
        "writes: a row an overlay adds is written in full (write null for a column left "
        "empty); to change a row of the base instead, spell its key as the base does; did "
        "you mean 'intent'?"
    ]


def test_removing_a_row_the_base_does_not_list_is_an_error(project: Path) -> None:
    assert problems_of(project, "translatoin:\n  $remove: true\n") == [
        "nodes.staging.yaml:2:12: the staging overlay removes 'translatoin', which the base "
        "file nodes.yaml does not list; fix the key, or drop this row; did you mean "
        "'translation'?"
    ]


def test_a_removal_writes_nothing_else_and_takes_only_true(project: Path) -> None:
    overlay = "intent:\n  $remove: true\n  model: x\nentities:\n  $remove: no\n"
    assert problems_of(project, overlay) == [
        "nodes.staging.yaml:3:10: a row that removes names only its key and $remove: true, "
        "but this one also writes 'model'; drop it, or drop $remove to change the row instead",
        "nodes.staging.yaml:5:12: $remove takes true (remove the base's row in staging), not "
        "false; to keep the row, drop the $remove line",
    ]


def test_a_row_written_twice_in_the_overlay_is_an_error(project: Path) -> None:
    overlay = "- {name: intent, tokens: 1}\n- {name: intent, tokens: 2}\n"
    assert problems_of(project, overlay) == [
        "nodes.staging.yaml:2:3: the staging overlay writes the row 'intent' twice, first at "
        "line 1: merge them into one"
    ]


def test_an_added_row_missing_a_required_column_says_so(project: Path) -> None:
    write(project, "nodes.yaml", "intent:\n  tokens: 1\n")
    assert problems_of(project, "summary:\n  tokens: 5\n") == [
        # The base alone first (as in every environment, reported once).
        "nodes.yaml:1:1: row 'intent' of 'nodes' cannot be created where it is new: it leaves "
        "out 'model', which cannot be NULL and has no default in the model or the database; "
        "add it to the row, or give the column a default",
        "nodes.staging.yaml:1:1: the staging overlay adds the row 'summary', which the base "
        "file nodes.yaml does not list, and it leaves out 'model' (NOT NULL, no default): a "
        "row an overlay adds is written in full; to change a row of the base instead, spell "
        "its key as the base does",
    ]


def test_validate_checks_every_environment_and_names_it(project: Path) -> None:
    write(project, "nodes.production.yaml", "entities:\n  tokens: lots\n")
    assert problems_of(project, STAGING.replace("tokens: 50", "tokens: few")) == [
        "nodes.production.yaml:2:11: tokens expects a whole number, got 'lots'",
        "nodes.staging.yaml:7:11: tokens expects a whole number, got 'few'",
    ]


def test_validate_names_the_environment_of_a_problem_at_the_base(project: Path) -> None:
    # Valid alone; with staging, the overlay of nodes.yaml adds a row that more.yaml lists.
    write(project, "more.yaml", "smoke_test:\n  model: m\n")
    more = Dataset("more.yaml", table="nodes", key="name")
    with pytest.raises(InvalidDatasets) as raised:
        validate_datasets([NODES, more], metadata, base_dir=project)
    assert [str(p) for p in raised.value.problems] == [
        "more.yaml:1:1: in the environment 'staging': row 'smoke_test' is also written by "
        "another dataset of table 'nodes', at nodes.staging.yaml:5:1; a row belongs to one "
        "dataset file: remove it from one of them"
    ]
    validate_datasets([NODES, more], metadata, base_dir=project, environments=[])


def test_validate_with_environments_checks_only_those(project: Path) -> None:
    write(project, "nodes.production.yaml", "entities:\n  tokens: lots\n")
    validate_datasets([NODES], metadata, base_dir=project, environments=["staging"])


def test_another_datasets_file_is_not_taken_for_an_overlay(project: Path) -> None:
    write(project, "nodes.extra.yaml", "other:\n  model: m\n")
    extra = Dataset("nodes.extra.yaml", table="nodes", key="name")
    validate_datasets([NODES, extra], metadata, base_dir=project)


def test_a_csv_dataset_takes_no_overlay(tmp_path: Path) -> None:
    write(tmp_path, "nodes.csv", "name,model\nintent,gpt-4o\n")
    write(tmp_path, "nodes.staging.csv", "name,model\nintent,gpt-4o-mini\n")
    dataset = Dataset("nodes.csv", table="nodes", key="name")
    validate_datasets([dataset], metadata, base_dir=tmp_path, environments=[])
    with pytest.raises(InvalidDatasets) as raised:
        validate_datasets([dataset], metadata, base_dir=tmp_path)
    assert [str(p) for p in raised.value.problems] == [
        "nodes.staging.csv: a CSV dataset file takes no overlay (an empty cell is NULL, so a "
        "CSV row cannot leave a column as the base has it): put the staging rows in a CSV "
        "file of their own, or rename this file if it is not meant as the staging overlay"
    ]


@pytest.mark.parametrize("name", ["../prod", "stag ing", "a.b"])
def test_an_environment_name_that_cannot_name_a_file_is_refused(project: Path, name: str) -> None:
    with pytest.raises(DatasyncError) as raised:
        validate_datasets([NODES], metadata, base_dir=project, environments=[name])
    assert str(raised.value) == (
        f"environment {name!r} cannot name an overlay file: an environment's name is "
        f"letters, digits, '_' and '-' (e.g. staging, production)"
    )
