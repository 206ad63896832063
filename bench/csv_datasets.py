"""CSV datasets at scale on PostgreSQL: sync against COPY of the same file; bench/CSV_RESULTS.md.

    DATASYNC_BENCH_POSTGRESQL_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        make bench-csv                                  # 100,000 rows, a minute or two
    make bench-csv BENCH_ARGS="--rows 1000000"          # the issue's million rows

The file has the example's LLM-node shape (bench/node_data.py: nine columns, a
third of the rows with NULL Azure columns), written once per run.  Every case
is a fresh process (this script with ``--case``), so its peak RSS is its own;
times are of the measured work (interpreter start and imports excluded).

- copy: ``COPY llm_node_configuration (...) FROM STDIN (FORMAT csv, HEADER)``
  of the file's bytes through psycopg, into the empty table: the floor;
- read: the CSV reader alone (`files.csv_chunks`), a chunk at a time as a
  sync reads the file; no database;
- whole: `alembic_datasync.sync` into the empty table, the file planned
  whole (`chunked` switched off): how a CSV file was synced before chunks;
- first: `alembic_datasync.sync` into the empty table, no state: a chunk of
  10,000 rows at a time (`chunked`);
- noop: the same sync again: the full plan (read, check, the table's rows
  by key, compare) finding nothing to do; it records the table's digests;
- shortcut: the same sync once more, as every later deploy with the file
  unchanged runs it: the state's digests match, nothing is parsed;
- changed: one cell of one row changed in the file: the full plan and one UPDATE;
- check: ``alembic datasync --check`` of that file (a dry run with the audit:
  also the table's rows the file does not list), read-only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from node_data import COLUMNS, llm_nodes, metadata, node_row

from alembic_datasync import Dataset, StateTables, chunked, sync
from alembic_datasync.files import DEFAULT_MAX_FILE_SIZE, csv_chunks
from alembic_datasync.storage import history_table, state_table

HERE = Path(__file__).resolve().parent
SCHEMA = "datasync_bench_csv"
TABLE = llm_nodes.name
CASES = {
    "copy": "COPY ... FROM STDIN (FORMAT csv) of the file (floor)",
    "read": "the CSV reader alone, 10,000 rows at a time as a sync reads them, no database",
    "whole": "first sync into an empty table, planned whole (as before chunks: the baseline)",
    "first": "first sync into an empty table",
    "noop": "no-op resync (full plan; records the digests)",
    "shortcut": "no-op resync thereafter (digests match: no parse)",
    "changed": "resync, one cell changed (full plan, one UPDATE)",
    "check": "`--check` of the file: the full plan with its audit, read-only",
}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text == "" or any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_file(path: Path, size: int) -> None:
    """The dataset of ``size`` nodes as CSV."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for index in range(size):
            row = node_row(index)
            out.write(",".join(_cell(row[c]) for c in COLUMNS) + "\n")


def write_changed(base: Path, path: Path, index: int) -> None:
    """``base`` with node ``index``'s default_model changed (one cell)."""
    with base.open("rb") as source, path.open("wb") as out:
        for number, line in enumerate(source):
            if number == index + 1:  # after the header
                name, model, rest = line.split(b",", 2)
                line = b",".join((name, model + b"-changed", rest))
            out.write(line)


# --- the cases, each in a process of its own ---------------------------------------------


def case_copy(spec: dict[str, Any]) -> dict[str, Any]:
    engine = sa.create_engine(spec["url"])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(COLUMNS)
        sql = f"COPY {TABLE} ({names}) FROM STDIN (FORMAT csv, HEADER true)"
        with Path(spec["file"]).open("rb") as file, cursor.copy(sql) as copy:
            while chunk := file.read(1 << 20):
                copy.write(chunk)
        rows = cursor.rowcount
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return {"rows": rows}


def case_read(spec: dict[str, Any]) -> dict[str, Any]:
    dataset = Dataset(spec["file"], table=TABLE, key="node_name")
    rows = 0
    with csv_chunks(dataset, None, DEFAULT_MAX_FILE_SIZE, None, chunked.CHUNK_ROWS) as chunks:
        for chunk in chunks:
            rows += len(chunk.rows)
    return {"rows": rows}


