"""Issue 13's benchmark: what the state costs and what the no-parse shortcut saves.

    make bench-state                                    # SQLite
    DATASYNC_BENCH_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
    DATASYNC_BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/test make bench-state

On a copy of example/ whose config/llm_nodes.yaml holds ``--rows`` nodes
(100,000 by default), deployed and then synced once more (which verifies the
state), each database in turn, every measured run a process of its own:

- ``parse``: our loader reading the file (`files.load_dataset`), in-process time;
- ``full no-op``: `api.plan` of the unchanged file, which never takes the
  shortcut (what every deploy paid before the state), in-process time;
- ``alembic datasync``: the real command, nothing to do, in-process time (from
  `alembic.config.main` to its return: env.py, connection, the sync; SQLAlchemy's
  ORM, which the example's models import, and the database driver, which every
  Alembic command imports, imported before the clock) and the whole process's
  wall time;
- ``alembic upgrade head``, nothing pending, whole-process wall time, with the
  datasync lines in env.py and without them.

Targets (issue 13): no-op ``alembic datasync`` <= 0.1 x parse; ``alembic
upgrade head`` with / without <= 1.5.  Then a sync changing 1% of the rows
measures the state's size (bytes per row) and the history's growth (bytes per
change).  Writes bench/STATE_RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from node_data import base_rows, changed_rows, render

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "example"
ALEMBIC = Path(sys.executable).parent / "alembic"
NAME = "datasync_bench_state"


# -- the cases, each run in a process of its own ------------------------------------


def case_parse(spec: dict[str, Any]) -> dict[str, Any]:
    from alembic_datasync import Dataset
    from alembic_datasync.files import load_dataset

    dataset = Dataset(spec["file"], table="llm_node_configuration", key="node_name")
    started = time.perf_counter()
    loaded = load_dataset(dataset)
    return {"seconds": time.perf_counter() - started, "rows": len(loaded.rows)}


def case_full_noop(spec: dict[str, Any]) -> dict[str, Any]:
    from alembic_datasync import Dataset, plan

    dataset = Dataset(spec["file"], table="llm_node_configuration", key="node_name")
    engine = sa.create_engine(spec["url"])
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")  # connected before the clock starts
        started = time.perf_counter()
        report = plan(connection, [dataset])
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "unchanged": report.datasets[0].unchanged}


def case_datasync(spec: dict[str, Any]) -> dict[str, Any]:
    import importlib

    import alembic.config
    import sqlalchemy.orm  # noqa: F401  (env.py imports the app's models: not our time)

    import alembic_datasync  # noqa: F401  (imported before the clock, as the plugin does)

    # Every Alembic command imports the database driver: before the clock too.
    driver = sa.make_url(os.environ["DATABASE_URL"]).get_dialect().driver
    importlib.import_module({"pysqlite": "sqlite3"}.get(driver, driver))
    os.chdir(spec["project"])
    started = time.perf_counter()
    alembic.config.main(argv=["datasync"], prog="alembic")  # prints its summary line
    return {"seconds": time.perf_counter() - started}


CASES = {"parse": case_parse, "full_noop": case_full_noop, "datasync": case_datasync}


def run_case(spec: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--case", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"case {spec['case']} failed:\n{done.stdout}{done.stderr}")
    *printed, last = done.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(last)
    result["wall"] = wall
    result["output"] = "\n".join(printed)
    return result


def alembic(project: Path, environment: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(ALEMBIC), *args], cwd=project, env=environment, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"alembic {' '.join(args)} failed in {project}:\n{done.stderr}")
    return wall, done.stdout + done.stderr


# -- the databases ---------------------------------------------------------------


def databases(workdir: Path) -> list[tuple[str, sa.URL]]:
    found = [("sqlite", sa.make_url(f"sqlite:///{workdir / 'bench.db'}"))]
    postgresql = os.environ.get("DATASYNC_BENCH_POSTGRESQL_URL")
    if postgresql:
        base = sa.make_url(postgresql)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {NAME} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {NAME}")
        admin.dispose()
        found.append(("postgresql", base.update_query_dict({"options": f"-csearch_path={NAME}"})))
    mysql = os.environ.get("DATASYNC_BENCH_MYSQL_URL")
    if mysql:
        base = sa.make_url(mysql)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {NAME}")
            connection.exec_driver_sql(f"CREATE DATABASE {NAME} CHARACTER SET utf8mb4")
        admin.dispose()
        found.append(("mariadb", base.set(database=NAME)))
    return found


def drop(name: str, url: sa.URL) -> None:
    if name == "sqlite":
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if name == "postgresql":
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {NAME} CASCADE")
        else:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {NAME}")
    admin.dispose()


def strip_datasync(env_py: str) -> str:
    """env.py without its three ``# datasync: n of 3`` parts."""
    out: list[str] = []
    skipping = False
    for line in env_py.splitlines(keepends=True):
        if "# datasync: 1 of 3" in line or "# datasync: 3 of 3" in line:
            continue
        if "# datasync: 2 of 3" in line:
            skipping = True
            continue
        if skipping:
            skipping = not line.startswith(")")
            continue
        out.append(line)
    return "".join(out)


