"""Every private Alembic detail alembic_internals reads, pinned on the installed Alembic.

One test per detail, run through the real ``alembic`` script: when a new
Alembic changes one of them, its test fails here (and in ``make
test-alembic-next``) before a user sees `DataSync` fall back on its warning.
The last tests pin the "cannot tell" answers the callers rely on.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import alembic
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import CommandLine, Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from alembic_datasync.alembic_internals import (
    environment_context,
    has_subcommand_parsers,
    running_command,
    subcommand_parser,
    transaction_owner,
    upgrade_steps,
)

from alembic_project import Project

ENV_PY = """\
import json
import os

from sqlalchemy import Column, Integer, MetaData, Table, create_engine, pool

from alembic import context
from alembic_datasync.alembic_internals import (
    environment_context,
    running_command,
    transaction_owner,
)

config = context.config
x = context.get_x_argument(as_dictionary=True)
target_metadata = MetaData()
Table("gadget", target_metadata, Column("id", Integer, primary_key=True))
environment = environment_context(context)


def probe(**found):
    print("probe " + json.dumps(found), flush=True)


probe(
    environment=type(environment).__name__ if environment is not None else None,
    same_config=environment is not None and environment.config is config,
    command=running_command(environment),
)


def run_migrations_online():
    engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        if x.get("owner") == "caller":
            connection.begin()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=x.get("per_migration") == "1",
        )
        with context.begin_transaction():
            context.run_migrations()
            probe(owner=transaction_owner(context.get_context()))
        if x.get("owner") == "caller":
            connection.commit()


