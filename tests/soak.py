"""How hard the concurrency and kill tests push, and what they report.

``.ci/run`` runs a sample; ``make soak`` the full counts (README "Testing"):

- ``DATASYNC_SOAK_ROUNDS``: rounds of 8 concurrent deploys (default 3, soak 20);
- ``DATASYNC_SOAK_KILL_POINTS``: SIGKILLs spread over one large sync (default 8, soak 50);
- ``DATASYNC_SOAK_REPORT``: a file each test appends its figures to, one JSON
  object a line; ``python tests/soak.py FILE`` prints them as a table.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROUNDS = int(os.environ.get("DATASYNC_SOAK_ROUNDS", "3"))
KILL_POINTS = int(os.environ.get("DATASYNC_SOAK_KILL_POINTS", "8"))


@contextmanager
def figures(test: str, **known: Any) -> Iterator[dict[str, Any]]:
    """A dict the test fills with its counts; written to the report, with the seconds
    it took, whether the test passes or fails."""
    found: dict[str, Any] = {"test": test, **known}
    started = time.monotonic()
    try:
        yield found
    finally:
        found["seconds"] = round(time.monotonic() - started, 1)
        path = os.environ.get("DATASYNC_SOAK_REPORT")
        if path:
            with open(path, "a") as report:
                report.write(json.dumps(found) + "\n")


def print_report(path: str) -> None:
    """The report as a table: one line per test, its figures as ``name=value``."""
    with open(path) as report:
        for line in report:
            found = json.loads(line)
            test = found.pop("test")
            print(f"{test:<58} " + "  ".join(f"{k}={v}" for k, v in found.items()))


if __name__ == "__main__":
    print_report(sys.argv[1])
