"""The command line: ``datasync`` as a subcommand of ``alembic`` and of ``alembic-datasync``.

Built on Alembic's public command line API only: `add_datasync` takes a
`CommandLine` that Alembic built as usual, registers the ``datasync`` function
with the public ``CommandLine.register_command`` (Alembic 1.15.3+), and puts
the command's own flags on its parser (`alembic_internals.subcommand_parser`).
The stock ``alembic`` script gets it through the plugin in
``alembic_datasync_plugin``; ``alembic-datasync`` and ``python -m
alembic_datasync`` call `add_datasync` themselves and say plainly when the
command could not be added (every stock command still works).

Database errors: ``datasync`` turns any error of the database into one
``FAILED: ...`` line itself.  For the stock commands (``alembic upgrade head``)
in a project whose env.py declares datasets, `add_datasync` also listens to
SQLAlchemy's public ``handle_error`` event: an error of the database while such
an env.py runs is raised as a `DatabaseError`, which is still the SQLAlchemy
error it was (any ``except OperationalError`` in env.py works as before) and
also a `DatasyncError`, which Alembic prints as one ``FAILED:`` line.  For a
project that declares no datasets, nothing changes: Alembic's own output, exit
status and traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import alembic
from alembic.config import CommandLine, Config
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from .alembic_internals import has_subcommand_parsers, subcommand_parser
from .command import datasync as datasync_now
from .errors import DatasetsOutOfSync, DatasyncError
from .hook import ATTRIBUTE

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

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
        raise DatasyncError(database_error_message(error)) from error


def add_datasync(command_line: CommandLine) -> None:
    """Add the ``datasync`` subcommand to an Alembic `CommandLine` (once), and one-line
    database errors for projects that declare datasets.

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
    report_database_errors_in_one_line()


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


# -- database errors -------------------------------------------------------------


def database_error_message(error: sa_exc.SQLAlchemyError) -> str:
    """One line for a database error: what the driver said, and what to check."""
    original = getattr(error, "orig", None) or error
    said = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    )
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return (
            f"cannot use the database: {said}; check the URL (sqlalchemy.url, or the "
            f"environment variable env.py reads it from) and that the server is up"
        )
    return f"the database refused a statement: {said}"


class DatabaseError(DatasyncError):
    """An error of the database in a datasync project's env.py, shown as one line.

    Raised as a subclass of the SQLAlchemy error it replaces too (see
    `as_command_error`), so that code catching that error still catches it.
    """

    message: str

    def __str__(self) -> str:
        return self.message


def _command_error_class(error_class: type[sa_exc.DBAPIError]) -> type[DatabaseError]:
    """``error_class`` (``OperationalError``, ...) that is a `DatabaseError` too."""
    made = _COMMAND_ERROR_CLASSES.get(error_class)
    if made is None:
        made = type(error_class.__name__, (DatabaseError, error_class), {"__module__": __name__})
        _COMMAND_ERROR_CLASSES[error_class] = made
    return made


#: One class per SQLAlchemy error class, made on first use (a cache, nothing more).
_COMMAND_ERROR_CLASSES: dict[type[sa_exc.DBAPIError], type[DatabaseError]] = {}


def as_command_error(error: sa_exc.DBAPIError) -> DatabaseError:
    """``error`` as an instance of both its own class and `DatabaseError`: the same
    attributes (``orig``, ``statement``, ...), and one line as its text."""
    error_class = _command_error_class(type(error))
    replacement = error_class.__new__(error_class)
    replacement.__dict__.update(error.__dict__)
    replacement.args = error.args
    replacement.message = database_error_message(error)
    return replacement


def report_database_errors_in_one_line() -> None:
    """Listen to SQLAlchemy's ``handle_error`` event for every engine (once)."""
    if not event.contains(Engine, "handle_error", _one_line_in_datasync_projects):
        event.listen(Engine, "handle_error", _one_line_in_datasync_projects)


def _one_line_in_datasync_projects(context: ExceptionContext) -> BaseException | None:
    """The error as a `DatabaseError` while an env.py that declares datasets runs from
    the command line without ``--raiseerr``; None (SQLAlchemy goes on as usual) otherwise."""
    try:
        error = context.sqlalchemy_exception
        if not isinstance(error, sa_exc.DBAPIError) or isinstance(error, DatasyncError):
            return None
        config = _running_config()
        if config is None or ATTRIBUTE not in config.attributes:
            return None
        if config.cmd_opts is None or getattr(config.cmd_opts, "raiseerr", False):
            return None
        return as_command_error(error)
    except Exception:  # never change an error because of our own
        return None


def _running_config() -> Config | None:
    """The `Config` of the command whose env.py is running, through ``alembic.context``."""
    from alembic import context

    config: Any = getattr(context, "config", None)
    return config if isinstance(config, Config) else None
