"""Finding an endpoint the caller may see: in their environment, and not deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from plaudit.domain.errors import NotFound
from plaudit.store.tables import endpoints


def live_endpoint(environment_id: str, endpoint_id: str) -> list[ColumnElement[bool]]:
    return [
        endpoints.c.id == endpoint_id,
        endpoints.c.environment_id == environment_id,
        endpoints.c.deleted_at.is_(None),
    ]


async def require_endpoint(
    conn: AsyncConnection, environment_id: str, endpoint_id: str
) -> Row[Any]:
    """The endpoint's row, or NotFound (another environment's endpoint is not found either)."""
    row = (
        await conn.execute(select(endpoints).where(*live_endpoint(environment_id, endpoint_id)))
    ).first()
    if row is None:
        raise NotFound(f"no endpoint {endpoint_id}")
    return row
