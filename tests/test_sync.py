"""The sync engine on real databases: plan, apply, report."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alembic_datasync import Dataset, InvalidDatasets, SyncReport, plan, sync

from conftest import StatementLog
from example_project import example_model

metadata = sa.MetaData()
# The example backend's own model: the one definition of the LLM-node table.
llm_nodes = example_model("LLMNodeConfiguration").__table__.to_metadata(metadata)
feature_flags = sa.Table(
    "feature_flags",
    metadata,
    sa.Column("tenant", sa.String(50), primary_key=True),
    sa.Column("flag", sa.String(50), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("note", sa.String(200)),
)
currencies = sa.Table(
    "currencies",
    metadata,
    sa.Column("code", sa.String(3), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, unique=True),
)

LLM_NODES = """\
intent_classification:
  default_model: "gpt-4o"
  default_temperature: 0.2
  default_max_tokens: 2000
  langsmith_tracing: false
email_classification:
  default_model: "gpt-4o-mini"
  default_temperature: 0.0
  default_max_tokens: 500
  langsmith_tracing: true
  description: "Sorts incoming mail"
reply_drafting:
  default_model: "gpt-4o"
  default_temperature: 0.7
  default_max_tokens: 1500
"""

NODES = Dataset("llm_nodes.yaml", table="llm_node_configuration", key="node_name")


@pytest.fixture
def tables(engine: sa.Engine) -> sa.Engine:
    metadata.create_all(engine)
    return engine


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def run_sync(
    engine: sa.Engine, datasets: list[Dataset], folder: Path, **options: Any
) -> SyncReport:
    with engine.connect() as connection:
        return sync(connection, datasets, base_dir=folder, **options)


def rows(engine: sa.Engine, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    selected = [table.c[c] for c in columns] if columns else list(table.c)
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*selected).order_by(*selected))]


def test_first_sync_creates_every_row(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    report = run_sync(tables, [NODES], tmp_path)
    assert report.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): "
        "3 total, 3 created, 0 updated, 0 unchanged"
    ]
    assert rows(tables, llm_nodes, "node_name", "default_model", "default_max_tokens") == [
        ("email_classification", "gpt-4o-mini", 500),
        ("intent_classification", "gpt-4o", 2000),
        ("reply_drafting", "gpt-4o", 1500),
    ]


def test_rows_writing_the_same_columns_are_inserted_by_one_statement(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(
        tmp_path, "llm_nodes.yaml", "".join(f"n{i}: {{default_model: m{i}}}\n" for i in range(50))
    )
    report = run_sync(tables, [NODES], tmp_path)
    assert len(report.datasets[0].creates) == 50
    assert len(statements.writes) == 1
    assert rows(tables, llm_nodes, "node_name")[:2] == [("n0",), ("n1",)]


def test_column_defaults_fill_what_the_file_leaves_out(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "llm_nodes.yaml", "tiny:\n  default_model: m\n")
    run_sync(tables, [NODES], tmp_path)
    assert rows(
        tables, llm_nodes, "default_temperature", "default_max_tokens", "langsmith_tracing"
    ) == [(0.7, 1000, True)]


def test_unchanged_file_issues_no_writes(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    # One executemany INSERT per set of written columns: the three rows write three sets.
    assert [w.split("(")[0] for w in statements.writes] == [
        "INSERT INTO llm_node_configuration "
    ] * 3
    statements.clear()
    report = run_sync(tables, [NODES], tmp_path)
    assert statements.writes == []
    assert report.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): "
        "3 total, 0 created, 0 updated, 3 unchanged"
    ]
    assert not report.has_changes


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_no_op_sync_leaves_row_versions_alone_on_postgresql(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    query = sa.text("SELECT node_name, xmin::text FROM llm_node_configuration ORDER BY node_name")
    with tables.connect() as connection:
        before = connection.execute(query).all()
    run_sync(tables, [NODES], tmp_path)
    with tables.connect() as connection:
        after = connection.execute(query).all()
    assert after == before


def test_one_changed_field_is_one_update_of_one_row(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    before = rows(tables, llm_nodes)
    write(
        tmp_path,
        "llm_nodes.yaml",
        LLM_NODES.replace(
            '"gpt-4o"\n  default_temperature: 0.2', '"qwen-32b"\n  default_temperature: 0.2'
        ),
    )
    statements.clear()
    report = run_sync(tables, [NODES], tmp_path)
    assert len(statements.writes) == 1
    assert statements.writes[0].startswith("UPDATE llm_node_configuration SET default_model=")
    assert report.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): "
        "3 total, 0 created, 1 updated, 2 unchanged"
    ]
    assert report.plan_lines() == [
        "~ intent_classification",
        "    default_model: 'gpt-4o' -> 'qwen-32b'",
    ]
    after = rows(tables, llm_nodes)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(changed) == 1
    assert changed[0][1][1:3] == ("intent_classification", "qwen-32b")


def test_column_absent_from_file_keeps_its_database_value(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    with tables.begin() as connection:
        connection.execute(llm_nodes.update().values(azure_model="gpt-4o-azure"))
    write(
        tmp_path,
        "llm_nodes.yaml",
        LLM_NODES.replace("langsmith_tracing: true", "langsmith_tracing: false"),
    )
    report = run_sync(tables, [NODES], tmp_path)
    assert report.plan_lines() == ["~ email_classification", "    langsmith_tracing: true -> false"]
    assert rows(
        tables, llm_nodes, "node_name", "langsmith_tracing", "azure_model", "description"
    ) == [
        ("email_classification", False, "gpt-4o-azure", "Sorts incoming mail"),
        ("intent_classification", False, "gpt-4o-azure", None),
        ("reply_drafting", True, "gpt-4o-azure", None),
    ]


def test_null_writes_null(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    write(tmp_path, "llm_nodes.yaml", LLM_NODES.replace('"Sorts incoming mail"', "null"))
    report = run_sync(tables, [NODES], tmp_path)
    assert report.plan_lines() == [
        "~ email_classification",
        "    description: 'Sorts incoming mail' -> null",
    ]
    assert rows(tables, llm_nodes, "node_name", "description")[0] == ("email_classification", None)


def test_list_of_rows_with_a_composite_key(tables: sa.Engine, tmp_path: Path) -> None:
    flags = Dataset("flags.yaml", table="feature_flags", key=("tenant", "flag"))
    write(
        tmp_path,
        "flags.yaml",
        """\
        - {tenant: acme, flag: new_checkout, enabled: true}
        - {tenant: acme, flag: dark_mode, enabled: false}
        - {tenant: globex, flag: dark_mode, enabled: true, note: pilot}
        """,
    )
    report = run_sync(tables, [flags], tmp_path)
    assert report.summary_lines() == [
        "datasync: feature_flags (flags.yaml): 3 total, 3 created, 0 updated, 0 unchanged"
    ]
    write(
        tmp_path,
        "flags.yaml",
        """\
        - {tenant: acme, flag: new_checkout, enabled: true}
        - {tenant: acme, flag: dark_mode, enabled: true}
        - {tenant: globex, flag: dark_mode, enabled: true, note: pilot}
        """,
    )
    report = run_sync(tables, [flags], tmp_path)
    assert report.plan_lines() == ["~ acme, dark_mode", "    enabled: false -> true"]
    assert rows(tables, feature_flags, "tenant", "flag", "enabled") == sorted(
        [("acme", "new_checkout", True), ("acme", "dark_mode", True), ("globex", "dark_mode", True)]
    )


def test_prune_deletes_only_rows_absent_from_the_file(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    pruned = Dataset("currencies.yaml", table="currencies", key="code", prune=True)
    write(
        tmp_path,
        "currencies.yaml",
        "EUR: {name: Euro}\nUSD: {name: US Dollar}\nDEM: {name: Mark}\n",
    )
    run_sync(tables, [pruned], tmp_path)
    write(tmp_path, "currencies.yaml", "EUR: {name: Euro}\nUSD: {name: US Dollar}\n")
    statements.clear()
    with tables.connect() as connection:
        planned = plan(connection, [pruned], base_dir=tmp_path)
    assert planned.plan_lines() == ["- DEM"]
    assert statements.writes == []
    report = run_sync(tables, [pruned], tmp_path)
    assert report.summary_lines() == [
        "datasync: currencies (currencies.yaml): 2 total, 0 created, 0 updated, 2 unchanged, "
        "1 deleted"
    ]
    assert rows(tables, currencies, "code") == [("EUR",), ("USD",)]


def test_prune_refuses_an_empty_file_unless_allowed(tables: sa.Engine, tmp_path: Path) -> None:
    pruned = Dataset("currencies.yaml", table="currencies", key="code", prune=True)
    write(tmp_path, "currencies.yaml", "EUR: {name: Euro}\n")
    run_sync(tables, [pruned], tmp_path)
    write(tmp_path, "currencies.yaml", "# all gone\n")
    with pytest.raises(InvalidDatasets) as caught:
        run_sync(tables, [pruned], tmp_path)
    assert str(caught.value) == (
        "1 problem in dataset files, nothing written:\n"
        "  currencies.yaml: the file has no rows, and pruning would delete all 1 rows it "
        "wrote to 'currencies'; if that is what you want, declare the dataset with "
        "allow_empty=True"
    )
    assert rows(tables, currencies, "code") == [("EUR",)]
    allowed = Dataset(
        "currencies.yaml", table="currencies", key="code", prune=True, allow_empty=True
    )
    run_sync(tables, [allowed], tmp_path)
    assert rows(tables, currencies, "code") == []


def test_empty_file_without_prune_changes_nothing(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "currencies.yaml", "")
    report = run_sync(
        tables, [Dataset("currencies.yaml", table="currencies", key="code")], tmp_path
    )
    assert report.summary_lines() == [
        "datasync: currencies (currencies.yaml): 0 total, 0 created, 0 updated, 0 unchanged"
    ]


def test_a_failing_second_dataset_leaves_the_first_table_unchanged(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    # Two currencies with the same name break the table's UNIQUE(name).
    write(tmp_path, "currencies.yaml", "EUR: {name: Euro}\nXEU: {name: Euro}\n")
    datasets = [NODES, Dataset("currencies.yaml", table="currencies", key="code")]
    with pytest.raises(Exception) as caught:
        run_sync(tables, datasets, tmp_path)
    assert str(caught.value).startswith(
        "currencies.yaml:2:1: the database refused to insert row 'XEU' of 'currencies': "
    )
    assert rows(tables, llm_nodes) == []
    assert rows(tables, currencies) == []


def test_dry_run_plans_and_writes_nothing(
    tables: sa.Engine, tmp_path: Path, statements: StatementLog
) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    report = run_sync(tables, [NODES], tmp_path, dry_run=True)
    assert statements.writes == []
    assert report.summary_lines() == [
        "datasync: llm_node_configuration (llm_nodes.yaml): "
        "3 total, 3 to create, 0 to update, 0 unchanged"
    ]
    assert rows(tables, llm_nodes) == []


def test_report_renders_summary_and_plan(tables: sa.Engine, tmp_path: Path) -> None:
    write(tmp_path, "llm_nodes.yaml", LLM_NODES)
    run_sync(tables, [NODES], tmp_path)
    write(
        tmp_path,
        "llm_nodes.yaml",
        LLM_NODES.replace(
            '"gpt-4o"\n  default_temperature: 0.2', '"qwen-32b"\n  default_temperature: 0.2'
        )
        + "summary_generator:\n  default_model: qwen-32b\n  default_temperature: 0.4\n",
    )
    report = run_sync(tables, [NODES], tmp_path)
    assert report.render() == textwrap.dedent(
        """\
        datasync: llm_node_configuration (llm_nodes.yaml): 4 total, 1 created, 1 updated, 2 unchanged
          ~ intent_classification
              default_model: 'gpt-4o' -> 'qwen-32b'
          + summary_generator
              default_model: 'qwen-32b'  default_temperature: 0.4"""
    )


def test_relative_paths_resolve_against_base_dir(tables: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "llm_nodes.yaml", LLM_NODES)
    nested = Dataset("config/llm_nodes.yaml", table="llm_node_configuration", key="node_name")
    report = run_sync(tables, [nested], tmp_path)
    assert report.summary_lines()[0].startswith(
        "datasync: llm_node_configuration (config/llm_nodes.yaml): 3 total, 3 created"
    )


def test_missing_file_is_a_warning_unless_strict(tables: sa.Engine, tmp_path: Path) -> None:
    report = run_sync(tables, [NODES], tmp_path)
    assert report.datasets == []
    assert report.warnings == [
        "llm_nodes.yaml: dataset file for 'llm_node_configuration' not found; create it, or fix "
        "the path in the Dataset(...) declaration; table 'llm_node_configuration' left unchanged"
    ]
    with pytest.raises(InvalidDatasets) as caught:
        run_sync(tables, [NODES], tmp_path, strict=True)
    assert str(caught.value.problems[0]).startswith("llm_nodes.yaml: dataset file for")
    assert caught.value.problems[0].position == "llm_nodes.yaml"


def test_unknown_column_and_missing_table_reported_together(
    tables: sa.Engine, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "llm_nodes.yaml",
        "intent_classification:\n  default_model: m\n  default_temprature: 0.2\n",
    )
    write(tmp_path, "plans.yaml", "free: {price: 0}\n")
    datasets = [NODES, Dataset("plans.yaml", table="plans", key="name")]
    with pytest.raises(InvalidDatasets) as caught:
        run_sync(tables, datasets, tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "llm_nodes.yaml:3:23: unknown column 'default_temprature' for table "
        "'llm_node_configuration'; did you mean 'default_temperature'?",
        "plans.yaml: table 'plans' does not exist in the database; the migration that creates it "
        "has probably not run (alembic upgrade head) or has not been written",
    ]
    assert rows(tables, llm_nodes) == []
