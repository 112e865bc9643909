"""Whether an error means the database cannot be reached right now, rather than a bug.

A request that meets a database that is down, restarting, out of connections or locked
for longer than the busy timeout is answered 503 with a Retry-After (the client should
try again); anything else a request raises stays a 500, a bug to fix.
"""

from __future__ import annotations

import socket
import sqlite3

from asyncpg import exceptions as pg_errors  # type: ignore[import-untyped]
from sqlalchemy import exc

_AWAY = (
    ConnectionError,  # refused, reset, aborted
    socket.gaierror,  # the database host's name does not resolve
    pg_errors.PostgresConnectionError,  # class 08: the connection failed or was lost
    pg_errors.OperatorInterventionError,  # 57P: shutting down, starting up, restarted
    pg_errors.TooManyConnectionsError,
)
# Every kind of error a database access raises, whether the database is away or not.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    exc.SQLAlchemyError,
    sqlite3.Error,
    pg_errors.PostgresError,
)
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open database")


def database_unavailable(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, says the database is away."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _away(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _away(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, _AWAY):
        return True
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith(_SQLITE_BUSY)
