"""Users (employees) of the key's environment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectUser
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, FilterId, Limit, PathId
from plaudit.api.schemas import ListResponse
from plaudit.engagement.employee_views import EmployeeFilter

router = connect_router(tags=["connect: users"])


@router.get("/users", summary="List users, oldest first")
async def list_users(
    principal: ConnectReader,
    container: AppContainer,
    status: Literal["active", "inactive"] | None = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    location: Annotated[str | None, Query(max_length=200)] = None,
    manager_id: FilterId = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    group_id: Annotated[FilterId, Query(description="Members of this group")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Substring of the name or email")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectUser]:
    where = EmployeeFilter(
        status=status,
        department=department,
        location=location,
        manager_id=manager_id,
        email=email,
        external_id=external_id,
        group_id=group_id,
        q=q,
    )
    page = await container.employees.list(
        principal.environment_id, where, limit=limit, cursor=cursor
    )
    return ListResponse[ConnectUser](
        data=[ConnectUser.of(e) for e in page.items],
        has_more=page.has_more,
        next_cursor=page.next_cursor,
    )


@router.get("/users/{user_id}", summary="One user")
async def get_user(
    user_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectUser:
    return ConnectUser.of(await container.employees.get(principal.environment_id, user_id))
