"""Incentive payouts of the key's environment, by user or group."""

from __future__ import annotations

from datetime import date

from plaudit.api.connect.access import ConnectReader
from plaudit.api.connect.route import connect_router
from plaudit.api.dependencies import AppContainer
from plaudit.api.payout_schemas import PayoutKind, PayoutOut, PayoutStatus
from plaudit.api.routers.connect.params import DEFAULT_LIMIT, Cursor, FilterId, Limit, PathId
from plaudit.api.schemas import ListResponse
from plaudit.incentives.payout_service import PayoutFilter

router = connect_router(tags=["connect: incentive payouts"])


@router.get("/payouts", summary="List payouts, newest first")
async def list_payouts(
    principal: ConnectReader,
    container: AppContainer,
    user_id: FilterId = None,
    group_id: FilterId = None,
    campaign_id: FilterId = None,
    status: PayoutStatus | None = None,
    kind: PayoutKind | None = None,
    period: date | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListResponse[PayoutOut]:
    where = PayoutFilter(user_id, group_id, campaign_id, status, period, kind)
    page = await container.payouts.list(principal.environment_id, where, limit=limit, cursor=cursor)
    return ListResponse[PayoutOut].of(page, PayoutOut.of)


@router.get("/payouts/{payout_id}", summary="One payout")
async def get_payout(
    payout_id: PathId, principal: ConnectReader, container: AppContainer
) -> PayoutOut:
    return PayoutOut.of(await container.payouts.get(principal.environment_id, payout_id))
