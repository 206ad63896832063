"""The no-parse shortcut and the full plan always agree, under random drift (issue 13, item 4).

One seeded walk per database: at each step some drift happens (a value edited in the
table, a row inserted or deleted, a column's type changed, the file touched without a
change, the file changed, or nothing), then the full plan (`plan`, which never takes the
shortcut) and a sync (which takes it when it may) are compared: same counts, same changes,
same notes.  When the sync took the shortcut, the full plan must have had nothing to do.

``DATASYNC_DIFFERENTIAL_STEPS`` and ``DATASYNC_DIFFERENTIAL_SEEDS`` make the walk longer
(``make differential`` runs a larger one); the default is sized for CI.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, SyncReport, plan, sync
from alembic_datasync.report import plan_lines

STEPS = int(os.environ.get("DATASYNC_DIFFERENTIAL_STEPS", "40"))
SEEDS = [int(s) for s in os.environ.get("DATASYNC_DIFFERENTIAL_SEEDS", "1").split(",")]

COLUMNS = ("name", "rank", "price", "active", "note")
NAMES = ("alpha", "beta", "gamma", "delta")
PRICES = (0.1, 0.2, 2.5, 1e-7, 123456.789)


def create_table(engine: sa.Engine, rank_type: str = "INTEGER", name_length: int = 60) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE items (code VARCHAR(20) PRIMARY KEY, name VARCHAR({name_length}) "
            f"NOT NULL DEFAULT 'unnamed', rank {rank_type} DEFAULT 3, price DOUBLE PRECISION, "
            f"active BOOLEAN, note VARCHAR(100))"
        )


def change_a_column_type(engine: sa.Engine, rng: random.Random, shape: dict[str, Any]) -> None:
    """Widen or narrow a column: a migration the shortcut must notice."""
    if rng.random() < 0.5:
        shape["rank"] = "BIGINT" if shape["rank"] == "INTEGER" else "INTEGER"
    else:
        shape["name"] = 80 if shape["name"] == 60 else 60
    dialect = engine.dialect.name
    with engine.begin() as connection:
        if dialect == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE items ALTER COLUMN rank TYPE {shape['rank']}")
            connection.exec_driver_sql(
                f"ALTER TABLE items ALTER COLUMN name TYPE VARCHAR({shape['name']})"
            )
        elif dialect in ("mysql", "mariadb"):
            connection.exec_driver_sql(f"ALTER TABLE items MODIFY rank {shape['rank']} DEFAULT 3")
            connection.exec_driver_sql(
                f"ALTER TABLE items MODIFY name VARCHAR({shape['name']}) NOT NULL DEFAULT 'unnamed'"
            )
        else:  # SQLite: a new table, as Alembic's batch mode does it
            connection.exec_driver_sql("ALTER TABLE items RENAME TO items_old")
    if dialect == "sqlite":
        create_table(engine, shape["rank"], shape["name"])
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO items SELECT * FROM items_old")
            connection.exec_driver_sql("DROP TABLE items_old")


def random_value(rng: random.Random, column: str) -> Any:
    if column == "name":
        return rng.choice(NAMES)
    if column == "rank":
        return rng.randint(0, 4)
    if column == "price":
        return rng.choice(PRICES)
    if column == "active":
        return rng.random() < 0.5
    return rng.choice((None, "a note", "another note"))


def render(rows: dict[str, dict[str, Any]]) -> str:
    def scalar(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return f'"{value}"'
        text = repr(value)
        if isinstance(value, float) and "e" in text:
            # YAML 1.1 reads 1e-07 as text: a dot in the mantissa, a sign in the exponent.
            mantissa, exponent = text.split("e")
            mantissa += "" if "." in mantissa else ".0"
            text = f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"
        return text

    out = []
    for code, values in rows.items():
        out.append(f"{code}:" + ("" if values else " {}"))
        out.extend(f"  {column}: {scalar(value)}" for column, value in values.items())
    return "\n".join(out) + "\n"


def random_row(rng: random.Random) -> dict[str, Any]:
    return {c: random_value(rng, c) for c in COLUMNS if c == "name" or rng.random() < 0.7}


def change_the_file(rng: random.Random, rows: dict[str, dict[str, Any]]) -> None:
    choice = rng.random()
    codes = list(rows)
    if choice < 0.3 or not codes:
        rows[f"r{rng.randint(0, 30)}"] = random_row(rng)
    elif choice < 0.5 and len(codes) > 1:
        del rows[rng.choice(codes)]
    elif choice < 0.75:
        row = rows[rng.choice(codes)]
        column = rng.choice(COLUMNS)
        row[column] = random_value(rng, column)
    else:  # a line removed: its value goes back to the default
        row = rows[rng.choice(codes)]
        removable = [c for c in row if c != "name"]
        if removable:
            del row[rng.choice(removable)]


def drift_the_table(engine: sa.Engine, rng: random.Random, kind: str) -> None:
    with engine.begin() as connection:
        codes = [code for (code,) in connection.exec_driver_sql("SELECT code FROM items")]
        if kind == "edit" and codes:
            column = rng.choice(COLUMNS)
            connection.execute(
                sa.text(f"UPDATE items SET {column} = :value WHERE code = :code"),
                {"value": random_value(rng, column), "code": rng.choice(codes)},
            )
        elif kind == "insert":
            connection.execute(
                sa.text("INSERT INTO items (code, name) VALUES (:code, :name)"),
                {"code": f"app{rng.randint(0, 10_000)}", "name": rng.choice(NAMES)},
            )
        elif kind == "delete" and codes:
            connection.execute(
                sa.text("DELETE FROM items WHERE code = :code"), {"code": rng.choice(codes)}
            )


def shape_of(report: SyncReport) -> list[Any]:
    """What a report says, without the wording that differs between planned and applied."""
    return [
        (
            p.dataset.label,
            p.total,
            len(p.creates),
            len(p.updates),
            len(p.deletes),
            p.unchanged,
            p.notes,
            plan_lines(p),
        )
        for p in report.datasets
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_shortcut_and_the_full_plan_always_agree(
    engine: sa.Engine, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    shape: dict[str, Any] = {"rank": "INTEGER", "name": 60}
    create_table(engine)
    dataset = Dataset("items.yaml", table="items", key="code", prune=rng.choice((True, "all")))
    path = tmp_path / "items.yaml"
    rows = {f"r{i}": random_row(rng) for i in range(8)}
    path.write_text(render(rows))
    taken = drifted = 0
    for step in range(STEPS):
        kind = rng.choice(
            ("nothing", "nothing", "touch", "file", "edit", "insert", "delete", "type")
        )
        if kind == "touch":
            path.write_bytes(path.read_bytes())
            os.utime(path, (step * 10.0 + 1e9, step * 10.0 + 1e9))
        elif kind == "file":
            change_the_file(rng, rows)
            path.write_text(render(rows))
        elif kind == "type":
            change_a_column_type(engine, rng, shape)
        elif kind in ("edit", "insert", "delete"):
            drift_the_table(engine, rng, kind)
        with engine.connect() as connection:
            full = plan(connection, [dataset], base_dir=tmp_path)
        with engine.connect() as connection:
            synced = sync(connection, [dataset], base_dir=tmp_path)
        where = f"seed {seed}, step {step}, after {kind}"
        assert shape_of(synced) == shape_of(full), where
        if synced.datasets[0].from_state:
            taken += 1
            assert not full.has_changes, where
        drifted += full.has_changes
        # After any sync, the full plan of the same file is empty.
        with engine.connect() as connection:
            assert not plan(connection, [dataset], base_dir=tmp_path).has_changes, where
    # The walk exercised both roads.
    print(f"DIFF seed={seed} taken={taken} drifted={drifted}")
    assert taken > 0 and drifted > 0, (taken, drifted)
