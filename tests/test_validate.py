"""Validation: every mistake caught before a write, each at its file:line:col with the fix.

Type rules are pinned one case at a time against ``target_metadata`` (no
database, fast); the same mistakes then go through a real sync on SQLite,
PostgreSQL and MySQL/MariaDB, where the reflected table must give the same
report and write nothing.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic_datasync import Dataset, InvalidDatasets, plan, sync, validate_datasets

from conftest import StatementLog

metadata = sa.MetaData()
typed = sa.Table(
    "typed",
    metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("small", sa.SmallInteger),
    sa.Column("count", sa.Integer),
    sa.Column("big", sa.BigInteger),
    sa.Column("ratio", sa.Float),
    sa.Column("single", sa.REAL),
    sa.Column("price", sa.Numeric(8, 2)),
    sa.Column("whole", sa.Numeric(4, 0)),
    sa.Column("flag", sa.Boolean),
    sa.Column("label", sa.String(10)),
    sa.Column("code", sa.CHAR(3)),
    sa.Column("body", sa.Text),
    sa.Column("day", sa.Date),
    sa.Column("moment", sa.DateTime),
    sa.Column("moment_tz", sa.DateTime(timezone=True)),
    sa.Column("at", sa.Time),
    sa.Column("doc", sa.JSON),
    sa.Column("docb", postgresql.JSONB),
    sa.Column("ident", sa.Uuid),
    sa.Column("size", sa.Enum("small", "large", name="size_enum")),
    sa.Column("tags", postgresql.ARRAY(sa.Integer)),
    sa.Column("grid", postgresql.ARRAY(sa.Integer, dimensions=2)),
    sa.Column("required", sa.String(10), nullable=False, server_default="x"),
)
TYPED = Dataset("typed.yaml", table="typed", key="name")

# (column, the value as written in YAML, the message; None when the value fits)
CASES = [
    (
        "small",
        "40000",
        "small expects a whole number, got 40000, outside the column's range of -32768 to 32767",
    ),
    ("small", "-32768", None),
    (
        "count",
        "2147483648",
        "count expects a whole number, got 2147483648, outside the column's range of -2147483648 to 2147483647",
    ),
    ("count", "1.5", "count expects a whole number, got 1.5"),
    ("count", "2000.0", None),
    (
        "count",
        "true",
        "count expects a whole number, got true, a boolean; write 1 or 0 if a number is meant",
    ),
    (
        "count",
        "'2000'",
        "count expects a whole number, got '2000', which is quoted text; remove the quotes",
    ),
    ("count", "abc", "count expects a whole number, got 'abc'"),
    ("count", "[1]", "count expects a whole number, got a list"),
    (
        "count",
        "0755",
        "count would get 493: YAML reads 0755 as the octal number 493; write 493 if that is "
        "meant, or 755 for the decimal number",
    ),
    ("count", "007", None),
    ("count", "0x1F", None),
    (
        "ratio",
        "1:30",
        "ratio would get 90: YAML reads 1:30 as the base-60 number 90; write 90 if that is "
        'meant, or quote it if it is text: "1:30"',
    ),
    (
        "doc",
        "0755",
        "doc would get 493: YAML reads 0755 as the octal number 493; write 493 if that is "
        "meant, or 755 for the decimal number",
    ),
    (
        "big",
        "9223372036854775808",
        "big expects a whole number, got 9223372036854775808, outside the column's range of -9223372036854775808 to 9223372036854775807",
    ),
    ("ratio", "hot", "ratio expects a number, got 'hot'"),
    (
        "ratio",
        "'0.5'",
        "ratio expects a number, got '0.5', which is quoted text; remove the quotes",
    ),
    (
        "ratio",
        ".inf",
        "ratio expects a number, got .inf, which not every database can store; write a finite number",
    ),
    (
        "ratio",
        ".nan",
        "ratio expects a number, got .nan, which not every database can store; write a finite number",
    ),
    ("ratio", "false", "ratio expects a number, got false, a boolean"),
    ("ratio", "3", None),
    (
        "single",
        "1e39",
        "single expects a number, got '1e39', which YAML reads as text; write the exponent with a dot and a sign, like 1.0e+3",
    ),
    (
        "price",
        "0.125",
        "price expects a number of at most 6 digits before the decimal point and 2 after it, got 0.125, which the database would round",
    ),
    ("price", "0.20", None),
    ("price", "123456.78", None),
    (
        "price",
        "1234567.8",
        "price expects a number of at most 6 digits before the decimal point and 2 after it, got 1234567.8, which has 7 digits before the decimal point",
    ),
    # Quoted decimal text is exact: the way to write more digits than a float keeps.
    ("price", "'1.5'", None),
    (
        "price",
        "'1.5 EUR'",
        "price expects a number of at most 6 digits before the decimal point and 2 after it, got '1.5 EUR'",
    ),
    (
        "price",
        "'0.125'",
        "price expects a number of at most 6 digits before the decimal point and 2 after it, got 0.125, which the database would round",
    ),
    (
        "price",
        "true",
        "price expects a number of at most 6 digits before the decimal point and 2 after it, got true, a boolean",
    ),
    (
        "whole",
        "12345",
        "whole expects a whole number of at most 4 digits, got 12345, which has 5 digits before the decimal point",
    ),
    (
        "whole",
        "1.5",
        "whole expects a whole number of at most 4 digits, got 1.5, which the database would round",
    ),
    (
        "flag",
        "'yes'",
        "flag expects true or false, got 'yes', which is quoted text; remove the quotes",
    ),
    (
        "flag",
        "'true'",
        "flag expects true or false, got 'true', which is quoted text; remove the quotes",
    ),
    ("flag", "2", "flag expects true or false, got 2"),
    ("flag", "1", None),
    ("flag", "maybe", "flag expects true or false, got 'maybe'"),
    (
        "label",
        "NO",
        'label expects text of at most 10 characters, but YAML reads NO as the boolean false; quote it: "NO"',
    ),
    (
        "label",
        "1.10",
        'label expects text of at most 10 characters, but YAML reads 1.10 as the number 1.1; quote it: "1.10"',
    ),
    (
        "label",
        "on",
        'label expects text of at most 10 characters, but YAML reads on as the boolean true; quote it: "on"',
    ),
    (
        "label",
        "0755",
        'label expects text of at most 10 characters, but YAML reads 0755 as the octal number 493; quote it: "0755"',
    ),
    (
        "label",
        "12:30",
        'label expects text of at most 10 characters, but YAML reads 12:30 as the base-60 number 750; quote it: "12:30"',
    ),
    (
        "label",
        "0x1F",
        'label expects text of at most 10 characters, but YAML reads 0x1F as the hexadecimal number 31; quote it: "0x1F"',
    ),
    (
        "label",
        "2024-01-01",
        'label expects text of at most 10 characters, but YAML reads 2024-01-01 as the date 2024-01-01; quote it: "2024-01-01"',
    ),
    (
        "label",
        "123",
        'label expects text of at most 10 characters, but YAML reads 123 as the number 123; quote it: "123"',
    ),
    ("label", "[a]", "label expects text of at most 10 characters, got a list"),
    (
        "label",
        "abcdefghijk",
        "label expects text of at most 10 characters, got 11 characters; shorten it, or widen the column in a migration",
    ),
    ("label", "{a: 1}", "label expects text of at most 10 characters, got a mapping"),
    (
        "code",
        "abcd",
        "code expects text of at most 3 characters, got 4 characters; shorten it, or widen the column in a migration",
    ),
    ("body", "yes", 'body expects text, but YAML reads yes as the boolean true; quote it: "yes"'),
    ("body", "1e3", None),
    ("day", "tomorrow", "day expects a date (YYYY-MM-DD), got 'tomorrow'"),
    ("day", "'2024-02-29'", None),
    (
        "day",
        "2024-02-29 10:00:00",
        "day expects a date (YYYY-MM-DD), got 2024-02-29T10:00:00, which has a time of day; the column keeps only the date (YAML reads 2024-02-29 10:00:00 as the timestamp 2024-02-29T10:00:00)",
    ),
    (
        "day",
        "20240229",
        'day expects a date (YYYY-MM-DD), but YAML reads 20240229 as the number 20240229; quote it: "20240229"',
    ),
    ("moment", "now", "moment expects a date and time (YYYY-MM-DD HH:MM:SS), got 'now'"),
    ("moment", "2024-02-29", None),
    ("moment", "2024-02-29T10:00:00+02:00", None),
    ("moment_tz", "2024-02-29 10:00:00", None),
    ("moment_tz", "12", "moment_tz expects a date and time (YYYY-MM-DD HH:MM:SS), got 12"),
    (
        "at",
        "12:30",
        'at expects a time of day (HH:MM:SS), but YAML reads 12:30 as the base-60 number 750; quote it: "12:30"',
    ),
    ("at", "'12:30'", None),
    (
        "at",
        "25:00",
        "at expects a time of day (HH:MM:SS), got 1500 (YAML reads 25:00 as the base-60 number 1500)",
    ),
    ("at", "'25:00'", "at expects a time of day (HH:MM:SS), got '25:00'"),
    (
        "doc",
        "{a: [1, 2024-01-01]}",
        "doc expects a value JSON can hold, but a[1] is the date 2024-01-01, which JSON cannot hold; quote it",
    ),
    (
        "doc",
        "{1: a}",
        "doc expects a value JSON can hold, got a mapping with the key 1, and JSON keys are text; quote it",
    ),
    (
        "doc",
        "[1, .nan]",
        "doc expects a value JSON can hold, but [1] is .nan, which JSON cannot hold",
    ),
    (
        "doc",
        "2024-01-01",
        'doc expects a value JSON can hold, but YAML reads 2024-01-01 as the date 2024-01-01; quote it: "2024-01-01"',
    ),
    ("doc", "{a: {b: [true, null, 'x']}}", None),
    (
        "docb",
        "{when: 2024-01-01 10:00:00}",
        "docb expects a value JSON can hold, but when is the timestamp 2024-01-01T10:00:00, which JSON cannot hold; quote it",
    ),
    (
        "ident",
        "abc",
        "ident expects a UUID such as '6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718', got 'abc'",
    ),
    ("ident", "'6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718'", None),
    ("ident", "12", "ident expects a UUID such as '6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718', got 12"),
    ("size", "medium", "size expects one of 'small', 'large', got 'medium'"),
    ("size", "small", None),
    ("size", "true", "size expects one of 'small', 'large', got true, a boolean"),
    ("tags", "[1, 2, x]", "tags expects a list, each item a whole number, but item 3 is 'x'"),
    ("tags", "'1,2'", "tags expects a list, each item a whole number, got '1,2'"),
    ("tags", "[1, null]", None),
    (
        "grid",
        "[[1, 2], [3, x]]",
        "grid expects a list, each item a whole number, but item 2.2 is 'x'",
    ),
    (
        "required",
        "null",
        "required cannot be null (the column is NOT NULL); write a value, or leave the column out to keep what the table has",
    ),
    ("label", "null", None),
    (
        "ratio",
        "1e3",
        "ratio expects a number, got '1e3', which YAML reads as text; write the exponent with a dot and a sign, like 1.0e+3",
    ),
    (
        "ratio",
        "'1e3'",
        "ratio expects a number, got '1e3', which YAML reads as text; write the exponent with a dot and a sign, like 1.0e+3",
    ),
    ("ratio", "1.0e+3", None),
    (
        "count",
        "1e3",
        "count expects a whole number, got '1e3', which YAML reads as text; write the exponent with a dot and a sign, like 1.0e+3",
    ),
    ("grid", "[[1, 2], [3, 4]]", None),
    (
        "tags",
        "[[1, 2], [3, y]]",
        "tags expects a list, each item a whole number, but item 2.2 is 'y'",
    ),
    ("ratio", "nan", "ratio expects a number, got 'nan'"),
    (
        "at",
        "12:30:00",
        'at expects a time of day (HH:MM:SS), but YAML reads 12:30:00 as the base-60 number 45000; quote it: "12:30:00"',
    ),
]


def offline_problems(folder: Path, text: str, datasets: list[Dataset] | None = None) -> list[str]:
    (folder / "typed.yaml").write_text(textwrap.dedent(text))
    try:
        validate_datasets(datasets or [TYPED], metadata, base_dir=folder)
    except InvalidDatasets as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(("column", "value", "message"), CASES)
def test_value_against_its_column_type(
    tmp_path: Path, column: str, value: str, message: str | None
) -> None:
    found = offline_problems(tmp_path, f"row:\n  {column}: {value}\n")
    column_at = 3 + len(column) + 2
    assert found == ([] if message is None else [f"typed.yaml:2:{column_at}: {message}"])


def test_single_precision_range_of_real() -> None:
    # Kept out of CASES' cross-database twin below: MySQL's REAL is double.
    assert [case for case in CASES if case[0] == "single"] == [
        (
            "single",
            "1e39",
            "single expects a number, got '1e39', which YAML reads as text; write the exponent "
            "with a dot and a sign, like 1.0e+3",
        )
    ]


def test_real_column_refuses_values_beyond_single_precision(tmp_path: Path) -> None:
    assert offline_problems(tmp_path, "row:\n  single: 1.0e+39\n") == [
        "typed.yaml:2:11: single expects a number, got 1e+39, beyond single precision "
        "(about 3.4e38)"
    ]


# -- the same mistakes on every database ---------------------------------------

# No PostgreSQL-only types; no Enum or Uuid, which SQLite reflects as plain
# text; no REAL, single precision on PostgreSQL but double on MySQL.
NOT_PORTABLE = {"single", "docb", "ident", "size", "tags", "grid", "required"}
portable = sa.MetaData()
sa.Table(
    "typed",
    portable,
    *(
        sa.Column(column.name, column.type, primary_key=column.primary_key)
        for column in typed.columns
        if column.name not in NOT_PORTABLE
    ),
    sa.Column("required", sa.String(10), nullable=False),
)

MISTAKES = """\
    ok:
      required: x
      small: 1
    too_small:
      small: 40000
    fraction:
      count: 1.5
    boolean_count:
      count: true
    quoted_number:
      ratio: '0.5'
    infinite:
      ratio: .inf
    rounded:
      price: 0.125
    flag_word:
      flag: 'yes'
    norway:
      label: NO
    version:
      label: 1.10
    too_long:
      label: abcdefghijk
    not_a_date:
      day: tomorrow
    not_a_moment:
      moment: now
    sexagesimal:
      at: 12:30
    json_date:
      doc: {a: [1, 2024-01-01]}
    null_required:
      required: null
    missing_required:
      small: 2
    unknown:
      labl: x
    """

MISTAKE_REPORT = [
    "typed.yaml:5:10: small expects a whole number, got 40000, outside the column's range of -32768 to 32767",
    "typed.yaml:7:10: count expects a whole number, got 1.5",
    "typed.yaml:9:10: count expects a whole number, got true, a boolean; write 1 or 0 if a number is meant",
    "typed.yaml:11:10: ratio expects a number, got '0.5', which is quoted text; remove the quotes",
    "typed.yaml:13:10: ratio expects a number, got .inf, which not every database can store; write a finite number",
    "typed.yaml:15:10: price expects a number of at most 6 digits before the decimal point and 2 after it, got 0.125, which the database would round",
    "typed.yaml:17:9: flag expects true or false, got 'yes', which is quoted text; remove the quotes",
    'typed.yaml:19:10: label expects text of at most 10 characters, but YAML reads NO as the boolean false; quote it: "NO"',
    'typed.yaml:21:10: label expects text of at most 10 characters, but YAML reads 1.10 as the number 1.1; quote it: "1.10"',
    "typed.yaml:23:10: label expects text of at most 10 characters, got 11 characters; shorten it, or widen the column in a migration",
    "typed.yaml:25:8: day expects a date (YYYY-MM-DD), got 'tomorrow'",
    "typed.yaml:27:11: moment expects a date and time (YYYY-MM-DD HH:MM:SS), got 'now'",
    'typed.yaml:29:7: at expects a time of day (HH:MM:SS), but YAML reads 12:30 as the base-60 number 750; quote it: "12:30"',
    "typed.yaml:31:8: doc expects a value JSON can hold, but a[1] is the date 2024-01-01, which JSON cannot hold; quote it",
    "typed.yaml:33:13: required cannot be null (the column is NOT NULL); write a value, or leave the column out to keep what the table has",
    "typed.yaml:37:9: unknown column 'labl' for table 'typed'; did you mean 'label'?",
]
# The sync knows the row is new; with no model given, it says where defaults would come from.
NOT_NULL_REPORT = (
    "typed.yaml:34:1: new row 'missing_required' of 'typed' cannot be created: it leaves out "
    "'required', which cannot be NULL and has no default in the database; add it to the row, "
    "or give the column a default; if the model has a default for it, pass the model: "
    "target_metadata to context.configure() in env.py, metadata= in the Python API"
)
# Validation checks every row as if it were new, as on a database that does not have it yet.
NOT_NULL_OFFLINE = (
    "typed.yaml:34:1: row 'missing_required' of 'typed' cannot be created where it is new: it "
    "leaves out 'required', which cannot be NULL and has no default in the model or the "
    "database; add it to the row, or give the column a default"
)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_every_mistake_reported_at_once_before_any_write(
    engine: sa.Engine, tmp_path: Path, statements: StatementLog, strict: bool
) -> None:
    portable.create_all(engine)
    (tmp_path / "typed.yaml").write_text(textwrap.dedent(MISTAKES))
    statements.clear()
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        sync(connection, [TYPED], base_dir=tmp_path, strict=strict)
    found = [str(p) for p in caught.value.problems]
    assert found == sorted([*MISTAKE_REPORT, NOT_NULL_REPORT], key=lambda p: int(p.split(":")[1]))
    assert statements.writes == []
    assert str(caught.value).startswith("17 problems in dataset files, nothing written:\n  ")


def test_validation_without_a_database_finds_the_same_mistakes(tmp_path: Path) -> None:
    (tmp_path / "typed.yaml").write_text(textwrap.dedent(MISTAKES))
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets([TYPED], portable, base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == sorted(
        [*MISTAKE_REPORT, NOT_NULL_OFFLINE], key=lambda p: int(p.split(":")[1])
    )
    assert str(caught.value).startswith("17 problems in dataset files:\n  ")


def test_valid_file_passes_on_every_database(engine: sa.Engine, tmp_path: Path) -> None:
    portable.create_all(engine)
    (tmp_path / "typed.yaml").write_text(
        textwrap.dedent(
            """\
            good:
              required: x
              small: -32768
              count: 2147483647
              big: 9223372036854775807
              ratio: 1.0e+3
              price: 123456.78
              whole: 9999
              flag: true
              label: "NO"
              code: abc
              body: "1.10"
              day: 2024-02-29
              moment: 2024-02-29T10:00:00+02:00
              moment_tz: 2024-02-29 10:00:00
              at: "12:30"
              doc: {a: [1, "2024-01-01", null, true]}
            """
        )
    )
    validate_datasets([TYPED], portable, base_dir=tmp_path)
    with engine.connect() as connection:
        report = sync(connection, [TYPED], base_dir=tmp_path)
    assert report.summary_lines() == [
        "datasync: typed (typed.yaml): 1 total, 1 created, 0 updated, 0 unchanged"
    ]
    with engine.connect() as connection:
        again = plan(connection, [TYPED], base_dir=tmp_path)
    assert again.plan_lines() == []


# -- types only some databases have -------------------------------------------

native = sa.MetaData()
sa.Table(
    "native",
    native,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("size", sa.Enum("small", "large", name="size_enum")),
    sa.Column("ident", sa.Uuid),
)
NATIVE = Dataset("native.yaml", table="native", key="name")


@pytest.mark.parametrize("database_url", ["postgresql", "mysql"], indirect=True)
def test_enum_where_the_database_has_it(engine: sa.Engine, tmp_path: Path) -> None:
    # SQLite has no enum type: it reflects one as VARCHAR(5).
    native.create_all(engine)
    (tmp_path / "native.yaml").write_text("a:\n  size: medium\n")
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        plan(connection, [NATIVE], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "native.yaml:2:9: size expects one of 'small', 'large', got 'medium'",
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_uuid_where_the_database_has_it(engine: sa.Engine, tmp_path: Path) -> None:
    # SQLite stores a Uuid as CHAR(32); MariaDB's own UUID type is reflected as
    # one only by recent SQLAlchemy releases.
    native.create_all(engine)
    (tmp_path / "native.yaml").write_text("a:\n  ident: abc\n")
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        plan(connection, [NATIVE], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "native.yaml:2:10: ident expects a UUID such as '6f1e3b2a-9d5c-4e8f-a1b2-c3d4e5f60718', "
        "got 'abc'",
    ]


arrays = sa.MetaData()
sa.Table(
    "arrays",
    arrays,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("tags", postgresql.ARRAY(sa.Integer)),
    sa.Column("docb", postgresql.JSONB),
)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_array_and_jsonb_on_postgresql(engine: sa.Engine, tmp_path: Path) -> None:
    arrays.create_all(engine)
    dataset = Dataset("arrays.yaml", table="arrays", key="name")
    (tmp_path / "arrays.yaml").write_text(
        "a:\n  tags: [1, 2, x]\n  docb: {when: 2024-01-01 10:00:00}\nb:\n  tags: '1,2'\n"
    )
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        plan(connection, [dataset], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "arrays.yaml:2:9: tags expects a list, each item a whole number, but item 3 is 'x'",
        "arrays.yaml:3:9: docb expects a value JSON can hold, but when is the timestamp "
        "2024-01-01T10:00:00, which JSON cannot hold; quote it",
        "arrays.yaml:5:9: tags expects a list, each item a whole number, got '1,2'",
    ]
    (tmp_path / "arrays.yaml").write_text("a:\n  tags: [1, 2, null]\n  docb: {when: '2024'}\n")
    with engine.connect() as connection:
        sync(connection, [dataset], base_dir=tmp_path)
        again = plan(connection, [dataset], base_dir=tmp_path)
    assert again.plan_lines() == []


# -- keys, rows and tables -----------------------------------------------------


def test_key_missing_null_and_duplicated_in_a_list_of_rows(tmp_path: Path) -> None:
    flags = sa.MetaData()
    sa.Table(
        "feature_flags",
        flags,
        sa.Column("tenant", sa.String(50), primary_key=True),
        sa.Column("flag", sa.String(50), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    (tmp_path / "flags.yaml").write_text(
        textwrap.dedent(
            """\
            - {tenant: acme, flag: dark_mode, enabled: true}
            - {tenant: acme, enabled: true}
            - {tenant: null, flag: x, enabled: true}
            - {tenant: acme, flag: dark_mode, enabled: false}
            - 7
            """
        )
    )
    dataset = Dataset("flags.yaml", table="feature_flags", key=("tenant", "flag"))
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets([dataset], flags, base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "flags.yaml:2:3: row has no value for key column flag; every row must name its key",
        "flags.yaml:3:3: row has no value for key column tenant; every row must name its key",
        "flags.yaml:4:3: duplicate key 'acme, dark_mode': first at line 1, again at line 4; "
        "remove one",
        "flags.yaml:5:3: a row must be a mapping of column: value, found the scalar '7'",
    ]


def test_key_column_that_is_not_in_the_table(tmp_path: Path) -> None:
    dataset = Dataset("typed.yaml", table="typed", key="nmae")
    assert offline_problems(tmp_path, "a: {count: 1}\n", [dataset]) == [
        "typed.yaml: key column 'nmae' is not a column of table 'typed'; did you mean 'name'?; "
        "fix the Dataset(...) key"
    ]


def test_table_missing_from_the_metadata(tmp_path: Path) -> None:
    dataset = Dataset("typed.yaml", table="typd", key="name")
    assert offline_problems(tmp_path, "a: {count: 1}\nb: 5\n", [dataset]) == [
        "typed.yaml: table 'typd' is not in the metadata (target_metadata); did you mean "
        "'typed'?; define its model, import the module that does in env.py, or fix the table "
        "name in Dataset(...)",
        "typed.yaml:2:4: the row for 'b' must be a mapping of column: value, found the scalar '5'",
    ]


def test_table_missing_from_the_database_with_broken_rows(
    engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "typed.yaml").write_text("a: {count: 1}\nb: 5\n")
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        plan(connection, [TYPED], base_dir=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "typed.yaml: table 'typed' does not exist in the database; the migration that creates "
        "it has probably not run (alembic upgrade head) or has not been written",
        "typed.yaml:2:4: the row for 'b' must be a mapping of column: value, found the scalar '5'",
    ]


def test_empty_file_is_a_valid_empty_dataset(tmp_path: Path) -> None:
    assert offline_problems(tmp_path, "# no rows yet\n") == []


def test_problems_of_several_files_come_in_declaration_order(tmp_path: Path) -> None:
    (tmp_path / "first.yaml").write_text("a: {count: x}\n")
    (tmp_path / "second.yaml").write_text("b: {count: y}\nc: [\n")
    datasets = [
        Dataset("first.yaml", table="typed", key="name"),
        Dataset("second.yaml", table="typed", key="name"),
        Dataset("missing.yaml", table="typed", key="name"),
    ]
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets(datasets, metadata, base_dir=tmp_path, strict=True)
    assert [str(p) for p in caught.value.problems] == [
        "first.yaml:1:12: count expects a whole number, got 'x'",
        "second.yaml:3:1: invalid YAML: while parsing a flow node: did not find expected node "
        "content",
        "missing.yaml: dataset file for 'typed' not found; create it, or fix the path in the "
        "Dataset(...) declaration",
    ]


def test_missing_file_is_logged_outside_strict_mode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="alembic.datasync"):
        validate_datasets([TYPED], metadata, base_dir=tmp_path)
    assert caplog.messages == [
        "datasync: warning: typed.yaml: dataset file for 'typed' not found; create it, or fix "
        "the path in the Dataset(...) declaration; not validated"
    ]


def test_size_limit_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "typed.yaml").write_text("a: {count: 1}\n")
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets([TYPED], metadata, base_dir=tmp_path, max_file_size=10)
    assert [str(p) for p in caught.value.problems] == [
        "typed.yaml: file is 14 bytes, over the limit of 10; split it, or raise the limit "
        "(max_file_size)"
    ]


# -- the example project -------------------------------------------------------

EXAMPLE = Path(__file__).parent.parent / "example"
NODES = Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")


@functools.cache
def example_metadata() -> sa.MetaData:
    """The example's ``Base.metadata``: its env.py's ``target_metadata``."""
    spec = importlib.util.spec_from_file_location("example_models", EXAMPLE / "app" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: the declarative mapping resolves its annotations through it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    result: sa.MetaData = module.Base.metadata
    return result


# Every mistake of the issue, made in the example's own file.
EXAMPLE_EDITS = [
    (
        "  default_temperature: 0.2\n  default_max_tokens: 2000",
        "  default_temprature: 0.2\n  default_max_tokens: 2000",
    ),
    ("  default_max_tokens: 500\n", "  default_max_tokens: 1.5\n"),
    (
        '  langsmith_tracing: true\n  description: "Pull',
        '  langsmith_tracing: "yes"\n  description: "Pull',
    ),
    ('  azure_model: "gpt-4o-eu"\n  azure_temperature', "  azure_model: NO\n  azure_temperature"),
    ("  azure_max_tokens: 1200\n", "  azure_max_tokens: 3000000000\n"),
    (
        '  default_model: "gpt-4o-mini"\n  default_temperature: 0.0\n  default_max_tokens: 200',
        "  default_model: null\n  default_temperature: 0.0\n  default_max_tokens: 200",
    ),
    ("translation:\n", "spam_filter: gpt-4o\n\ntranslation:\n"),
    (
        '  description: "Pick the team a ticket goes to"\n',
        '  description: "Pick the team a ticket goes to"\n  default_model: "gpt-4o"\n',
    ),
    (
        "knowledge_base_answer:\n",
        "summary_generator:\n  default_temperature: 0.4\n\nknowledge_base_answer:\n",
    ),
]
EXAMPLE_REPORT = [
    "config/llm_nodes.yaml:7:23: unknown column 'default_temprature' for table 'llm_node_configuration'; did you mean 'default_temperature'?",
    "config/llm_nodes.yaml:15:23: default_max_tokens expects a whole number, got 1.5",
    "config/llm_nodes.yaml:23:22: langsmith_tracing expects true or false, got 'yes', which is quoted text; remove the quotes",
    'config/llm_nodes.yaml:32:16: azure_model expects text of at most 100 characters, but YAML reads NO as the boolean false; quote it: "NO"',
    "config/llm_nodes.yaml:34:21: azure_max_tokens expects a whole number, got 3000000000, outside the column's range of -2147483648 to 2147483647",
    "config/llm_nodes.yaml:37:18: default_model cannot be null (the column is NOT NULL); write a value, or leave the column out to keep what the table has",
    "config/llm_nodes.yaml:43:14: the row for 'spam_filter' must be a mapping of column: value, found the scalar 'gpt-4o'",
    "config/llm_nodes.yaml:58:3: key 'default_model' is written twice in this mapping, first at line 53, again at line 58; YAML would silently keep only the last one: remove or merge one of them",
]
EXAMPLE_NOT_NULL = (
    "config/llm_nodes.yaml:60:1: new row 'summary_generator' of 'llm_node_configuration' "
    "cannot be created: it leaves out 'default_model', which cannot be NULL and has no default "
    "in the model or the database; add it to the row, or give the column a default"
)
EXAMPLE_NOT_NULL_OFFLINE = EXAMPLE_NOT_NULL.replace(
    "new row 'summary_generator' of 'llm_node_configuration' cannot be created:",
    "row 'summary_generator' of 'llm_node_configuration' cannot be created where it is new:",
)


@pytest.fixture
def broken_example(tmp_path: Path) -> Path:
    text = (EXAMPLE / "config" / "llm_nodes.yaml").read_text()
    for old, new in EXAMPLE_EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "llm_nodes.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_mistakes_in_the_example_stop_the_sync_before_any_write(
    engine: sa.Engine, broken_example: Path, statements: StatementLog, strict: bool
) -> None:
    example_metadata().create_all(engine)
    statements.clear()
    with pytest.raises(InvalidDatasets) as caught, engine.connect() as connection:
        sync(
            connection,
            [NODES],
            metadata=example_metadata(),
            base_dir=broken_example,
            strict=strict,
        )
    assert [str(p) for p in caught.value.problems] == [*EXAMPLE_REPORT, EXAMPLE_NOT_NULL]
    assert statements.writes == []


def test_mistakes_in_the_example_found_without_a_database(broken_example: Path) -> None:
    with pytest.raises(InvalidDatasets) as caught:
        validate_datasets([NODES], example_metadata(), base_dir=broken_example)
    # The sync and the validation agree: the new row that cannot be created fails both.
    assert [str(p) for p in caught.value.problems] == [*EXAMPLE_REPORT, EXAMPLE_NOT_NULL_OFFLINE]


def test_the_example_as_shipped_is_valid() -> None:
    validate_datasets([NODES], example_metadata(), base_dir=EXAMPLE, strict=True)


def test_a_value_repeated_in_many_rows_is_reported_at_each_row(tmp_path: Path) -> None:
    # A column judges each distinct value once (check.py): the judgment is the
    # same, the problem is still every row's, at its own line; the same text
    # read as another type, or past the values a column remembers, is judged anew.
    rows = [f"r{n}:\n  count: {n}\n  label: {'x' * (n % 7)}\n" for n in range(5000)]
    rows[10] = "bad_a:\n  count: 12.5\n  label: fine\n"
    rows[20] = "bad_b:\n  count: 12.5\n  label: fine\n"
    rows[30] = "text:\n  count: '7'\n  label: fine\n"
    rows[4990] = "late:\n  count: 12.5\n  label: xxxxxxxxxxx\n"
    found = offline_problems(tmp_path, "".join(rows))
    assert found == [
        "typed.yaml:32:10: count expects a whole number, got 12.5",
        "typed.yaml:62:10: count expects a whole number, got 12.5",
        "typed.yaml:92:10: count expects a whole number, got '7', which is quoted text; "
        "remove the quotes",
        "typed.yaml:14972:10: count expects a whole number, got 12.5",
        "typed.yaml:14973:10: label expects text of at most 10 characters, got 11 characters; "
        "shorten it, or widen the column in a migration",
    ]
