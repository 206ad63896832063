"""The command line: ``datasync`` as a subcommand of ``alembic`` and of ``alembic-datasync``.

``alembic-datasync`` (and ``python -m alembic_datasync``) is Alembic's own
command line with ``datasync`` added: every stock command works the same.
The stock ``alembic`` script gets the same subcommand through the plugin in
`alembic_datasync.alembic_plugin`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from alembic.config import CommandLine

from .command import datasync
from .errors import DatasetsOutOfSync

if TYPE_CHECKING:
    from alembic.config import Config

COMMAND = "datasync"

#: Exit status of ``datasync --check`` when the database differs from the files.
#: Errors exit as every failed Alembic command does (255).
EXIT_OUT_OF_SYNC = 1

_OPTIONS: list[tuple[str, str]] = [
    (
        "--dry-run",
        "print the plan and write nothing (the transaction is always rolled back; "
        "read-only on PostgreSQL)",
    ),
    (
        "--check",
        f"exit {EXIT_OUT_OF_SYNC} when the database differs from the dataset files "
        "(pending changes or manual edits), 0 when in sync; writes nothing",
    ),
    ("--strict", "fail on a missing dataset file too (invalid files always fail)"),
]


def run_datasync(config: Config, dry_run: bool, check: bool, strict: bool) -> None:
    """``datasync`` as the command line runs it: drift is exit status 1, not a failure."""
    try:
        datasync(config, dry_run=bool(dry_run), check=bool(check), strict=bool(strict))
    except DatasetsOutOfSync as exc:
        config.print_stdout("datasync: out of sync: %s", str(exc))
        sys.exit(EXIT_OUT_OF_SYNC)


def add_datasync_command(command_line: CommandLine) -> None:
    """Add the ``datasync`` subcommand to an Alembic `CommandLine` (once)."""
    subparsers: Any = command_line.subparsers
    if COMMAND in subparsers.choices:
        return
    summary = (datasync.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    parser = subparsers.add_parser(COMMAND, help=summary, description=summary)
    for flag, text in _OPTIONS:
        parser.add_argument(flag, action="store_true", help=text)
    keywords = [flag.lstrip("-").replace("-", "_") for flag, _ in _OPTIONS]
    parser.set_defaults(cmd=(run_datasync, [], keywords))


class DatasyncCommandLine(CommandLine):
    """Alembic's command line with the ``datasync`` subcommand."""

    def _generate_args(self, prog: str | None) -> None:
        super()._generate_args(prog)
        add_datasync_command(self)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """``alembic-datasync``: every ``alembic`` command, plus ``datasync``."""
    DatasyncCommandLine(prog=prog or "alembic-datasync").main(argv=argv)
