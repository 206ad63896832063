"""``alembic datasync``: sync, plan (``--dry-run``) or check for drift (``--check``) now.

A command in Alembic's style: a plain function of the `Config`, its first
docstring paragraph the help text, its output through ``config.print_stdout``
(silent under ``alembic -q``).  It runs env.py the way ``alembic current``
does, migrating nothing, and syncs the datasets env.py declares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .errors import DatasetsOutOfSync, DatasyncError
from .hook import ATTRIBUTE, WRITES_ATTRIBUTE, DataSync, report_lines
from .sync import SyncReport

if TYPE_CHECKING:
    from alembic.config import Config


def declared_datasync(config: Config) -> DataSync:
    """The `DataSync` env.py declared; `DatasyncError` when it declared none."""
    declared = config.attributes.get(ATTRIBUTE)
    if not isinstance(declared, DataSync):
        raise DatasyncError(
            "env.py declares no datasets: add `datasync = DataSync(context, [Dataset(...)])` "
            "to env.py (see the README, section 'Add it to your project')"
        )
    return declared


def datasync(
    config: Config,
    dry_run: bool = False,
    check: bool = False,
    strict: bool = False,
) -> SyncReport:
    """Sync the datasets declared in env.py into the database now.

    ``dry_run`` prints the plan and writes nothing: it runs in a transaction
    that is always rolled back (read-only on PostgreSQL).  ``check`` does the
    same and raises `DatasetsOutOfSync` when the database differs from the
    files: rows to create, update or delete, including manual edits (drift).
    ``strict`` makes a missing dataset file an error.  An invalid file always
    fails this command, with every problem listed.
    """
    script = ScriptDirectory.from_config(config)
    outcome: list[SyncReport] = []

    def sync_now(heads: object, migration_context: MigrationContext) -> list[object]:
        declared = declared_datasync(config)
        current = set(migration_context.get_current_heads())
        if current != set(script.get_heads()):
            config.print_stdout(
                "datasync: warning: the database is not at head (%s); run `alembic upgrade "
                "head`, which also syncs",
                ", ".join(sorted(current)) or "no revision",
            )
        report = declared.sync(
            migration_context, strict=strict or declared.strict, dry_run=dry_run or check
        )
        outcome.append(report)
        return []

    config.attributes[WRITES_ATTRIBUTE] = not (dry_run or check)
    try:
        with EnvironmentContext(config, script, fn=sync_now, dont_mutate=True):
            script.run_env()
    finally:
        config.attributes.pop(WRITES_ATTRIBUTE, None)
    if not outcome:
        raise DatasyncError(
            "env.py did not run the migrations online, so nothing was synced: "
            "`alembic datasync` needs a database connection"
        )
    report = outcome[0]
    for line in report_lines(report):
        config.print_stdout("%s", line)
    if check and report.has_changes:
        raise DatasetsOutOfSync(report)
    return report
