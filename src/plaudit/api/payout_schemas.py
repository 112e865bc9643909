"""Payout bodies, shared by the admin API and Connect (decimals as strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.api.incentive_schemas import CheckedModel


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
    status: Literal["waiting_approval", "approved", "revoked"] = Field(description="Status")
    reward_type: Literal["points", "cash"] = Field(description="Points or cash")
    points: int | None = Field(description="Whole points, for a points campaign")
    amount: PayoutMoney | None = Field(description="For a cash campaign")
    value: str = Field(description="The payout metric's value for the period")
    attainment: str = Field(description="Weighted attainment at calculation (ratio)")
    point_entry_id: str | None = Field(description="The ledger credit, once approved (points)")
    calculated_at: datetime = Field(description="RFC 3339, UTC")
    decided_at: datetime | None = Field(description="When approved or revoked")

    @classmethod
    def of(cls, payout: dict[str, Any]) -> PayoutOut:
        return cls(**payout)


class PayoutIdsIn(CheckedModel):
    payout_ids: list[str] = Field(min_length=1, max_length=1000)


class PayoutsDecidedOut(BaseModel):
    count: int