def case_sync(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["case"] == "whole":
        chunked.streamable = lambda *args, **kwargs: False  # type: ignore[assignment]
    check = spec["case"] == "check"
    engine = sa.create_engine(spec["url"])
    try:
        with engine.connect() as connection:
            report = sync(
                connection,
                [Dataset(spec["file"], table=TABLE, key="node_name")],
                dry_run=check,
                audit=check,
            )
    finally:
        engine.dispose()
    (plan,) = report.datasets
    return {
        "rows": plan.total,
        "created": plan.create_count,
        "updated": plan.update_count,
        "unchanged": plan.unchanged,
    }


def run_case_here(spec: dict[str, Any]) -> None:
    run = (
        case_copy if spec["case"] == "copy" else case_read if spec["case"] == "read" else case_sync
    )
    started, cpu = time.perf_counter(), time.process_time()
    result = run(spec)
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu
    # Linux reports ru_maxrss in KiB.
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# --- the runner ------------------------------------------------------------------------------


def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--case", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"case {spec['case']} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def expect(case: str, result: dict[str, Any], size: int) -> None:
    """Every case did what it claims, or the run stops."""
    wanted = {
        "copy": {"rows": size},
        "read": {"rows": size},
        "whole": {"rows": size, "created": size},
        "first": {"rows": size, "created": size},
        "noop": {"rows": size, "created": 0, "updated": 0, "unchanged": size},
        "shortcut": {"rows": size, "created": 0, "updated": 0, "unchanged": size},
        "changed": {"rows": size, "created": 0, "updated": 1},
        "check": {"rows": size, "created": 0, "updated": 0, "unchanged": size},
    }[case]
    wrong = {k: result.get(k) for k, v in wanted.items() if result.get(k) != v}
    if wrong:
        raise SystemExit(f"case {case} did not do what it should: {wrong} (wanted {wanted})")


class Database:
    def __init__(self, url: str) -> None:
        base = sa.make_url(url)
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
        self.url = base.update_query_dict({"options": f"-csearch_path={SCHEMA}"})
        self.engine = sa.create_engine(self.url, pool_pre_ping=True)

    def empty_table(self) -> None:
        with self.engine.begin() as connection:
            metadata.drop_all(connection)
            metadata.create_all(connection)

        with self.engine.begin() as connection:
            state_table(StateTables()).metadata.drop_all(connection)
            history_table(StateTables()).metadata.drop_all(connection)

    def vacuum(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql(f"VACUUM ANALYZE {TABLE}")

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        self.admin.dispose()


def measure(args: argparse.Namespace, workdir: Path, database: Database) -> dict[str, Any]:
    base = workdir / "nodes.csv"
    changed = workdir / "nodes_changed.csv"
    started = time.perf_counter()
    write_file(base, args.rows)
    write_changed(base, changed, args.rows // 2)
    print(
        f"wrote {base.stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    url = database.url.render_as_string(hide_password=False)
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}

    def one(case: str, file: Path) -> None:
        result = run_case({"case": case, "file": str(file), "url": url})
        expect(case, result, args.rows)
        runs[case].append(result)
        print(
            f"  {case}: {result['seconds']:.2f} s ({result['cpu_seconds']:.2f} s CPU), "
            f"{result['peak_rss_mib']:.0f} MiB",
            flush=True,
        )

    for _ in range(args.repeat):
        database.empty_table()
        one("copy", base)
        one("read", base)
        database.empty_table()
        one("whole", base)
        database.empty_table()
        one("first", base)
        database.vacuum()
        one("noop", base)
        one("shortcut", base)
        one("changed", changed)
        one("check", changed)
    return {
        "rows": args.rows,
        "bytes": base.stat().st_size,
        "runs": runs,
    }


def median(raw: dict[str, Any], case: str) -> float:
    return float(statistics.median(r["seconds"] for r in raw["runs"][case]))


def peak(raw: dict[str, Any], case: str) -> float:
    return float(max(r["peak_rss_mib"] for r in raw["runs"][case]))


def results_table(raw: dict[str, Any]) -> list[str]:
    """The Markdown table of the run: time, peak RSS, and both as ratios to COPY's."""
    copy_seconds, copy_peak = median(raw, "copy"), peak(raw, "copy")
    out = [
        "| case | time | x COPY's time | CPU (this process) | peak RSS | x COPY's peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case, title in CASES.items():
        seconds, rss = median(raw, case), peak(raw, case)
        cpu = statistics.median(r["cpu_seconds"] for r in raw["runs"][case])
        out.append(
            f"| {title} | {seconds:.2f} s | {seconds / copy_seconds:.2f} | {cpu:.2f} s | "
            f"{rss:,.0f} MiB | {rss / copy_peak:.1f} |"
        )
    return out


def write_results(raw: dict[str, Any]) -> str:
    versions = ", ".join(f"{n} {version(n)}" for n in ("SQLAlchemy", "psycopg"))
    load = raw.get("load")
    out = [
        "# CSV benchmark results",
        "",
        "Written by `bench/csv_datasets.py` (`make bench-csv`); do not edit by hand.",
        "",
        f"- date: {raw['date']}, run took {raw['seconds']:.0f} s",
        f"- {raw['rows']:,} rows of the LLM-node shape, a CSV file of {raw['bytes']:,} bytes",
        f"- PostgreSQL {raw['server']}; Python {platform.python_version()}, {versions}; "
        f"{os.cpu_count()} cores",
        "- load average (1 min) at the start and end: "
        + (" and ".join(f"{x:.1f}" for x in load) if load else "not recorded")
        + ": the machine is shared, compare cases of the same run",
        f"- command: `python bench/csv_datasets.py {raw['command']}`".rstrip(),
        f"- {raw['repeat']} run(s) per case, each a fresh process: median time of the measured "
        "work (interpreter start and imports excluded), highest peak RSS of the process; CPU is "
        "the process's own (user + system), not the server's: COPY's work is the server's",
        "",
        *results_table(raw),
        "",
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file (100,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (1)")
    parser.add_argument("--out", type=Path, default=HERE / "CSV_RESULTS.md")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_case_here(json.loads(args.case))
        return
    url = os.environ.get("DATASYNC_BENCH_POSTGRESQL_URL")
    if not url:
        raise SystemExit("set DATASYNC_BENCH_POSTGRESQL_URL to a PostgreSQL database to measure on")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            server = connection.exec_driver_sql("SHOW server_version").scalar()
        with tempfile.TemporaryDirectory(prefix="datasync-bench-csv-") as folder:
            raw = measure(args, Path(folder), database)
    finally:
        database.drop()
    raw.update(
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.perf_counter() - started,
        load=[load_before, os.getloadavg()[0]],
        server=server,
        repeat=args.repeat,
        command=" ".join(sys.argv[1:]),
    )
    text = write_results(raw)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
