"""Reward redemptions (and the vouchers they issued) in the key's environment."""

from __future__ import annotations

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.connect.schemas import ConnectRedemption
from plaudit.api.dependencies import AppContainer
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, FilterId, Limit, PathId
from plaudit.api.schemas import ListResponse

router = connect_router(tags=["connect: redemptions"])


@router.get("/redemptions", summary="List reward redemptions, newest first")
async def list_redemptions(
    principal: ConnectReader,
    container: AppContainer,
    employee_id: FilterId = None,
    reward_id: FilterId = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[ConnectRedemption]:
    page = await container.redemptions.list(
        principal.environment_id,
        employee_id=employee_id,
        reward_id=reward_id,
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[ConnectRedemption].of(page, ConnectRedemption.of)


@router.get("/redemptions/{redemption_id}", summary="One redemption")
async def get_redemption(
    redemption_id: PathId, principal: ConnectReader, container: AppContainer
) -> ConnectRedemption:
    found = await container.redemptions.get(principal.environment_id, redemption_id)
    return ConnectRedemption.of(found)
