"""Pausing Python's cyclic garbage collector around bulk work that creates no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building rows or plans, which form no cycles.

    Every container built there survives, so each automatic collection would
    only rescan the growing set of rows: on a 100,000-row file that is most of
    the time ``yaml.load`` spends.  Reference counting still frees everything;
    the collector is re-enabled (if it was enabled) however the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
