"""The command line: ``datasync`` as a subcommand of ``alembic`` and of ``alembic-datasync``.

Built on Alembic's public command line API only: `add_datasync` takes a
`CommandLine` that Alembic built as usual, registers the ``datasync`` function
with the public ``CommandLine.register_command`` (Alembic 1.15.3+), and puts
the command's own flags and actions (``export``, ``schema``, ``history``) on its parser
(`alembic_internals.subcommand_parser`).  The stock ``alembic`` script gets
it through the plugin in ``alembic_datasync_plugin``; ``alembic-datasync`` and
``python -m alembic_datasync`` call `add_datasync` themselves and say plainly
when the command could not be added (every stock command still works).

``datasync`` turns any error of the database into one ``FAILED: ...`` line
itself (`alembic_datasync.database_errors`).  Adding the command changes
nothing else: for every stock command, Alembic's own output, exit status and
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import alembic
from alembic.config import CommandLine
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc

from .alembic_internals import has_subcommand_parsers, subcommand_parser
from .database_errors import command_error
from .errors import DatasetsOutOfSync, DatasyncError

if TYPE_CHECKING:
    from alembic.config import Config

COMMAND = "datasync"

#: What ``--format`` takes: text for people, json for CI bots (see `report.json_document`).
FORMATS = ("text", "json")

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
    (
        "--env",
        "merge the overlay files of this environment into the dataset files "
        "(config/llm_nodes.staging.yaml over config/llm_nodes.yaml), as -x datasync_env=NAME",
        {"metavar": "NAME", "default": None},
    ),
]

#: The `argparse.Namespace` attribute of each flag: ``--dry-run`` -> ``dry_run``.
_FLAGS = [option[0].lstrip("-").replace("-", "_") for option in _OPTIONS]

#: The actions after ``datasync``: (name, its function in `commands`, its help, its arguments).
#: The help is the first paragraph of the function's docstring, spelled here so
#: that building the command line (every ``alembic`` command does) imports no
#: more than this module; `tests/test_docs.py` keeps the two the same.
_ACTIONS: list[tuple[str, str, str, list[tuple[tuple[str, ...], dict[str, Any]]]]] = [
    (
        "export",
        "export",
        "Export a table's rows as a dataset file (YAML) that reads back exactly.",
        [
            (("table",), {"nargs": "?", "help": "the table to export"}),
            (("--key",), {"help": "the key column(s), comma-separated"}),
            (("--columns",), {"help": "the columns to export, comma-separated (default: all)"}),
            (("--where",), {"help": "an SQL condition the exported rows meet"}),
            (("--schema",), {"help": "the table's schema"}),
            (
                ("--dataset",),
                {"help": "rewrite this declared dataset's file in place from its table"},
            ),
            (
                ("--include-secrets",),
                {"action": "store_true", "help": "also export the datasets' secret columns"},
            ),
        ],
    ),
    (
        "schema",
        "schema",
        "Print a JSON Schema of a dataset file, for editors (yaml-language-server).",
        [
            (("--dataset",), {"help": "the dataset (when env.py declares several)"}),
            (("--output",), {"help": "write the schema to this file"}),
        ],
    ),
    (
        "history",
        "datasync_history",
        "List the syncs that wrote to the database, newest first, or show one with its changes.",
        [
            (
                ("sync_id",),
                {"nargs": "?", "type": int, "metavar": "ID", "help": "show this sync's changes"},
            ),
            (
                ("--dataset",),
                {"help": "only the syncs that changed this dataset (its name in the summary)"},
            ),
            (("-n", "--limit"), {"type": int, "help": "how many syncs to list (default 20)"}),
            (("--format",), {"choices": FORMATS, "help": "text (default) or json"}),
        ],
    ),
]


class CommandUnavailable(Exception):
    """The ``datasync`` command could not be added to this Alembic's command line."""


def datasync(config: Config) -> None:
    """Sync the datasets declared in env.py into the database now.

    The function the command line runs for ``datasync``: its flags and its
    action (``export``, ``schema``) come from ``config.cmd_opts``.  Out of
    sync (``--check``) exits 1; a database error becomes one ``FAILED:`` line,
    like any other `DatasyncError`.
    """
    from . import commands

    options = config.cmd_opts
    action = getattr(options, "datasync_action", None)
    try:
        if action is not None:
            _run_action(config, action)
            return
        flags = {name: getattr(options, name, None) for name in _FLAGS}
        output = flags.pop("format") or "text"
        environment = flags.pop("env")
        try:
            commands.datasync(
                config,
                format=output,
                environment=environment,
                **{k: bool(v) for k, v in flags.items()},
            )
        except DatasetsOutOfSync as exc:
            if output != "json":
                config.print_stdout("datasync: out of sync: %s", str(exc))
            sys.exit(EXIT_OUT_OF_SYNC)
        except (CommandError, sa_exc.SQLAlchemyError):
            if output != "json":
                raise
            sys.exit(EXIT_FAILED)  # the JSON document on stdout says why
    except DatasyncError:
        raise
    except sa_exc.SQLAlchemyError as error:
        raise command_error(error) from error


def _run_action(config: Config, action: str) -> None:
    from . import commands

    options = config.cmd_opts
    for name, function_name, _, arguments in _ACTIONS:
        if name == action:
            function = getattr(commands, function_name)
            keywords = {
                spelled[-1].lstrip("-").replace("-", "_"): getattr(
                    options, spelled[-1].lstrip("-").replace("-", "_"), None
                )
                for spelled, _ in arguments
            }
            function(config, **{k: v for k, v in keywords.items() if v is not None})
            return
    raise DatasyncError(f"unknown datasync action {action!r}")


def add_datasync(command_line: CommandLine) -> None:
    """Add the ``datasync`` subcommand to an Alembic `CommandLine` (once).

    Raises `CommandUnavailable` saying why when this Alembic's command line
    cannot take the command; ``command_line`` then works as Alembic built it.
    """
    if not has_subcommand_parsers(command_line):
        raise CommandUnavailable("its CommandLine has no subcommand parsers to add it to")
    if subcommand_parser(command_line, COMMAND) is not None:
        return
    try:
        command_line.register_command(datasync)
    except Exception as error:
        raise CommandUnavailable(
            f"CommandLine.register_command failed: {type(error).__name__}: {error}"
        ) from error
    parser = subcommand_parser(command_line, COMMAND)
    if parser is None:
        raise CommandUnavailable("CommandLine.register_command did not add a subcommand")
    parser.description = _summary(datasync)
    for flag, text, *options in _OPTIONS:
        parser.add_argument(
            flag, help=text, **(options[0] if options else {"action": "store_true"})
        )
    actions = parser.add_subparsers(
        dest="datasync_action", title="actions", metavar="{export,schema,history}"
    )
    for name, _, summary, arguments in _ACTIONS:
        action = actions.add_parser(name, help=summary, description=summary)
        for spelled, keywords in arguments:
            action.add_argument(*spelled, **keywords)


def _summary(function: Any) -> str:
    """A command function's help: the first paragraph of its docstring, on one line."""
    return " ".join((function.__doc__ or "").split("\n\n")[0].split())


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
