"""SIGKILL at many points of a large sync: the table is all old or all new, never a mix.

And the next run completes: the deploy lock died with the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import ALEMBIC, Project, copy_example

ROWS = 20_000
KILL_POINTS = 8


def nodes_yaml(description: str) -> str:
    return "".join(
        f"node_{i:06d}: {{default_model: m, description: {description}}}\n" for i in range(ROWS)
    )


def state(project: Project) -> tuple[int, set[str]]:
    rows = project.query(
        "SELECT count(*), min(description), max(description) FROM llm_node_configuration"
    )
    count, low, high = rows[0]
    return int(count), {low, high}


def start(project: Project) -> subprocess.Popen[bytes]:
    environment = dict(os.environ, DATABASE_URL=project.url.render_as_string(hide_password=False))
    return subprocess.Popen(
        [str(ALEMBIC), "upgrade", "head"],
        cwd=project.folder,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", database_url)
    # A lock left behind by a killed process would fail the next run quickly.
    project.edit(
        "migrations/env.py", "    [Dataset(", "    lock_timeout=10,\n    datasets=[Dataset("
    )
    (project.folder / "config" / "llm_nodes.yaml").write_text(nodes_yaml("old"))
    first = project.run("-x", "datasync=strict", "upgrade", "head")
    assert first.returncode == 0, first.output
    assert state(project) == (ROWS, {"old"})
    return project


@pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)
def test_killed_syncs_leave_all_old_or_all_new(project: Project) -> None:
    (project.folder / "config" / "llm_nodes.yaml").write_text(nodes_yaml("new"))
    started = time.monotonic()
    timed = start(project)
    assert timed.wait(timeout=300) == 0
    duration = time.monotonic() - started
    assert state(project) == (ROWS, {"new"})

    outcomes = []
    for point in range(KILL_POINTS):
        project.execute("UPDATE llm_node_configuration SET description = 'old'")
        process = start(project)
        time.sleep(duration * (point + 0.5) / KILL_POINTS)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        count, descriptions = state(project)
        assert count == ROWS
        assert descriptions in ({"old"}, {"new"}), f"a mix after a kill at point {point}"
        outcomes.append(descriptions.pop())

    finished = project.run("-x", "datasync=strict", "upgrade", "head")
    assert finished.returncode == 0, finished.output
    assert state(project) == (ROWS, {"new"})
    # Most kills land before the commit; the test would still pass if all did.
    assert outcomes.count("old") >= 1