if context.is_offline_mode():
    context.configure(url=os.environ["DATABASE_URL"])
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
"""

REVISION = '''\
"""a table"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("gadget", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("gadget")
'''


@pytest.fixture
def project(database_url: sa.URL, tmp_path: Path) -> Project:
    folder = tmp_path / "project"
    (folder / "migrations" / "versions").mkdir(parents=True)
    (folder / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (folder / "migrations" / "env.py").write_text(ENV_PY)
    (folder / "migrations" / "script.py.mako").write_text("")
    (folder / "migrations" / "versions" / "0001_gadget.py").write_text(REVISION)
    return Project(folder, database_url)


def probes(project: Project, *args: str) -> dict[str, Any]:
    """What env.py found while ``alembic *args`` ran it (the last value of each probe)."""
    run = project.run(*args)
    assert run.returncode == 0, run.output
    found: dict[str, Any] = {}
    for line in run.lines("probe "):
        found.update(json.loads(line.removeprefix("probe ")))
    return found


def test_environment_context_is_found_through_the_context_proxy(project: Project) -> None:
    # alembic.context keeps the running EnvironmentContext in its module global `_proxy`.
    found = probes(project, "current")
    assert found["environment"] == "EnvironmentContext", (
        f"alembic {alembic.__version__} no longer keeps the EnvironmentContext in "
        "alembic.context._proxy: update alembic_internals.environment_context"
    )
    assert found["same_config"] is True


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("upgrade", "head"), "upgrade"),
        (("current",), "current"),
        (("history", "-i"), "history"),
        (("check",), "check"),
        (("stamp", "base"), "stamp"),
        (("stamp", "head"), "stamp"),
        (("downgrade", "base"), "downgrade"),
        (("ensure_version",), "ensure_version"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else value,
)
def test_running_command_names_each_alembic_command(
    project: Project, args: tuple[str, ...], expected: str
) -> None:
    # Each command passes EnvironmentContext(fn=...) a function defined inside
    # it: context_opts["fn"].__qualname__ == "<command>.<locals>.<inner>".
    if expected in ("downgrade", "check"):
        assert project.run("upgrade", "head").returncode == 0
    found = probes(project, *args)
    assert found["command"] == expected, (
        f"alembic {alembic.__version__} {' '.join(args)}: running_command() said "
        f"{found['command']!r}; update alembic_internals.running_command"
    )


def test_running_command_of_another_runner_is_its_qualified_name(project: Project) -> None:
    # `alembic datasync` runs env.py with a function of its own, as any tool may.
    def sync_now(heads: object, migration_context: object) -> list[object]:
        return []

    config = Config(str(project.folder / "alembic.ini"))
    script = ScriptDirectory.from_config(config)
    with EnvironmentContext(config, script, fn=sync_now) as environment:
        assert running_command(environment) == (
            f"{__name__}.test_running_command_of_another_runner_is_its_qualified_name"
            ".<locals>.sync_now"
        )


@pytest.mark.parametrize("per_migration", [False, True], ids=["one-transaction", "per-migration"])
def test_transaction_owner_is_alembic_or_nobody(project: Project, per_migration: bool) -> None:
    # MigrationContext._transaction: the outer transaction begin_transaction()
    # opened, on databases with transactional DDL unless per migration.
    args = ["-x", "per_migration=1"] if per_migration else []
    found = probes(project, *args, "upgrade", "head")
    transactional_ddl = project.url.get_backend_name() == "postgresql"
    expected = "alembic" if transactional_ddl and not per_migration else "nobody"
    assert found["owner"] == expected, (
        f"alembic {alembic.__version__}: transaction_owner() said {found['owner']!r}; "
        "update alembic_internals.transaction_owner"
    )


def test_transaction_owner_is_the_caller_of_a_connection_in_a_transaction(
    project: Project,
) -> None:
    # MigrationContext._in_external_transaction: set when configure() is given
    # a connection already inside a transaction.
    found = probes(project, "-x", "owner=caller", "upgrade", "head")
    assert found["owner"] == "caller", (
        f"alembic {alembic.__version__}: transaction_owner() said {found['owner']!r}; "
        "update alembic_internals.transaction_owner"
    )
    assert project.version() == ["0001"]


def test_subcommand_parsers_hold_each_registered_command() -> None:
    # CommandLine.subparsers: register_command adds each command's parser to it.
    command_line = CommandLine(prog="alembic")
    assert has_subcommand_parsers(command_line)
    upgrade = subcommand_parser(command_line, "upgrade")
    assert upgrade is not None and upgrade.prog == "alembic upgrade"

    def frobnicate(config: object) -> None:
        """Frobnicate."""

    command_line.register_command(frobnicate)  # type: ignore[arg-type]
    added = subcommand_parser(command_line, "frobnicate")
    assert added is not None and added.prog == "alembic frobnicate"
    assert subcommand_parser(command_line, "no_such_command") is None


# -- "cannot tell" -------------------------------------------------------------


class Changed:
    """An object without the private detail: what a changed Alembic would hand us."""


def test_every_function_cannot_tell_rather_than_raise() -> None:
    assert environment_context(Changed()) is None
    assert running_command(Changed()) is None
    assert transaction_owner(Changed()) is None
    assert not has_subcommand_parsers(Changed())  # type: ignore[arg-type]
    assert subcommand_parser(Changed(), "upgrade") is None  # type: ignore[arg-type]
    assert upgrade_steps(Changed(), ()) is None


def test_running_command_cannot_tell_a_command_function_of_another_shape(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text(
        textwrap.dedent(
            """\
            [alembic]
            script_location = %(here)s
            """
        )
    )
    config = Config(str(tmp_path / "alembic.ini"))
    script = ScriptDirectory(str(tmp_path))
    # A command function itself, not a function defined inside it.
    with EnvironmentContext(config, script, fn=command.upgrade) as environment:
        assert running_command(environment) is None
    with EnvironmentContext(config, script) as environment:
        assert running_command(environment) is None


def test_transaction_owner_cannot_tell_without_a_boolean_flag() -> None:
    changed = Changed()
    changed._in_external_transaction = "yes"  # type: ignore[attr-defined]
    changed._transaction = None  # type: ignore[attr-defined]
    assert transaction_owner(changed) is None


def test_upgrade_steps_are_what_upgrade_heads_runs(project: Project) -> None:
    config = Config(str(project.folder / "alembic.ini"))
    script = ScriptDirectory.from_config(config)
    steps = upgrade_steps(script, ())
    assert steps is not None and len(steps) == 1
    assert "0001" in str(steps[0])
    assert upgrade_steps(script, ("0001",)) == []


def test_upgrade_steps_cannot_tell_on_a_changed_script_directory() -> None:
    assert upgrade_steps(Changed(), ()) is None
