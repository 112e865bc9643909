"""The events feed: for customers who poll instead of receiving webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectEvent, ConnectEventFeed
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Limit
from plaudit.connect.events_feed import encode_position
from plaudit.domain.errors import ValidationFailed

router = connect_router(tags=["connect: events"])


@router.get(
    "/events",
    summary="Poll the events feed",
    description=(
        "Every event of the environment (the catalog types; test sends excluded), oldest "
        "first, in commit order. Pass the `next_cursor` of each answer as `after` on the "
        "next poll: you get every event committed since, never one twice and never one "
        "skipped, even when writers commit out of order. Without `after` the feed starts "
        "at the first event. `has_more: true` means poll again now; otherwise wait a "
        "little. A cursor works with any `type` filter."
    ),
)
async def poll_events(
    principal: ConnectReader,
    container: AppContainer,
    after: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous poll")
    ] = None,
    type: Annotated[
        list[str] | None, Query(description="Only these catalog types (repeat for several)")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ConnectEventFeed:
    types = set(type or ())
    unknown = sorted(t for t in types if t not in container.catalog)
    if unknown:
        raise ValidationFailed(
            f"type: unknown event type {', '.join(map(repr, unknown))}",
            code="unknown_event_type",
            details={"field": "type", "unknown": unknown, "known": list(container.catalog.names())},
        )
    page = await container.connect_events.read(
        principal.environment_id, after, types=types, limit=limit
    )
    return ConnectEventFeed(
        data=[ConnectEvent.of(e) for e in page.events],
        next_cursor=encode_position(page.next_position),
        has_more=page.has_more,
    )
