"""Telling the application: NOTIFY on PostgreSQL when a sync commits, on_change hooks in env.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, sync

from alembic_project import copy_example

FLAGS = Dataset("flags.yaml", table="flags", key="name")


def listener(url: sa.URL) -> psycopg.Connection[Any]:
    options = url.query.get("options")
    connection = psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        dbname=url.database,
        autocommit=True,
        **({"options": options} if isinstance(options, str) else {}),
    )
    connection.execute("LISTEN datasync_changes")
    return connection


def received(connection: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [json.loads(n.payload) for n in connection.notifies(timeout=0.5, stop_after=10)]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_listener_hears_of_the_changed_keys_only_when_the_sync_commits(
    engine: sa.Engine, database_url: sa.URL, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE flags (name TEXT PRIMARY KEY, enabled BOOLEAN)")
        connection.exec_driver_sql("INSERT INTO flags VALUES ('old', true)")
    (tmp_path / "flags.yaml").write_text("old: {enabled: false}\nnew: {enabled: true}\n")
    listening = listener(database_url)
    try:
        with engine.connect() as connection:
            with connection.begin():
                sync(connection, [FLAGS], base_dir=tmp_path, notify="datasync_changes")
                assert received(listening) == []  # not before the commit
            assert received(listening) == [
                {"datasets": {"flags": {"created": [["new"]], "updated": [["old"]], "deleted": []}}}
            ]
            sync(connection, [FLAGS], base_dir=tmp_path, notify="datasync_changes")
            assert received(listening) == []  # a no-op sync says nothing
            connection.exec_driver_sql("UPDATE flags SET enabled = true WHERE name = 'old'")
            connection.commit()
            with pytest.raises(RuntimeError), connection.begin():
                sync(connection, [FLAGS], base_dir=tmp_path, notify="datasync_changes")
                raise RuntimeError("the caller rolls back")
            assert received(listening) == []  # rolled back: never sent
    finally:
        listening.close()


def test_on_change_hooks_in_env_py_hear_of_a_committed_sync_only(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    project.edit(
        "migrations/env.py",
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")],',
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")],\n'
        "    on_change=lambda report: open('changed.json', 'a').write(\n"
        "        __import__('json').dumps(report.changed_keys()) + '\\n'),",
    )
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    again = project.run("upgrade", "head")
    assert again.returncode == 0, again.output
    project.edit("config/llm_nodes.yaml", 'default_model: "gpt-4o"', 'default_model: "qwen-32b"')
    scenario = project.run("datasync")
    assert scenario.returncode == 0, scenario.output
    heard = [
        json.loads(line) for line in (project.folder / "changed.json").read_text().splitlines()
    ]
    assert len(heard) == 2  # the first deploy and the edit; the no-op deploy said nothing
    assert len(heard[0]["llm_node_configuration"]["created"]) == 8
    assert heard[1] == {
        "llm_node_configuration": {
            "created": [],
            "updated": [["intent_classification"]],
            "deleted": [],
        }
    }
