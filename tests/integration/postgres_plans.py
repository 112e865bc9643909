"""Reading the plans PostgreSQL actually chooses (`EXPLAIN (ANALYZE, FORMAT JSON)`).

The plan tests run on a database of their own (the `pg_plaudit` fixture), where the
statistics are those of fresh tables, as after a burst or a bulk load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Executable, event
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.app_container import Container


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def analyzed(
    plaudit: Container, explain: Executable, params: dict[str, Any]
) -> dict[str, Any]:
    """The top node of the plan `explain` (an EXPLAIN (ANALYZE, FORMAT JSON)) reports."""
    async with plaudit.db.transaction() as conn:
        found = (await conn.execute(explain, params)).scalar_one()
    return _top(found)


async def plan_of(
    conn: AsyncConnection, statement: Executable, params: dict[str, Any]
) -> dict[str, Any]:
    """The top node of the plan `statement` runs with, as SQLAlchemy compiles and binds it
    (for built statements, where `analyzed` takes hand-written SQL)."""

    def explain(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return "EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters

    engine = conn.sync_engine
    event.listen(engine, "before_cursor_execute", explain, retval=True)
    try:
        found = (await conn.execute(statement, params)).scalar()
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    return _top(found)


def rows_read(plan: dict[str, Any], table: str) -> int:
    """Rows the plan's scans of `table` returned, over all their loops."""
    return sum(
        node["Actual Rows"] * node["Actual Loops"]
        for node in nodes(plan)
        if node.get("Relation Name") == table
    )


def _top(found: Any) -> dict[str, Any]:
    plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return plan
