"""The event catalog: the 17 types with their JSON Schemas and examples."""

from __future__ import annotations

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import EventTypeOut
from plaudit.domain.errors import NotFound

router = GatedRouter(
    prefix="/api/v1/event-types", tags=["events"], responses=error_responses(401, 403)
)


@router.get("", summary="List the event types")
async def list_event_types(
    _principal: AdminPrincipal, container: AppContainer
) -> dict[str, list[EventTypeOut]]:
    return {"data": [EventTypeOut.model_validate(t.to_json()) for t in container.catalog]}


@router.get("/{name}", summary="One event type", responses=error_responses(404))
async def get_event_type(
    name: str, _principal: AdminPrincipal, container: AppContainer
) -> EventTypeOut:
    if name not in container.catalog:
        raise NotFound(f"no event type {name!r}")
    return EventTypeOut.model_validate(container.catalog.get(name).to_json())
