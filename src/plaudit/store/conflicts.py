"""INSERT ... ON CONFLICT DO NOTHING on both backends."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_or_ignore(
    conn: AsyncConnection | Connection, table: Table
) -> postgresql.Insert | sqlite.Insert:
    """An insert that silently skips rows clashing with a unique constraint."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
