"""The command line: ``datasync`` as a subcommand of ``alembic`` and of ``alembic-datasync``.

``alembic-datasync`` (and ``python -m alembic_datasync``) is Alembic's own
command line with ``datasync`` added: every stock command works the same.
The stock ``alembic`` script gets the same subcommand through the plugin
module ``alembic_datasync_plugin`` (outside the package, see its docstring).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from alembic import util as alembic_util
from alembic.config import CommandLine
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc

from .commands import FORMATS, datasync, datasync_history
from .environment import ATTRIBUTE
from .errors import DatasetsOutOfSync, database_error_message

if TYPE_CHECKING:
    from alembic.config import Config

COMMAND = "datasync"

#: Exit status of ``datasync --check`` when the database differs from the files.
#: Errors exit as every failed Alembic command does (255).
EXIT_OUT_OF_SYNC = 1

#: Exit status of a failed command, as Alembic's own ``FAILED: ...`` exits.
EXIT_FAILED = 255

#: The flags of ``datasync``: (flag, help), and argparse's options where it is not an on/off flag.
_OPTIONS: list[tuple[str, str] | tuple[str, str, dict[str, Any]]] = [
    (
        "--dry-run",
        "print the plan and write nothing (the transaction is always rolled back; "
        "read-only on PostgreSQL)",
    ),
    (
        "--check",
        f"exit {EXIT_OUT_OF_SYNC} when `alembic datasync` would write anything (changed files, or "
        "manual edits of the values they write), 0 when in sync; writes nothing; a missing "
        "dataset file fails it",
    ),
    ("--strict", "fail on a missing dataset file too (invalid files always fail)"),
    (
        "--validate",
        "check the files against env.py's target_metadata, with no database connection "
        "(for a pull request's CI); a missing dataset file fails it",
    ),
    (
        "--format",
        "text (default) or json: one JSON document on stdout, errors included, for CI bots",
        {"choices": FORMATS, "default": "text"},
    ),
]


def run_datasync(
    config: Config,
    dry_run: bool,
    check: bool,
    strict: bool,
    validate: bool,
    format: str = "text",
) -> None:
    """``datasync`` as the command line runs it: drift is exit status 1, not a failure.

    With ``--format json`` the document on stdout says everything, errors
    included: only the exit status follows (1 out of sync, 255 failed).
    """
    try:
        datasync(
            config,
            dry_run=bool(dry_run),
            check=bool(check),
            strict=bool(strict),
            validate=bool(validate),
            format=format,
        )
    except DatasetsOutOfSync as exc:
        if format != "json":
            config.print_stdout("datasync: out of sync: %s", str(exc))
        sys.exit(EXIT_OUT_OF_SYNC)
    except (CommandError, sa_exc.SQLAlchemyError):
        if format != "json":
            raise
        sys.exit(EXIT_FAILED)


def add_datasync_command(command_line: CommandLine) -> None:
    """Add the ``datasync`` subcommand to an Alembic `CommandLine` (once)."""
    subparsers: Any = command_line.subparsers
    if COMMAND in subparsers.choices:
        return
    summary = (datasync.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    parser = subparsers.add_parser(COMMAND, help=summary, description=summary)
    for flag, text, *options in _OPTIONS:
        parser.add_argument(
            flag, help=text, **(options[0] if options else {"action": "store_true"})
        )
    keywords = [option[0].lstrip("-").replace("-", "_") for option in _OPTIONS]
    parser.set_defaults(cmd=(run_datasync, [], keywords))
    add_history_command(parser)


# -- ``datasync history``: a subcommand of ``datasync`` ---------------------------

HISTORY = "history"

#: The options of ``datasync history`` (tests/test_docs.py: each is in the README).
_HISTORY_OPTIONS: list[tuple[str, str]] = [
    ("--dataset", "only the syncs that changed this dataset (its name in the summary line)"),
    ("-n", "how many syncs to list (default 20)"),
    ("--format", "text (default) or json"),
]


def add_history_command(datasync_parser: ArgumentParser) -> None:
    """Add ``datasync history [ID] [--dataset NAME] [-n N] [--format json]`` under ``datasync``."""
    summary = (datasync_history.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    subcommands = datasync_parser.add_subparsers(dest="datasync_subcommand", metavar="{history}")
    parser = subcommands.add_parser(HISTORY, help=summary, description=summary)
    parser.add_argument(
        "sync_id", nargs="?", type=int, metavar="ID", help="show this sync and its changes"
    )
    texts = dict(_HISTORY_OPTIONS)
    parser.add_argument("--dataset", metavar="NAME", help=texts["--dataset"])
    parser.add_argument("-n", dest="limit", type=int, default=20, metavar="N", help=texts["-n"])
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help=texts["--format"],
    )
    parser.set_defaults(cmd=(run_history, [], []))


def run_history(config: Config) -> None:
    """``datasync history`` as the command line runs it: its options from ``config.cmd_opts``."""
    options = config.cmd_opts
    datasync_history(
        config,
        sync_id=getattr(options, "sync_id", None),
        dataset=getattr(options, "dataset", None),
        limit=getattr(options, "limit", 20),
        format=getattr(options, "output_format", "text"),
    )


def run_cmd_reporting_database_errors(
    run_cmd: Callable[[Any, Config, Namespace], None],
    command_line: Any,
    config: Config,
    options: Namespace,
) -> None:
    """Run an Alembic command; a database error becomes a ``FAILED: ...`` line.

    Only in a project whose env.py declared datasets (``DataSync``), so that
    nothing changes for anyone else; ``--raiseerr`` still shows the traceback.
    """
    try:
        run_cmd(command_line, config, options)
    except sa_exc.SQLAlchemyError as error:
        if getattr(options, "raiseerr", False) or ATTRIBUTE not in config.attributes:
            raise
        alembic_util.err(database_error_message(error), **config.messaging_opts)


class DatasyncCommandLine(CommandLine):
    """Alembic's command line with the ``datasync`` subcommand."""

    def _generate_args(self, prog: str | None) -> None:
        super()._generate_args(prog)
        add_datasync_command(self)

    def run_cmd(self, config: Config, options: Namespace) -> None:
        if getattr(CommandLine.run_cmd, "_alembic_datasync", False):
            super().run_cmd(config, options)  # the plugin already reports them
        else:
            run_cmd_reporting_database_errors(CommandLine.run_cmd, self, config, options)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """``alembic-datasync``: every ``alembic`` command, plus ``datasync``."""
    DatasyncCommandLine(prog=prog or "alembic-datasync").main(argv=argv)
