"""Payout bodies, shared by the admin API and Connect (decimals as strings)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.api.errors import ErrorDetail
from plaudit.api.incentive_schemas import CheckedModel
from plaudit.incentives.payout_service import payout_json
from plaudit.incentives.reversal import RevokeResult

PayoutStatus = Literal["waiting_approval", "approved", "revoked", "reversed"]
PayoutKind = Literal["period", "milestone", "rank"]


class PayoutPeriod(BaseModel):
    start: date = Field(description="The period's first day")
    end: date = Field(description="Its last day (inclusive)")


class PayoutMoney(BaseModel):
    amount: str = Field(description="Decimal string, rounded half-even to the minor unit")
    currency: str = Field(description="ISO 4217")


class PayoutOut(BaseModel):
    id: str = Field(description="Payout id (`pay_...`)")
    campaign_id: str = Field(description="Campaign id")
    employee_id: str = Field(description="The user paid")
    period: PayoutPeriod
    status: PayoutStatus = Field(
        description="`revoked`: refused before approval; `reversed`: approved, then undone"
    )
    kind: PayoutKind = Field(
        description="`period` (the payout rule), `milestone` (a threshold's reward) or "
        "`rank` (a leaderboard rank's reward)"
    )
    threshold_percent: str | None = Field(description="The milestone, for kind `milestone`")
    leaderboard_id: str | None = Field(description="The board, for kind `rank`")
    rank: int | None = Field(description="The rank paid, for kind `rank`")
    reward_type: Literal["points", "cash"] = Field(description="Points or cash")
    points: int | None = Field(description="Whole points, for a points campaign")
    amount: PayoutMoney | None = Field(description="For a cash campaign")
    value: str = Field(
        description="The payout metric's value (for `rank`: the board's) at calculation"
    )
    attainment: str = Field(description="Weighted attainment at calculation (ratio)")
    point_entry_id: str | None = Field(description="The ledger credit, once approved (points)")
    calculated_at: datetime = Field(description="RFC 3339, UTC")
    decided_at: datetime | None = Field(description="When approved or revoked")
    reversed_at: datetime | None = Field(description="When an approved payout was reversed")
    reversal_entry_id: str | None = Field(description="The ledger debit reversing it (points)")

    @classmethod
    def of(cls, payout: dict[str, Any]) -> PayoutOut:
        return cls(**payout)


class PayoutIdsIn(CheckedModel):
    payout_ids: list[str] = Field(min_length=1, max_length=1000)


class PayoutsDecidedOut(BaseModel):
    count: int


class PayoutRevokeResult(BaseModel):
    payout_id: str
    status: Literal["revoked", "reversed"] | None = Field(
        description="What the payout became; null when it could not be revoked (see `error`)"
    )
    payout: PayoutOut | None = Field(description="The payout after the change")
    error: ErrorDetail | None = Field(description="Why this one was left as it was")


class PayoutsRevokedOut(BaseModel):
    count: int = Field(description="How many were revoked or reversed")
    results: list[PayoutRevokeResult] = Field(description="One per payout id, in request order")

    @classmethod
    def of(cls, results: Sequence[RevokeResult]) -> PayoutsRevokedOut:
        items = [
            PayoutRevokeResult(
                payout_id=r.payout_id,
                status=None if r.row is None else r.row.status,
                payout=None if r.row is None else PayoutOut.of(payout_json(r.row)),
                error=(
                    None
                    if r.error is None
                    else ErrorDetail(
                        code=r.error.code, message=r.error.message, details=r.error.details
                    )
                ),
            )
            for r in results
        ]
        return cls(count=sum(1 for r in results if r.error is None), results=items)
