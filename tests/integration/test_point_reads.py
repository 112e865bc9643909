"""A point read is one statement that is its own snapshot, on either database: no BEGIN
and COMMIT around it (on PostgreSQL they would be two more round trips). On PostgreSQL a
brief read runs in autocommit too, and neither pings its connection first."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from plaudit.app_container import Container
from plaudit.store.database import Database, NotBrief


def _autocommit(conn: Connection) -> bool:
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    return conn.dialect.detect_autocommit_setting(dbapi_connection)


async def test_a_point_read_on_postgresql_runs_in_autocommit(container: Container) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("SQLite's point reads are covered by test_sqlite_write_path")
    assert await container.db.read_point(_autocommit)
    # The connection goes back to the pool as it came: other reads are transactions.
    assert not await container.db.read_with(_autocommit)
    async with container.db.read() as conn:
        assert not await conn.run_sync(_autocommit)


async def test_a_brief_read_on_postgresql_runs_in_autocommit(container: Container) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("SQLite's brief reads are covered by test_sqlite_write_path")

    def refuse(conn: Connection) -> bool:
        raise NotBrief

    assert await container.db.read_brief(_autocommit, _autocommit)
    assert await container.db.read_brief(refuse, _autocommit)


async def test_hot_reads_on_postgresql_survive_a_dropped_connection(database_url: str) -> None:
    """Hot reads' connections are not pinged on checkout: a read that meets one the server
    dropped is run again on a fresh connection, and the caller never sees the drop."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL connection pool")
    db = Database(database_url)

    def backend(conn: Connection) -> int:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    try:
        first = await db.read_point(backend)
        await db.read_with(lambda c: c.execute(text(f"SELECT pg_terminate_backend({first})")))
        second = await db.read_point(backend)
        assert second != first
        await db.read_with(lambda c: c.execute(text(f"SELECT pg_terminate_backend({second})")))
        assert await db.read_brief(backend, backend) != second
    finally:
        await db.dispose()
