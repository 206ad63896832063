"""Where a sync came from, as the history records it.

Apart from `history` so that a deploy with nothing to write (which records
no history) can say where it came from without importing the history.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncOrigin:
    """What the history records of where a sync came from.

    ``revisions``: the Alembic revision(s) the database is at (the env.py
    integration knows them; the Python API may leave them out);
    ``command``: the Alembic command that ran it (``upgrade``, ``datasync``).
    """

    revisions: tuple[str, ...] = ()
    command: str | None = None
