"""One benchmark case, run in a process of its own so that its peak RSS is its own.

    python bench/case.py '{"case": "sync", "file": ..., "url": ..., ...}'

Prints one JSON line: the wall time of the measured work (imports and
interpreter start excluded), the process's peak RSS, and what the case did
(rows written, the sync's summary) so the runner can check every case did
what it claims.  Every case imports the same modules before timing, so peak
RSS compares the data each one holds, not which libraries it loaded.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from node_data import COLUMNS, llm_nodes
from sqlalchemy.orm import Session, registry

from alembic_datasync import Dataset, api, check, planner, readback, sync, tables, writer
from alembic_datasync.fastload import fast_rows
from alembic_datasync.files import load_dataset
from alembic_datasync.loader import parse_rows

NODES = Dataset("nodes.yaml", table="llm_node_configuration", key="node_name")


class Node:
    """The application's ORM model, mapped onto the benchmark's table."""

    node_name: str


registry().map_imperatively(Node, llm_nodes)


def parse_alone(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor: yaml.load with PyYAML's C loader, nothing else."""
    document = yaml.load(Path(spec["file"]).read_bytes(), Loader=yaml.CSafeLoader)
    return {"rows": len(document or {})}


def parse_rows_case(spec: dict[str, Any]) -> dict[str, Any]:
    """The full loader alone, fast path off: loader.parse_rows(fast=False), with positions."""
    dataset = Dataset(spec["file"], table="t", key="node_name")
    return {"rows": len(parse_rows(Path(spec["file"]).read_bytes(), dataset, fast=False))}


def fast_rows_case(spec: dict[str, Any]) -> dict[str, Any]:
    """fastload alone: the same rows as parse_rows, built from the event stream."""
    dataset = Dataset(spec["file"], table="t", key="node_name")
    rows = fast_rows(Path(spec["file"]).read_bytes(), dataset)
    if rows is None:
        raise SystemExit("fastload declined a benchmark file")
    return {"rows": len(rows)}


def load_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Our file loader alone, as a sync calls it: read the bytes, digest them, fastload."""
    loaded = load_dataset(Dataset(spec["file"], table=NODES.table, key=NODES.key))
    return {"rows": len(loaded.rows)}


def parse_and_write(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor with the database: parse, then COPY (PostgreSQL) or executemany."""
    document = yaml.load(Path(spec["file"]).read_bytes(), Loader=yaml.CSafeLoader)
    engine = sa.create_engine(spec["url"])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            names = ", ".join(COLUMNS)
            with cursor.copy(f"COPY llm_node_configuration ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for key, columns in document.items():
                    copy.write_row([key, *(columns[c] for c in COLUMNS[1:])])
        else:
            mark = "%s" if engine.dialect.paramstyle in ("format", "pyformat") else "?"
            marks = ", ".join([mark] * len(COLUMNS))
            cursor.executemany(
                f"INSERT INTO llm_node_configuration ({', '.join(COLUMNS)}) VALUES ({marks})",
                [[key, *(columns[c] for c in COLUMNS[1:])] for key, columns in document.items()],
            )
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return {"rows": len(document)}


def sync_case(spec: dict[str, Any]) -> dict[str, Any]:
    """alembic_datasync.sync of the file, as shipped (the loader takes fastload's path first).

    Timed from a connected connection (as `alembic upgrade head` hands env.py
    one) to the committed sync: connecting is the database's, not the sync's.
    """
    dataset = Dataset(spec["file"], table=NODES.table, key=NODES.key, prune=spec["prune"])
    engine = sa.create_engine(spec["url"])
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
            started = time.perf_counter()
            report = sync(connection, [dataset])
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    (plan,) = report.datasets
    return {
        "seconds": seconds,
        "rows": plan.total,
        "created": plan.create_count,
        "updated": plan.update_count,
        "deleted": plan.delete_count,
        "unchanged": plan.unchanged,
    }


#: The stages of a sync timed by the "stages" case: (module, function name).
STAGES = (
    (api, "read_files"),
    (tables, "reflect_table"),
    (check, "check_file"),
    (planner, "read_rows"),
    (planner, "plan_dataset"),
    (writer, "write_plans"),
    (readback, "values_not_kept"),
    (api, "_record"),
)


def stages_case(spec: dict[str, Any]) -> dict[str, Any]:
    """A sync with the time of each stage: where the time goes (a profile by stage)."""
    spent: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return run

    for module, name in STAGES:
        setattr(module, name, timed(name, getattr(module, name)))
    result = sync_case(spec)
    result["stages"] = spent
    return result


def orm_per_row(spec: dict[str, Any]) -> dict[str, Any]:
    """A hand-written sync script: per node, SELECT it by key, set attributes, flush; commit."""
    document = yaml.load(Path(spec["file"]).read_bytes(), Loader=yaml.CSafeLoader)
    engine = sa.create_engine(spec["url"])
    created = 0
    try:
        with Session(engine) as session:
            for name, columns in document.items():
                node = session.scalars(
                    sa.select(Node).where(llm_nodes.c.node_name == name)
                ).one_or_none()
                if node is None:
                    node = Node()
                    node.node_name = name
                    session.add(node)
                    created += 1
                for column, value in columns.items():
                    setattr(node, column, value)
                session.flush()
            session.commit()
    finally:
        engine.dispose()
    return {"rows": len(document), "created": created}


CASES = {
    "load": load_case,
    "stages": stages_case,
    "parse": parse_alone,
    "parse_rows": parse_rows_case,
    "fastload": fast_rows_case,
    "floor": parse_and_write,
    "sync": sync_case,
    "orm": orm_per_row,
}


def peak_rss_mib() -> float:
    """This process's own peak RSS, in MiB.

    VmHWM, not ``ru_maxrss``: Linux carries the parent's high-water mark
    across fork and exec into ``ru_maxrss``, so a child of a runner holding
    100,000 generated rows would report the runner's peak as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    spec = json.loads(sys.argv[1])
    run = CASES[spec["case"]]
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = run(spec)
    # A case that times itself (from a connected connection) says so.
    result.setdefault("seconds", time.perf_counter() - started)
    result["cpu_seconds"] = time.process_time() - cpu_started
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
