"""``alembic -x datasync=sql upgrade head --sql``: the sync as an idempotent script after the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pymysql
import sqlalchemy as sa

from alembic_project import Project, copy_example


def apply_script(url: sa.URL, script: str) -> None:
    """Run the script as a DBA would: the whole text, with each database's own client."""
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            connection.executescript(script)
        return
    if url.get_backend_name() == "postgresql":
        options = url.query.get("options")
        kwargs = {"options": options} if isinstance(options, str) else {}
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, **kwargs
        ) as connection:
            connection.execute(script.encode())
        return
    connection = pymysql.connect(
        host=url.host,
        port=url.port or 3306,
        user=url.username,
        database=url.database,
        client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(script)
            while cursor.nextset():
                pass
        connection.commit()
    finally:
        connection.close()


def script_of(project: Project) -> str:
    run = project.run("-x", "datasync=sql", "upgrade", "head", "--sql")
    assert run.returncode == 0, run.output
    return run.stdout


def test_the_offline_script_syncs_a_fresh_database_and_is_idempotent(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    script = script_of(project)
    assert "-- datasync: the datasets, written idempotently (alembic_datasync)" in script
    assert "-- datasync: llm_node_configuration (config/llm_nodes.yaml): 8 rows" in script
    apply_script(database_url, script)
    assert len(project.nodes()) == 8
    check = project.run("datasync", "--check")
    assert check.returncode == 0, check.output
    # The data part again, over the synced table (the migration part would fail):
    # nothing changes, nothing fails.
    data_part = script[script.index("-- datasync: the datasets") :]
    data_part = data_part[: data_part.rindex("COMMIT")]
    before = project.nodes()
    apply_script(database_url, data_part)
    assert project.nodes() == before


def test_the_offline_script_updates_what_a_pull_request_changed(
    database_url: sa.URL, tmp_path: Path
) -> None:
    project = copy_example(tmp_path / "project", database_url)
    assert project.run("upgrade", "head").returncode == 0
    project.edit("config/llm_nodes.yaml", 'default_model: "gpt-4o"', 'default_model: "qwen-32b"')
    project.execute("UPDATE llm_node_configuration SET description = 'edited by hand'")
    script = script_of(project)
    apply_script(database_url, script[script.index("-- datasync: the datasets") :])
    nodes = project.nodes()
    assert nodes["intent_classification"][0] == "qwen-32b"
    assert {node[4] for node in nodes.values()} != {"edited by hand"}
    check = project.run("datasync", "--check")
    assert check.returncode == 0, check.output
