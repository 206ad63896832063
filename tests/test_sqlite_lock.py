"""The SQLite deploy lock on every platform: a file lock through filelock, no fcntl.

Windows has no ``fcntl``; before filelock every ``alembic upgrade`` on SQLite
there failed with ``ModuleNotFoundError``.  filelock's Windows lock cannot run
here, so these tests run the processes with ``import fcntl`` failing (a
``sitecustomize`` sets ``sys.modules["fcntl"] = None``), as on Windows: nothing
of ours may need it, and the lock must still keep a second process out and
name its holder.  The lock of a killed holder is tested with the platform's
own lock (flock here): the operating system releases it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import Project, copy_example

HOLD = """\
import sys

import sqlalchemy as sa

from alembic_datasync.lock import DeployLock

engine = sa.create_engine(sys.argv[1])
with engine.connect() as connection:
    lock = DeployLock(connection, timeout=30)
    lock.acquire()
    print("held", flush=True)
    sys.stdin.readline()
    lock.release()
"""

NO_FCNTL = 'import sys\nsys.modules["fcntl"] = None  # as on Windows: `import fcntl` fails\n'


@pytest.fixture(params=["without fcntl", "with fcntl"])
def fcntl(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment of every process the test starts."""
    if request.param == "with fcntl":
        return {}
    site = tmp_path / "no_fcntl"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_FCNTL)
    return {"PYTHONPATH": str(site)}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = copy_example(tmp_path / "project", sa.make_url(f"sqlite:///{tmp_path / 'app.db'}"))
    project.edit(
        "migrations/env.py", "    [Dataset(", "    lock_timeout=1,\n    datasets=[Dataset("
    )
    return project


def hold_lock(project: Project, environment: dict[str, str]) -> subprocess.Popen[str]:
    """A process that holds the deploy lock until its standard input gets a line."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, project.url.render_as_string(hide_password=False)],
        env=dict(os.environ, **environment),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line == "held\n", holder.stderr.read() if holder.stderr else ""
    return holder


def test_fcntl_is_really_missing_in_the_processes(fcntl: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import fcntl"],
        env=dict(os.environ, **fcntl),
        capture_output=True,
        text=True,
    )
    if fcntl:
        assert done.returncode == 1
        assert "ModuleNotFoundError: import of fcntl halted" in done.stderr
    else:
        assert done.returncode == 0


def test_upgrade_takes_the_lock_and_syncs(fcntl: dict[str, str], project: Project) -> None:
    run = project.run("upgrade", "head", **fcntl)
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0].endswith("8 total, 8 created, 0 updated, 0 unchanged")
    assert "Traceback" not in run.output
    # Released: the next one gets it at once.
    again = project.run("upgrade", "head", **fcntl)
    assert again.returncode == 0, again.output


def test_a_second_process_waits_and_is_told_who_holds_it(
    fcntl: dict[str, str], project: Project
) -> None:
    holder = hold_lock(project, fcntl)
    try:
        run = project.run("upgrade", "head", **fcntl)
    finally:
        holder.communicate("\n", timeout=30)
    assert run.returncode == 255, run.output
    lock_file = f"{project.url.database}.datasync-lock"
    assert run.lines("FAILED: ") == [
        f"FAILED: waited 1 s for the deploy lock of this database, held by process "
        f"{holder.pid} (lock file {lock_file}); another `alembic upgrade` is probably still "
        f"running: let it finish, or raise DataSync(lock_timeout=...)"
    ]
    assert not project.has_table("llm_node_configuration")
    after = project.run("upgrade", "head", **fcntl)
    assert after.returncode == 0, after.output
    assert len(project.nodes()) == 8


def test_the_lock_of_a_killed_holder_is_released(project: Project) -> None:
    holder = hold_lock(project, {})
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    if holder.stdin is not None:
        holder.stdin.close()
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert len(project.nodes()) == 8


def test_the_lock_file_sits_beside_the_database(project: Project) -> None:
    assert project.run("upgrade", "head").returncode == 0
    database = Path(str(project.url.database))
    beside = sorted(p.name for p in database.parent.iterdir() if p.name.startswith(database.name))
    # The holder's note is removed on release; the lock file stays (filelock's
    # choice on POSIX, so that waiters share one inode).
    assert beside == ["app.db", "app.db.datasync-lock"]
