"""Adds ``datasync`` to the stock ``alembic`` command line, through Alembic's plugin hook.

It also makes a database error (an unreachable server, a refused login) a
one-line ``FAILED: ...`` instead of a traceback, in projects whose env.py
declares datasets; ``--raiseerr`` still shows the traceback.

Alembic (1.18+) loads every ``alembic.plugins`` entry point during
``import alembic``, while the ``alembic`` package itself is only half
imported, and calls the module's ``setup(plugin)``.  Nothing can be imported
from Alembic at that moment (``alembic.config`` needs the finished package),
so ``setup`` only arranges that, once ``alembic.config`` has been imported,
its ``CommandLine`` also builds the ``datasync`` subcommand.  Every step is
guarded: whatever goes wrong here, ``import alembic`` and every other Alembic
command keep working; only ``alembic datasync`` would then be missing
(``alembic-datasync datasync`` and ``python -m alembic_datasync datasync``
always work).

This module lives outside the ``alembic_datasync`` package on purpose: the
package imports Alembic, and this module is imported in the middle of
Alembic's own import, so it may import nothing but the standard library.

Alembic 1.18.0 to 1.20.0 iterate over the loaded entry point (a list of
modules was expected) and 1.20.1+ want the module itself; this module is made
iterable, yielding itself, so that both work.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

_TARGET = "alembic.config"


class _PluginModule(ModuleType):
    def __iter__(self) -> Iterator[ModuleType]:
        yield self


sys.modules[__name__].__class__ = _PluginModule


def setup(plugin: Any) -> None:
    """Called by Alembic with its `Plugin` object; arranges the CLI patch."""
    try:
        loaded = sys.modules.get(_TARGET)
        if loaded is not None and hasattr(loaded, "CommandLine"):
            _patch(loaded)
        elif not any(isinstance(f, _ConfigFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _ConfigFinder())
    except Exception:  # pragma: no cover - never break `import alembic`
        log.debug("alembic_datasync: could not arrange the datasync command", exc_info=True)


def _patch(config_module: ModuleType) -> None:
    """Make ``CommandLine`` of ``config_module`` build the ``datasync`` subcommand too."""
    command_line = config_module.CommandLine
    original = command_line._generate_args
    if getattr(original, "_alembic_datasync", False):
        return

    def _generate_args(self: Any, prog: str | None) -> None:
        original(self, prog)
        try:
            from alembic_datasync.cli import add_datasync_command

            add_datasync_command(self)
        except Exception:  # pragma: no cover - never break the stock commands
            log.debug("alembic_datasync: could not add the datasync command", exc_info=True)

    _generate_args._alembic_datasync = True  # type: ignore[attr-defined]
    command_line._generate_args = _generate_args

    original_run_cmd = command_line.run_cmd

    def run_cmd(self: Any, config: Any, options: Any) -> None:
        try:
            from alembic_datasync.cli import run_cmd_reporting_database_errors
        except Exception:  # pragma: no cover - never break the stock commands
            original_run_cmd(self, config, options)
            return
        run_cmd_reporting_database_errors(original_run_cmd, self, config, options)

    run_cmd._alembic_datasync = True  # type: ignore[attr-defined]
    command_line.run_cmd = run_cmd


class _ConfigFinder(importlib.abc.MetaPathFinder):
    """Finds ``alembic.config`` like Python would, and patches it once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        try:
            _patch(module)
        except Exception:  # pragma: no cover - never break `import alembic.config`
            log.debug("alembic_datasync: could not patch alembic.config", exc_info=True)

    def __getattr__(self, name: str) -> Any:
        # get_source, get_code, ... for tracebacks and tools that inspect loaders.
        return getattr(self._loader, name)
