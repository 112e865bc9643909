"""Employees' points: grant, adjust and expire; balance and entries (immutable: no
update or delete); and an audit of every account against its entries."""

from __future__ import annotations

from plaudit.api.auth import AdminPrincipal
from plaudit.api.dependencies import AppContainer
from plaudit.api.errors import error_responses
from plaudit.api.rewards_schemas import (
    BalanceOut,
    LedgerAuditOut,
    PointEntryOut,
    PointsIn,
)
from plaudit.api.routing import GatedRouter
from plaudit.api.schemas import ListResponse, PageCursor, PageLimit
from plaudit.engagement.ledger import EntryKind
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

router = GatedRouter(prefix="/api/v1", tags=["points"], responses=error_responses(401, 403))


@router.post(
    "/employees/{employee_id}/points",
    status_code=201,
    summary="Credit, adjust or expire an employee's points",
    description=(
        "`earn` credits `points` (>= 1) with a `reason` (recognition, payout, adjustment, "
        "milestone, other; default other). `adjust` takes signed, non-zero `points` "
        "(reason `adjustment`). `expire` removes `points` (>= 1, a positive count). Credits "
        "raise `points.earned`. A debit below zero is 409 `insufficient_points`; an unknown "
        "employee 404, a deactivated one 409 `employee_inactive`; nothing is written then."
    ),
    responses=error_responses(400, 404, 409, 413, 415, 422),
)
async def post_points(
    employee_id: str, body: PointsIn, principal: AdminPrincipal, container: AppContainer
) -> PointEntryOut:
    entry = await container.points.post(
        principal.environment_id,
        employee_id,
        kind=body.kind,
        points=body.points,
        reason=body.reason,
        note=body.note,
        source=(body.source.type, body.source.id) if body.source else None,
    )
    return PointEntryOut(**entry.to_json())


@router.get(
    "/employees/{employee_id}/points/balance",
    summary="An employee's balance (`verify=true` also sums the entries)",
    responses=error_responses(404, 422),
)
async def get_balance(
    employee_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    verify: bool = False,
) -> BalanceOut:
    found = await container.points.balance(principal.environment_id, employee_id, verify=verify)
    return BalanceOut(**found.to_json())


@router.get(
    "/employees/{employee_id}/points/entries",
    summary="An employee's ledger entries, newest first",
    responses=error_responses(400, 404, 422),
)
async def list_entries(
    employee_id: str,
    principal: AdminPrincipal,
    container: AppContainer,
    kind: EntryKind | None = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> ListResponse[PointEntryOut]:
    page = await container.points.entries(
        principal.environment_id, employee_id, kind=kind, limit=limit, cursor=cursor
    )
    return ListResponse[PointEntryOut].of(page, lambda e: PointEntryOut(**e.to_json()))


@router.get(
    "/points/audit",
    summary="Check every points account of the environment against the sum of its entries",
)
async def audit(principal: AdminPrincipal, container: AppContainer) -> LedgerAuditOut:
    found = await container.points.audit(principal.environment_id)
    return LedgerAuditOut(**found.to_json())
