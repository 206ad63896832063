"""When the database misbehaves: one clear line, a non-zero exit where strict, nothing half written."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync import ApplyFailed, Dataset, sync

from alembic_project import ALEMBIC, Project, copy_example

CHECKED = """\
        sa.Column("azure_max_tokens", sa.Integer),
        sa.CheckConstraint("default_temperature BETWEEN 0 AND 1", name="temperature_range"),
"""


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    project.edit(
        "migrations/versions/0001_create_llm_node_configuration.py",
        '        sa.Column("azure_max_tokens", sa.Integer),\n',
        CHECKED,
    )
    return project


def refused_line(project: Project) -> str:
    reason = {
        "postgresql": 'new row for relation "llm_node_configuration" violates check constraint '
        '"temperature_range"',
        "mysql": "(4025, 'CONSTRAINT `temperature_range` failed for `{db}`.`llm_node_configuration`')",
        "sqlite": "CHECK constraint failed: temperature_range",
    }[project.url.get_backend_name()].format(db=project.url.database)
    return (
        "config/llm_nodes.yaml:26:1: the database refused to insert row 'reply_drafting' of "
        f"'llm_node_configuration': {reason}; nothing was written"
    )


def test_a_row_the_database_refuses_is_named_with_its_line(project: Project) -> None:
    project.edit("config/llm_nodes.yaml", "default_temperature: 0.7", "default_temperature: 1.5")
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        "datasync: " + refused_line(project),
        "datasync: nothing written; the upgrade goes on (strict mode would fail it)",
    ]
    assert project.nodes() == {}
    assert project.version() == ["0001"]


def test_a_refused_row_fails_strict_mode_and_writes_nothing(project: Project) -> None:
    project.edit("config/llm_nodes.yaml", "default_temperature: 0.7", "default_temperature: 1.5")
    run = project.run("-x", "datasync=strict", "upgrade", "head")
    assert run.returncode == 255
    assert run.lines("FAILED: ") == ["FAILED: " + refused_line(project)]
    assert "Traceback" not in run.output
    if project.url.get_backend_name() == "postgresql":
        assert project.version() == []  # the migration went with it
    else:
        assert project.nodes() == {}


def test_an_update_the_database_refuses_leaves_every_table_as_it_was(project: Project) -> None:
    assert project.run("upgrade", "head").returncode == 0
    before = project.nodes()
    project.edit("config/llm_nodes.yaml", 'default_model: "gpt-4o-mini"', 'default_model: "x"')
    project.edit("config/llm_nodes.yaml", "default_temperature: 0.7", "default_temperature: 1.5")
    run = project.run("datasync", "--strict")
    assert run.returncode == 255
    [failed] = run.lines("FAILED: ")
    assert failed.startswith(
        "FAILED: config/llm_nodes.yaml:26:1: the database refused to update row 'reply_drafting'"
    )
    assert project.nodes() == before


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
        "postgresql+psycopg://nobody_here@127.0.0.1:5432/test",
        "postgresql+psycopg://postgres@127.0.0.1:5432/database_that_was_dropped",
        "mysql+pymysql://root:wrong-password@127.0.0.1:3306/test",
        "mysql+pymysql://root@127.0.0.1:3306/database_that_was_dropped",
        "sqlite:////nonexistent-folder/app.db",
    ],
)
@pytest.mark.parametrize("command", [("upgrade", "head"), ("datasync", "--check")])
def test_an_unusable_database_is_one_failed_line(
    tmp_path: Path, url: str, command: tuple[str, ...]
) -> None:
    project = copy_example(tmp_path / "project", sa.make_url(url))
    run = project.run(*command)
    assert run.returncode == 255
    [failed] = run.lines("FAILED: ")
    assert failed.startswith("FAILED: cannot use the database: ")
    assert failed.endswith(
        "; check the URL (sqlalchemy.url, or the environment variable env.py reads it from) "
        "and that the server is up"
    )
    assert "Traceback" not in run.output


def big_yaml(rows: int, description: str) -> str:
    return "".join(
        f"node_{i:06d}: {{default_model: m, description: {description}}}\n" for i in range(rows)
    )


@pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)
def test_connection_killed_mid_sync_is_one_line_and_nothing_is_half_written(
    project: Project,
) -> None:
    assert project.run("upgrade", "head").returncode == 0
    (project.folder / "config" / "llm_nodes.yaml").write_text(big_yaml(20_000, "old"))
    assert project.run("upgrade", "head").returncode == 0
    (project.folder / "config" / "llm_nodes.yaml").write_text(big_yaml(20_000, "new"))
    url = project.url
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"application_name": "datasync-victim"})
    environment = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    process = subprocess.Popen(
        [str(ALEMBIC), "-x", "datasync=strict", "upgrade", "head"],
        cwd=project.folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killer = project.engine()
    with killer.connect() as connection:
        victim = _wait_for_session(connection, project)
        if project.url.get_backend_name() == "postgresql":
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        else:
            connection.execute(sa.text(f"KILL CONNECTION {int(victim)}"))
    killer.dispose()
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 255, output
    assert "Traceback" not in output
    failed = [line for line in output.splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == 1, output
    descriptions = {
        row[0]
        for row in project.query(
            "SELECT DISTINCT description FROM llm_node_configuration WHERE node_name LIKE 'node_%'"
        )
    }
    assert descriptions == {"old"}


def _wait_for_session(connection: sa.Connection, project: Project) -> int:
    """The server session of the running `alembic`, once it is connected."""
    if project.url.get_backend_name() == "postgresql":
        query = sa.text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'datasync-victim'"
        )
    else:
        query = sa.text(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID()"
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = connection.execute(query).scalars().all()
        connection.rollback()
        if found:
            time.sleep(0.5)  # well into parsing the 20,000 rows
            return int(found[0])
        time.sleep(0.05)
    raise AssertionError("alembic never connected")


def test_api_names_the_row_a_foreign_key_refuses(engine: sa.Engine, tmp_path: Path) -> None:
    metadata = sa.MetaData()
    sa.Table("teams", metadata, sa.Column("name", sa.String(20), primary_key=True))
    sa.Table(
        "members",
        metadata,
        sa.Column("email", sa.String(50), primary_key=True),
        sa.Column("team", sa.String(20), sa.ForeignKey("teams.name"), nullable=False),
    )
    metadata.create_all(engine)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
        engine.dispose()
    (tmp_path / "teams.yaml").write_text("core: {}\n")
    (tmp_path / "members.yaml").write_text(
        textwrap.dedent(
            """\
            - {email: a@example.com, team: core}
            - {email: b@example.com, team: missing}
            - {email: c@example.com, team: core}
            """
        )
    )
    datasets = [
        Dataset("teams.yaml", table="teams", key="name"),
        Dataset("members.yaml", table="members", key="email"),
    ]
    with engine.connect() as connection, pytest.raises(ApplyFailed) as caught:
        sync(connection, datasets, base_dir=tmp_path)
    assert str(caught.value).startswith(
        "members.yaml:2:3: the database refused to insert row 'b@example.com' of 'members': "
    )
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM teams")).scalar() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM members")).scalar() == 0


TIMEOUTS = {
    # The server's own limit on how long a statement may wait.
    "postgresql": (
        "options",
        "-csearch_path={schema} -cstatement_timeout=1000",
        "canceling statement due to statement timeout",
    ),
    "mysql": (
        "init_command",
        "SET SESSION innodb_lock_wait_timeout = 1",
        "Lock wait timeout exceeded",
    ),
    "sqlite": ("timeout", "1", "database is locked"),
}


def test_a_statement_timeout_is_one_line_and_nothing_is_written(project: Project) -> None:
    assert project.run("upgrade", "head").returncode == 0
    before = project.nodes()
    backend = project.url.get_backend_name()
    option, value, said = TIMEOUTS[backend]
    schema = project.url.query.get("options", "").partition("search_path=")[2]
    timing_out = Project(
        project.folder, project.url.update_query_dict({option: value.format(schema=schema)})
    )
    project.edit("config/llm_nodes.yaml", "default_temperature: 0.3", "default_temperature: 0.35")
    blocker = project.engine()
    with blocker.connect() as connection:
        if backend == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # Another session holds the row the sync must update.
        connection.execute(
            sa.text(
                "UPDATE llm_node_configuration SET description = description "
                "WHERE node_name = 'translation'"
            )
        )
        run = timing_out.run("-x", "datasync=strict", "upgrade", "head")
        connection.rollback()
    blocker.dispose()
    assert run.returncode == 255, run.output
    [failed] = run.lines("FAILED: ")
    assert said in failed
    assert "Traceback" not in run.output
    assert project.nodes() == before
