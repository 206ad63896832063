"""A small sample of `make bench`: the benchmark still runs end to end and writes its tables.

The benchmark is measured on purpose outside the test suite (timings on a shared
machine are noise, see bench/RESULTS.md); this only checks that it works, on
SQLite and ten rows, so that a change to the library cannot quietly break it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_every_case_and_writes_the_targets_and_the_stages(
    tmp_path: Path,
) -> None:
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            *("--sizes", "10", "--repeat", "1", "--upgrade-repeat", "1"),
            *("--context-max-rows", "10", "--postgresql-url", "", "--mysql-url", ""),
            *("--out", str(out), "--raw", str(raw)),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = out.read_text()
    for row in (
        "| our loader alone: files.load_dataset (read, digest, fastload) (floor) | ",
        "| first sync into an empty table | ",
        "| no-op resync | ",
        "| resync, 1% of rows changed | ",
        "| resync, 1% added + 1% removed, prune='all' | ",
        "| `alembic upgrade head`, nothing pending, with / without datasync | the example "
        "(8 rows), sqlite | ",
        "| sqlite, first | ",
        "| sqlite, noop | ",
    ):
        assert row in results, row
    assert "import time env.py's `from alembic_datasync import DataSync`" in results
    runs = json.loads(raw.read_text())["runs"]
    stages = next(run for key, run in runs if key[2] == "stages_first")[0]["stages"]
    # Every stage of a first sync was timed: none of bench/case.py's hooks missed its target.
    assert set(stages) == {
        "read_files",
        "reflect_table",
        "check_file",
        "read_rows",
        "plan_dataset",
        "write_plans",
        "values_not_kept",
        "_record",
    }


def test_the_csv_benchmark_runs_every_case_on_a_file_of_three_chunks(tmp_path: Path) -> None:
    """`make bench-csv` on 25,000 rows (three chunks of a sync), on PostgreSQL: each case
    checks its own outcome (rows created, updated, unchanged) or the run stops."""
    url = os.environ.get("DATASYNC_TEST_POSTGRESQL_URL")
    if not url:
        pytest.skip("DATASYNC_TEST_POSTGRESQL_URL is not set: the CSV benchmark is PostgreSQL's")
    out = tmp_path / "CSV_RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "csv_datasets.py"),
            *("--rows", "25000", "--out", str(out)),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "DATASYNC_BENCH_POSTGRESQL_URL": url},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = out.read_text()
    assert "- 25,000 rows of the LLM-node shape" in results
    for title in (
        "COPY ... FROM STDIN (FORMAT csv) of the file (floor)",
        "the CSV reader alone, 10,000 rows at a time as a sync reads them, no database",
        "first sync into an empty table, planned whole (as before chunks: the baseline)",
        "first sync into an empty table",
        "no-op resync (full plan; records the digests)",
        "no-op resync thereafter (digests match: no parse)",
        "resync, one cell changed (full plan, one UPDATE)",
        "`--check` of the file: the full plan with its audit, read-only",
    ):
        assert f"| {title} | " in results, title
