"""Issue 9, values: what the file writes is what the table holds, and the next plan is empty.

Class 2: exact decimals never pass through a float.  Class 6: binary columns.
Class 7: PostgreSQL arrays of mixed numbers.  Class 14: no perpetual diff
(column precision, types with no comparison rule, lossy storage, a trigger).

The contract (PRODUCT.md, "Sync semantics"): after any sync the next plan of
the same file is empty; where the database makes that impossible the sync says
so at once, naming row and column, or validation refuses the value up front.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import (
    Dataset,
    DatasyncError,
    InvalidDatasets,
    SyncReport,
    plan,
    reading,
    sync,
)
from alembic_datasync.tables import column_rules, reflect_table

from conftest import StatementLog

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


# -- more of the same classes ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("0.1", id="a-tenth"),
        pytest.param("1_000.000_000_000_000_001", id="underscores"),
        pytest.param(".5", id="leading-point"),
        pytest.param("1.5e-17", id="exponent"),
        pytest.param("'  -2.25 '", id="quoted-with-spaces"),
    ],
)
def test_a_numeric_value_in_any_yaml_spelling_is_exact_or_refused(
    engine: sa.Engine, tmp_path: Path, value: str
) -> None:
    one_value_table(engine, "NUMERIC(38, 18)")
    write(tmp_path, f"- {{name: r1, v: &v {value}}}\n")  # the anchor takes the full loader
    exact = decimal.Decimal(value.strip("'").replace("_", ""))
    try:
        run_sync(engine, tmp_path)
    except DatasyncError as refused:
        # Only SQLite, whose 64-bit float cannot hold it, may refuse it.
        assert engine.dialect.name == "sqlite"
        assert (
            f"values.yaml:1:17: v expects a number of at most 20 digits before the decimal "
            f"point and 18 after it, got {exact}, which SQLite would keep as "
        ) in str(refused)
        return
    assert decimal.Decimal(str(stored(engine))) == exact  # SQLite's driver gives a float
    assert run_plan(engine, tmp_path).has_changes is False


def test_a_time_with_more_fractional_digits_than_the_column_keeps_is_refused_at_it(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # MySQL's DATETIME keeps whole seconds unless declared DATETIME(n); the others keep six.
    one_value_table(engine, "TIMESTAMP(3)" if engine.dialect.name == "postgresql" else "DATETIME")
    write(tmp_path, "r1:\n  v: 2024-05-01 10:30:00.1234\nr2:\n  v: 2024-05-01 10:30:00.5\n")
    kept = {"postgresql": 3, "mysql": 0, "sqlite": 6}[engine.dialect.name]
    try:
        run_sync(engine, tmp_path)
    except InvalidDatasets as refused:
        lines = str(refused).splitlines()[1:]
        if kept == 3:
            assert lines == [
                "  values.yaml:2:6: v expects a date and time (YYYY-MM-DD HH:MM:SS), got "
                "2024-05-01T10:30:00.123400, with more digits after the seconds than the 3 the "
                "column keeps (the database would round or cut it); write at most 3 "
                "(YAML reads 2024-05-01 10:30:00.1234 as the timestamp 2024-05-01T10:30:00.123400)"
            ]
        else:
            assert [line.split(": v expects")[0] for line in lines] == [
                "  values.yaml:2:6",
                "  values.yaml:4:6",
            ]
            assert "write whole seconds, or give the column fractional seconds" in lines[0]
        assert run_plan_count(engine) == 0
        return
    assert kept == 6
    assert run_plan(engine, tmp_path).has_changes is False


def run_plan_count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT COUNT(*) FROM t").scalar_one())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_value_a_type_with_no_python_rule_refuses_is_a_problem_at_its_position(
    engine: sa.Engine, tmp_path: Path
) -> None:
    one_value_table(engine, "INET")
    execute(engine, "ALTER TABLE t ADD COLUMN a INET[], ADD COLUMN d INTERVAL")
    write(tmp_path, "r1:\n  v: 10.0.0.1\n  a: [10.0.0.2, 10.0.0.3/32]\n  d: 90\nr2:\n  v: abc\n")
    with pytest.raises(InvalidDatasets) as refused:
        run_plan(engine, tmp_path)
    assert str(refused.value).splitlines()[1:] == [
        "  values.yaml:6:6: v expects a value the database reads as INET, got 'abc', which it "
        'refuses (invalid input syntax for type inet: "abc"); write it as INET takes it'
    ]
    write(tmp_path, "r1:\n  v: 10.0.0.1\n  a: [10.0.0.2, 10.0.0.3/32]\n  d: 90\n")
    run_sync(engine, tmp_path)
    assert stored(engine, "d") == dt.timedelta(seconds=90)
    assert run_plan(engine, tmp_path).has_changes is False


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_text_a_table_default_character_set_cannot_store_is_refused_at_its_position(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(
        engine,
        "CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, v TEXT) CHARACTER SET utf8mb3",
    )
    write(tmp_path, "r1:\n  v: 'ok'\nr2:\n  v: 'party 🎉'\n")
    with pytest.raises(InvalidDatasets) as refused:
        run_sync(engine, tmp_path)
    assert str(refused.value).splitlines()[1:] == [
        "  values.yaml:4:6: v expects text, got 'party 🎉', whose '🎉' (U+1F389) the column's "
        "character set cannot store; convert the column to utf8mb4 in a migration, or leave "
        "the character out"
    ]
    assert run_plan_count(engine) == 0


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_what_mysql_would_round_pad_or_refuse_is_refused_or_compared_as_stored(
    engine: sa.Engine, tmp_path: Path
) -> None:
    execute(
        engine,
        "CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, f FLOAT, r FLOAT(7, 4), "
        "b BINARY(4), u UUID)",
    )
    write(
        tmp_path,
        "r1: {f: 1000001.0, r: 1.23456, b: abcde, u: e3e70682-c209-fcac-029f-6fbed82c07cd}\n",
    )
    with pytest.raises(InvalidDatasets) as refused:
        run_sync(engine, tmp_path)
    assert str(refused.value).splitlines()[1:] == [
        "  values.yaml:1:9: f expects a number, got 1000001.0, which the column would return "
        "as 1000000.0 (a single-precision FLOAT comes back with 6 significant digits); write at "
        "most 6, or make the column DOUBLE in a migration",
        "  values.yaml:1:23: r expects a number, got 1.23456, which the database would round to "
        "4 decimal places",
        "  values.yaml:1:35: b expects binary data (!!binary) or text (written as its UTF-8 "
        "bytes), got 5 bytes, and the column holds at most 4; shorten it, or widen the column "
        "in a migration",
        "  values.yaml:1:45: u expects a UUID such as '6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718', "
        "got 'e3e70682-c209-fcac-029f-6fbed82c07cd', which MariaDB's UUID type refuses (a "
        "version digit of 8 or more with a variant digit below 8); use a standard UUID, such "
        "as uuid4's",
    ]
    write(
        tmp_path,
        "r1: {f: 0.123457, r: 1.2346, b: ab, u: e3e70682-c209-4cac-629f-6fbed82c07cd}\n",
    )
    run_sync(engine, tmp_path)
    assert stored(engine, "b") == b"ab\x00\x00"  # MySQL pads BINARY(n)
    assert run_plan(engine, tmp_path).has_changes is False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_uuid_goes_into_sqlites_char32_as_the_models_uuid_type_stores_it(
    engine: sa.Engine, tmp_path: Path
) -> None:
    metadata = sa.MetaData()
    model = sa.Table(
        "t", metadata, sa.Column("name", sa.String(20), primary_key=True), sa.Column("v", sa.Uuid)
    )
    metadata.create_all(engine)
    value = uuid.UUID("6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718")
    write(tmp_path, f"r1:\n  v: {value}\n")
    run_sync(engine, tmp_path)
    assert stored(engine) == value.hex
    with engine.connect() as connection:
        found = connection.execute(sa.select(model.c.name).where(model.c.v == value)).all()
    assert found == [("r1",)]
    assert run_plan(engine, tmp_path).has_changes is False


def test_a_value_a_trigger_rewrites_on_update_is_named_too(
    engine: sa.Engine, tmp_path: Path
) -> None:
    one_value_table(engine, "VARCHAR(20)")
    execute(engine, "INSERT INTO t (name, v) VALUES ('r1', 'QUIET')")
    rewriting_trigger(engine)
    write(tmp_path, "r1:\n  v: loud\n")
    report = run_sync(engine, tmp_path)
    assert report.warnings == [
        "values.yaml:1:1: row 'r1' of 't': v was written as 'loud' but the table kept 'LOUD' "
        "(a trigger, or a column that changes what it is given); every sync will write it again"
    ]
    assert "datasync: warning: values.yaml:1:1: row 'r1'" in report.render()


def reads_of_t(statements: list[str]) -> list[str]:
    """The SELECTs of the user's table ``t`` (the plan's read, and the check after writing)."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and re.search(r"\bFROM [`\"]?t\b", s)
    ]


def test_the_check_after_a_first_sync_reads_the_table_once_and_after_a_few_writes_by_key(
    engine: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    """Written rows that are most of the table are read back by one SELECT of it; a few
    rows of a large table by their keys.  Either way, what a trigger rewrote is named."""
    one_value_table(engine, "VARCHAR(20)")
    rows = 4_500  # more than two chunks of keys
    write(tmp_path, "".join(f"r{i}:\n  v: v{i}\n" for i in range(rows)))
    statements.clear()
    run_sync(engine, tmp_path)
    reads = reads_of_t(statements.statements)
    # The plan's read of the empty table, then one read of every written row.
    assert len(reads) == 2, reads
    assert not any(" IN " in s.upper() for s in reads), reads
    rewriting_trigger(engine)
    write(tmp_path, "".join(f"r{i}:\n  v: {'loud' if i == 7 else f'v{i}'}\n" for i in range(rows)))
    statements.clear()
    report = run_sync(engine, tmp_path)
    assert report.warnings == [
        "values.yaml:15:1: row 'r7' of 't': v was written as 'loud' but the table kept 'LOUD' "
        "(a trigger, or a column that changes what it is given); every sync will write it again"
    ]
    reads = reads_of_t(statements.statements)
    # By key: IN lists, or on PostgreSQL one array of every key (``= ANY``).
    assert len(reads) == 2 and (" IN " in reads[1].upper() or "= ANY (" in reads[1]), reads


def test_repeated_values_read_from_the_table_are_held_once_and_keep_their_types(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """The plan reads the table with each column's repeated texts and integers held once;
    booleans, floats and a column of mixed kinds come back as the driver read them."""
    execute(
        engine,
        "CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, model VARCHAR(20), flag BOOLEAN, "
        "n INTEGER, x FLOAT, note VARCHAR(20))",
    )
    models, rows = ["gpt-4o", "qwen-32b", "llama"], 5_000  # more than one batch of the read
    table_rows = [
        {
            "name": f"r{number:05}",
            "model": models[number % 3],
            "flag": number % 2 == 0,
            "n": number % 2,
            "x": [1.0, 2.5][number % 2],
            "note": None if number < 4_500 else f"note {number % 7}",
        }
        for number in range(rows)
    ]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO t (name, model, flag, n, x, note) "
                "VALUES (:name, :model, :flag, :n, :x, :note)"
            ),
            table_rows,
        )
    lines = [
        f"{row['name']}: {{model: {row['model']}, flag: {str(row['flag']).lower()}, "
        f"n: {row['n']}, x: {row['x']}, "
        f"note: {'null' if row['note'] is None else repr(row['note'])}}}\n"
        for row in table_rows
    ]
    write(tmp_path, "".join(lines))
    assert run_plan(engine, tmp_path).has_changes is False
    with engine.connect() as connection:
        table = reflect_table(connection, VALUES)
        assert table is not None
        columns = ["name", "model", "flag", "n", "x", "note"]
        read = reading.read_rows(
            connection, table, columns, column_rules(table, engine.dialect.name)
        )
    assert len(read) == rows
    assert len({id(row[1]) for row in read}) <= 3 * 2  # a copy per model, at most per batch
    assert len({id(row[5]) for row in read if row[5] is not None}) <= 7 * 2
    # MySQL's BOOLEAN is TINYINT(1), reflected and read as an integer.
    mysql = engine.dialect.name in ("mysql", "mariadb")
    assert {type(row[2]) for row in read} == {int if mysql else bool}
    assert {type(row[3]) for row in read} == {int}
    assert {type(row[4]) for row in read} == {float}
    assert [row[:5] for row in sorted(read)[:2]] == [
        ("r00000", "gpt-4o", True, 0, 1.0),
        ("r00001", "qwen-32b", False, 1, 2.5),
    ]
    assert len({id(row[0]) for row in read}) == rows  # a key is its own


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_column_of_mixed_kinds_is_read_as_the_driver_gives_it(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """SQLite keeps each value's own type in a column without one: 1, '1' and 1.0 stay apart."""
    execute(
        engine,
        "CREATE TABLE t (name VARCHAR(20) PRIMARY KEY, v)",
        "INSERT INTO t VALUES ('a', 1), ('b', '1'), ('c', 1.0), ('d', 1)",
    )
    with engine.connect() as connection:
        table = reflect_table(connection, VALUES)
        assert table is not None
        read = reading.read_rows(connection, table, ["name", "v"], column_rules(table, "sqlite"))
    assert [(row[1], type(row[1])) for row in sorted(read)] == [
        (1, int),
        ("1", str),
        (1.0, float),
        (1, int),
    ]


def test_a_real_key_is_updated_and_deleted_by_the_value_the_table_stores(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """PostgreSQL compares a REAL key with a bound float as two doubles: 0.3 would be no
    row's 0.3, and the UPDATE and DELETE by key would find nothing."""
    execute(engine, "CREATE TABLE fk (k REAL PRIMARY KEY, v VARCHAR(10))")
    floats = Dataset("fk.yaml", table="fk", key="k", prune=True)

    def sync_values(values: dict[str, str]) -> SyncReport:
        (tmp_path / "fk.yaml").write_text(
            "".join(f"- k: {k}\n  v: {v}\n" for k, v in values.items()), encoding="utf-8"
        )
        with engine.connect() as connection:
            return sync(connection, [floats], base_dir=tmp_path)

    sync_values({f"0.{i}": "a" for i in range(1, 10)})
    report = sync_values({f"0.{i}": "z" if i == 3 else "a" for i in range(1, 9)})
    assert report.summary_lines() == [
        "datasync: fk (fk.yaml): 8 total, 0 created, 1 updated, 7 unchanged, 1 deleted"
    ]
    assert report.warnings == []
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT v FROM fk ORDER BY k").all()
    assert [v for (v,) in rows] == ["a", "a", "z", "a", "a", "a", "a", "a"]
    again = sync_values({f"0.{i}": "z" if i == 3 else "a" for i in range(1, 9)})
    assert not again.has_changes
