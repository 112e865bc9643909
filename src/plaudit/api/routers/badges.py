"""The badge catalog of the caller's environment."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.recognition_schemas import BadgeIn, BadgeOut, BadgePatch
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(prefix="/api/v1/badges", tags=["badges"], responses=error_responses(401, 403))
_WRITE_ERRORS = error_responses(400, 409, 413, 415, 422)


@router.post("", status_code=201, summary="Create a badge", responses=_WRITE_ERRORS)
async def create_badge(
    body: BadgeIn, principal: AdminPrincipal, container: AppContainer
) -> BadgeOut:
    badge = await container.badges.create(
        principal.environment_id,
        name=body.name,
        description=body.description,
        icon_url=body.icon_url,
        active=body.active,
    )
    return BadgeOut(**badge.to_json())


@router.get("", summary="List badges", responses=error_responses(400, 422))
async def list_badges(
    principal: AdminPrincipal,
    container: AppContainer,
    active: Annotated[
        bool | None, Query(description="Only active (true) or retired (false)")
    ] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[BadgeOut]:
    page = await container.badges.list(
        principal.environment_id, active=active, limit=limit, cursor=cursor
    )
    return ListResponse[BadgeOut].of(page, lambda b: BadgeOut(**b.to_json()))


@router.get("/{badge_id}", summary="One badge", responses=error_responses(404))
async def get_badge(badge_id: str, principal: AdminPrincipal, container: AppContainer) -> BadgeOut:
    badge = await container.badges.get(principal.environment_id, badge_id)
    return BadgeOut(**badge.to_json())


@router.patch(
    "/{badge_id}",
    summary="Update a badge (send only what changes; `active: false` retires it)",
    responses={**_WRITE_ERRORS, **error_responses(404)},
)
async def update_badge(
    badge_id: str, body: BadgePatch, principal: AdminPrincipal, container: AppContainer
) -> BadgeOut:
    badge = await container.badges.update(principal.environment_id, badge_id, body.changes())
    return BadgeOut(**badge.to_json())
