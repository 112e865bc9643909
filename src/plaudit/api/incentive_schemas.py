"""Request and response shapes of the campaign API (decimals travel as strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from plaudit.api.schemas import StrictModel
from plaudit.incentives.definition import BoardDefinition, CampaignDefinition, parse_definition

Name = Field(min_length=1, max_length=200)
Key = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


class PeriodIn(StrictModel):
    start: date
    end: date = Field(description="Last day, inclusive")
    time_zone: str = Field(default="UTC", max_length=64)
    recurrence: Literal["none", "weekly", "monthly", "quarterly"] = "none"


class RewardIn(StrictModel):
    type: Literal["points", "cash"]
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class MetricIn(StrictModel):
    key: str = Key
    source_metric: str = Field(min_length=1, max_length=100, description="Transactions' metric")
    aggregation: Literal["sum", "count", "avg", "max", "count_distinct"]
    target: Decimal = Field(description="Default per-participant target")
    weight: Decimal = Decimal(1)
    filters: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=20, description="Attribute equality filters"
    )
    distinct_attribute: str | None = Field(default=None, max_length=100)


class SlabIn(StrictModel):
    from_: Decimal = Field(alias="from")
    to: Decimal | None = None
    rate: Decimal


class PayoutIn(StrictModel):
    metric: str = Key
    rate: Decimal | None = Field(default=None, description="Per unit, when there are no slabs")
    slabs: list[SlabIn] = Field(default_factory=list, max_length=50)
    mode: Literal["marginal", "retroactive"] = "marginal"
    cap: Decimal | None = None
    min_attainment_percent: Decimal = Field(default=Decimal(0), ge=0)


class MilestoneRewardIn(StrictModel):
    points: int | None = Field(default=None, ge=0)
    amount: Decimal | None = Field(default=None, ge=0)


class MilestoneIn(StrictModel):
    threshold_percent: Decimal
    reward: MilestoneRewardIn = Field(default_factory=MilestoneRewardIn)


class LeaderboardIn(StrictModel):
    rank_by: str = Field(description="A metric key, or `attainment`", max_length=100)
    top_n: int = Field(default=10, ge=1, le=1000)
    group_id: str | None = Field(default=None, max_length=40)
    min_interval_s: int = Field(
        default=60, ge=0, le=86_400, description="At most one `leaderboard.updated` per interval"
    )


class CampaignIn(StrictModel):
    name: str = Name
    period: PeriodIn
    reward: RewardIn
    auto_approve: bool = False
    metrics: list[MetricIn] = Field(min_length=1, max_length=20)
    payout: PayoutIn
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=20)
    leaderboards: list[LeaderboardIn] = Field(default_factory=list, max_length=20)

    def definition(self) -> CampaignDefinition:
        body = self.model_dump(mode="json", by_alias=True)
        return parse_definition(
            name=self.name,
            period=body["period"],
            reward=body["reward"],
            auto_approve=self.auto_approve,
            body=body,
        )

    def boards(self) -> tuple[BoardDefinition, ...]:
        return tuple(
            BoardDefinition(b.rank_by, b.top_n, b.group_id, b.min_interval_s)
            for b in self.leaderboards
        )


class CampaignOut(BaseModel):
    id: str
    name: str
    status: Literal["draft", "active", "closed"]
    period: dict[str, Any]
    reward: dict[str, Any]
    auto_approve: bool
    metrics: list[dict[str, Any]]
    payout: dict[str, Any]
    milestones: list[dict[str, Any]]
    leaderboards: list[dict[str, Any]]
    participant_count: int
    created_at: datetime
    updated_at: datetime


class ParticipantsIn(StrictModel):
    employee_ids: list[str] = Field(default_factory=list, max_length=1000)
    group_ids: list[str] = Field(default_factory=list, max_length=100)
    targets: dict[str, Decimal] = Field(
        default_factory=dict, description="Metric key -> target for everyone added"
    )


class ParticipantsAddedOut(BaseModel):
    added: list[str]
    already: list[str]


class TargetIn(StrictModel):
    employee_id: str = Field(max_length=40)
    targets: dict[str, Decimal]


class TargetsIn(StrictModel):
    targets: list[TargetIn] = Field(min_length=1, max_length=1000)


class TargetsSetOut(BaseModel):
    updated: int
