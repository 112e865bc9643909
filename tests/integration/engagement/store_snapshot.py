"""Everything one environment holds in the store, to prove a refused request wrote nothing.

Compare `environment_rows` before and after: an insert, update or delete in any
engagement table, the event log or the delivery queue shows up as a difference.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from plaudit.app_container import Container
from plaudit.store.engagement_tables import employees

Rows = dict[str, list[tuple[Any, ...]]]
_LEFT_OUT = frozenset({"organizations", "environments", "api_keys", "milestone_runs"})


def _tables() -> list[Table]:
    # One metadata holds every table: the engagement ones, events, messages and the rest.
    return [t for name, t in employees.metadata.tables.items() if name not in _LEFT_OUT]


def _of_environment(conn: Connection, table: Table, environment_id: str) -> list[tuple[Any, ...]]:
    if "environment_id" in table.c:
        query = select(table).where(table.c.environment_id == environment_id)
    else:  # a child table: its rows belong to the environment of their parent's
        fk = next(iter(table.foreign_keys))
        parent = fk.column.table
        query = select(table).where(
            fk.parent.in_(select(fk.column).where(parent.c.environment_id == environment_id))
        )
    rows = [tuple(row) for row in conn.execute(query)]
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


async def environment_rows(container: Container, environment_id: str) -> Rows:
    def unit(conn: Connection) -> Rows:
        return {t.name: _of_environment(conn, t, environment_id) for t in _tables()}

    return await container.db.read_with(unit)
