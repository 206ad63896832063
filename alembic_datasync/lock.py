"""The deploy lock: one process at a time migrates and syncs a database.

Every container of a deploy runs ``alembic upgrade head`` at start-up.  Alembic
takes no lock, so eight replicas race on ``alembic_version`` and on every
migration.  `DataSync` takes this lock when env.py calls
``context.configure(connection=...)`` and releases it when env.py's
``with context.begin_transaction():`` block ends, after the migrations and the
sync are committed.  The rest wait, then find the schema at head and the data
in sync.

- PostgreSQL: a session-level advisory lock (a transaction-scoped one would be
  released by the first per-migration commit), keyed on the current schema.
  The server releases it if the process dies.
- MySQL/MariaDB: ``GET_LOCK``/``RELEASE_LOCK`` on a name made of the database's.
- SQLite: an exclusive ``flock`` on ``<database file>.datasync-lock``; the
  operating system releases it if the process dies.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

from sqlalchemy import Connection, text

from .errors import LockTimeout

#: Seconds a process waits for the lock before giving up (``DataSync(lock_timeout=...)``).
DEFAULT_LOCK_TIMEOUT = 600.0

_POLL_SECONDS = 0.1


class DeployLock:
    """The deploy lock of the database ``connection`` is connected to."""

    def __init__(self, connection: Connection, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.connection = connection
        self.timeout = timeout
        self.dialect = connection.dialect.name
        self.held = False
        self._key: int | None = None
        self._name: str | None = None
        self._file: Any = None

    def acquire(self) -> None:
        """Wait for the lock; `LockTimeout` naming the holder when it does not come."""
        started = time.monotonic()
        if self.dialect == "postgresql":
            self._acquire_postgresql(started)
        elif self.dialect in ("mysql", "mariadb"):
            self._acquire_mysql()
        elif self.dialect == "sqlite":
            self._acquire_sqlite(started)
        else:
            return
        self.held = True

    def release(self) -> None:
        """Give the lock back; a connection that died has already lost it."""
        if not self.held:
            return
        self.held = False
        try:
            if self.dialect == "postgresql":
                self._run("SELECT pg_advisory_unlock(:key)", key=self._key)
            elif self.dialect in ("mysql", "mariadb"):
                self._run("SELECT RELEASE_LOCK(:name)", name=self._name)
            elif self._file is not None:
                self._file.close()  # closing the file releases its flock
                self._file = None
        except Exception:  # a dead connection: the server released it already
            return

    # -- PostgreSQL ----------------------------------------------------------

    def _acquire_postgresql(self, started: float) -> None:
        schema = self._run("SELECT current_schema()") or "public"
        digest = hashlib.blake2b(f"alembic_datasync:{schema}".encode(), digest_size=8).digest()
        self._key = int.from_bytes(digest, "big", signed=True)
        while not self._run("SELECT pg_try_advisory_lock(:key)", key=self._key):
            if time.monotonic() - started > self.timeout:
                raise LockTimeout(self._timeout_message(self._postgresql_holder()))
            time.sleep(_POLL_SECONDS)

    def _postgresql_holder(self) -> str:
        assert self._key is not None
        key = self._key & 0xFFFFFFFFFFFFFFFF
        row = self.connection.execute(
            text(
                "SELECT a.pid, a.usename, a.application_name, a.client_addr, a.backend_start "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid = :high AND l.objid = :low"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        ).first()
        self.connection.rollback()
        if row is None:
            return "another session (it has just released it, or cannot be seen by this role)"
        pid, user, application, address, since = row
        return (
            f"PostgreSQL backend pid {pid} (user {user}, application {application or '-'!s}, "
            f"from {address or 'local socket'}, connected since {since:%Y-%m-%d %H:%M:%S %Z})"
        )

    # -- MySQL / MariaDB -----------------------------------------------------

    def _acquire_mysql(self) -> None:
        database = self._run("SELECT DATABASE()") or ""
        self._name = f"alembic_datasync.{database}"[:64]
        # GET_LOCK waits by itself; its timeout is in whole seconds.
        got = self._run(
            "SELECT GET_LOCK(:name, :seconds)", name=self._name, seconds=max(0, int(self.timeout))
        )
        if got != 1:
            raise LockTimeout(self._timeout_message(self._mysql_holder()))

    def _mysql_holder(self) -> str:
        holder = self._run("SELECT IS_USED_LOCK(:name)", name=self._name)
        if holder is None:
            return "another session (it has just released it)"
        row = self.connection.execute(
            text("SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = :id"),
            {"id": holder},
        ).first()
        self.connection.rollback()
        if row is None:
            return f"MySQL connection {holder}"
        user, host, seconds = row
        return f"MySQL connection {holder} (user {user}, from {host}, busy for {seconds} s)"

    # -- SQLite --------------------------------------------------------------

    def _acquire_sqlite(self, started: float) -> None:
        import fcntl

        database = self.connection.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        path = f"{os.path.abspath(database)}.datasync-lock"
        handle = open(path, "a+")  # noqa: SIM115 - held open for as long as the lock
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > self.timeout:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    handle.close()
                    raise LockTimeout(
                        self._timeout_message(f"process {holder} (lock file {path})")
                    ) from None
                time.sleep(_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    # -- shared --------------------------------------------------------------

    def _run(self, sql: str, **params: Any) -> Any:
        """One scalar, in a transaction committed at once: the lock outlives it."""
        value = self.connection.execute(text(sql), params).scalar()
        self.connection.commit()
        return value

    def _timeout_message(self, holder: str) -> str:
        return (
            f"waited {self.timeout:g} s for the deploy lock of this database, held by {holder}; "
            f"another `alembic upgrade` is probably still running: let it finish, or raise "
            f"DataSync(lock_timeout=...)"
        )
