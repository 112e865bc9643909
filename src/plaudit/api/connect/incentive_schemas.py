"""Connect response bodies for incentive programs (campaigns, progress, leaderboards).

Decimals are strings; attainment is a ratio as a decimal string (1.25 = 125 %).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ConnectEmployeeRef(BaseModel):
    id: str = Field(description="The user id (`usr_...`)")
    external_id: str | None = Field(description="The HRIS id")
    email: str | None = Field(description="Lower-cased email")
    name: str = Field(description="Display name")


class ConnectPeriod(BaseModel):
    start: date = Field(description="First day, YYYY-MM-DD, in the campaign's time zone")
    end: date = Field(description="Last day (inclusive)")


class ConnectCampaign(BaseModel):
    id: str = Field(description="Campaign id (`cmp_...`)")
    name: str = Field(description="Display name")
    status: Literal["draft", "active", "closed"] = Field(description="Lifecycle status")
    period: dict[str, Any] = Field(
        description="start, end (inclusive dates), time_zone, recurrence"
    )
    reward: dict[str, Any] = Field(description="type (points or cash) and currency")
    metrics: list[dict[str, Any]] = Field(
        description="key, source_metric, aggregation, default target, weight, filters"
    )
    payout: dict[str, Any] = Field(description="The payout rule: rate or slabs, cap, gate")
    milestones: list[dict[str, Any]] = Field(description="Thresholds (percent) and rewards")
    leaderboards: list[dict[str, Any]] = Field(description="id, rank_by, top_n, group_id")
    participant_count: int = Field(description="Employees taking part")
    created_at: datetime = Field(description="RFC 3339, UTC")
    updated_at: datetime = Field(description="RFC 3339, UTC")

    @classmethod
    def of(cls, campaign: dict[str, Any]) -> ConnectCampaign:
        leaderboards = [
            {k: v for k, v in board.items() if k != "min_interval_s"}
            for board in campaign["leaderboards"]
        ]
        body = {k: v for k, v in campaign.items() if k != "auto_approve"}
        return cls(**{**body, "leaderboards": leaderboards})


class ConnectMetricProgress(BaseModel):
    key: str = Field(description="The campaign's metric key")
    aggregation: str = Field(description="sum, count, avg, max or count_distinct")
    value: str = Field(description="The participant's value so far, a decimal string")
    target: str = Field(description="The participant's target")
    attainment: str = Field(description="value / target, 4 decimals")
    weight: str = Field(description="Weight in the overall attainment")


class ConnectReward(BaseModel):
    points: int | None = Field(description="Points, for a points campaign")
    amount: dict[str, str] | None = Field(description="amount and currency, for cash")


class ConnectMilestoneReached(BaseModel):
    threshold_percent: str = Field(description="The threshold, in percent")
    reached_at: datetime = Field(description="When first reached (kept if later corrected)")


class ConnectProgress(BaseModel):
    campaign_id: str = Field(description="Campaign id")
    employee: ConnectEmployeeRef
    period: ConnectPeriod
    metrics: list[ConnectMetricProgress]
    attainment: str = Field(description="Weighted attainment over the metrics, 4 decimals")
    milestones_reached: list[ConnectMilestoneReached]
    projected_payout: ConnectReward = Field(
        description="What the payout rule gives for the numbers so far (not yet approved)"
    )

    @classmethod
    def of(cls, progress: dict[str, Any]) -> ConnectProgress:
        return cls(**progress)


class ConnectStanding(BaseModel):
    rank: int = Field(description="Competition rank: equal values share it (1, 1, 3)")
    employee: ConnectEmployeeRef
    value: str = Field(description="The ranked value (metric value or attainment)")


class ConnectLeaderboard(BaseModel):
    leaderboard_id: str = Field(description="Leaderboard id (`lb_...`)")
    campaign_id: str = Field(description="Campaign id")
    group_id: str | None = Field(description="Set for a per-group board")
    rank_by: str = Field(description="A metric key, or `attainment`")
    top_n: int = Field(description="How many ranks the board shows (ties at N all shown)")
    period: ConnectPeriod
    entries: list[ConnectStanding]

    @classmethod
    def of(cls, board: dict[str, Any]) -> ConnectLeaderboard:
        return cls(**board)
