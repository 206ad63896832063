"""Isolated test databases on SQLite, PostgreSQL and MySQL/MariaDB.

Server URLs come from the environment, so a laptop without servers still passes:

- ``DATASYNC_TEST_POSTGRESQL_URL``, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``
- ``DATASYNC_TEST_MYSQL_URL``, e.g. ``mysql+pymysql://root@127.0.0.1:3306/test``

A test for a database whose URL is unset is skipped with the reason, unless
``DATASYNC_REQUIRE_DATABASES=1`` (as ``.ci/run`` sets), where it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

DATABASES = ("sqlite", "postgresql", "mysql")
URL_VARIABLES = {
    "postgresql": "DATASYNC_TEST_POSTGRESQL_URL",
    "mysql": "DATASYNC_TEST_MYSQL_URL",
}


def server_url(kind: str) -> URL:
    """The configured server URL for ``kind``, or skip (fail in CI) when unset."""
    variable = URL_VARIABLES[kind]
    url = os.environ.get(variable)
    if not url:
        reason = f"{variable} is not set; set it to run the {kind} tests"
        if os.environ.get("DATASYNC_REQUIRE_DATABASES") == "1":
            pytest.fail(f"{reason} (DATASYNC_REQUIRE_DATABASES=1 forbids skipping)")
        pytest.skip(reason)
    return make_url(url)


@contextmanager
def isolated_database(kind: str, tmp_path: Path) -> Iterator[URL]:
    """A URL of a fresh, empty database of ``kind``, dropped afterwards.

    PostgreSQL: a new schema, made the default through ``search_path``.
    MySQL: a new database.  SQLite: a new file.
    """
    if kind == "sqlite":
        yield make_url(f"sqlite:///{tmp_path / 'test.db'}")
        return
    base = server_url(kind)
    name = f"ds_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if kind == "postgresql":
                connection.exec_driver_sql(f"CREATE SCHEMA {name}")
                url = base.update_query_dict({"options": f"-csearch_path={name}"})
            else:
                connection.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
                url = base.set(database=name)
        yield url
    finally:
        with admin.connect() as connection:
            if kind == "postgresql":
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            else:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
