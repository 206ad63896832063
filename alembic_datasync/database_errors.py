"""A database that cannot be used, told in one line instead of a traceback.

Two places need this, both only in projects that declare datasets:

- ``alembic datasync`` turns any database error that reaches it into a
  `DatasyncError` (`command_error`), which Alembic prints as ``FAILED: ...``.
- For the stock commands (``alembic upgrade head``), the error is raised in
  the user's env.py (``engine.connect()``), before any code of ours runs.
  `report_in_one_line`, called when env.py declares its datasets, listens to
  SQLAlchemy's public ``handle_error`` event: while an env.py that declared
  datasets runs from the command line (without ``--raiseerr``), the error is
  raised as `as_command_error` makes it, an instance of the SQLAlchemy error
  it was (``except OperationalError`` in env.py still catches it, ``.orig`` is
  there) that is also a `DatasyncError` whose text is one line.

The listener is registered only by a project that declares datasets: any
``handle_error`` listener makes SQLAlchemy take another code path when it
connects, which shows in a traceback, and a project without datasets must see
Alembic's output exactly as it is without this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alembic.config import Config
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from .errors import DatasyncError, database_error_message

if TYPE_CHECKING:
    from sqlalchemy.engine import ExceptionContext

#: Where a `DataSync` puts itself in ``Config.attributes``: for ``alembic datasync``
#: to find it, and for this module to know that env.py declares datasets.
ATTRIBUTE = "alembic_datasync"


class DatabaseError(DatasyncError):
    """An error of the database, shown as one line (see `as_command_error`)."""

    message: str

    def __str__(self) -> str:
        return self.message


def command_error(error: sa_exc.SQLAlchemyError) -> DatasyncError:
    """``error`` as a `DatasyncError` with a one-line message."""
    if isinstance(error, DatasyncError):
        return error
    if isinstance(error, sa_exc.DBAPIError):
        return as_command_error(error)
    return DatasyncError(database_error_message(error))


def as_command_error(error: sa_exc.DBAPIError) -> DatabaseError:
    """``error`` as an instance of both its own class and `DatabaseError`: the same
    attributes (``orig``, ``statement``, ...), and one line as its text."""
    error_class = _command_error_class(type(error))
    replacement = error_class.__new__(error_class)
    replacement.__dict__.update(error.__dict__)
    replacement.args = error.args
    replacement.message = database_error_message(error)
    return replacement


def _command_error_class(error_class: type[sa_exc.DBAPIError]) -> type[DatabaseError]:
    """``error_class`` (``OperationalError``, ...) that is a `DatabaseError` too."""
    made = _COMMAND_ERROR_CLASSES.get(error_class)
    if made is None:
        made = type(error_class.__name__, (DatabaseError, error_class), {"__module__": __name__})
        _COMMAND_ERROR_CLASSES[error_class] = made
    return made


#: One class per SQLAlchemy error class, made on first use (a cache, nothing more).
_COMMAND_ERROR_CLASSES: dict[type[sa_exc.DBAPIError], type[DatabaseError]] = {}


def report_in_one_line() -> None:
    """Listen to SQLAlchemy's ``handle_error`` event for every engine (once per process).

    Call it when an env.py declares datasets; see the module's docstring.
    """
    if not event.contains(Engine, "handle_error", _one_line_in_datasync_projects):
        event.listen(Engine, "handle_error", _one_line_in_datasync_projects)


def _one_line_in_datasync_projects(context: ExceptionContext) -> BaseException | None:
    """The error as `as_command_error` makes it while an env.py that declared datasets
    runs from the command line without ``--raiseerr``; None (SQLAlchemy goes on as
    usual) otherwise."""
    try:
        error = context.sqlalchemy_exception
        if not isinstance(error, sa_exc.DBAPIError) or isinstance(error, DatasyncError):
            return None
        config = _running_config()
        if config is None or not _declares_datasets(config):
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


def _declares_datasets(config: Config) -> bool:
    return ATTRIBUTE in config.attributes
