"""The example end to end: the real `alembic` script on a copy of example/, on every database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_project import BIN, Project, copy_example

SUMMARY = "datasync: llm_node_configuration (config/llm_nodes.yaml): "
NODES_YAML = "config/llm_nodes.yaml"


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    return copy_example(tmp_path / "project", database_url)


@pytest.fixture
def deployed(project: Project) -> Project:
    """The example after its first deploy."""
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    return project


def test_first_upgrade_migrates_and_creates_the_eight_nodes(project: Project) -> None:
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == SUMMARY + "8 total, 8 created, 0 updated, 0 unchanged"
    assert run.datasync_lines()[1:3] == [
        "  + intent_classification",
        "      default_model: 'gpt-4o'  default_temperature: 0.2  default_max_tokens: 2000  "
        "langsmith_tracing: false  description: 'Classify what the user wants'",
    ]
    nodes = project.nodes()
    assert len(nodes) == 8
    assert nodes["intent_classification"][:4] == ("gpt-4o", 0.2, 2000, False)
    assert project.version() == ["0001"]


def test_second_upgrade_writes_nothing_and_says_eight_unchanged(deployed: Project) -> None:
    before = deployed.nodes()
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [SUMMARY + "8 total, 0 created, 0 updated, 8 unchanged"]
    assert deployed.nodes() == before


def test_scenario_1_switch_a_node_to_qwen(deployed: Project) -> None:
    before = deployed.nodes()
    deployed.edit(
        NODES_YAML,
        'intent_classification:\n  default_model: "gpt-4o"',
        'intent_classification:\n  default_model: "qwen-32b"  # Changed from "gpt-4o"',
    )
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ intent_classification",
        "      default_model: 'gpt-4o' -> 'qwen-32b'",
    ]
    after = deployed.nodes()
    assert after["intent_classification"][0] == "qwen-32b"
    assert {k: v for k, v in after.items() if k != "intent_classification"} == {
        k: v for k, v in before.items() if k != "intent_classification"
    }


def test_an_env_py_on_an_autocommit_connection_syncs_in_a_transaction_of_its_own(
    project: Project,
) -> None:
    """Some projects hand Alembic an AUTOCOMMIT connection (for CREATE INDEX CONCURRENTLY):
    the sync still plans, writes and reads back, in one transaction it begins itself."""
    project.edit(
        "migrations/env.py",
        "    with connectable.connect() as connection:",
        '    with connectable.connect().execution_options(isolation_level="AUTOCOMMIT") as '
        "connection:",
    )
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    assert first.datasync_lines()[0] == SUMMARY + "8 total, 8 created, 0 updated, 0 unchanged"
    project.edit(
        NODES_YAML,
        'intent_classification:\n  default_model: "gpt-4o"',
        'intent_classification:\n  default_model: "qwen-32b"',
    )
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged"
    assert project.nodes()["intent_classification"][0] == "qwen-32b"
    again = project.run("upgrade", "head")
    assert again.datasync_lines() == [SUMMARY + "8 total, 0 created, 0 updated, 8 unchanged"]


def test_scenario_2_disable_tracing(deployed: Project) -> None:
    deployed.edit(
        NODES_YAML,
        "default_max_tokens: 500\n  langsmith_tracing: true",
        "default_max_tokens: 500\n  langsmith_tracing: false  # Changed from true",
    )
    run = deployed.run("upgrade", "head")
    assert run.datasync_lines() == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ email_classification",
        "      langsmith_tracing: true -> false",
    ]
    assert deployed.nodes()["email_classification"][3] in (False, 0)


def test_scenario_3_add_a_node(deployed: Project) -> None:
    path = deployed.folder / NODES_YAML
    path.write_text(
        path.read_text() + "\nsummary_generator:\n"
        '  default_model: "qwen-32b"\n'
        "  default_temperature: 0.4\n"
        "  default_max_tokens: 1500\n"
        "  langsmith_tracing: false\n"
        '  description: "Generate email summaries"\n'
    )
    run = deployed.run("upgrade", "head")
    assert run.datasync_lines() == [
        SUMMARY + "9 total, 1 created, 0 updated, 8 unchanged",
        "  + summary_generator",
        "      default_model: 'qwen-32b'  default_temperature: 0.4  default_max_tokens: 1500  "
        "langsmith_tracing: false  description: 'Generate email summaries'",
    ]
    assert deployed.nodes()["summary_generator"][:5] == (
        "qwen-32b",
        0.4,
        1500,
        deployed.nodes()["summary_generator"][3],
        "Generate email summaries",
    )
    assert len(deployed.nodes()) == 9


def test_manual_edit_is_drift_that_check_reports_and_upgrade_repairs(deployed: Project) -> None:
    deployed.execute(
        "UPDATE llm_node_configuration SET default_model = 'emergency-model' "
        "WHERE node_name = 'translation'"
    )
    check = deployed.run("datasync", "--check")
    assert check.returncode == 1, check.output
    assert check.stdout.splitlines() == [
        SUMMARY + "8 total, 0 to create, 1 to update, 7 unchanged",
        "  ~ translation",
        "      default_model: 'emergency-model' -> 'gpt-4o'",
        "datasync: out of sync: `alembic datasync` would write (1 to update): the files changed "
        "since the last sync, or values they write were edited in the database; `alembic "
        "upgrade head` or `alembic datasync` brings it in line",
    ]
    assert deployed.nodes()["translation"][0] == "emergency-model"
    repair = deployed.run("upgrade", "head")
    assert repair.datasync_lines()[1:] == [
        "  ~ translation",
        "      default_model: 'emergency-model' -> 'gpt-4o'",
    ]
    assert deployed.nodes()["translation"][0] == "gpt-4o"
    again = deployed.run("datasync", "--check")
    assert again.returncode == 0, again.output
    assert again.stdout.splitlines() == [SUMMARY + "8 total, 0 to create, 0 to update, 8 unchanged"]


def test_dry_run_prints_the_plan_and_leaves_every_table_identical(deployed: Project) -> None:
    deployed.edit(NODES_YAML, 'default_model: "gpt-4o-mini"', 'default_model: "qwen-32b"')
    deployed.execute("DELETE FROM llm_node_configuration WHERE node_name = 'translation'")
    before = deployed.nodes()
    versions = deployed.version()
    run = deployed.run("datasync", "--dry-run")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines()[0] == SUMMARY + "8 total, 1 to create, 1 to update, 6 unchanged"
    assert "  ~ email_classification" in run.stdout.splitlines()
    assert "  + translation" in run.stdout.splitlines()
    assert deployed.nodes() == before
    assert deployed.version() == versions


def test_datasync_command_applies(deployed: Project) -> None:
    deployed.edit(NODES_YAML, "default_temperature: 0.3", "default_temperature: 0.35")
    run = deployed.run("datasync")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines() == [
        SUMMARY + "8 total, 0 created, 1 updated, 7 unchanged",
        "  ~ translation",
        "      default_temperature: 0.3 -> 0.35",
    ]
    assert deployed.nodes()["translation"][1] == 0.35


def test_quiet_datasync_prints_nothing(deployed: Project) -> None:
    run = deployed.run("-q", "datasync", "--dry-run")
    assert run.returncode == 0
    assert run.stdout == ""


def test_skip_switch_skips_one_run(deployed: Project) -> None:
    deployed.edit(NODES_YAML, "default_temperature: 0.3", "default_temperature: 0.35")
    run = deployed.run("-x", "datasync=skip", "upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == ["datasync: skipped: -x datasync=skip"]
    assert deployed.nodes()["translation"][1] == 0.3


def test_stamp_and_downgrade_do_not_sync(project: Project) -> None:
    second = project.folder / "migrations" / "versions" / "0002_noop.py"
    second.write_text(
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    first = project.run("upgrade", "head")
    assert first.returncode == 0, first.output
    project.edit(NODES_YAML, "default_temperature: 0.3", "default_temperature: 0.35")

    down = project.run("downgrade", "-1")
    assert down.returncode == 0, down.output
    assert down.datasync_lines() == ["datasync: skipped: alembic downgrade does not sync datasets"]
    assert project.version() == ["0001"]

    partial = project.run("upgrade", "0001")
    assert partial.datasync_lines() == [
        "datasync: skipped: the database is at 0001, not at head (0002); "
        "datasets sync after `alembic upgrade head`"
    ]

    stamp = project.run("stamp", "head")
    assert stamp.returncode == 0, stamp.output
    assert stamp.datasync_lines() == ["datasync: skipped: alembic stamp does not sync datasets"]
    assert project.nodes()["translation"][1] == 0.3

    for command in (("current",), ("history",), ("check",), ("heads",)):
        quiet = project.run(*command)
        assert quiet.datasync_lines() == [], command


def test_offline_sql_mode_says_it_skipped(project: Project) -> None:
    run = project.run("upgrade", "head", "--sql")
    assert run.returncode == 0, run.output
    assert run.datasync_lines() == [
        "datasync: skipped: offline (--sql) mode has no database to sync; "
        "add -x datasync=sql to write the sync as SQL after the migrations, "
        "or run `alembic datasync` against the database"
    ]
    assert "CREATE TABLE llm_node_configuration" in run.stdout
    assert not project.has_table("llm_node_configuration")


def test_programmatic_command_upgrade_syncs(project: Project) -> None:
    script = (
        "from alembic.config import Config\n"
        "from alembic import command\n"
        "command.upgrade(Config('alembic.ini'), 'head')\n"
    )
    run = project.python("-c", script)
    assert run.returncode == 0, run.output
    assert run.datasync_lines()[0] == SUMMARY + "8 total, 8 created, 0 updated, 0 unchanged"
    assert len(project.nodes()) == 8


@pytest.mark.parametrize("per_migration", [False, True])
def test_synced_rows_are_committed_with_and_without_transaction_per_migration(
    project: Project, per_migration: bool
) -> None:
    if per_migration:
        project.edit(
            "migrations/env.py",
            "connection=connection, target_metadata=target_metadata",
            "connection=connection, target_metadata=target_metadata, "
            "transaction_per_migration=True",
        )
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert len(project.nodes()) == 8
    again = project.run("upgrade", "head")
    assert again.datasync_lines() == [SUMMARY + "8 total, 0 created, 0 updated, 8 unchanged"]


def test_missing_file_warns_and_the_upgrade_goes_on(project: Project) -> None:
    (project.folder / NODES_YAML).unlink()
    run = project.run("upgrade", "head")
    assert run.returncode == 0, run.output
    assert run.lines("WARNI [alembic.datasync]") == [
        "WARNI [alembic.datasync] datasync: warning: config/llm_nodes.yaml: dataset file for "
        "'llm_node_configuration' not found; create it, or fix the path in the Dataset(...) "
        "declaration; table 'llm_node_configuration' left unchanged"
    ]
    assert project.version() == ["0001"]
    assert project.nodes() == {}


def test_missing_file_fails_in_strict_mode(project: Project) -> None:
    (project.folder / NODES_YAML).unlink()
    run = project.run("-x", "datasync=strict", "upgrade", "head")
    assert run.returncode != 0
    assert run.lines("FAILED:") == ["FAILED: 1 problem in dataset files, nothing written:"]
    assert "Traceback" not in run.output
    _assert_strict_failure_state(project)


BROKEN = {
    "bad_yaml": (
        'default_model: "gpt-4o"\n  default_temperature: 0.2',
        'default_model: "gpt-4o\n  default_temperature: 0.2',
        "config/llm_nodes.yaml:",
        "invalid YAML",
    ),
    "unknown_column": (
        "default_temperature: 0.2\n  default_max_tokens: 2000",
        "default_temprature: 0.2\n  default_max_tokens: 2000",
        "config/llm_nodes.yaml:7:23: unknown column 'default_temprature' for table "
        "'llm_node_configuration'; did you mean 'default_temperature'?",
        "unknown column",
    ),
    "duplicate_key": (
        "translation:\n",
        "sentiment_analysis:\n  default_model: x\ntranslation:\n",
        # The loader's tests pin the whole message; here, where it points.
        "config/llm_nodes.yaml:43:1: ",
        "'sentiment_analysis'",
    ),
}


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_broken_file_logs_an_error_writes_nothing_and_the_upgrade_goes_on(
    deployed: Project, mistake: str
) -> None:
    old, new, *messages = BROKEN[mistake]
    deployed.edit(NODES_YAML, 'default_model: "gpt-4o-mini"', 'default_model: "qwen-32b"')
    deployed.edit(NODES_YAML, old, new)
    before = deployed.nodes()
    run = deployed.run("upgrade", "head")
    assert run.returncode == 0, run.output
    errors = run.lines("ERROR [alembic.datasync]")
    assert errors[-1] == (
        "ERROR [alembic.datasync] datasync: nothing written; the upgrade goes on "
        "(strict mode would fail it)"
    )
    assert all(message in run.output for message in messages), run.output
    assert "Traceback" not in run.output
    assert deployed.nodes() == before


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_broken_file_fails_the_command_in_strict_mode(project: Project, mistake: str) -> None:
    old, new, *messages = BROKEN[mistake]
    project.edit("migrations/env.py", "    [Dataset(", "    strict=True,\n    datasets=[Dataset(")
    project.edit(NODES_YAML, old, new)
    run = project.run("upgrade", "head")
    assert run.returncode != 0
    assert run.lines("FAILED: ")[0].startswith("FAILED: 1 problem in dataset files")
    assert all(message in run.output for message in messages), run.output
    assert "Traceback" not in run.output
    _assert_strict_failure_state(project)


def _assert_strict_failure_state(project: Project) -> None:
    if project.url.get_backend_name() == "postgresql":
        # Transactional DDL: the failed sync took this upgrade's migrations with it.
        assert project.version() == []
        assert not project.has_table("llm_node_configuration")
    else:
        # SQLite and MySQL cannot roll DDL back: migrated, but nothing synced.
        assert project.version() == ["0001"]
        assert project.nodes() == {}


def test_datasync_command_without_declarations_says_what_to_add(project: Project) -> None:
    project.edit("migrations/env.py", "            datasync.run()  # datasync: 3 of 3\n", "")
    project.edit("migrations/env.py", "datasync = DataSync(", "unused = (")
    run = project.run("datasync")
    assert run.returncode != 0
    assert run.lines("FAILED:") == [
        "FAILED: env.py declares no datasets: add `datasync = DataSync(context, [Dataset(...)])` "
        "to env.py (see the README, section 'Use it in your project')"
    ]


@pytest.mark.parametrize("entry", ["alembic-datasync", "python -m alembic_datasync"])
def test_own_command_line_offers_datasync_and_the_stock_commands(
    deployed: Project, entry: str
) -> None:
    if entry == "alembic-datasync":
        run = deployed.run("datasync", "--dry-run", program=BIN / "alembic-datasync")
        current = deployed.run("current", program=BIN / "alembic-datasync")
    else:
        run = deployed.python("-m", "alembic_datasync", "datasync", "--dry-run")
        current = deployed.python("-m", "alembic_datasync", "current")
    assert run.returncode == 0, run.output
    assert run.stdout.splitlines() == [SUMMARY + "8 total, 0 to create, 0 to update, 8 unchanged"]
    assert current.stdout.strip() == "0001 (head)"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/unreachable",
        "mysql+pymysql://nobody@127.0.0.1:1/unreachable",
        "sqlite:////nonexistent-folder/app.db",
    ],
)
def test_validate_checks_the_files_against_the_models_without_a_database(
    tmp_path: Path, url: str
) -> None:
    project = copy_example(tmp_path / "project", sa.make_url(url))
    valid = project.run("datasync", "--validate")
    assert valid.returncode == 0, valid.output
    assert valid.stdout.splitlines() == [
        "datasync: 1 dataset file is valid against target_metadata (no database used)"
    ]
    project.edit(
        NODES_YAML,
        "default_temperature: 0.2\n  default_max_tokens: 2000",
        "default_temprature: 0.2\n  default_max_tokens: 2000",
    )
    project.edit(
        NODES_YAML,
        'langsmith_tracing: true\n  description: "Sort',
        'langsmith_tracing: yes please\n  description: "Sort',
    )
    invalid = project.run("datasync", "--validate")
    assert invalid.returncode == 255
    # --validate never writes, so it does not say "nothing written"; it generates no SQL either.
    assert invalid.stdout.splitlines() == [
        "FAILED: 2 problems in dataset files:",
        "  config/llm_nodes.yaml:7:23: unknown column 'default_temprature' for table "
        "'llm_node_configuration'; did you mean 'default_temperature'?",
        "  config/llm_nodes.yaml:16:22: langsmith_tracing expects true or false, got 'yes please'",
    ]
    assert "Traceback" not in invalid.output
    assert "Generating static SQL" not in valid.output + invalid.output
    assert "[alembic.runtime.migration]" not in valid.output + invalid.output


def test_a_large_plan_logs_its_first_hundred_rows(deployed: Project) -> None:
    path = deployed.folder / NODES_YAML
    path.write_text(
        path.read_text() + "".join(f"extra_{i:03d}: {{default_model: m}}\n" for i in range(150))
    )
    run = deployed.run("upgrade", "head")
    lines = run.datasync_lines()
    assert lines[0] == SUMMARY + "158 total, 150 created, 0 updated, 8 unchanged"
    assert lines[1:3] == ["  + extra_000", "      default_model: 'm'"]
    assert lines[-1] == (
        "  ... and 50 more changed rows (`alembic datasync --dry-run` lists them all)"
    )
    assert len(lines) == 1 + 100 * 2 + 1
    assert len(deployed.nodes()) == 158


SHARED_CONNECTION = '''\
def run_migrations_online() -> None:
    """The Alembic cookbook's "sharing a connection": use the caller's if given."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("this test's env.py wants config.attributes['connection']")
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
        datasync.run()


def unused_online() -> None:
'''

CALLER = """\
import os, sqlalchemy as sa
from alembic import command
from alembic.config import Config
engine = sa.create_engine(os.environ["DATABASE_URL"])
with engine.begin() as connection:
    config = Config("alembic.ini")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    connection.execute(sa.text("CREATE TABLE caller_was_here (x INTEGER)"))
"""


@pytest.mark.parametrize("broken", [False, True])
def test_a_connection_in_the_callers_transaction_is_left_to_the_caller(
    project: Project, broken: bool
) -> None:
    project.edit("migrations/env.py", "def run_migrations_online() -> None:\n", SHARED_CONNECTION)
    if broken:
        project.edit(NODES_YAML, "default_temperature: 0.2", "default_temprature: 0.2")
    run = project.python("-c", CALLER)
    assert run.returncode == 0, run.output
    assert project.has_table("caller_was_here")
    assert project.version() == ["0001"]
    assert len(project.nodes()) == (0 if broken else 8)
