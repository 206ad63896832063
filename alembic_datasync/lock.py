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
- SQLite: an exclusive lock on the file ``<database file>.datasync-lock``,
  through `filelock` (``flock`` on Linux and macOS, ``LockFileEx`` on Windows);
  the operating system releases it if the process dies.  The holder writes its
  process id to ``<database file>.datasync-lock.holder`` for the timeout message
  (the lock file itself may be truncated by waiters, or unreadable on Windows).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from .errors import LockTimeout

if TYPE_CHECKING:
    import filelock

#: Seconds a process waits for the lock before giving up (``DataSync(lock_timeout=...)``).
DEFAULT_LOCK_TIMEOUT = 600.0

_POLL_SECONDS = 0.1

#: Seconds of waiting for the lock after which one line says who holds it.
SAY_WAITING_AFTER = 1.0

#: Alembic's own logger, so the stock logging setup of alembic.ini shows the line.
log = logging.getLogger("alembic.datasync")


class DeployLock:
    """The deploy lock of the database ``connection`` is connected to."""

    def __init__(self, connection: Connection, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.connection = connection
        self.timeout = timeout
        self.dialect = connection.dialect.name
        self.held = False
        self._key: int | None = None
        self._name: str | None = None
        self._file_lock: filelock.BaseFileLock | None = None
        self._holder_file: str | None = None

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
            elif self._file_lock is not None:
                self._release_sqlite()
        except Exception:  # a dead connection: the server released it already
            return

    # -- PostgreSQL ----------------------------------------------------------

    def _acquire_postgresql(self, started: float) -> None:
        schema = self._run("SELECT current_schema()") or "public"
        digest = hashlib.blake2b(f"alembic_datasync:{schema}".encode(), digest_size=8).digest()
        self._key = int.from_bytes(digest, "big", signed=True)
        said = False
        while not self._run("SELECT pg_try_advisory_lock(:key)", key=self._key):
            waited = time.monotonic() - started
            if waited > self.timeout:
                raise LockTimeout(self._timeout_message(self._postgresql_holder()))
            if not said and waited >= SAY_WAITING_AFTER:
                self._say_waiting(self._postgresql_holder())
                said = True
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
        # GET_LOCK waits by itself; its timeout is in whole seconds.  A first
        # short wait, then one line saying who holds it, then the rest.
        first = min(int(SAY_WAITING_AFTER), max(0, int(self.timeout)))
        got = self._run("SELECT GET_LOCK(:name, :seconds)", name=self._name, seconds=first)
        if got != 1 and self.timeout > first:
            self._say_waiting(self._mysql_holder())
            got = self._run(
                "SELECT GET_LOCK(:name, :seconds)",
                name=self._name,
                seconds=max(0, int(self.timeout) - first),
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
        database = self.connection.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return
        import filelock  # SQLite's lock only: the servers lock in SQL

        path = f"{os.path.abspath(database)}.datasync-lock"
        lock = filelock.FileLock(path)
        try:
            try:
                lock.acquire(
                    timeout=min(SAY_WAITING_AFTER, self.timeout), poll_interval=_POLL_SECONDS
                )
            except filelock.Timeout:
                if self.timeout <= SAY_WAITING_AFTER:
                    raise
                self._say_waiting(f"process {_read_holder(f'{path}.holder')} (lock file {path})")
                remaining = max(0.0, self.timeout - (time.monotonic() - started))
                lock.acquire(timeout=remaining, poll_interval=_POLL_SECONDS)
        except filelock.Timeout:
            holder = _read_holder(f"{path}.holder")
            raise LockTimeout(
                self._timeout_message(f"process {holder} (lock file {path})")
            ) from None
        self._file_lock = lock
        self._holder_file = f"{path}.holder"
        _write_holder(self._holder_file, f"{os.getpid()}\n")

    def _release_sqlite(self) -> None:
        lock, self._file_lock = self._file_lock, None
        assert lock is not None
        if self._holder_file is not None:
            with contextlib.suppress(OSError):
                os.remove(self._holder_file)
        lock.release(force=True)

    # -- shared --------------------------------------------------------------

    def _run(self, sql: str, **params: Any) -> Any:
        """One scalar, in a transaction committed at once: the lock outlives it."""
        value = self.connection.execute(text(sql), params).scalar()
        self.connection.commit()
        return value

    def _say_waiting(self, holder: str) -> None:
        log.info(
            "datasync: waiting for the deploy lock of this database, held by %s: another "
            "`alembic upgrade` is running; this process waits for it (up to %g s)",
            holder,
            self.timeout,
        )

    def _timeout_message(self, holder: str) -> str:
        return (
            f"waited {self.timeout:g} s for the deploy lock of this database, held by {holder}; "
            f"another `alembic upgrade` is probably still running: let it finish, or raise "
            f"DataSync(lock_timeout=...)"
        )


def _write_holder(path: str, content: str) -> None:
    """Replace the holder file's content in one step: a reader sees all of it or none."""
    scratch = f"{path}.{os.getpid()}"
    try:
        with open(scratch, "w") as handle:
            handle.write(content)
        os.replace(scratch, path)
    except OSError:  # only the timeout message of another process loses its holder
        return


def _read_holder(path: str) -> str:
    """The process id the holder wrote, or 'unknown'."""
    try:
        with open(path) as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        return "unknown"
