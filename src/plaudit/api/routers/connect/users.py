"""Users (employees) of the key's environment."""

from __future__ import annotations

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectUser
from plaudit.api.dependencies import AppContainer
from plaudit.api.employee_filters import EmployeeFilterQuery
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, Limit, PathId
from plaudit.api.schemas import ListResponse

router = connect_router(tags=["connect: users"])


@router.get("/users", summary="List users, oldest first")
async def list_users(
    principal: ConnectReader,
    container: AppContainer,
    where: EmployeeFilterQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectUser]:
    page = await container.employees.list(
        principal.environment_id, where, limit=limit, cursor=cursor
    )
    return ListResponse[ConnectUser].of(page, ConnectUser.of)


@router.get("/users/{user_id}", summary="One user")
async def get_user(
    user_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectUser:
    return ConnectUser.of(await container.employees.get(principal.environment_id, user_id))