def projects(workdir: Path, name: str, data: str) -> tuple[Path, Path]:
    made = []
    for variant in ("with", "without"):
        project = workdir / f"{name}_{variant}"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
        (project / "config" / "llm_nodes.yaml").write_text(data)
        if variant == "without":
            env_py = project / "migrations" / "env.py"
            env_py.write_text(strip_datasync(env_py.read_text()))
        made.append(project)
    return made[0], made[1]


def sizes(url: sa.URL) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        state = connection.execute(
            sa.text("SELECT row_count, applied_rows FROM alembic_datasync_state")
        ).one()
        history = connection.execute(
            sa.text(
                "SELECT change_count, datasets, changes FROM alembic_datasync_history ORDER BY id"
            )
        ).all()
    engine.dispose()
    records = [
        {"changes": count, "bytes": len(summary.encode()) + len(packed)}
        for count, summary, packed in history
    ]
    return {"state_rows": state[0], "state_bytes": len(state[1]), "history": records}


def measure(name: str, url: sa.URL, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rendered = render(base_rows(args.rows))
    with_datasync, without = projects(workdir, name, rendered)
    environment = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    print(f"{name}: first deploy of {args.rows:,} rows", file=sys.stderr, flush=True)
    alembic(with_datasync, environment, "upgrade", "head")
    # The first sync that finds nothing to do verifies the state; the next ones skip parsing.
    _, said = alembic(with_datasync, environment, "upgrade", "head")
    assert f"{args.rows} unchanged" in said, said
    file = str(with_datasync / "config" / "llm_nodes.yaml")
    url_text = url.render_as_string(hide_password=False)
    timings: dict[str, list[float]] = {
        k: [] for k in ("parse", "full_noop", "datasync", "datasync_wall", "with", "without")
    }
    for run in range(args.repeat):
        print(f"{name}: run {run + 1}/{args.repeat}", file=sys.stderr, flush=True)
        timings["parse"].append(run_case({"case": "parse", "file": file}, environment)["seconds"])
        full = run_case({"case": "full_noop", "file": file, "url": url_text}, environment)
        assert full["unchanged"] == args.rows, full
        timings["full_noop"].append(full["seconds"])
        done = run_case({"case": "datasync", "project": str(with_datasync)}, environment)
        assert done["output"].endswith(f"0 updated, {args.rows} unchanged"), done["output"]
        timings["datasync"].append(done["seconds"])
        timings["datasync_wall"].append(done["wall"])
        for variant, project in (("with", with_datasync), ("without", without)):
            timings[variant].append(alembic(project, environment, "upgrade", "head")[0])
    medians = {key: statistics.median(values) for key, values in timings.items()}
    # A deploy changing 1% of the rows: the history's growth per change.
    changed = with_datasync / "config" / "llm_nodes.yaml"
    changed.write_text(render(changed_rows(args.rows)))
    alembic(with_datasync, environment, "datasync")
    return {
        "medians": medians,
        "runs": args.repeat,
        "noop_ratio": medians["datasync"] / medians["parse"],
        "upgrade_ratio": medians["with"] / medians["without"],
        "sizes": sizes(url),
    }


def report(results: dict[str, Any], rows: int) -> str:
    lines = [
        "# Issue 13: the no-parse shortcut and the size of the state",
        "",
        f"`make bench-state`, {rows:,} rows of the example's LLM-node shape, medians of "
        f"each case run in a process of its own; machine load at the end: "
        f"{os.getloadavg()[0]:.1f} (1 min).",
        "",
        "| database | parse (our loader) | full no-op plan | `alembic datasync` no-op "
        "(in process / whole process) | ratio to parse (target <= 0.1) | "
        "`alembic upgrade head` with / without datasync | ratio (target <= 1.5) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        m = result["medians"]
        lines.append(
            f"| {name} | {m['parse']:.2f} s | {m['full_noop']:.2f} s | "
            f"{m['datasync']:.3f} s / {m['datasync_wall']:.2f} s | "
            f"{result['noop_ratio']:.3f} | {m['with']:.2f} s / {m['without']:.2f} s | "
            f"{result['upgrade_ratio']:.2f} |"
        )
    lines += [
        "",
        "| database | state: bytes, per row | history: first deploy, per change | "
        "history: 1% changed, per change |",
        "|---|---|---|---|",
    ]
    for name, result in results.items():
        s = result["sizes"]
        first, last = s["history"][0], s["history"][-1]
        lines.append(
            f"| {name} | {s['state_bytes']:,} B, {s['state_bytes'] / s['state_rows']:.1f} B | "
            f"{first['bytes']:,} B for {first['changes']:,} creates, "
            f"{first['bytes'] / first['changes']:.1f} B | "
            f"{last['bytes']:,} B for {last['changes']:,} updates, "
            f"{last['bytes'] / last['changes']:.1f} B |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        spec = json.loads(args.case)
        print(json.dumps(CASES[spec["case"]](spec)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="datasync-bench-state-"))
    results: dict[str, Any] = {}
    try:
        for name, url in databases(workdir):
            try:
                results[name] = measure(name, url, args, workdir)
            finally:
                drop(name, url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, args.rows)
    (HERE / "STATE_RESULTS.md").write_text(text)
    (HERE / "state_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
