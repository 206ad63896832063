"""Issue 9, values: what the file writes is what the table holds, and the next plan is empty.

Class 2: exact decimals never pass through a float.  Class 6: binary columns.
Class 7: PostgreSQL arrays of mixed numbers.  Class 14: no perpetual diff
(column precision, types with no comparison rule, lossy storage, a trigger).

The contract (PRODUCT.md, "Sync semantics"): after any sync the next plan of
the same file is empty; where the database makes that impossible the sync says
so at once, naming row and column, or validation refuses the value up front.
"""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, DatasyncError, InvalidDatasets, SyncReport, plan, sync

VALUES = Dataset("values.yaml", table="t", key="name")


def write(folder: Path, text: str) -> None:
    (folder / "values.yaml").write_text(text, encoding="utf-8")


def execute(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def stored(engine: sa.Engine, column: str = "v") -> Any:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT {column} FROM t").scalar_one()


def run_sync(engine: sa.Engine, folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, [VALUES], base_dir=folder)


def run_plan(engine: sa.Engine, folder: Path) -> SyncReport:
    with engine.connect() as connection:
        return plan(connection, [VALUES], base_dir=folder)


def one_value_table(engine: sa.Engine, column_type: str) -> None:
    execute(engine, f"CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, v {column_type})")


def sticks_or_is_refused(
    engine: sa.Engine, folder: Path, where: str, *, warning_is_enough: bool = False
) -> SyncReport | None:
    """Sync ``values.yaml`` (row ``r1``, column ``v``): the value sticks, or the sync says so.

    Sticks: the next plan is empty.  Says so: a `DatasyncError` naming the
    column and the row (its position ``where`` or its key), with nothing
    written; or, with ``warning_is_enough`` (the database rewrites what it is
    given), a warning of the sync's report naming row and column.  Returns the
    report of a sync that went through.
    """
    try:
        report = run_sync(engine, folder)
    except DatasyncError as refused:
        message = str(refused)
        assert "v" in message.replace("values.yaml", "")
        assert where in message or "'r1'" in message, message
        return None
    again = run_plan(engine, folder)
    if again.has_changes and warning_is_enough:
        assert any("r1" in w and "v" in w for w in report.warnings), report.render()
        return report
    assert again.has_changes is False, again.render()
    return report


# -- class 2: exact decimals ---------------------------------------------------

EXACT_DECIMALS = [
    pytest.param("1.000000000000000001", id="one-plus-1e-18"),
    pytest.param("12345678.1234567891", id="more-digits-than-a-float"),
    pytest.param('"1.000000000000000001"', id="quoted"),
    pytest.param("-99999999999999999999.999999999999999999", id="largest-negative"),
]


@pytest.mark.parametrize("value", EXACT_DECIMALS)
def test_a_numeric_value_is_stored_exactly_as_the_file_writes_it(
    engine: sa.Engine, tmp_path: Path, value: str
) -> None:
    one_value_table(engine, "NUMERIC(38, 18)")
    write(tmp_path, f"r1:\n  v: {value}\n")
    exact = decimal.Decimal(value.strip('"'))
    if engine.dialect.name == "sqlite":
        # SQLite keeps a NUMERIC as a 64-bit float: the sync must say it cannot
        # keep the value, showing it as the file writes it (not as a float).
        with pytest.raises(DatasyncError) as refused:
            run_sync(engine, tmp_path)
        message = str(refused.value)
        assert "values.yaml:2:6: v " in message
        assert str(exact) in message and "remove the quotes" not in message
        return
    report = run_sync(engine, tmp_path)
    assert len(report.datasets[0].creates) == 1
    assert stored(engine) == exact
    assert run_plan(engine, tmp_path).has_changes is False


@pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)
def test_a_change_in_the_eighteenth_decimal_is_planned_and_written(
    engine: sa.Engine, tmp_path: Path
) -> None:
    one_value_table(engine, "NUMERIC(38, 18)")
    execute(engine, "INSERT INTO t (name, v) VALUES ('r1', 1)")
    write(tmp_path, "r1:\n  v: 1.000000000000000001\n")
    assert run_plan(engine, tmp_path).plan_lines() == [
        "~ r1",
        "    v: 1.000000000000000000 -> 1.000000000000000001",
    ]
    run_sync(engine, tmp_path)
    assert stored(engine) == decimal.Decimal("1.000000000000000001")
    assert run_plan(engine, tmp_path).has_changes is False


