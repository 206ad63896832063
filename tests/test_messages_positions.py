"""Issue 9, class 15: messages point where the problem is, say what is true, stay readable.

- A Unicode line break inside a quoted value (U+2028, U+2029, NEL) shifts no
  later line number.
- Invalid YAML names where the problem starts (an unclosed quote), not only
  where PyYAML gave up.
- ``--validate`` never calls a missing file valid.
- "leaves out 'a' and 'b', which ... have no default": plural for two.
- A very large value is cut in plans.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from alembic_datasync import Dataset, InvalidDatasets, plan, sync, validate_datasets

from alembic_project import copy_example

ITEMS = Dataset("items.yaml", table="items", key="code")


def items_table(engine: sa.Engine) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "items",
        metadata,
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("label", sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")),
        sa.Column("count", sa.Integer),
        sa.Column("a", sa.String(20), nullable=False),
        sa.Column("b", sa.String(20), nullable=False),
        sa.Column("c", sa.String(20), nullable=False, server_default="c"),
    )
    metadata.create_all(engine)
    return metadata


def write(folder: Path, text: str) -> None:
    (folder / "items.yaml").write_text(text, encoding="utf-8")


LINE_BREAKS = [
    pytest.param("\u2028", id="U+2028"),
    pytest.param("\u2029", id="U+2029"),
    pytest.param("\x85", id="NEL"),
]


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_a_unicode_line_break_inside_a_quoted_value_shifts_no_later_position(
    engine: sa.Engine, tmp_path: Path, line_break: str
) -> None:
    metadata = items_table(engine)
    write(
        tmp_path,
        f'x:\n  label: "one{line_break}two"\n  a: s\n  b: s\ny:\n  count: many\n  labl: z\n',
    )
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as online:
        sync(connection, [ITEMS], base_dir=tmp_path)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([ITEMS], metadata, base_dir=tmp_path)
    for caught in (online, offline):
        problems = [str(problem) for problem in caught.value.problems]
        assert problems[0].startswith("items.yaml:6:10: count expects a whole number"), problems
        assert problems[1].startswith("items.yaml:7:9: unknown column 'labl'"), problems


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_a_unicode_line_break_in_a_list_of_rows_shifts_no_later_position(
    engine: sa.Engine, tmp_path: Path, line_break: str
) -> None:
    items_table(engine)
    write(
        tmp_path,
        f'- {{code: x, label: "one{line_break}two", a: s, b: s}}\n- {{code: y, count: many}}\n',
    )
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        sync(connection, [ITEMS], base_dir=tmp_path)
    assert str(caught.value.problems[0]).startswith(
        "items.yaml:2:20: count expects a whole number"
    ), caught.value.problems


UNCLOSED = 'a:\n  label: "unclosed\nb:\n  label: fine\nc:\n  label: "other"\nd:\n  label: x\n'


def test_an_unclosed_quote_is_named_where_it_opens_and_where_parsing_stopped(
    engine: sa.Engine, tmp_path: Path
) -> None:
    metadata = items_table(engine)
    write(tmp_path, UNCLOSED)
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as online:
        sync(connection, [ITEMS], base_dir=tmp_path)
    with pytest.raises(InvalidDatasets) as offline:
        validate_datasets([ITEMS], metadata, base_dir=tmp_path)
    for caught in (online, offline):
        (problem,) = caught.value.problems
        text = str(problem)
        # Where the problem starts leads; where PyYAML gave up is named too.
        assert text.startswith("items.yaml:2:10: "), text
        assert "6:11" in text and "quote" in text


def test_a_new_row_leaving_out_two_required_columns_says_they_have_no_default(
    engine: sa.Engine, tmp_path: Path
) -> None:
    items_table(engine)
    write(tmp_path, "x:\n  label: one\n")
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [ITEMS], base_dir=tmp_path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        "items.yaml:1:1: new row 'x' of 'items' cannot be created: it leaves out 'a' and 'b', "
        "which cannot be NULL and have no default in the database; add them to the row, or give "
        "the columns a default; if the model has a default for them, pass the model: "
        "target_metadata to context.configure() in env.py, metadata= in the Python API"
    )


def test_a_new_row_leaving_out_one_required_column_says_it_has_no_default(
    engine: sa.Engine, tmp_path: Path
) -> None:
    items_table(engine)
    write(tmp_path, "x:\n  a: one\n")
    with engine.connect() as connection, pytest.raises(InvalidDatasets) as caught:
        plan(connection, [ITEMS], base_dir=tmp_path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        "items.yaml:1:1: new row 'x' of 'items' cannot be created: it leaves out 'b', which "
        "cannot be NULL and has no default in the database; add it to the row, or give the "
        "column a default; if the model has a default for it, pass the model: target_metadata "
        "to context.configure() in env.py, metadata= in the Python API"
    )


#: 200 KB, as was seen in a plan.
LARGE = "".join(f"{i:07d} " for i in range(25_000))


def test_a_very_large_value_is_cut_in_the_plan(engine: sa.Engine, tmp_path: Path) -> None:
    items_table(engine)
    write(tmp_path, f"x:\n  a: s\n  b: s\n  label: '{LARGE}'\n")
    with engine.connect() as connection:
        created = sync(connection, [ITEMS], base_dir=tmp_path)
    write(tmp_path, f"x:\n  a: s\n  b: s\n  label: 'new {LARGE}'\n")
    with engine.connect() as connection:
        updated = plan(connection, [ITEMS], base_dir=tmp_path)
    for report, size in ((created, "200,000"), (updated, "200,004")):
        text = report.render()
        assert max(len(line) for line in text.splitlines()) <= 1_000, len(text)
        assert "0000000 0000001 " in text  # the start of the value is shown
        assert f"{size} characters" in text  # and how long it is
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT label FROM items").scalar_one()
    assert stored == LARGE  # cut in the plan only


def test_validate_fails_and_names_a_missing_file_instead_of_calling_it_valid(
    tmp_path: Path,
) -> None:
    # --validate opens no database: the URL is never used.
    project = copy_example(tmp_path / "project", sa.make_url(f"sqlite:///{tmp_path}/unused.db"))
    project.edit(
        "migrations/env.py",
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")]',
        '[Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name"),'
        ' Dataset("config/extra.yaml", table="llm_node_configuration", key="node_name",'
        ' name="extra")]',
    )
    run = project.run("datasync", "--validate")
    assert run.returncode == 255, run.output
    assert "config/extra.yaml" in run.output
    assert "valid against target_metadata" not in run.output
    assert "Traceback" not in run.output
