"""Many containers deploying at once: 8 concurrent `alembic upgrade head`, several rounds.

Every process must exit 0, the table must end equal to the file with no row
twice, and alembic_version at head: with the deploy lock (the default) the
processes take turns; without it, the sync alone still stays correct.

Every round runs whatever happens in the rounds before it, and the counts
(failed processes, duplicate rows, rounds whose table differs from the file)
are asserted at the end: ``DATASYNC_SOAK_ROUNDS`` rounds (3 in ``.ci/run``, 20
in ``make soak``), figures in ``DATASYNC_SOAK_REPORT`` (see tests/soak.py).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from alembic_project import ALEMBIC, Project, copy_example
from databases import isolated_database
from soak import ROUNDS, figures

PROCESSES = 8
SERVERS = ["postgresql", "mysql", "sqlite"]


def start_all(project: Project, *args: str) -> list[tuple[int, str]]:
    """Start PROCESSES `alembic` runs at once; their exit codes and output."""
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
    outputs = [p.communicate(timeout=300)[0] for p in running]
    return [(p.returncode, output) for p, output in zip(running, outputs, strict=True)]


def expected_nodes(project: Project) -> dict[str, tuple[str, int]]:
    data = yaml.safe_load((project.folder / "config" / "llm_nodes.yaml").read_text())
    # 1000 is the column's server default, for rows that leave it out.
    return {
        name: (row["default_model"], row.get("default_max_tokens", 1000))
        for name, row in data.items()
    }


@dataclass
class Tally:
    """What went wrong over all rounds; each list holds one description per case."""

    processes: int = 0
    failed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def count(self, project: Project, results: list[tuple[int, str]], when: str) -> None:
        """Count one deploy: its processes' exits, then the table and alembic_version."""
        self.processes += len(results)
        for code, output in results:
            if code != 0 or "Traceback" in output:
                self.failed.append(f"{when}: exit {code}:\n{output}")
        rows = project.query(
            "SELECT node_name, default_model, default_max_tokens FROM llm_node_configuration"
        )
        names = [row[0] for row in rows]
        self.duplicates.extend(f"{when}: {name}" for name in set(names) if names.count(name) > 1)
        if {row[0]: (row[1], row[2]) for row in rows} != expected_nodes(project):
            self.wrong.append(f"{when}: the table differs from the file")
        if project.version() != ["0001"]:
            self.wrong.append(f"{when}: alembic_version is {project.version()}")

    def record(self, found: dict[str, object]) -> None:
        found.update(
            processes=self.processes,
            failed=len(self.failed),
            duplicate_rows=len(self.duplicates),
            wrong=len(self.wrong),
        )

    def assert_clean(self) -> None:
        assert self.failed == [], f"{len(self.failed)} failed; the first: {self.failed[0]}"
        assert self.duplicates == [], f"rows in the table twice: {self.duplicates}"
        assert self.wrong == [], self.wrong


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
    tally = Tally()
    with figures(f"concurrent upgrades, lock on [{kind}]", rounds=ROUNDS) as found:
        for round_number in range(ROUNDS):
            (tmp_path / f"db{round_number}").mkdir()
            with isolated_database(kind, tmp_path / f"db{round_number}") as url:
                project = copy_example(tmp_path / f"round{round_number}", url)
                # (a) an empty database: one process migrates and syncs, the rest wait.
                results = start_all(project, "upgrade", "head")
                tally.count(project, results, f"round {round_number}, empty database")
                created = [out for _, out in results if "8 created" in out]
                if len(created) != 1:
                    tally.wrong.append(f"round {round_number}: {len(created)} created the rows")
                # (b) the migrated database and a changed file.
                change_yaml(project, round_number)
                results = start_all(project, "upgrade", "head")
                tally.count(project, results, f"round {round_number}, changed file")
                updated = [out for _, out in results if "1 created, 8 updated" in out]
                if len(updated) != 1:
                    tally.wrong.append(f"round {round_number}: {len(updated)} applied the change")
        tally.record(found)
    tally.assert_clean()


@pytest.mark.parametrize("kind", SERVERS)
def test_concurrent_syncs_without_the_lock_stay_correct(kind: str, tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    tally = Tally()
    with (
        isolated_database(kind, tmp_path / "db") as url,
        figures(f"concurrent datasync, lock off [{kind}]", rounds=ROUNDS) as found,
    ):
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
            tally.count(project, results, f"round {round_number}")
        tally.record(found)
    tally.assert_clean()


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


def test_a_process_waiting_for_the_lock_says_who_holds_it_then_goes_on(
    database_url: sa.URL, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import threading

    from alembic_datasync.lock import DeployLock

    project = copy_example(tmp_path / "project", database_url)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        holder = DeployLock(connection, timeout=5)
        holder.acquire()
        waiting = subprocess.Popen(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=project.folder,
            env={**os.environ, "DATABASE_URL": database_url.render_as_string(False)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Released once the waiting process has said it waits (or after 60 s at worst).
        safety = threading.Timer(60.0, holder.release)
        safety.start()
        lines = []
        assert waiting.stdout is not None
        for line in waiting.stdout:
            lines.append(line)
            if "waiting for the deploy lock" in line:
                holder.release()
        waiting.wait(timeout=60)
        safety.cancel()
        output = "".join(lines)
    engine.dispose()
    assert waiting.returncode == 0, output
    said = [line for line in output.splitlines() if "waiting for the deploy lock" in line]
    assert len(said) == 1, output
    holder_text = {
        "postgresql": "held by PostgreSQL backend pid ",
        "mysql": "held by MySQL connection ",
        "sqlite": "held by process ",
    }[database_url.get_backend_name()]
    assert holder_text in said[0]
    assert said[0].endswith(
        "another `alembic upgrade` is running; this process waits for it (up to 600 s)"
    )
    assert len(project.nodes()) == 8