# -- class 6: binary columns ---------------------------------------------------


def binary_table(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("v", sa.LargeBinary),
    )
    metadata.create_all(engine)


def test_a_binary_yaml_value_is_written_as_its_bytes(engine: sa.Engine, tmp_path: Path) -> None:
    binary_table(engine)
    write(tmp_path, "r1:\n  v: !!binary AAH/aGVsbG8=\n")
    run_sync(engine, tmp_path)
    assert bytes(stored(engine)) == b"\x00\x01\xffhello"
    assert run_plan(engine, tmp_path).has_changes is False


def test_text_for_a_binary_column_is_written_as_utf8_or_refused_at_its_position(
    engine: sa.Engine, tmp_path: Path
) -> None:
    binary_table(engine)
    write(tmp_path, "r1:\n  v: héllo\n")
    try:
        run_sync(engine, tmp_path)
    except InvalidDatasets as refused:
        assert "values.yaml:2:6: v expects" in str(refused)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM t").scalar_one() == 0
        return
    assert bytes(stored(engine)) == "héllo".encode()
    assert run_plan(engine, tmp_path).has_changes is False


# -- class 7: PostgreSQL arrays ------------------------------------------------

ARRAYS = [
    pytest.param("FLOAT8[]", "[0, 0.5, 1]", [0.0, 0.5, 1.0], id="float8"),
    pytest.param(
        "NUMERIC[]", "[1, 0.5]", [decimal.Decimal("1"), decimal.Decimal("0.5")], id="numeric"
    ),
    pytest.param("INTEGER[]", "[1, 2.0]", [1, 2], id="integer"),
    pytest.param("FLOAT8[][]", "[[0, 0.5], [1, 1.5]]", [[0.0, 0.5], [1.0, 1.5]], id="float8-2d"),
]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("column_type", "value", "expected"), ARRAYS)
def test_array_items_are_converted_by_the_item_type(
    engine: sa.Engine, tmp_path: Path, column_type: str, value: str, expected: list[Any]
) -> None:
    one_value_table(engine, column_type)
    write(tmp_path, f"r1:\n  v: {value}\n")
    run_sync(engine, tmp_path)
    assert stored(engine) == expected
    assert run_plan(engine, tmp_path).has_changes is False


# -- class 14: no perpetual diff -----------------------------------------------

# (database, column type, the YAML value): each is valid, and the column stores
# it in a form that differs from what YAML reads.
PERPETUAL = [
    pytest.param("postgresql", "TIMESTAMP(0)", "2024-05-01 10:30:00.6", id="pg-timestamp0"),
    pytest.param(
        "postgresql", "TIMESTAMPTZ(3)", "2024-05-01 10:30:00.123456+00:00", id="pg-timestamptz3"
    ),
    pytest.param("postgresql", "TIME(0)", "'10:30:00.6'", id="pg-time0"),
    pytest.param("postgresql", "TIMETZ", "'10:30:00'", id="pg-timetz-naive"),
    pytest.param("postgresql", "JSONB", "{x: 1.0e+20}", id="pg-jsonb-1e20"),
    pytest.param("postgresql", "JSONB", "{x: -0.0}", id="pg-jsonb-negative-zero"),
    pytest.param("postgresql", "INET", "10.0.0.1", id="pg-inet"),
    pytest.param("postgresql", "CIDR", "10.0.0.0/8", id="pg-cidr"),
    pytest.param("postgresql", "MACADDR", "'08:00:2B:01:02:03'", id="pg-macaddr"),
    pytest.param("postgresql", "INTERVAL", "'1 day 02:00:00'", id="pg-interval"),
    pytest.param("postgresql", "INT4RANGE", "'[1,5)'", id="pg-int4range"),
    pytest.param("postgresql", "MONEY", "12.5", id="pg-money"),
    pytest.param("mysql", "DATETIME(3)", "2024-05-01 10:30:00.123456", id="mariadb-datetime3"),
    pytest.param("mysql", "TIME", "'10:30:00.5'", id="mariadb-time"),
    pytest.param("mysql", "TIME(3)", "'10:30:00.123456'", id="mariadb-time3"),
    pytest.param("mysql", "FLOAT", "0.123456789", id="mariadb-float"),
    pytest.param("mysql", "SET('read','write')", "read", id="mariadb-set"),
    pytest.param(
        "sqlite", "NUMERIC(30, 0)", "123456789012345678901234567890", id="sqlite-numeric30"
    ),
]


