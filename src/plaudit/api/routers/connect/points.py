"""A user's points: balance and ledger."""

from __future__ import annotations

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectBalance, ConnectPointEntry
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, Limit, PathId
from plaudit.api.schemas import ListResponse
from plaudit.engagement.ledger import EntryKind

router = connect_router(tags=["connect: points"])


@router.get("/users/{user_id}/points", summary="A user's points balance")
async def get_balance(
    user_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectBalance:
    found = await container.points.balance(principal.environment_id, user_id, verify=False)
    return ConnectBalance(employee_id=found.employee_id, balance=found.balance)


@router.get("/users/{user_id}/points/ledger", summary="A user's ledger entries, newest first")
async def list_ledger(
    user_id: PathId,
    principal: ConnectReader,
    container: AppContainer,
    kind: EntryKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectPointEntry]:
    page = await container.points.entries(
        principal.environment_id, user_id, kind=kind, limit=limit, cursor=cursor
    )
    return ListResponse[ConnectPointEntry].of(page, ConnectPointEntry.of)
