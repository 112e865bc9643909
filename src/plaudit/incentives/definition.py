"""A campaign's definition: period, reward, metrics, payout rule, milestones, leaderboards.

Parsed from and stored as JSON (`campaigns.definition` plus the period columns); every
decimal is a string. `check()` refuses anything the engine could not compute: unknown
metric keys (in the payout rule or a leaderboard), duplicate keys, non-positive targets or
weights, COUNT DISTINCT without an attribute, slabs with gaps or overlaps, inverted periods,
rewards that are neither points nor an amount (or an amount on a points campaign), rank
rewards outside a board's top N or overlapping each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.incentive_periods import Recurrence, Schedule
from plaudit.domain.incentive_rules import (
    Aggregation,
    MetricDefinition,
    PayoutRule,
    RewardType,
    Slab,
    SlabMode,
    check_slabs,
)
from plaudit.ingest.transactions import decimal_text

ATTAINMENT = "attainment"


@dataclass(frozen=True, slots=True)
class MilestoneDefinition:
    threshold_percent: Decimal
    points: int | None
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class RankReward:
    """What ranks `first`..`last` (inclusive) of a board are paid at period end."""

    first: int
    last: int
    points: int | None
    amount: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "from_rank": self.first,
            "to_rank": self.last,
            "points": self.points,
            "amount": _text(self.amount),
        }


@dataclass(frozen=True, slots=True)
class BoardDefinition:
    rank_by: str  # a metric key or "attainment"
    top_n: int
    group_id: str | None
    min_interval_s: int
    rewards: tuple[RankReward, ...] = ()


@dataclass(frozen=True, slots=True)
class CampaignDefinition:
    name: str
    schedule: Schedule
    reward_type: RewardType
    currency: str | None
    auto_approve: bool
    metrics: tuple[MetricDefinition, ...]
    payout: PayoutRule
    milestones: tuple[MilestoneDefinition, ...]

    def metric(self, key: str) -> MetricDefinition:
        return next(m for m in self.metrics if m.key == key)

    def check(self, boards: tuple[BoardDefinition, ...] = ()) -> None:
        self.schedule.check()
        if (self.reward_type == "cash") != (self.currency is not None):
            raise _invalid("reward.currency", "a cash reward needs a currency; points have none")
        keys = [m.key for m in self.metrics]
        if not keys:
            raise _invalid("metrics", "a campaign needs at least one metric")
        if len(set(keys)) != len(keys) or ATTAINMENT in keys:
            raise _invalid("metrics", "metric keys must be unique and not 'attainment'")
        for index, metric in enumerate(self.metrics):
            if metric.target <= 0 or metric.weight <= 0:
                raise _invalid(f"metrics[{index}]", "targets and weights must be above 0")
            if (metric.aggregation == "count_distinct") != (metric.distinct_attribute is not None):
                raise _invalid(
                    f"metrics[{index}].distinct_attribute",
                    "count_distinct needs distinct_attribute (and only it has one)",
                )
        _known_metric(self.payout.metric, keys, "payout.metric")
        if (self.payout.rate is None) == (not self.payout.slabs):
            raise _invalid("payout", "give either a rate or slabs")
        check_slabs(self.payout.slabs)
        if self.payout.rate is not None and self.payout.rate < 0:
            raise _invalid("payout.rate", "the rate must not be negative")
        if self.payout.cap is not None and self.payout.cap < 0:
            raise _invalid("payout.cap", "the cap must not be negative")
        thresholds = [m.threshold_percent for m in self.milestones]
        if len(set(thresholds)) != len(thresholds) or any(t <= 0 for t in thresholds):
            raise _invalid("milestones", "milestone thresholds must be unique and above 0")
        for index, milestone in enumerate(self.milestones):
            self._check_reward(milestone.points, milestone.amount, f"milestones[{index}].reward")
        for index, board in enumerate(boards):
            if board.rank_by != ATTAINMENT:
                _known_metric(board.rank_by, keys, f"leaderboards[{index}].rank_by")
            self._check_rank_rewards(board, f"leaderboards[{index}].rewards")

    def _check_reward(
        self, points: int | None, amount: Decimal | None, field: str, *, required: bool = False
    ) -> None:
        if points is not None and amount is not None:
            raise _invalid(field, "a reward is points or an amount, not both")
        if required and points is None and amount is None:
            raise _invalid(field, "give the reward's points or amount")
        if amount is not None and self.reward_type != "cash":
            raise _invalid(field, "an amount needs a cash campaign (its currency); give points")

    def _check_rank_rewards(self, board: BoardDefinition, field: str) -> None:
        taken: set[int] = set()
        for index, reward in enumerate(board.rewards):
            where = f"{field}[{index}]"
            self._check_reward(reward.points, reward.amount, where, required=True)
            given = reward.points if reward.points is not None else reward.amount
            if given is not None and given <= 0:
                raise _invalid(where, "rank rewards must be above 0")
            if not 1 <= reward.first <= reward.last <= board.top_n:
                raise _invalid(
                    where, f"ranks run from 1 to the board's top_n ({board.top_n}), ascending"
                )
            ranks = set(range(reward.first, reward.last + 1))
            if ranks & taken:
                raise ValidationFailed(
                    f"{where} rewards a rank already rewarded: {sorted(ranks & taken)}",
                    code="duplicate_rank",
                    details={"field": where, "ranks": sorted(ranks & taken)},
                )
            taken |= ranks

    def to_json(self) -> dict[str, Any]:
        rule = self.payout
        return {
            "metrics": [
                {
                    "key": m.key,
                    "source_metric": m.source_metric,
                    "aggregation": m.aggregation,
                    "target": decimal_text(m.target),
                    "weight": decimal_text(m.weight),
                    "filters": dict(m.filters),
                    "distinct_attribute": m.distinct_attribute,
                }
                for m in self.metrics
            ],
            "payout": {
                "metric": rule.metric,
                "rate": _text(rule.rate),
                "slabs": [
                    {"from": decimal_text(s.lower), "to": _text(s.upper), "rate": _text(s.rate)}
                    for s in rule.slabs
                ],
                "mode": rule.mode,
                "cap": _text(rule.cap),
                "min_attainment_percent": decimal_text(rule.min_attainment * 100),
            },
            "milestones": [
                {
                    "threshold_percent": decimal_text(m.threshold_percent),
                    "reward": {"points": m.points, "amount": _text(m.amount)},
                }
                for m in self.milestones
            ],
        }


def definition_from_row(row: Any) -> CampaignDefinition:
    """The definition of a `campaigns` row."""
    return parse_definition(
        name=row.name,
        period={
            "start": row.period_start,
            "end": row.period_end,
            "time_zone": row.time_zone,
            "recurrence": row.recurrence,
        },
        reward={"type": row.reward_type, "currency": row.currency},
        auto_approve=row.auto_approve,
        body=row.definition,
    )


def parse_definition(
    *,
    name: str,
    period: Mapping[str, Any],
    reward: Mapping[str, Any],
    auto_approve: bool,
    body: Mapping[str, Any],
) -> CampaignDefinition:
    rule = body["payout"]
    return CampaignDefinition(
        name=name,
        schedule=Schedule(
            start=_date(period["start"]),
            end=_date(period["end"]),
            time_zone=period["time_zone"],
            recurrence=cast(Recurrence, period.get("recurrence") or "none"),
        ),
        reward_type=cast(RewardType, reward["type"]),
        currency=reward.get("currency"),
        auto_approve=auto_approve,
        metrics=tuple(
            MetricDefinition(
                key=m["key"],
                source_metric=m["source_metric"],
                aggregation=cast(Aggregation, m["aggregation"]),
                target=Decimal(m["target"]),
                weight=Decimal(m.get("weight") or 1),
                filters=dict(m.get("filters") or {}),
                distinct_attribute=m.get("distinct_attribute"),
            )
            for m in body["metrics"]
        ),
        payout=PayoutRule(
            metric=rule["metric"],
            rate=_decimal(rule.get("rate")),
            slabs=tuple(
                Slab(Decimal(s["from"]), _decimal(s.get("to")), Decimal(s["rate"]))
                for s in rule.get("slabs") or ()
            ),
            mode=cast(SlabMode, rule.get("mode") or "marginal"),
            cap=_decimal(rule.get("cap")),
            min_attainment=Decimal(rule.get("min_attainment_percent") or 0) / 100,
        ),
        milestones=tuple(
            MilestoneDefinition(
                threshold_percent=Decimal(m["threshold_percent"]),
                points=(m.get("reward") or {}).get("points"),
                amount=_decimal((m.get("reward") or {}).get("amount")),
            )
            for m in body.get("milestones") or ()
        ),
    )


def rank_rewards_of(items: Any) -> tuple[RankReward, ...]:
    """Rank rewards from their stored JSON (`leaderboards.rank_rewards`; None = none)."""
    return tuple(
        RankReward(
            first=item["from_rank"],
            last=item["to_rank"],
            points=item.get("points"),
            amount=_decimal(item.get("amount")),
        )
        for item in items or ()
    )


def _known_metric(key: str, keys: list[str], field: str) -> None:
    if key not in keys:
        raise ValidationFailed(
            f"{field} names an unknown metric {key!r}",
            code="unknown_metric",
            details={"field": field, "known": keys},
        )


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_campaign", details={"field": field})


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)
