"""Incentive payouts: list and read, approve or revoke (reverse once approved) one or many."""

from __future__ import annotations

from datetime import date

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.payout_schemas import (
    PayoutIdsIn,
    PayoutKind,
    PayoutOut,
    PayoutsDecidedOut,
    PayoutsRevokedOut,
    PayoutStatus,
)
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.incentives.payout_service import PayoutFilter
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(
    prefix="/api/v1/payouts", tags=["incentive payouts"], responses=error_responses(401, 403)
)
_WRITE_ERRORS = error_responses(400, 404, 409, 413, 415, 422)


@router.get("", summary="List payouts, newest first", responses=error_responses(400, 422))
async def list_payouts(
    principal: AdminPrincipal,
    container: AppContainer,
    employee_id: str | None = None,
    group_id: str | None = None,
    campaign_id: str | None = None,
    status: PayoutStatus | None = None,
    kind: PayoutKind | None = None,
    period: date | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[PayoutOut]:
    where = PayoutFilter(employee_id, group_id, campaign_id, status, period, kind)
    page = await container.payouts.list(principal.environment_id, where, limit=limit, cursor=cursor)
    return ListResponse[PayoutOut].of(page, PayoutOut.of)


@router.get("/{payout_id}", summary="One payout", responses=error_responses(404))
async def get_payout(
    payout_id: str, principal: AdminPrincipal, container: AppContainer
) -> PayoutOut:
    return PayoutOut.of(await container.payouts.get(principal.environment_id, payout_id))


@router.post(
    "/approve",
    summary="Approve waiting payouts (all or none): points credited, payouts processed",
    responses=_WRITE_ERRORS,
)
async def approve_payouts(
    body: PayoutIdsIn, principal: AdminPrincipal, container: AppContainer
) -> PayoutsDecidedOut:
    count = await container.payouts.approve(principal.environment_id, body.payout_ids)
    return PayoutsDecidedOut(count=count)


@router.post(
    "/revoke",
    summary="Revoke payouts: waiting ones are revoked, approved ones reversed; a result each",
    responses=error_responses(400, 413, 415, 422),
)
async def revoke_payouts(
    body: PayoutIdsIn, principal: AdminPrincipal, container: AppContainer
) -> PayoutsRevokedOut:
    results = await container.payouts.revoke(principal.environment_id, body.payout_ids)
    return PayoutsRevokedOut.of(results)


@router.post(
    "/{payout_id}/revoke",
    summary="Revoke a waiting payout, or reverse an approved one (409 if points were spent)",
    responses=error_responses(404, 409),
)
async def revoke_payout(
    payout_id: str, principal: AdminPrincipal, container: AppContainer
) -> PayoutOut:
    return PayoutOut.of(await container.payouts.revoke_one(principal.environment_id, payout_id))
