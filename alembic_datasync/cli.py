"""The command line: ``datasync`` as a subcommand of ``alembic`` and of ``alembic-datasync``.

Built on Alembic's public command line API only: `add_datasync` takes a
`CommandLine` that Alembic built as usual, registers the ``datasync`` function
with the public ``CommandLine.register_command`` (Alembic 1.15.3+), and puts
the command's own flags on its parser (`alembic_internals.subcommand_parser`).
The stock ``alembic`` script gets it through the plugin in
``alembic_datasync_plugin``; ``alembic-datasync`` and ``python -m
alembic_datasync`` call `add_datasync` themselves and say plainly when the
command could not be added (every stock command still works).

``datasync`` turns any error of the database into one ``FAILED: ...`` line
itself (`alembic_datasync.database_errors`).  Adding the command changes
nothing else: for every stock command, Alembic's own output, exit status and
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import alembic
from alembic.config import CommandLine
from sqlalchemy import exc as sa_exc

from .alembic_internals import has_subcommand_parsers, subcommand_parser
from .command import datasync as datasync_now
from .database_errors import command_error
from .errors import DatasetsOutOfSync, DatasyncError

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
    (
        "--validate",
        "check the files against env.py's target_metadata, with no database connection "
        "(for a pull request's CI)",
    ),
]

#: The `argparse.Namespace` attribute of each flag: ``--dry-run`` -> ``dry_run``.
_FLAGS = [flag.lstrip("-").replace("-", "_") for flag, _ in _OPTIONS]


class CommandUnavailable(Exception):
    """The ``datasync`` command could not be added to this Alembic's command line."""


def datasync(config: Config) -> None:
    """Sync the datasets declared in env.py into the database now.

    The function the command line runs for ``datasync``: its flags come from
    ``config.cmd_opts``.  Out of sync (``--check``) exits 1; a database error
    becomes one ``FAILED:`` line, like any other `DatasyncError`.
    """
    flags = {name: bool(getattr(config.cmd_opts, name, False)) for name in _FLAGS}
    try:
        datasync_now(config, **flags)
    except DatasetsOutOfSync as exc:
        config.print_stdout("datasync: out of sync: %s", str(exc))
        sys.exit(EXIT_OUT_OF_SYNC)
    except DatasyncError:
        raise
    except sa_exc.SQLAlchemyError as error:
        raise command_error(error) from error


def add_datasync(command_line: CommandLine) -> None:
    """Add the ``datasync`` subcommand to an Alembic `CommandLine` (once).

    Raises `CommandUnavailable` saying why when this Alembic's command line
    cannot take the command; ``command_line`` then works as Alembic built it.
    """
    if not has_subcommand_parsers(command_line):
        raise CommandUnavailable("its CommandLine has no subcommand parsers to add it to")
    if subcommand_parser(command_line, COMMAND) is None:
        try:
            command_line.register_command(datasync)
        except Exception as error:
            raise CommandUnavailable(
                f"CommandLine.register_command failed: {type(error).__name__}: {error}"
            ) from error
        parser = subcommand_parser(command_line, COMMAND)
        if parser is None:
            raise CommandUnavailable("CommandLine.register_command did not add a subcommand")
        parser.description = (datasync.__doc__ or "").split("\n\n")[0].strip()
        for flag, text in _OPTIONS:
            parser.add_argument(flag, action="store_true", help=text)


def unavailable_message(error: BaseException) -> str:
    """What ``alembic-datasync`` says when the ``datasync`` command could not be added."""
    return (
        f"the datasync command is not available with Alembic {alembic.__version__}: {error}. "
        f"Every other command works, and env.py still syncs on `upgrade`; please report "
        f"this with your Alembic version"
    )


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """``alembic-datasync``: every ``alembic`` command, plus ``datasync``."""
    prog = prog or "alembic-datasync"
    command_line = CommandLine(prog=prog)
    try:
        add_datasync(command_line)
    except Exception as error:
        print(f"{prog}: warning: {unavailable_message(error)}", file=sys.stderr)
    command_line.main(argv=argv)
