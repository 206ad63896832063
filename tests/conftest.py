"""Fixtures: one test body runs on SQLite, PostgreSQL and MySQL/MariaDB (see databases.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from databases import DATABASES, isolated_database

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)
#: The tool's own tables (the state of each dataset, the history of syncs).
OWN_TABLES = re.compile(r"\balembic_datasync_(state|history)\b")


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.URL]:
    """A fresh, empty database on each of SQLite, PostgreSQL and MySQL."""
    with isolated_database(request.param, tmp_path) as url:
        yield url


@dataclass
class StatementLog:
    """The statements an engine sent, as SQLAlchemy passed them to the driver."""

    statements: list[str] = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        """Writes to the user's tables (the tool's own state and history left out)."""
        return [s for s in self.statements if WRITE.match(s) and not OWN_TABLES.search(s)]

    @property
    def own_writes(self) -> list[str]:
        """Writes to the tool's own tables: its state and its history."""
        return [s for s in self.statements if WRITE.match(s) and OWN_TABLES.search(s)]

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def engine(database_url: sa.URL) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def statements(engine: sa.Engine) -> StatementLog:
    """Every statement ``engine`` sends from now on (executemany counts once)."""
    log = StatementLog()

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        log.statements.append(statement)

    return log


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """With DATASYNC_REQUIRE_DATABASES=1 (CI), a skipped test is a failed test.

    An expected failure (``xfail``, which pytest reports as skipped) is not a skip.
    """
    outcome = yield
    report = outcome.get_result()
    expected_failure = hasattr(report, "wasxfail")
    if (
        report.skipped
        and not expected_failure
        and os.environ.get("DATASYNC_REQUIRE_DATABASES") == "1"
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {report.longrepr}"


def python_lines(program: str) -> list[str]:
    """What ``program`` prints, run by this Python in a fresh process (it must not fail)."""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.splitlines()
