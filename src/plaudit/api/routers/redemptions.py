"""Redeeming rewards for points, and the vouchers they issue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Response

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.rewards_schemas import RedemptionIn, RedemptionOut, VoucherOut
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(prefix="/api/v1", responses=error_responses(401, 403))


@router.post(
    "/redemptions",
    status_code=201,
    tags=["redemptions"],
    summary="Redeem a reward: debit points and stock, issue a voucher",
    description=(
        "Raises `reward.redeemed` and `voucher.issued`. Too few points is 409 "
        "`insufficient_points`, no stock 409 `out_of_stock`, a retired reward 409 "
        "`reward_inactive`; nothing is written then. With an `Idempotency-Key` header a "
        "retried request returns the first redemption with `Idempotent-Replayed: true`."
    ),
    responses=error_responses(400, 409, 413, 415, 422),
)
async def redeem(
    body: RedemptionIn,
    principal: AdminPrincipal,
    container: AppContainer,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> RedemptionOut:
    redemption = await container.redemptions.redeem(
        principal.environment_id,
        body.employee_id,
        body.reward_id,
        idempotency_key=idempotency_key,
    )
    if redemption.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return RedemptionOut(**redemption.to_json())


@router.get(
    "/redemptions",
    tags=["redemptions"],
    summary="List redemptions, newest first",
    responses=error_responses(400, 422),
)
async def list_redemptions(
    principal: AdminPrincipal,
    container: AppContainer,
    employee_id: Annotated[str | None, Query(max_length=40)] = None,
    reward_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[RedemptionOut]:
    page = await container.redemptions.list(
        principal.environment_id,
        employee_id=employee_id,
        reward_id=reward_id,
        limit=limit,
        cursor=cursor,
    )
    return ListResponse[RedemptionOut].of(page, lambda r: RedemptionOut(**r.to_json()))


@router.get(
    "/redemptions/{redemption_id}",
    tags=["redemptions"],
    summary="One redemption with its voucher",
    responses=error_responses(404),
)
async def get_redemption(
    redemption_id: str, principal: AdminPrincipal, container: AppContainer
) -> RedemptionOut:
    redemption = await container.redemptions.get(principal.environment_id, redemption_id)
    return RedemptionOut(**redemption.to_json())


@router.get(
    "/vouchers",
    tags=["vouchers"],
    summary="List vouchers, newest first; `code` finds one as a person typed it",
    responses=error_responses(400, 422),
)
async def list_vouchers(
    principal: AdminPrincipal,
    container: AppContainer,
    employee_id: Annotated[str | None, Query(max_length=40)] = None,
    code: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Any case, spaces or dashes; I and L read as 1, O as 0",
        ),
    ] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[VoucherOut]:
    page = await container.redemptions.vouchers(
        principal.environment_id, employee_id=employee_id, code=code, limit=limit, cursor=cursor
    )
    return ListResponse[VoucherOut].of(page, lambda v: VoucherOut(**v.to_json()))


@router.get(
    "/vouchers/{voucher_id}",
    tags=["vouchers"],
    summary="One voucher",
    responses=error_responses(404),
)
async def get_voucher(
    voucher_id: str, principal: AdminPrincipal, container: AppContainer
) -> VoucherOut:
    voucher = await container.redemptions.voucher(principal.environment_id, voucher_id)
    return VoucherOut(**voucher.to_json())
