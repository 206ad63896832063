"""A fresh `alembic init` project, plus the README's env.py lines, gets the LLM-node workflow.

For each template `alembic init` offers for a single database (generic, async,
pyproject), the lines the README tells users to add are added to the generated
env.py, and the real `alembic` script migrates and syncs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import EXAMPLE, Project

README = Path(__file__).resolve().parent.parent / "README.md"

# The README's env.py additions, verbatim (test_readme_shows_these_lines keeps them so).
IMPORT = "from alembic_datasync import Dataset, DataSync"
DECLARATION = """\
datasync = DataSync(context, [
    Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name"),
])
"""
CALL = "datasync.run()"

ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "psycopg", "mysql": "aiomysql"}


def add_datasync(env_py: Path) -> None:
    """Edit a generated env.py as the README says: import, declaration, one call."""
    text = env_py.read_text()
    text = text.replace(
        "from alembic import context\n", f"from alembic import context\n{IMPORT}\n", 1
    )
    text = text.replace("target_metadata = None\n", f"target_metadata = None\n\n{DECLARATION}", 1)
    # The last run_migrations() call is the online one in every template.
    head, call, tail = text.rpartition("context.run_migrations()\n")
    indent = re.search(r"([ \t]*)$", head).group(1)  # type: ignore[union-attr]
    text = f"{head}{call}{indent}{CALL}\n{tail}"
    env_py.write_text(text)


def init_project(folder: Path, template: str, url: sa.URL, project: Project) -> Project:
    folder.mkdir()
    fresh = Project(folder, url)
    done = fresh.run("init", "-t", template, "migrations")
    assert done.returncode == 0, done.output
    if template == "async":
        url = url.set(
            drivername=f"{url.get_backend_name()}+{ASYNC_DRIVERS[url.get_backend_name()]}"
        )
    ini = folder / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "sqlalchemy.url = driver://user:pass@localhost/dbname",
            "sqlalchemy.url = " + url.render_as_string(hide_password=False).replace("%", "%%"),
        )
    )
    add_datasync(folder / "migrations" / "env.py")
    shutil.copy(
        EXAMPLE / "migrations" / "versions" / "0001_create_llm_node_configuration.py",
        folder / "migrations" / "versions",
    )
    (folder / "config").mkdir()
    shutil.copy(EXAMPLE / "config" / "llm_nodes.yaml", folder / "config")
    return fresh


@pytest.mark.parametrize("template", ["generic", "async", "pyproject"])
def test_readme_lines_in_a_fresh_alembic_init_project(
    database_url: sa.URL, tmp_path: Path, template: str
) -> None:
    project = init_project(
        tmp_path / "fresh", template, database_url, Project(tmp_path, database_url)
    )
    first = project.run("upgrade", "head", DATABASE_URL="")
    assert first.returncode == 0, first.output
    assert first.datasync_lines()[0] == (
        "datasync: llm_node_configuration (config/llm_nodes.yaml): "
        "8 total, 8 created, 0 updated, 0 unchanged"
    )
    second = project.run("upgrade", "head", DATABASE_URL="")
    assert second.datasync_lines() == [
        "datasync: llm_node_configuration (config/llm_nodes.yaml): "
        "8 total, 0 created, 0 updated, 8 unchanged"
    ]
    project.execute(
        "UPDATE llm_node_configuration SET default_max_tokens = 1 WHERE node_name = 'translation'"
    )
    check = project.run("datasync", "--check", DATABASE_URL="")
    assert check.returncode == 1, check.output
    assert "      default_max_tokens: 1 -> 4000" in check.stdout.splitlines()
    assert len(project.nodes()) == 8


def test_readme_shows_these_lines() -> None:
    readme = README.read_text()
    assert IMPORT in readme
    assert DECLARATION in readme
    assert CALL in readme
