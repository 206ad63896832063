"""Every use of a private Alembic detail, in one place.

Alembic offers no public way to learn a few things the package needs: which
command is running env.py, who will commit the migration transaction, the
`EnvironmentContext` behind ``alembic.context``, the parser of one subcommand.
Each function here reads one such detail, says in its docstring which one, and
never raises: when the detail is gone (an Alembic that changed it) it returns a
"cannot tell" value (None) and the caller logs a warning and falls back on a
documented policy.  ``tests/test_alembic_internals.py`` has one test per detail
that fails loudly on an Alembic that changed it; ``make test-alembic-next`` runs
it against the newest Alembic on the package index, pre-releases included.

Nothing else in the package touches a private Alembic name.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from alembic.config import CommandLine
    from alembic.runtime.environment import EnvironmentContext

#: Who commits the transaction a sync joins; see `transaction_owner`.
TransactionOwner = Literal["caller", "alembic", "nobody"]

#: The module whose command functions pass ``fn`` closures to `EnvironmentContext`.
_ALEMBIC_COMMANDS = "alembic.command"


def environment_context(context: object) -> EnvironmentContext | None:
    """The `EnvironmentContext` behind ``alembic.context`` (or ``context`` itself); None
    when it cannot be found.

    Private detail: ``alembic.context`` is a module whose functions forward to
    the `EnvironmentContext` of the running command, kept in the module
    global ``_proxy`` (``util.langhelpers.ModuleClsProxy._install_proxy``).
    None when ``context`` is neither an `EnvironmentContext` nor such a module
    with one installed (outside a command, or an Alembic that renamed it).
    """
    from alembic.runtime.environment import EnvironmentContext

    if isinstance(context, EnvironmentContext):
        return context
    environment = getattr(context, "_proxy", None)
    return environment if isinstance(environment, EnvironmentContext) else None


def running_command(environment: object) -> str | None:
    """The Alembic command running env.py: ``"upgrade"``, ``"downgrade"``, ``"stamp"``,
    ``"current"``, ``"check"``, ...; None when it cannot tell.

    Private detail: every command of ``alembic.command`` that runs env.py
    passes ``EnvironmentContext(..., fn=<a function defined inside it>)``,
    which Alembic keeps in ``EnvironmentContext.context_opts["fn"]``; the
    function's ``__qualname__`` is ``"<command>.<locals>.<inner>"`` (e.g.
    ``"stamp.<locals>.do_stamp"``), so its first part names the command.

    A function from anywhere else (``alembic datasync``, a tool running env.py
    with its own ``fn``) is named ``"<module>.<qualname>"``, which never equals an
    Alembic command name.  None when there is no ``fn`` to look at, or when a
    function of ``alembic.command`` does not have that shape: Alembic changed it.
    """
    options = getattr(environment, "context_opts", None)
    if not isinstance(options, dict):
        return None
    fn = options.get("fn")
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if module != _ALEMBIC_COMMANDS:
        return f"{module}.{qualname}"
    command, locals_marker, _ = qualname.partition(".<locals>.")
    if not locals_marker or not _is_alembic_command(command):
        return None
    return command


def _is_alembic_command(name: str) -> bool:
    """Whether ``name`` is a public function of ``alembic.command`` (a CLI command)."""
    import inspect

    from alembic import command

    return not name.startswith("_") and inspect.isfunction(getattr(command, name, None))


def transaction_owner(migration_context: object) -> TransactionOwner | None:
    """Who commits the connection's current transaction once env.py is done; None when
    it cannot tell.

    ``"caller"``: the connection came to ``configure()`` inside a transaction,
    which Alembic leaves alone (a test harness, an application).  ``"alembic"``:
    Alembic opened the one outer transaction of all migrations (transactional
    DDL without ``transaction_per_migration``) and commits it when env.py's
    ``begin_transaction()`` block ends.  ``"nobody"``: no transaction will be
    committed; anything still open is rolled back when the connection closes.

    Private details: ``MigrationContext._in_external_transaction`` (a bool set
    in ``__init__``) and ``MigrationContext._transaction`` (the `Transaction`
    ``begin_transaction()`` opened, or None).
    """
    external = getattr(migration_context, "_in_external_transaction", None)
    if not isinstance(external, bool) or not hasattr(migration_context, "_transaction"):
        return None
    if external:
        return "caller"
    transaction: Any = getattr(migration_context, "_transaction", None)
    if transaction is None:
        return "nobody"
    is_active = getattr(transaction, "is_active", None)
    if not isinstance(is_active, bool):
        return None
    return "alembic" if is_active else "nobody"


def subcommand_parser(command_line: CommandLine, name: str) -> ArgumentParser | None:
    """The `ArgumentParser` of the subcommand ``name`` of an Alembic `CommandLine`; None
    when it cannot be found.

    Undocumented detail: ``CommandLine.subparsers``, the argparse subparsers
    action that ``register_command`` adds each command's parser to.  The public
    ``register_command`` makes flags only for the parameter names Alembic
    knows (``--sql``, ``--tag``, ...); ``datasync``'s own flags go on this parser.
    """
    subparsers = getattr(command_line, "subparsers", None)
    choices = getattr(subparsers, "choices", None)
    if not isinstance(choices, dict):
        return None
    parser = choices.get(name)
    return parser if isinstance(parser, ArgumentParser) else None


def has_subcommand_parsers(command_line: CommandLine) -> bool:
    """Whether `subcommand_parser` can work on ``command_line`` (see there)."""
    subparsers = getattr(command_line, "subparsers", None)
    return isinstance(getattr(subparsers, "choices", None), dict)


def upgrade_steps(script: object, heads: object) -> list[object] | None:
    """The migration steps from ``heads`` (the database's) to every head, as ``alembic
    upgrade heads`` runs them; None when it cannot tell.

    Private detail: ``ScriptDirectory._upgrade_revs(destination, current)``,
    what ``alembic.command.upgrade`` returns to Alembic as its ``fn``'s steps.
    """
    upgrade_revs = getattr(script, "_upgrade_revs", None)
    if not callable(upgrade_revs):
        return None
    try:
        steps = upgrade_revs("heads", heads)
    except Exception:  # a changed signature: cannot tell
        return None
    return list(steps) if isinstance(steps, list | tuple) else None
