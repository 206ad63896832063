"""SIGKILL at many points of a large sync: the table is all old or all new, never a mix.

After each kill the deploy lock is free again (it died with the process) and
the table is whole; the next run completes.  ``DATASYNC_SOAK_KILL_POINTS``
kills (8 in ``.ci/run``, 50 in ``make soak``) spread evenly over the time one
uninterrupted ``alembic upgrade head`` of the 20,000-row change takes, from
process start to exit; figures in ``DATASYNC_SOAK_REPORT`` (see tests/soak.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_datasync.lock import DeployLock, LockTimeout

from alembic_project import ALEMBIC, Project, copy_example
from soak import KILL_POINTS, figures

ROWS = 20_000

#: Seconds the test waits for the lock after a kill: the server notices the
#: dead session within this, or the lock was left held.
LOCK_FREED_WITHIN = 30


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


def lock_is_free(project: Project) -> bool:
    """Whether the deploy lock can be taken (waiting for the server to notice a kill)."""
    engine = project.engine()
    try:
        with engine.connect() as connection:
            lock = DeployLock(connection, timeout=LOCK_FREED_WITHIN)
            try:
                lock.acquire()
            except LockTimeout:
                return False
            lock.release()
            return True
    finally:
        engine.dispose()


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


def test_killed_syncs_leave_all_old_or_all_new(project: Project) -> None:
    kind = project.url.get_backend_name()
    with figures(f"SIGKILL during a {ROWS:,}-row sync [{kind}]", kill_points=KILL_POINTS) as found:
        (project.folder / "config" / "llm_nodes.yaml").write_text(nodes_yaml("new"))
        started = time.monotonic()
        timed = start(project)
        assert timed.wait(timeout=300) == 0
        duration = time.monotonic() - started
        assert state(project) == (ROWS, {"new"})
        found["sync_seconds"] = round(duration, 1)

        mixed: list[int] = []
        lost: list[int] = []
        left_held: list[int] = []
        outcomes: list[str] = []
        for point in range(KILL_POINTS):
            project.execute("UPDATE llm_node_configuration SET description = 'old'")
            process = start(project)
            time.sleep(duration * (point + 0.5) / KILL_POINTS)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            if not lock_is_free(project):
                left_held.append(point)
            count, descriptions = state(project)
            if count != ROWS:
                lost.append(point)
            if descriptions not in ({"old"}, {"new"}):
                mixed.append(point)
            outcomes.append("new" if descriptions == {"new"} else "old")
        found.update(
            killed_before_commit=outcomes.count("old"),
            killed_after_commit=outcomes.count("new"),
            mixed_tables=len(mixed),
            rows_lost_at=len(lost),
            lock_left_held=len(left_held),
        )

        finished = project.run("-x", "datasync=strict", "upgrade", "head")
    assert mixed == [], f"a mix of old and new rows after the kills at points {mixed}"
    assert lost == [], f"rows missing after the kills at points {lost}"
    assert left_held == [], f"the lock still held {LOCK_FREED_WITHIN} s after kills {left_held}"
    assert finished.returncode == 0, finished.output
    assert state(project) == (ROWS, {"new"})
    # Most kills land before the commit; the test would still pass if all did.
    assert outcomes.count("old") >= 1
