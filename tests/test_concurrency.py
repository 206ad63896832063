"""Many containers deploying at once: 8 concurrent `alembic upgrade head`, several rounds.

Every process must exit 0, the table must end equal to the file with no row
twice, and alembic_version at head: with the deploy lock (the default) the
processes take turns; without it, the sync alone still stays correct.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from alembic_project import ALEMBIC, Project, copy_example
from databases import isolated_database

PROCESSES = 8
ROUNDS = 3
SERVERS = ["postgresql", "mysql", "sqlite"]


def start_all(project: Project, *args: str) -> list[tuple[int, str]]:
    """Start PROCESSES `alembic` runs at once; their exit codes and output."""
    import os

    environment = dict(os.environ)
    environment["DATABASE_URL"] = project.url.render_as_string(hide_password=False)
    running = [
        subprocess.Popen(
            [str(ALEMBIC), *args],
            cwd=project.folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    return [(p.wait(timeout=300), p.stdout.read() if p.stdout else "") for p in running]


def expected_nodes(project: Project) -> dict[str, tuple[str, int]]:
    data = yaml.safe_load((project.folder / "config" / "llm_nodes.yaml").read_text())
    # 1000 is the column's server default, for rows that leave it out.
    return {
        name: (row["default_model"], row.get("default_max_tokens", 1000))
        for name, row in data.items()
    }


def assert_in_sync(project: Project, results: list[tuple[int, str]]) -> None:
    failures = [output for code, output in results if code != 0]
    assert failures == [], failures[0] if failures else ""
    assert all("Traceback" not in output for _, output in results)
    rows = project.query(
        "SELECT node_name, default_model, default_max_tokens FROM llm_node_configuration"
    )
    names = [row[0] for row in rows]
    assert len(names) == len(set(names)), "a node is in the table twice"
    assert {row[0]: (row[1], row[2]) for row in rows} == expected_nodes(project)
    assert project.version() == ["0001"]


def change_yaml(project: Project, round_number: int) -> None:
    """A deploy's change: every node's max tokens, and one node more."""
    path = project.folder / "config" / "llm_nodes.yaml"
    data = yaml.safe_load(path.read_text())
    for row in data.values():
        row["default_max_tokens"] = 1000 + round_number
    data[f"added_in_round_{round_number}"] = {"default_model": "qwen-32b"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize("kind", SERVERS)
def test_concurrent_upgrades_take_turns_under_the_deploy_lock(kind: str, tmp_path: Path) -> None:
    for round_number in range(ROUNDS):
        (tmp_path / f"db{round_number}").mkdir()
        with isolated_database(kind, tmp_path / f"db{round_number}") as url:
            project = copy_example(tmp_path / f"round{round_number}", url)
            # (a) an empty database: one process migrates and syncs, the rest wait.
            results = start_all(project, "upgrade", "head")
            assert_in_sync(project, results)
            created = [out for _, out in results if "8 created" in out]
            assert len(created) == 1, "exactly one process created the rows"
            # (b) the migrated database and a changed file.
            change_yaml(project, round_number)
            results = start_all(project, "upgrade", "head")
            assert_in_sync(project, results)
            updated = [out for _, out in results if "1 created, 8 updated" in out]
            assert len(updated) == 1, "exactly one process applied the change"


@pytest.mark.parametrize("kind", SERVERS)
def test_concurrent_syncs_without_the_lock_stay_correct(kind: str, tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with isolated_database(kind, tmp_path / "db") as url:
        project = copy_example(tmp_path / "project", url)
        project.edit(
            "migrations/env.py",
            "    [Dataset(",
            "    lock=False,\n    strict=True,\n    datasets=[Dataset(",
        )
        first = project.run("upgrade", "head")
        assert first.returncode == 0, first.output
        for round_number in range(ROUNDS):
            change_yaml(project, round_number)
            results = start_all(project, "datasync")
            assert_in_sync(project, results)


def test_lock_timeout_names_the_holder(database_url: sa.URL, tmp_path: Path) -> None:
    from alembic_datasync.lock import DeployLock

    project = copy_example(tmp_path / "project", database_url)
    project.edit(
        "migrations/env.py", "    [Dataset(", "    lock_timeout=1,\n    datasets=[Dataset("
    )
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        holder = DeployLock(connection, timeout=5)
        holder.acquire()
        try:
            run = project.run("upgrade", "head")
        finally:
            holder.release()
    engine.dispose()
    assert run.returncode != 0
    [failed] = run.lines("FAILED: ")
    assert failed.startswith("FAILED: waited 1 s for the deploy lock of this database, held by ")
    assert failed.endswith(
        "; another `alembic upgrade` is probably still running: let it finish, or raise "
        "DataSync(lock_timeout=...)"
    )
    holder_text = {
        "postgresql": "held by PostgreSQL backend pid ",
        "mysql": "held by MySQL connection ",
        "sqlite": "held by process ",
    }[database_url.get_backend_name()]
    assert holder_text in failed
    assert "Traceback" not in run.output
    assert not project.has_table("llm_node_configuration")
    again = project.run("upgrade", "head")
    assert again.returncode == 0, again.output
