"""Reading the plans PostgreSQL actually chooses (`EXPLAIN (ANALYZE, FORMAT JSON)`).

The plan tests run on a database of their own (the `pg_plaudit` fixture), where the
statistics are those of fresh tables, as after a burst or a bulk load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Executable

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
    plan: dict[str, Any] = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return plan
