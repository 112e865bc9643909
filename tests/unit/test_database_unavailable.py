"""Which errors mean "the database is away, retry" and which are bugs."""

from __future__ import annotations

import socket
import sqlite3

import pytest
from asyncpg import exceptions as pg_errors
from sqlalchemy import exc

from plaudit.store.unavailable import database_unavailable


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    try:
        raise error from cause
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "reset by peer"),
        socket.gaierror(socket.EAI_NONAME, "no such host"),
        pg_errors.CannotConnectNowError("the database system is starting up"),
        pg_errors.AdminShutdownError("terminating connection due to administrator command"),
        pg_errors.TooManyConnectionsError("sorry, too many clients already"),
        pg_errors.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        exc.TimeoutError("QueuePool limit reached, connection timed out"),
        sqlite3.OperationalError("database is locked"),
        raised_from(exc.DBAPIError("SELECT 1", {}, Exception("x")), ConnectionResetError()),
    ],
)
def test_the_database_being_away(error: BaseException) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        FileNotFoundError("a missing file is no outage"),
        sqlite3.OperationalError("no such table: nowhere"),
        pg_errors.UndefinedTableError('relation "nowhere" does not exist'),
        exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        exc.ProgrammingError("SELEC", {}, Exception("syntax error")),
    ],
)
def test_bugs_stay_bugs(error: BaseException) -> None:
    assert not database_unavailable(error)


def test_a_connection_found_dropped_mid_statement() -> None:
    dropped = exc.DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True)
    assert database_unavailable(dropped)
