"""A database error as one line: still the SQLAlchemy error it was, and a DatasyncError.

The command line behaviour (one ``FAILED:`` line, exit 255) is in test_faults.py;
these pin what env.py code and Alembic see of the replaced error.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from alembic_datasync.database_errors import (
    DatabaseError,
    as_command_error,
    command_error,
    report_in_one_line,
)
from alembic_datasync.errors import DatasyncError

UNREACHABLE = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:1/test",
    "sqlite": "sqlite:////nonexistent-folder/app.db",
}


def connect_error(url: str) -> sa_exc.DBAPIError:
    engine = sa.create_engine(url)
    try:
        with pytest.raises(sa_exc.DBAPIError) as caught:
            engine.connect()
    finally:
        engine.dispose()
    return caught.value


def test_a_connection_refused_is_both_errors_in_one_line(database_url: sa.URL) -> None:
    error = connect_error(UNREACHABLE[database_url.get_backend_name()])
    replaced = as_command_error(error)
    assert isinstance(replaced, sa_exc.OperationalError)
    assert isinstance(replaced, DatasyncError) and isinstance(replaced, DatabaseError)
    assert replaced.orig is error.orig
    assert replaced.connection_invalidated == error.connection_invalidated
    said = str(error.orig).strip().splitlines()[0]
    assert str(replaced) == (
        f"cannot use the database: {said}; check the URL (sqlalchemy.url, or the "
        "environment variable env.py reads it from) and that the server is up"
    )
    # One class per SQLAlchemy class: `except` and type() comparisons stay stable.
    assert type(as_command_error(error)) is type(replaced)


def test_a_refused_statement_says_so(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE gadget (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO gadget (id) VALUES (1)")
    with engine.connect() as connection, pytest.raises(sa_exc.IntegrityError) as caught:
        connection.exec_driver_sql("INSERT INTO gadget (id) VALUES (1)")
    replaced = command_error(caught.value)
    assert isinstance(replaced, sa_exc.IntegrityError)
    said = str(caught.value.orig).strip().splitlines()[0]
    assert str(replaced) == f"the database refused a statement: {said}"


def test_an_error_that_is_ours_already_is_kept() -> None:
    error = as_command_error(connect_error(UNREACHABLE["sqlite"]))
    assert command_error(error) is error


def test_outside_an_env_py_that_declares_datasets_errors_are_left_alone() -> None:
    report_in_one_line()
    report_in_one_line()  # once is enough; twice changes nothing
    error = connect_error(UNREACHABLE["sqlite"])
    assert type(error) is sa_exc.OperationalError
    assert not isinstance(error, DatasyncError)