@pytest.mark.parametrize(
    ("database_url", "column_type", "value"), PERPETUAL, indirect=["database_url"]
)
def test_the_next_plan_after_a_sync_is_empty_or_the_value_is_refused_at_validation(
    engine: sa.Engine, tmp_path: Path, column_type: str, value: str
) -> None:
    one_value_table(engine, column_type)
    write(tmp_path, f"r1:\n  v: {value}\n")
    try:
        run_plan(engine, tmp_path)
    except InvalidDatasets as refused:
        # Refused up front (a type it cannot compare, a value the column would
        # change): at the value, naming the column, nothing written.
        assert "values.yaml:2:6: v " in str(refused)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM t").scalar_one() == 0
        return
    run_sync(engine, tmp_path)
    assert run_plan(engine, tmp_path).has_changes is False


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_a_mariadb_set_of_several_members_is_valid(engine: sa.Engine, tmp_path: Path) -> None:
    one_value_table(engine, "SET('read','write')")
    write(tmp_path, "r1:\n  v: 'read,write'\n")
    run_sync(engine, tmp_path)
    assert stored(engine) == "read,write"
    assert run_plan(engine, tmp_path).has_changes is False


def rewriting_trigger(engine: sa.Engine) -> None:
    """A trigger that upper-cases ``v`` on every insert and update."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        execute(
            engine,
            "CREATE FUNCTION upper_v() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.v := upper(NEW.v); RETURN NEW; END $$",
            "CREATE TRIGGER t_upper BEFORE INSERT OR UPDATE ON t "
            "FOR EACH ROW EXECUTE FUNCTION upper_v()",
        )
    elif dialect == "mysql":
        for event in ("INSERT", "UPDATE"):
            execute(
                engine,
                f"CREATE TRIGGER t_upper_{event.lower()} BEFORE {event} ON t "
                "FOR EACH ROW SET NEW.v = UPPER(NEW.v)",
            )
    else:
        for event in ("INSERT", "UPDATE OF v"):
            execute(
                engine,
                f"CREATE TRIGGER t_upper_{event.split()[0].lower()} AFTER {event} ON t "
                "BEGIN UPDATE t SET v = upper(v) WHERE name = NEW.name AND v <> upper(v); END",
            )


def test_a_value_a_trigger_rewrites_is_named_at_once_instead_of_planned_forever(
    engine: sa.Engine, tmp_path: Path
) -> None:
    one_value_table(engine, "VARCHAR(20)")
    rewriting_trigger(engine)
    write(tmp_path, "r1:\n  v: quiet\n")
    try:
        report = run_sync(engine, tmp_path)
    except DatasyncError as refused:
        said = str(refused)
    else:
        said = "\n".join(report.warnings)
    # Row, column, the value written and the value the table kept.
    assert "'r1'" in said or "values.yaml:2:" in said, said
    assert "v" in said.replace("values.yaml", "")
    assert "'quiet'" in said and "'QUIET'" in said


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_an_emoji_a_non_strict_utf8mb3_column_would_turn_into_a_question_mark_is_refused(
    database_url: sa.URL, tmp_path: Path
) -> None:
    engine = sa.create_engine(database_url, connect_args={"init_command": "SET sql_mode = ''"})
    try:
        one_value_table(engine, "VARCHAR(20) CHARACTER SET utf8mb3")
        write(tmp_path, "r1:\n  v: 'ok 🎉'\n")
        assert sticks_or_is_refused(engine, tmp_path, "values.yaml:2:6") is None
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM t").scalar_one() == 0
    finally:
        engine.dispose()
