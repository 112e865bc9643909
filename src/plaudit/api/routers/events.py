"""Publishing events and reading the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Header, Query, Response

from plaudit.api.auth import AdminPrincipal, EventsWriter
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import EventOut, ListResponse, PageCursor, PageLimit, PublishEventIn
from plaudit.domain.errors import InvalidRequest
from plaudit.events.service import EventFilter
from plaudit.store.pagination import DEFAULT_PAGE_SIZE, Order

router = GatedRouter(prefix="/api/v1/events", tags=["events"], responses=error_responses(401, 403))


@router.post(
    "",
    status_code=202,
    summary="Publish an event",
    description=(
        "Validates `data` against the type's schema, stores the event durably and fans it "
        "out to subscribed endpoints. A repeated `idempotency_key` (or `Idempotency-Key` "
        "header) returns the first event with `Idempotent-Replayed: true`."
    ),
    responses=error_responses(400, 409, 413, 415, 422),
)
async def publish_event(
    body: PublishEventIn,
    principal: EventsWriter,
    container: AppContainer,
    response: Response,
    idempotency_key_header: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=255)
    ] = None,
) -> EventOut:
    key = body.idempotency_key or idempotency_key_header
    if (
        body.idempotency_key
        and idempotency_key_header
        and body.idempotency_key != idempotency_key_header
    ):
        raise InvalidRequest(
            "`idempotency_key` and the Idempotency-Key header disagree",
            code="idempotency_key_mismatch",
        )
    event = await container.events.publish(
        principal.environment_id, body.type, body.data, idempotency_key=key
    )
    if event.created:
        container.metrics.events_appended.labels(event.type).inc()
    else:
        response.headers["Idempotent-Replayed"] = "true"
    return EventOut.of(event)


@router.get("", summary="List events, newest first", responses=error_responses(400, 422))
async def list_events(
    principal: AdminPrincipal,
    container: AppContainer,
    type: Annotated[list[str] | None, Query(description="Repeat to match several types")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339)")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
    order: Annotated[Order, Query()] = "desc",
) -> ListResponse[EventOut]:
    for bound, name in ((since, "since"), (until, "until")):
        if bound is not None and bound.tzinfo is None:
            raise InvalidRequest(f"`{name}` needs a time zone (e.g. ...Z)", code="invalid_time")
    page = await container.events.list(
        principal.environment_id,
        EventFilter(types=type or (), since=since, until=until),
        limit=limit,
        cursor=cursor,
        order=order,
    )
    return ListResponse[EventOut].of(page, EventOut.of)


@router.get("/{event_id}", summary="One event", responses=error_responses(404))
async def get_event(event_id: str, principal: AdminPrincipal, container: AppContainer) -> EventOut:
    return EventOut.of(await container.events.get(principal.environment_id, event_id))
