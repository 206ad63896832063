"""CSV datasets: a header of column names, a record per row, typed by the table's columns."""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, InvalidDatasets, plan, sync

metadata = sa.MetaData()
countries = sa.Table(
    "countries",
    metadata,
    sa.Column("code", sa.String(2), primary_key=True),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("population", sa.BigInteger),
    sa.Column("area", sa.Numeric(12, 2)),
    sa.Column("eu", sa.Boolean),
    sa.Column("motto", sa.Text),
    sa.Column("founded", sa.Date),
)
COUNTRIES = Dataset("countries.csv", table="countries", key="code")

CSV = (
    "code,name,population,area,eu,motto,founded\n"
    'de,Germany,83200000,357588.00,true,"Einigkeit, Recht, Freiheit",1949-05-23\n'
    'fr,France,68000000,551695.50,TRUE,"""Liberté"" and more",\n'
    'no,Norway,,385207.00,no,"",1905-06-07\n'
    'ch,Switzerland,8800000,41285.00,0,"two\nlines",\n'
)


@pytest.fixture
def table(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def rows(engine: sa.Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(countries).order_by(countries.c.code))
        return {row[0]: tuple(row[1:]) for row in found}


def test_a_csv_file_syncs_typed_by_its_columns_and_then_plans_nothing(
    table: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "countries.csv").write_text(CSV, encoding="utf-8")
    with table.connect() as connection:
        report = sync(connection, [COUNTRIES], base_dir=tmp_path)
    assert report.summary_lines() == [
        "datasync: countries (countries.csv): 4 total, 4 created, 0 updated, 0 unchanged"
    ]
    stored = rows(table)
    assert stored["de"][:5] == (
        "Germany",
        83200000,
        decimal.Decimal("357588.00"),
        True,
        "Einigkeit, Recht, Freiheit",
    )
    assert stored["fr"][4] == '"Liberté" and more'
    assert stored["no"][1] is None  # an empty cell is NULL
    assert stored["no"][4] == ""  # "" is the empty string
    assert stored["no"][3] is False
    assert stored["ch"][4] == "two\nlines"
    with table.connect() as connection:
        assert not plan(connection, [COUNTRIES], base_dir=tmp_path).has_changes


def test_a_csv_cell_the_column_cannot_hold_is_named_at_its_line_and_column(
    table: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "countries.csv").write_text(
        "code,name,population,eu,colour\n"
        "de,Germany,many,true,red\n"
        "fr,France,1.5,maybe,blue\n"
        "it,Italy\n",
        encoding="utf-8",
    )
    with table.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [COUNTRIES], base_dir=tmp_path)
    assert [str(problem) for problem in caught.value.problems] == [
        "countries.csv:1:25: unknown column 'colour' for table 'countries'",
        "countries.csv:2:12: population expects a whole number, got 'many'",
        "countries.csv:3:11: population expects a whole number, got 1.5",
        "countries.csv:3:15: eu expects true or false, got 'maybe'",
        "countries.csv:4:1: this record has 2 fields and the header 5; a comma inside a value "
        "needs the field quoted",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "code,name,code\nde,Germany,de\n",
            "countries.csv:1:11: the header names column 'code' twice (first at column 1); "
            "remove one",
        ),
        (
            'code,name\nde,"Germany\n',
            'countries.csv:2:4: a quoted field opens here and is never closed; close it with " '
            '(a quote inside a field is written twice: "")',
        ),
        (
            'code,name\nde,Ger"many\n',
            "countries.csv:2:7: a quote inside an unquoted field; quote the whole field and "
            'write the quote twice: "say ""hi"""',
        ),
    ],
)
def test_a_csv_file_that_cannot_be_read_is_one_problem_at_its_position(
    table: sa.Engine, tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "countries.csv").write_text(text, encoding="utf-8")
    with table.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [COUNTRIES], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [problem]


def test_a_csv_file_over_max_file_size_is_streamed_and_its_digest_spares_the_parse(
    table: sa.Engine, tmp_path: Path
) -> None:
    # max_file_size refuses a YAML file that large; a CSV file is streamed, any size.
    lines = [
        f"{chr(97 + n // 10)}{n % 10},Country {n},{n * 1000},{n}.50,true,,\n" for n in range(100)
    ]
    text = "code,name,population,area,eu,motto,founded\n" + "".join(lines)
    assert len(text) > 2_000
    (tmp_path / "countries.csv").write_text(text, encoding="utf-8")
    syncs = []
    for _ in range(3):
        with table.connect() as connection:
            syncs.append(sync(connection, [COUNTRIES], base_dir=tmp_path, max_file_size=200))
    assert [report.summary_lines() for report in syncs] == [
        ["datasync: countries (countries.csv): 100 total, 100 created, 0 updated, 0 unchanged"],
        ["datasync: countries (countries.csv): 100 total, 0 created, 0 updated, 100 unchanged"],
        ["datasync: countries (countries.csv): 100 total, 0 created, 0 updated, 100 unchanged"],
    ]
    # The second sync records the digests; the third finds the file's (streamed) unchanged.
    assert [report.datasets[0].from_state for report in syncs] == [False, False, True]
    assert rows(table)["a7"][:2] == ("Country 7", 7000)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "code,name\nde," + "x" * 300 + "\n",
            "countries.csv:2:1: this line is over 200 bytes, the limit of one CSV record "
            "(max_file_size); split the value, or raise the limit",
        ),
        (
            'code,name\nde,"Germany\n' + "more,lines\n" * 30,
            "countries.csv:2:4: a quoted field opens here and runs on for over 200 bytes, the "
            'limit of one CSV record (max_file_size); close it with " where it ends',
        ),
    ],
)
def test_a_csv_record_over_max_file_size_is_refused_at_its_position(
    table: sa.Engine, tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "countries.csv").write_text(text, encoding="utf-8")
    with table.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [COUNTRIES], base_dir=tmp_path, max_file_size=200)
    assert [str(p) for p in caught.value.problems] == [problem]


def test_a_cell_after_a_line_break_in_a_quoted_field_is_named_at_its_own_line(
    table: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "countries.csv").write_text(
        'code,name,motto,population\nde,Germany,"Einigkeit,\nund Recht",many\nfr,France,,lots\n',
        encoding="utf-8",
    )
    with table.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [COUNTRIES], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "countries.csv:3:12: population expects a whole number, got 'many'",
        "countries.csv:4:12: population expects a whole number, got 'lots'",
    ]


def test_null_and_the_empty_string_are_spelled_as_postgresql_copy_spells_them(
    table: sa.Engine, tmp_path: Path
) -> None:
    # Only an empty field is NULL: "null", "NULL", \N and spaces are text.
    (tmp_path / "countries.csv").write_text(
        'code,name,motto\na1,x,\na2,x,""\na3,x,null\na4,x,NULL\na5,x,\\N\na6,x, \n',
        encoding="utf-8",
    )
    with table.connect() as connection:
        sync(connection, [COUNTRIES], base_dir=tmp_path)
    assert {code: row[4] for code, row in rows(table).items()} == {
        "a1": None,
        "a2": "",
        "a3": "null",
        "a4": "NULL",
        "a5": "\\N",
        "a6": " ",
    }
