"""Shoutouts: public posts mentioning colleagues, without points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.recognition_schemas import Id, ShoutoutIn, ShoutoutOut
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.engagement.shoutouts import ShoutoutFilter
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/shoutouts", tags=["shoutouts"], responses=error_responses(401, 403)
)


@router.post(
    "",
    status_code=201,
    summary="Post a shoutout",
    description=(
        "A public post by an active employee, mentioning active colleagues (not the author). "
        "Raises `shoutout.posted`; gives no points."
    ),
    responses=error_responses(400, 409, 413, 415, 422),
)
async def post_shoutout(
    body: ShoutoutIn, principal: AdminPrincipal, container: AppContainer
) -> ShoutoutOut:
    shoutout = await container.shoutouts.post(
        principal.environment_id,
        author_id=body.author_id,
        message=body.message,
        mention_ids=body.mention_ids,
    )
    return ShoutoutOut(**shoutout.to_json())


@router.get("", summary="List shoutouts, newest first", responses=error_responses(400, 422))
async def list_shoutouts(
    principal: AdminPrincipal,
    container: AppContainer,
    author_id: Annotated[Id | None, Query()] = None,
    mention_id: Annotated[Id | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339)")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[ShoutoutOut]:
    page = await container.shoutouts.list(
        principal.environment_id,
        ShoutoutFilter(author_id=author_id, mention_id=mention_id, since=since, until=until),
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[ShoutoutOut].of(page, lambda s: ShoutoutOut(**s.to_json()))


@router.get("/{shoutout_id}", summary="One shoutout", responses=error_responses(404))
async def get_shoutout(
    shoutout_id: str, principal: AdminPrincipal, container: AppContainer
) -> ShoutoutOut:
    found = await container.shoutouts.get(principal.environment_id, shoutout_id)
    return ShoutoutOut(**found.to_json())
