"""A point read is one statement that is its own snapshot, on either database: no BEGIN
and COMMIT around it (on PostgreSQL they would be two more round trips)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container


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
