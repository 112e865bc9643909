"""Groups (teams, departments, locations, custom) of the key's environment."""

from __future__ import annotations

from typing import Literal

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectGroup
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, Limit, PathId
from plaudit.api.schemas import ListResponse

router = connect_router(tags=["connect: groups"])


@router.get(
    "/groups",
    summary="List groups, oldest first",
    description="A group's members: `GET /connect/v1/users?group_id=...`.",
)
async def list_groups(
    principal: ConnectReader,
    container: AppContainer,
    kind: Literal["team", "department", "location", "custom"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectGroup]:
    page = await container.groups.list(
        principal.environment_id, kind=kind, limit=limit, cursor=cursor
    )
    return ListResponse[ConnectGroup].of(page, ConnectGroup.of)


@router.get("/groups/{group_id}", summary="One group")
async def get_group(
    group_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectGroup:
    return ConnectGroup.of(await container.groups.get(principal.environment_id, group_id))
