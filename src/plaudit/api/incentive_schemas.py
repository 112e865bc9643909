"""Request and response shapes of the campaign API (decimals travel as strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from plaudit.api.schemas import StrictModel
from plaudit.domain.text_rules import text_problem
from plaudit.incentives.definition import (
    BoardDefinition,
    CampaignDefinition,
    RankReward,
    parse_definition,
)

Name = Field(min_length=1, max_length=200)
# Bounded decimals: a huge exponent would otherwise become a huge string.
Amount = Annotated[Decimal, Field(max_digits=28, decimal_places=10)]


def _refuse_unstorable(node: Any) -> None:
    if isinstance(node, str):
        problem = text_problem(node)
        if problem is not None:
            raise ValueError(f"text {problem}")
    elif isinstance(node, dict):
        for key, value in node.items():
            _refuse_unstorable(key)
            _refuse_unstorable(value)
    elif isinstance(node, list):
        for value in node:
            _refuse_unstorable(value)


class CheckedModel(StrictModel):
    """A request body whose every string (keys too) both databases can store."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _refuse_unstorable(data)
        return data


Key = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


class PeriodIn(CheckedModel):
    start: date
    end: date = Field(description="Last day, inclusive")
    time_zone: str = Field(default="UTC", max_length=64)
    recurrence: Literal["none", "weekly", "monthly", "quarterly"] = "none"


class RewardIn(CheckedModel):
    type: Literal["points", "cash"]
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class MetricIn(CheckedModel):
    key: str = Key
    source_metric: str = Field(min_length=1, max_length=100, description="Transactions' metric")
    aggregation: Literal["sum", "count", "avg", "max", "count_distinct"]
    target: Amount = Field(description="Default per-participant target")
    weight: Amount = Decimal(1)
    filters: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=20, description="Attribute equality filters"
    )
    distinct_attribute: str | None = Field(default=None, max_length=100)


class SlabIn(CheckedModel):
    from_: Amount = Field(alias="from")
    to: Amount | None = None
    rate: Amount


class PayoutIn(CheckedModel):
    metric: str = Key
    rate: Amount | None = Field(default=None, description="Per unit, when there are no slabs")
    slabs: list[SlabIn] = Field(default_factory=list, max_length=50)
    mode: Literal["marginal", "retroactive"] = "marginal"
    cap: Amount | None = None
    min_attainment_percent: Amount = Field(default=Decimal(0), ge=0)


class MilestoneRewardIn(CheckedModel):
    points: int | None = Field(default=None, ge=0)
    amount: Amount | None = Field(default=None, ge=0)


class MilestoneIn(CheckedModel):
    threshold_percent: Amount
    reward: MilestoneRewardIn = Field(default_factory=MilestoneRewardIn)


class RankRewardIn(CheckedModel):
    rank: int | None = Field(default=None, ge=1, description="One rank...")
    from_rank: int | None = Field(default=None, ge=1, description="...or a range of ranks")
    to_rank: int | None = Field(default=None, ge=1, description="(inclusive)")
    points: int | None = Field(default=None, gt=0, le=10_000_000)
    amount: Amount | None = Field(default=None, gt=0, description="Cash campaigns only")

    @model_validator(mode="after")
    def _one_rank_or_a_range(self) -> RankRewardIn:
        single = self.rank is not None
        ranged = self.from_rank is not None and self.to_rank is not None
        if single == ranged or (not ranged and (self.from_rank or self.to_rank)):
            raise ValueError("give either `rank` or both `from_rank` and `to_rank`")
        return self

    def reward(self) -> RankReward:
        if self.rank is not None:
            return RankReward(self.rank, self.rank, self.points, self.amount)
        return RankReward(self.from_rank or 1, self.to_rank or 1, self.points, self.amount)


class LeaderboardIn(CheckedModel):
    rank_by: str = Field(description="A metric key, or `attainment`", max_length=100)
    top_n: int = Field(default=10, ge=1, le=1000)
    group_id: str | None = Field(default=None, max_length=40)
    min_interval_s: int = Field(
        default=60, ge=0, le=86_400, description="At most one `leaderboard.updated` per interval"
    )
    rewards: list[RankRewardIn] = Field(
        default_factory=list,
        max_length=100,
        description="Paid at period end from the final standings; tied ranks each get it",
    )


class CampaignIn(CheckedModel):
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
            BoardDefinition(
                b.rank_by,
                b.top_n,
                b.group_id,
                b.min_interval_s,
                tuple(r.reward() for r in b.rewards),
            )
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
    group_ids: list[str] = Field(description="Groups followed: their members take part")
    created_at: datetime
    updated_at: datetime


class ParticipantsIn(CheckedModel):
    employee_ids: list[str] = Field(default_factory=list, max_length=1000)
    group_ids: list[str] = Field(default_factory=list, max_length=100)
    targets: dict[str, Amount] = Field(
        default_factory=dict, description="Metric key -> target for everyone added"
    )


class ParticipantsRemoveIn(CheckedModel):
    employee_ids: list[str] = Field(
        default_factory=list, max_length=1000, description="Participants to remove by name"
    )
    group_ids: list[str] = Field(
        default_factory=list, max_length=100, description="Followed groups to stop following"
    )

    @model_validator(mode="after")
    def _something(self) -> ParticipantsRemoveIn:
        if not self.employee_ids and not self.group_ids:
            raise ValueError("name at least one employee or group")
        return self


class ParticipantsRemovedOut(BaseModel):
    removed: list[str] = Field(description="Employees no longer taking part")
    group_ids: list[str] = Field(description="Groups no longer followed")


class ParticipantsAddedOut(BaseModel):
    added: list[str]
    already: list[str]


class TargetIn(CheckedModel):
    employee_id: str = Field(max_length=40)
    targets: dict[str, Amount] = Field(max_length=20)


class TargetsIn(CheckedModel):
    targets: list[TargetIn] = Field(min_length=1, max_length=1000)


class TargetsSetOut(BaseModel):
    updated: int
