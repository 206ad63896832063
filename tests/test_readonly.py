"""--dry-run, --check and --validate never write: they run as a role that may only SELECT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example


@pytest.fixture
def deployed(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    return project


@pytest.fixture
def reader(deployed: Project) -> Iterator[Project]:
    """The same project, connected as a role with nothing but SELECT on its tables."""
    url = deployed.url
    name = f"ds_reader_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if url.get_backend_name() == "postgresql":
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            connection.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
            connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
            connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}")
        else:
            connection.exec_driver_sql(f"CREATE USER '{name}'@'%%'")
            connection.exec_driver_sql(f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'%%'")
    try:
        yield Project(deployed.folder, url.set(username=name, password=None))
    finally:
        with admin.connect() as connection:
            if url.get_backend_name() == "postgresql":
                connection.exec_driver_sql(f"DROP OWNED BY {name}")
                connection.exec_driver_sql(f"DROP ROLE {name}")
            else:
                connection.exec_driver_sql(f"DROP USER '{name}'@'%%'")
        admin.dispose()


SERVERS = pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)


@SERVERS
def test_read_only_commands_need_nothing_but_select(deployed: Project, reader: Project) -> None:
    deployed.edit("config/llm_nodes.yaml", 'default_model: "gpt-4o-mini"', 'default_model: "x"')
    before = deployed.nodes()

    dry_run = reader.run("datasync", "--dry-run")
    assert dry_run.returncode == 0, dry_run.output
    assert "  ~ email_classification" in dry_run.stdout.splitlines()

    check = reader.run("datasync", "--check")
    assert check.returncode == 1, check.output
    assert "datasync: out of sync: " in check.stdout

    validate = reader.run("datasync", "--validate")
    assert validate.returncode == 0, validate.output

    # The role really cannot write: applying fails, and says so in one line.
    apply = reader.run("datasync")
    assert apply.returncode == 255
    assert len(apply.lines("FAILED: ")) == 1
    assert "Traceback" not in apply.output
    assert deployed.nodes() == before
