"""The benchmark: each sync against our own file loader alone, on SQLite, PostgreSQL and MariaDB.

    make bench                                   # 10 to 10,000 rows, a few minutes
    make bench BENCH_ARGS=--large                # adds 100,000 rows
    DATASYNC_BENCH_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    DATASYNC_BENCH_MYSQL_URL=mysql+pymysql://root@127.0.0.1:3306/test make bench

The floor of every target (issue 16) is our own loader alone
(`files.load_dataset`: read the file, digest it, fastload) on the same file in
the same run.  Every measured run is a fresh process (bench/case.py), so each
case's peak RSS is its own; the table it works on is rebuilt before every run,
without the sync's state (so every sync plans in full: bench/state.py measures
the no-parse shortcut).  Times are the median of ``--repeat`` runs of the
measured work (interpreter start, imports and connecting excluded); peak RSS
is the highest of those runs.  ``yaml.load``, ``yaml.load`` + COPY and the
per-row ORM are context, measured up to ``--context-max-rows``.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from node_data import COLUMNS, base_rows, changed_rows, churned_rows, llm_nodes, metadata, render

from alembic_datasync import StateTables
from alembic_datasync.storage import state_table

#: Django's ``loaddata`` peak RSS for the same 100,000 rows on PostgreSQL, measured
#: side by side with ours (issue 16): the memory a user's other pick needs.
DJANGO_LOADDATA_MIB = 168

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "example"
SCHEMA = "datasync_bench"

SYNC_CASES = {
    # case: (file variant, table content before, prune)
    "first": ("base", "empty", False),
    "noop": ("base", "base", False),
    "changed": ("changed", "base", False),
    "churn": ("churn", "base", "all"),
}
CASE_TITLES = {
    "load": "our loader alone: files.load_dataset (read, digest, fastload) (floor)",
    "parse": "context: yaml.load(CSafeLoader) alone",
    "floor": "context: yaml.load + COPY / executemany INSERT",
    "first": "first sync into an empty table",
    "noop": "no-op resync",
    "changed": "resync, 1% of rows changed",
    "churn": "resync, 1% added + 1% removed, prune='all'",
    "orm_first": "context: per-row ORM sync, empty table",
    "orm_noop": "context: per-row ORM sync, nothing changed",
}


@dataclass
class Backend:
    name: str
    url: sa.URL
    engine: sa.Engine


@dataclass
class Results:
    runs: dict[tuple[str, int, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, backend: str, size: int, case: str, result: dict[str, Any]) -> None:
        self.runs.setdefault((backend, size, case), []).append(result)

    def seconds(self, backend: str, size: int, case: str) -> float | None:
        runs = self.runs.get((backend, size, case))
        return statistics.median(r["seconds"] for r in runs) if runs else None

    def cpu(self, backend: str, size: int, case: str) -> float | None:
        runs = [r for r in self.runs.get((backend, size, case), []) if "cpu_seconds" in r]
        return statistics.median(r["cpu_seconds"] for r in runs) if runs else None

    def peak(self, backend: str, size: int, case: str) -> float | None:
        runs = self.runs.get((backend, size, case))
        return max(r["peak_rss_mib"] for r in runs) if runs else None


def run_case(spec: dict[str, Any], prepare: Any = None) -> dict[str, Any]:
    """Run one case in a fresh process, after ``prepare()``; its JSON result.

    A failed case is run once more (after ``prepare`` again): test suites on
    the same machine may terminate every server connection now and then.
    """
    for attempt in (1, 2):
        if prepare is not None:
            prepare()
        done = subprocess.run(
            [sys.executable, str(HERE / "case.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if done.returncode == 0:
            break
        if attempt == 2:
            raise SystemExit(f"case {spec} failed:\n{done.stdout}{done.stderr}")
        print(f"  case failed, running it again: {done.stderr.strip()[-300:]}", file=sys.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def reset_table(backend: Backend, rows: list[dict[str, object]]) -> None:
    """Drop and recreate the table, holding ``rows``, and the sync's state tables, empty."""
    with backend.engine.begin() as connection:
        metadata.drop_all(connection)
        # Every case starts without a state of an earlier sync, so that it plans
        # in full (bench/state.py measures the no-parse shortcut); the state's
        # tables are there, as after any first deploy, so no case times their DDL.
        state_metadata = state_table(StateTables()).metadata
        state_metadata.drop_all(connection)
        state_metadata.create_all(connection)
        metadata.create_all(connection)
        if rows and backend.name == "postgresql":
            raw = connection.connection.driver_connection
            cursor = raw.cursor()  # type: ignore[union-attr]
            names = ", ".join(COLUMNS)
            with cursor.copy(f"COPY llm_node_configuration ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in COLUMNS])
        elif rows:
            connection.execute(llm_nodes.insert(), rows)
    if backend.name == "postgresql":
        with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE llm_node_configuration")
    elif backend.name == "mariadb" and rows:
        with backend.engine.connect() as c:
            c.exec_driver_sql("ANALYZE TABLE llm_node_configuration").all()


def expected_counts(size: int, case: str) -> dict[str, int]:
    touched = max(1, size // 100) if size >= 100 else 1
    return {
        "first": {"created": size},
        "noop": {"unchanged": size, "created": 0, "updated": 0},
        "changed": {"updated": touched, "created": 0},
        "churn": {"created": touched, "deleted": touched, "updated": 0},
    }[case]


def make_backends(
    workdir: Path, postgresql_url: str | None, mysql_url: str | None
) -> list[Backend]:
    sqlite_url = sa.make_url(f"sqlite:///{workdir / 'bench.db'}")
    backends = [Backend("sqlite", sqlite_url, sa.create_engine(sqlite_url))]
    # pool_pre_ping: the runner's connections outlive many cases, and a server
    # restarted meanwhile (as test suites on the same machine may do) must not end the run.
    if postgresql_url:
        base = sa.make_url(postgresql_url)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        admin.dispose()
        url = base.update_query_dict({"options": f"-csearch_path={SCHEMA}"})
        backends.append(Backend("postgresql", url, sa.create_engine(url, pool_pre_ping=True)))
    if mysql_url:
        base = sa.make_url(mysql_url)
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCHEMA}")
            connection.exec_driver_sql(f"CREATE DATABASE {SCHEMA} CHARACTER SET utf8mb4")
            mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        admin.dispose()
        url = base.set(database=SCHEMA)
        name = "mariadb" if mariadb else "mysql"
        backends.append(Backend(name, url, sa.create_engine(url, pool_pre_ping=True)))
    return backends


def drop_backends(backends: list[Backend]) -> None:
    for backend in backends:
        if backend.name != "sqlite":
            statement = (
                f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
                if backend.name == "postgresql"
                else f"DROP DATABASE IF EXISTS {SCHEMA}"
            )
            with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql(statement)
        backend.engine.dispose()


def measure(args: argparse.Namespace, workdir: Path, backends: list[Backend]) -> Results:
    results = Results()
    for size in args.sizes:
        files = {
            "base": base_rows(size),
            "changed": changed_rows(size),
            "churn": churned_rows(size),
        }
        paths = {}
        for variant, rows in files.items():
            paths[variant] = workdir / f"nodes_{size}_{variant}.yaml"
            paths[variant].write_text(render(rows))
        repeat = args.repeat if size < 100_000 else max(1, min(args.repeat, 3))
        with_context = size <= args.context_max_rows
        base_file = str(paths["base"])
        for rep in range(repeat):
            print(f"  {size:>7,} rows, run {rep + 1}/{repeat}", file=sys.stderr, flush=True)
            for backend in backends:
                url = backend.url.render_as_string(hide_password=False)
                empty = functools.partial(reset_table, backend, [])
                filled = functools.partial(reset_table, backend, files["base"])
                # The floor next to each database's cases, so that a slow spell of
                # the machine weighs on both sides of a ratio alike.
                results.add(
                    backend.name, size, "load", run_case({"case": "load", "file": base_file})
                )
                for case, (variant, before, prune) in SYNC_CASES.items():
                    spec = {"case": "sync", "file": str(paths[variant]), "url": url, "prune": prune}
                    result = run_case(spec, filled if before == "base" else empty)
                    for key, value in expected_counts(size, case).items():
                        if result[key] != value:
                            raise SystemExit(f"{spec}: {key} is {result[key]}, not {value}")
                    results.add(backend.name, size, case, result)
                if with_context:
                    floor = {"case": "floor", "file": base_file, "url": url}
                    results.add(backend.name, size, "floor", run_case(floor, empty))
                    for case, before in (("orm_first", empty), ("orm_noop", filled)):
                        spec = {"case": "orm", "file": base_file, "url": url}
                        results.add(backend.name, size, case, run_case(spec, before))
            if with_context:
                results.add("-", size, "parse", run_case({"case": "parse", "file": base_file}))
        if size == max(args.sizes):
            # Where the time goes: one sync of each kind, each stage timed.
            for backend in backends:
                url = backend.url.render_as_string(hide_password=False)
                for case, before in (("noop", files["base"]), ("first", [])):
                    spec = {"case": "stages", "file": base_file, "url": url, "prune": False}
                    prepare = functools.partial(reset_table, backend, before)
                    results.add(backend.name, size, f"stages_{case}", run_case(spec, prepare))
    return results


# -- alembic upgrade head on the example ----------------------------------------


def strip_datasync(env_py: str) -> str | None:
    """env.py with the three ``# datasync: n of 3`` parts removed; None if they are not found."""
    lines = env_py.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    found = 0
    for line in lines:
        if "# datasync: 1 of 3" in line or "# datasync: 3 of 3" in line:
            found += 1
            continue
        if "# datasync: 2 of 3" in line:
            found += 1
            skipping = True
            continue
        if skipping:
            # The DataSync(...) declaration ends at the first line that closes it.
            if line.startswith(")"):
                skipping = False
            continue
        out.append(line)
    return "".join(out) if found == 3 else None


def upgrade_overhead(
    args: argparse.Namespace, workdir: Path, backends: list[Backend]
) -> dict[str, dict[str, Any]]:
    """Per database: median whole-process wall time of ``alembic upgrade head``, nothing pending."""
    if not (EXAMPLE / "alembic.ini").is_file() or not (EXAMPLE / "migrations" / "env.py").is_file():
        pending = {"pending": "example/alembic.ini or example/migrations/env.py is not there yet"}
        return {backend.name: pending for backend in backends}
    alembic = Path(sys.executable).parent / "alembic"
    found: dict[str, dict[str, Any]] = {}
    for backend in backends:
        variants: dict[str, Path] = {}
        for name in ("with", "without"):
            project = workdir / f"example_{backend.name}_{name}"
            shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
            if name == "without":
                env_py = project / "migrations" / "env.py"
                stripped = strip_datasync(env_py.read_text())
                if stripped is None:
                    found[backend.name] = {
                        "pending": "example/migrations/env.py has no '# datasync: n of 3' markers"
                    }
                    break
                env_py.write_text(stripped)
            variants[name] = project
        if backend.name in found:
            continue
        environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if backend.name != "sqlite":
            # The example's tables in the benchmark's schema, in place of the benchmark's own;
            # both variants share them (the second finds its revision applied).
            with backend.engine.begin() as connection:
                metadata.drop_all(connection)
                state_table(StateTables()).metadata.drop_all(connection)
            environment["DATABASE_URL"] = backend.url.render_as_string(hide_password=False)
        found[backend.name] = _upgrade_timings(args, alembic, variants, environment)
    return found


def _upgrade_timings(
    args: argparse.Namespace, alembic: Path, variants: dict[str, Path], environment: dict[str, str]
) -> dict[str, Any]:
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for project in variants.values():
        # First upgrade: schema and rows; every timed run after it has nothing pending.
        subprocess.run(
            [str(alembic), "upgrade", "head"],
            cwd=project,
            env=environment,
            check=False,
            capture_output=True,
        )
    for _ in range(args.upgrade_repeat):
        for name, project in variants.items():
            started = time.perf_counter()
            done = subprocess.run(
                [str(alembic), "upgrade", "head"],
                cwd=project,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            timings[name].append(time.perf_counter() - started)
            if done.returncode != 0 or (name == "with" and "8 unchanged" not in done.stderr):
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                return {"pending": f"`alembic upgrade head` on the example failed: {last}"}
    medians = {name: statistics.median(values) for name, values in timings.items()}
    return {
        "medians": medians,
        "ratio": medians["with"] / medians["without"],
        "runs": args.upgrade_repeat,
    }


#: What each import-time figure imports after Alembic's command modules.
IMPORTS = {
    # env.py's line: what a deploy with nothing to sync imports.
    "datasync": "from alembic_datasync import DataSync",
    # A sync that parses, plans and writes imports the engine too.
    "engine": "from alembic_datasync import DataSync; import alembic_datasync.loader, "
    "alembic_datasync.check, alembic_datasync.planner, alembic_datasync.writer, "
    "alembic_datasync.readback",
}


def compile_package() -> None:
    """Our package's bytecode, as `pip install` leaves it, next to Alembic's and SQLAlchemy's.

    The project is installed editable (its source tree), and a machine may set
    PYTHONDONTWRITEBYTECODE=1 (this one does): then every timed process would
    compile our modules from source (about 40 ms at each `alembic` command),
    which no installed copy does, while Alembic's come compiled.
    """
    compileall.compile_dir(ROOT / "alembic_datasync", quiet=1)
    compileall.compile_file(ROOT / "alembic_datasync_plugin.py", quiet=1)


def import_times(runs: int = 5) -> dict[str, float]:
    """Median import times (ms): Alembic's command line's own modules, and what ours add to them.

    ``python -X importtime``, in one process: Alembic's command modules first
    (what every `alembic` command imports), then ours (`IMPORTS`), whose
    cumulative time is then only what they add over them.
    """
    base = "import alembic.config, alembic.command, alembic.runtime.environment; "
    found: dict[str, list[float]] = {"alembic": [], **{name: [] for name in IMPORTS}}
    for _ in range(runs):
        for name, code in IMPORTS.items():
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", base + code],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            alembic_total = ours = 0.0
            for line in done.stderr.splitlines():
                parts = line.split("|")
                if len(parts) != 3 or not parts[1].strip().isdigit():
                    continue
                module = parts[2][1:].rstrip()
                if module.startswith(" "):
                    continue  # imported by a module below: in that module's cumulative time
                cumulative = int(parts[1]) / 1000
                if module.startswith("alembic_datasync"):
                    ours += cumulative
                elif module.startswith("alembic"):
                    alembic_total += cumulative
            found[name].append(ours)
            if name == "datasync":
                found["alembic"].append(alembic_total)
    return {name: statistics.median(times) for name, times in found.items()}


# -- the report ---------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kib = int(re.findall(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[0])
        memory = f"{memory_kib / 1024 / 1024:.0f} GiB"
    except (OSError, IndexError):
        memory = "unknown memory"
    versions = ", ".join(
        f"{name} {version(name)}" for name in ("SQLAlchemy", "PyYAML", "psycopg", "alembic")
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory}, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, {versions}",
    ]


def cell(results: Results, backend: str, size: int, case: str) -> str:
    seconds = results.seconds(backend, size, case)
    if seconds is None:
        return "-"
    peak = results.peak(backend, size, case)
    return f"{seconds:.3f} s / {peak:.0f} MiB"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def verdict(value: float | None, limit: float, at_most: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value <= limit if at_most else value >= limit
    return "met" if met else "**missed**"


TARGET_SIZES = (10_000, 100_000)
#: case -> (target's name, its limit): each sync's time over our loader's alone.
TIME_TARGETS = {
    "noop": ("no-op resync (full plan) / our loader alone", 1.25),
    "changed": ("resync, 1% changed / our loader alone", 1.3),
    "first": ("first sync into an empty table / our loader alone", 1.5),
}


def targets(
    results: Results,
    backends: list[str],
    upgrade: dict[str, dict[str, Any]],
    imports: dict[str, float] | None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """The targets table (issue 16), and the (target, run) pairs that missed."""
    lines = [
        "| target | run | figure | limit | verdict |",
        "|---|---|---|---|---|",
    ]
    missed: list[tuple[str, str]] = []

    def row(target: str, run: str, value: float | None, limit: float, unit: str = "") -> None:
        met = verdict(value, limit)
        if met == "**missed**":
            missed.append((target, run))
        figure = "n/a" if value is None else fmt(value, 0 if unit else 2) + unit
        lines.append(f"| {target} | {run} | {figure} | ≤ {limit}{unit} | {met} |")

    sizes = sorted({size for (_, size, _) in results.runs})
    for case, (target, limit) in TIME_TARGETS.items():
        for backend in backends:
            for size in (s for s in TARGET_SIZES if s in sizes):
                ours = results.seconds(backend, size, case)
                # The process's own CPU time too: on a busy machine the wall time
                # of one run is more the scheduler's than ours (the database
                # server's work is in its own processes, so not in it).
                cpu = ratio(results.cpu(backend, size, case), results.cpu(backend, size, "load"))
                row(
                    target,
                    f"{backend}, {size:,} rows (CPU time: {fmt(cpu)})",
                    ratio(ours, results.seconds(backend, size, "load")),
                    limit,
                )
    if 100_000 in sizes:
        for backend in backends:
            known = {
                c: p for c in SYNC_CASES if (p := results.peak(backend, 100_000, c)) is not None
            }
            if not known:
                continue
            case = max(known, key=lambda c: known[c])
            run = f"{backend}, 100,000 rows ({case})"
            row("peak RSS of any sync (Django loaddata: 168 MiB)", run, known[case], 168, " MiB")
            row(
                "peak RSS of any sync / our loader's alone",
                run,
                ratio(known[case], results.peak(backend, 100_000, "load")),
                1.2,
            )
    else:
        lines.append(
            "| peak RSS at 100,000 rows | - | not measured: run with `--large` | | not measured |"
        )
    for backend in backends:
        result = upgrade.get(backend, {})
        if "ratio" in result:
            row(
                "`alembic upgrade head`, nothing pending, with / without datasync",
                f"the example (8 rows), {backend}",
                result["ratio"],
                1.10,
            )
        else:
            lines.append(
                f"| `alembic upgrade head` with / without datasync | {backend} | pending: "
                f"{result.get('pending', 'not measured')} | ≤ 1.1 | pending |"
            )
    if imports:
        lines.append(
            f"| import time env.py's `from alembic_datasync import DataSync` adds over "
            f"Alembic's command modules (a deploy with nothing to sync imports no more) | "
            f"`python -X importtime`, median of 5 | {imports['datasync']:.0f} ms over "
            f"{imports['alembic']:.0f} ms ({imports['datasync'] / imports['alembic']:.2f} x) | "
            f"reported | - |"
        )
    if imports and "engine" in imports:  # results written before it was measured have none
        lines.append(
            f"| import time with the engine a sync that plans imports too (parser, planner, "
            f"writer) | `python -X importtime`, median of 5 | {imports['engine']:.0f} ms over "
            f"{imports['alembic']:.0f} ms ({imports['engine'] / imports['alembic']:.2f} x) | "
            f"reported | - |"
        )
    return lines, missed


STAGE_TITLES = {
    "read_files": "load the file",
    "reflect_table": "reflect the table",
    "check_file": "check the values",
    "read_rows": "read the table's rows",
    "plan_dataset": "plan (incl. reading the rows)",
    "write_plans": "write",
    "values_not_kept": "read back",
    "_record": "record state and history",
}


def stages(results: Results, backends: list[str]) -> list[str]:
    """Where a sync's time goes at the largest size: each stage of one sync, timed."""
    sizes = sorted({size for (_, size, _) in results.runs})
    if not sizes:
        return []
    size = sizes[-1]
    names = list(STAGE_TITLES)
    out = [
        f"One sync of {size:,} rows per database and kind, each stage timed in process "
        '(bench/case.py `stages`), seconds; "other" is the rest (transaction, state look-up, '
        "report).",
        "",
        "| sync | total | " + " | ".join(STAGE_TITLES[n] for n in names) + " | other |",
        "|---|---|" + "---|" * (len(names) + 1),
    ]
    for backend in backends:
        for case in ("noop", "first"):
            runs = results.runs.get((backend, size, f"stages_{case}"))
            if not runs:
                continue
            spent = runs[0]["stages"]
            total = runs[0]["seconds"]
            counted = sum(v for k, v in spent.items() if k != "read_rows")
            cells = " | ".join(f"{spent.get(n, 0.0):.2f}" for n in names)
            out.append(f"| {backend}, {case} | {total:.2f} | {cells} | {total - counted:.2f} |")
    return out


def write_results(
    results: Results,
    backends: list[str],
    upgrade: dict[str, dict[str, Any]],
    imports: dict[str, float] | None,
    raw: dict[str, Any],
) -> str:
    load = raw.get("load")
    sizes = sorted({size for (_, size, _) in results.runs})
    head = "| case | " + " | ".join(f"{s:,} rows" for s in sizes) + " |"
    rule = "|---|" + "---|" * len(sizes)
    table, missed = targets(results, backends, upgrade, imports)
    out = [
        "# Benchmark results",
        "",
        "Written by `bench/run.py` (`make bench`); do not edit by hand.",
        "",
        f"- date: {raw['date']}, run took {raw['seconds']:.0f} s",
        *machine(),
        "- load average (1 min) at the start and end of the run: "
        + (" and ".join(f"{x:.1f}" for x in load) if load else raw.get("load_note", "not recorded"))
        + f", on {os.cpu_count()} cores: other work on the machine slows every case, so "
        "compare cases of the same run, as the targets do",
        f"- command: `python bench/run.py {raw['command']}`".rstrip(),
        f"- {raw['repeat']} runs per case (at most 3 at 100,000 rows), the loader's run next to "
        "each database's; each cell is the median time of the measured work and the highest "
        "peak RSS of the process (every case imports the same modules first, about 60 MiB)",
        "- a sync is timed from a connected connection to its commit; every sync plans in "
        "full (no state of an earlier sync: bench/state.py measures the no-parse shortcut)",
        "- the floor of every time target is our own loader alone on the same file "
        "(`files.load_dataset`: read, digest, fastload); the rows marked context "
        "(`yaml.load`, the per-row ORM) are not targets",
        "",
        "## Targets (issue 16)",
        "",
        *table,
        "",
    ]
    for backend in backends:
        out += [f"## {backend}", "", head, rule]
        for case in ["load", *SYNC_CASES, "floor", "orm_first", "orm_noop"]:
            if not any((backend, s, case) in results.runs for s in sizes):
                continue
            title = CASE_TITLES.get(case, case)
            cells = " | ".join(cell(results, backend, s, case) for s in sizes)
            out.append(f"| {title} | {cells} |")
        out.append("")
    if any(("-", s, "parse") in results.runs for s in sizes):
        cells = " | ".join(cell(results, "-", s, "parse") for s in sizes)
        out += ["## Context: `yaml.load` alone", "", head, rule]
        out += [f"| {CASE_TITLES['parse']} | {cells} |", ""]
    out += [
        "## `alembic upgrade head` on the example, nothing pending",
        "",
        "Our package's bytecode is compiled first, as an installed copy has it (the "
        "project is installed editable, and a machine may set PYTHONDONTWRITEBYTECODE=1, "
        "as this one does); for the import times too.",
        "",
    ]
    for backend in backends:
        result = upgrade.get(backend, {})
        if "ratio" in result:
            medians = result["medians"]
            out.append(
                f"- {backend}: whole process, median of {result['runs']} runs each: "
                f"{medians['with']:.3f} s with the datasync call, {medians['without']:.3f} s "
                f"with the three datasync lines removed from env.py: ratio {result['ratio']:.3f}"
            )
        else:
            out.append(f"- {backend}: pending: {result.get('pending', 'not measured')}")
    out += ["", "## Where the time goes", "", *stages(results, backends), ""]
    out += ["## Missed targets", ""]
    if missed:
        listed = "; ".join(f"{target} ({run})" for target, run in missed)
        out.append(
            f"- {len(missed)} missed: {listed}. Where the time goes is above; what would "
            "close each gap is in the README's Performance section."
        )
    else:
        out.append("Every target measured in this run is met.")
    out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000", help="row counts, comma-separated")
    parser.add_argument("--large", action="store_true", help="add 100,000 rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--upgrade-repeat", type=int, default=7, help="runs of alembic upgrade")
    parser.add_argument(
        "--context-max-rows",
        type=int,
        default=10_000,
        help="largest size yaml.load and the per-row ORM (context) run at (default 10,000)",
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("DATASYNC_BENCH_POSTGRESQL_URL"),
        help="PostgreSQL URL (default: $DATASYNC_BENCH_POSTGRESQL_URL); left out when unset",
    )
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("DATASYNC_BENCH_MYSQL_URL"),
        help="MariaDB / MySQL URL (default: $DATASYNC_BENCH_MYSQL_URL); left out when unset",
    )
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write results")
    parser.add_argument(
        "--raw",
        default=str(HERE / "results.json"),
        help="every run's measurements, as JSON (default bench/results.json)",
    )
    parser.add_argument(
        "--from-raw",
        metavar="FILE",
        help="write the results from a --raw file of an earlier run instead of measuring",
    )
    args = parser.parse_args()
    args.sizes = sorted(
        {int(s) for s in args.sizes.split(",")} | ({100_000} if args.large else set())
    )
    started = time.perf_counter()
    if args.from_raw:
        raw = json.loads(Path(args.from_raw).read_text())
        raw.setdefault("date", "not recorded")
        raw.setdefault("command", "(not recorded)")
        raw.setdefault("repeat", args.repeat)
        results = Results({tuple(k): v for k, v in raw["runs"]})  # type: ignore[misc]
        backend_names, upgrade = raw["backends"], raw["upgrade"]
        imports = raw.get("imports")
    else:
        load_at_start = os.getloadavg()[0]
        workdir = Path(tempfile.mkdtemp(prefix="datasync_bench_"))
        backends = make_backends(workdir, args.postgresql_url, args.mysql_url)
        backend_names = [b.name for b in backends]
        try:
            results = measure(args, workdir, backends)
            print("  alembic upgrade head on the example", file=sys.stderr, flush=True)
            compile_package()
            upgrade = upgrade_overhead(args, workdir, backends)
            imports = import_times()
        finally:
            drop_backends(backends)
            shutil.rmtree(workdir, ignore_errors=True)
        raw = {
            "runs": [[list(k), v] for k, v in results.runs.items()],
            "backends": backend_names,
            "upgrade": upgrade,
            "imports": imports,
            "seconds": time.perf_counter() - started,
            "load": [load_at_start, os.getloadavg()[0]],
            "date": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
            "command": " ".join(sys.argv[1:]),
            "repeat": args.repeat,
        }
        Path(args.raw).write_text(json.dumps(raw, indent=1))
    text = write_results(results, backend_names, upgrade, imports, raw)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
