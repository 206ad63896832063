"""The long fuzz campaign: random and mutated YAML through the loader, validator and sync.

    python bench/fuzz_datasets.py [--examples N] [--sync-examples M] [--start S]

Runs the strategies of tests/test_fuzz.py for many more examples than the
suite does, and, unlike the suite, does not stop at the first surprise: every
input that ends in an exception other than our own (a `DatasyncError`, or a
`FileProblem` with a position) is recorded, grouped by exception type and the
line that raised it, and printed at the end with the smallest input of each
group.  Exits non-zero when there is any finding.

Runs so far (two campaigns of 200,000 loader + validator inputs and 40,000
synced on SQLite each, on 2026-11-26): 480,000 inputs, one finding, fixed
(``? !!float `` raised IndexError from SafeConstructor), then none.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as start_at
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_fuzz import (  # the tests folder is not a package
    ANY_BYTES,
    KEYED,
    LISTED,
    load_and_validate,
    sync_in_rollback,
)

from alembic_datasync import Dataset, DatasyncError


class Campaign:
    """Counts inputs and collects findings: unexpected exceptions, by where they came from."""

    def __init__(self) -> None:
        self.tried = 0
        self.outcomes: Counter[str] = Counter()
        self.findings: dict[tuple[str, str], tuple[int, bytes, str]] = {}

    def record(self, source: bytes, exc: BaseException) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{frame.filename}:{frame.lineno}"
        key = (type(exc).__name__, where)
        count, smallest, message = self.findings.get(key, (0, source, str(exc)))
        if len(source) < len(smallest):
            smallest, message = source, str(exc)
        self.findings[key] = (count + 1, smallest, message)

    def run(self, name: str, check: Any, examples: int, start: int) -> None:
        started = time.perf_counter()
        before = self.tried

        @start_at(start)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(ANY_BYTES, st.sampled_from([KEYED, LISTED]))
        def one(source: bytes, dataset: Dataset) -> None:
            self.tried += 1
            try:
                self.outcomes[check(source, dataset)] += 1
            except DatasyncError:
                self.outcomes["refused: DatasyncError"] += 1
            except Exception as exc:  # a finding: anything that is not ours
                self.outcomes["FINDING"] += 1
                self.record(source, exc)

        one()
        elapsed = time.perf_counter() - started
        print(f"{name}: {self.tried - before:,} inputs in {elapsed:.0f} s", flush=True)


def loader_and_validator(source: bytes, dataset: Dataset) -> str:
    return "valid" if load_and_validate(source, dataset) is not None else "refused: positioned"


def real_sync(source: bytes, dataset: Dataset) -> str:
    sync_in_rollback(source, dataset)
    return "synced"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--sync-examples", type=int, default=20_000)
    parser.add_argument("--start", type=int, default=20261126)
    args = parser.parse_args()
    campaign = Campaign()
    campaign.run("loader + validator", loader_and_validator, args.examples, args.start)
    campaign.run("sync on SQLite", real_sync, args.sync_examples, args.start + 1)
    print(f"inputs tried: {campaign.tried:,}")
    for outcome, count in sorted(campaign.outcomes.items()):
        print(f"  {outcome}: {count:,}")
    print(f"findings: {len(campaign.findings)}")
    for (kind, where), (count, smallest, message) in sorted(campaign.findings.items()):
        print(f"  {kind} at {where} ({count:,} inputs): {message[:200]}")
        print(f"    smallest input: {smallest!r}")
    return 1 if campaign.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
