"""Real Alembic projects in a temporary folder, driven through the real ``alembic`` script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
BIN = Path(sys.executable).parent
ALEMBIC = BIN / "alembic"


@dataclass
class Run:
    """One finished command: its exit status and what it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def lines(self, prefix: str = "") -> list[str]:
        """Output lines that start with ``prefix``."""
        return [line for line in self.output.splitlines() if line.startswith(prefix)]

    def datasync_lines(self) -> list[str]:
        """What our logger said: the lines tagged ``[alembic.datasync]``, tag removed."""
        return [
            line.split("[alembic.datasync] ", 1)[1]
            for line in self.output.splitlines()
            if "[alembic.datasync] " in line
        ]


@dataclass
class Project:
    """An Alembic project folder whose ``DATABASE_URL`` points at a test database."""

    folder: Path
    url: sa.URL

    def run(self, *args: str, program: Path | None = None, **env: str) -> Run:
        command = [str(program or ALEMBIC), *args]
        return self._run(command, env)

    def python(self, *args: str, **env: str) -> Run:
        return self._run([sys.executable, *args], env)

    def _run(self, command: list[str], extra_env: dict[str, str]) -> Run:
        environment = dict(os.environ)
        environment["DATABASE_URL"] = self.url.render_as_string(hide_password=False)
        environment.update(extra_env)
        done = subprocess.run(
            command,
            cwd=self.folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(tuple(command[1:]), done.returncode, done.stdout, done.stderr)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: Any) -> None:
        engine = self.engine()
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def nodes(self) -> dict[str, tuple[Any, ...]]:
        """Every row of llm_node_configuration by node_name (without the generated id)."""
        rows = self.query(
            "SELECT node_name, default_model, default_temperature, default_max_tokens, "
            "langsmith_tracing, description, azure_model, azure_temperature, azure_max_tokens "
            "FROM llm_node_configuration"
        )
        return {row[0]: row[1:] for row in rows}

    def version(self) -> list[str]:
        inspector = sa.inspect(self.engine())
        if not inspector.has_table("alembic_version"):
            return []
        return [row[0] for row in self.query("SELECT version_num FROM alembic_version")]

    def has_table(self, name: str) -> bool:
        engine = self.engine()
        try:
            return sa.inspect(engine).has_table(name)
        finally:
            engine.dispose()

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.folder / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))


def copy_example(destination: Path, url: sa.URL) -> Project:
    """A copy of example/ (without any database file) pointing at ``url``."""
    shutil.copytree(
        EXAMPLE,
        destination,
        ignore=shutil.ignore_patterns("*.db", "__pycache__"),
    )
    return Project(destination, url)
