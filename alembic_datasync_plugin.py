"""Adds ``datasync`` to the stock ``alembic`` command line, through Alembic's plugin hook.

Alembic (1.18+) loads every ``alembic.plugins`` entry point during
``import alembic``, while the ``alembic`` package itself is only half
imported, and calls the module's ``setup(plugin)``.  Nothing can be imported
from Alembic at that moment (``alembic.config`` needs the finished package),
so ``setup`` only arranges that, once ``alembic.config`` has been imported
(an import hook that loads it as Python would, then steps aside), the public
``CommandLine.__init__`` is wrapped: the wrapper passes its arguments through
untouched, lets Alembic build its command line, then calls
`alembic_datasync.cli.add_datasync`, which uses Alembic's public
``register_command``.  No private method of Alembic is replaced.

Whatever goes wrong here is logged at debug level and swallowed: ``import
alembic`` and every Alembic command keep working, and at worst ``alembic
datasync`` is missing (``alembic-datasync datasync`` then says why).

This module lives outside the ``alembic_datasync`` package on purpose: the
package imports Alembic, and this module is imported in the middle of
Alembic's own import, so it may import nothing but the standard library.

Alembic 1.18.0 to 1.20.0 iterate over the loaded entry point (a list of
modules was expected) and 1.20.1+ want the module itself; this module is made
iterable, yielding itself, so that both work.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

_TARGET = "alembic.config"

#: Set on our wrapper of ``CommandLine.__init__``, so that it is wrapped once.
_MARK = "_alembic_datasync"


class _PluginModule(ModuleType):
    def __iter__(self) -> Iterator[ModuleType]:
        yield self


sys.modules[__name__].__class__ = _PluginModule


def setup(plugin: Any) -> None:
    """Called by Alembic with its `Plugin` object: arranges for ``datasync`` to be added."""
    try:
        loaded = sys.modules.get(_TARGET)
        if loaded is not None and hasattr(loaded, "CommandLine"):
            _wrap_command_line(loaded)
        elif not any(isinstance(f, _ConfigFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _ConfigFinder())
    except Exception:  # never break `import alembic`
        log.debug("alembic_datasync: could not arrange the datasync command", exc_info=True)


def _wrap_command_line(config_module: ModuleType) -> None:
    """Make ``CommandLine.__init__`` of ``config_module`` add ``datasync`` once it is done."""
    command_line = config_module.CommandLine
    original = command_line.__init__
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _add_datasync(self)

    setattr(__init__, _MARK, True)
    command_line.__init__ = __init__


def _add_datasync(command_line: Any) -> None:
    try:
        from alembic_datasync.cli import add_datasync

        add_datasync(command_line)
    except Exception:  # never break the stock commands: datasync is missing, that is all
        log.debug("alembic_datasync: could not add the datasync command", exc_info=True)


class _ConfigFinder(importlib.abc.MetaPathFinder):
    """Finds ``alembic.config`` like Python would, and wraps its ``CommandLine`` once it has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        except Exception:  # the import system proper will say what is wrong
            return None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _WrappingLoader(spec.loader)
        return spec


class _WrappingLoader(importlib.abc.Loader):
    """Runs the module with Python's own loader, puts that loader back, then wraps."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps Python's loader: nothing of ours shows but the wrapper.
        with contextlib.suppress(Exception):
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        try:
            _wrap_command_line(module)
        except Exception:  # never break `import alembic.config`
            log.debug("alembic_datasync: could not wrap CommandLine", exc_info=True)

    def __getattr__(self, name: str) -> Any:
        # get_source, get_code, ... for tools that inspect the loader mid-import.
        return getattr(self._loader, name)
