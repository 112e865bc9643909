"""Incentive maths: metric aggregation, attainment, payout rules, milestones, ranking.

Pure functions over `Decimal`; no I/O. The incentive engine (`plaudit.incentives`) keeps
running aggregates in the database and asks these rules what they mean.

* A metric aggregates the campaign's matching transactions per participant and period:
  SUM, COUNT, AVG, MAX or COUNT DISTINCT (of one attribute). The running state is the same
  for every aggregation (`Aggregate`): sum, count, max and the distinct count, so one fold
  serves the live update and the full recompute, which is what makes them agree.
* Attainment = actual / target (a ratio, 1.25 = 125 %); several metrics combine as the
  weighted mean of their attainments. A target of 0 is refused at definition time.
* Payout = rate per unit of the payout metric, or slabs over that metric's value:
  `marginal` pays each band at its own rate (5 % to 10 000, 7 % to 25 000, 10 % above:
  30 000 pays 2 050), `retroactive` pays the whole value at the rate of the band it reached.
  Below the minimum attainment gate nothing is paid; the cap bounds the amount.
* Rounding rule (one, applied once, last, after the cap): ROUND_HALF_EVEN to the currency's
  minor unit for cash (2 decimals, 0 for the zero-decimal currencies) and to whole points for
  points. Intermediate values are never rounded.
* Ranking is competition ranking: equal values share a rank and the next rank skips
  (1, 1, 3). Ties are listed by participant id so the order is stable. Top N keeps every
  entry whose rank is at most N, so a tie at the boundary is never split.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from plaudit.domain.errors import ValidationFailed

Aggregation = Literal["sum", "count", "avg", "max", "count_distinct"]
AGGREGATIONS: tuple[Aggregation, ...] = ("sum", "count", "avg", "max", "count_distinct")
SlabMode = Literal["marginal", "retroactive"]
RewardType = Literal["points", "cash"]
ZERO = Decimal(0)
ONE = Decimal(1)
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """One campaign metric: which transactions it takes and how it folds them."""

    key: str  # the campaign's name for it, unique within the campaign
    source_metric: str  # the transactions' `metric`
    aggregation: Aggregation
    target: Decimal  # the default per-participant target (participants may override)
    weight: Decimal = ONE
    filters: Mapping[str, Any] = field(default_factory=dict)  # attribute -> required value
    distinct_attribute: str | None = None  # what COUNT DISTINCT counts

    def takes(self, metric: str, attributes: Mapping[str, Any]) -> bool:
        if metric != self.source_metric:
            return False
        return all(attributes.get(name) == value for name, value in self.filters.items())

    def needs_rescan(self) -> bool:
        """COUNT DISTINCT cannot be kept from deltas (is the key still there?): it is re-read.
        (MAX rises with additions and is re-read only when its maximum is taken away.)"""
        return self.aggregation == "count_distinct"


def aggregate_value(
    aggregation: Aggregation, total: Decimal, count: int, top: Decimal | None, distinct: int
) -> Decimal:
    """What an aggregate's running parts mean for a metric of this aggregation."""
    if aggregation == "sum":
        return total
    if aggregation == "count":
        return Decimal(count)
    if aggregation == "avg":
        return total / count if count else ZERO
    if aggregation == "max":
        return top if top is not None else ZERO
    return Decimal(distinct)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Running state of one (participant, period, metric)."""

    sum: Decimal = ZERO
    count: int = 0
    max: Decimal | None = None
    distinct: int = 0

    def value(self, aggregation: Aggregation) -> Decimal:
        return aggregate_value(aggregation, self.sum, self.count, self.max, self.distinct)

    def shifted(self, value: Decimal, sign: int) -> Aggregate:
        """Add (sign 1) or take away (sign -1) one value's sum and count."""
        return Aggregate(self.sum + sign * value, self.count + sign, self.max, self.distinct)


def fold(values: Iterable[tuple[Decimal, Any]]) -> Aggregate:
    """The aggregate of (value, distinct key) pairs, from scratch."""
    total, count, top, keys = ZERO, 0, None, set()
    for value, key in values:
        total += value
        count += 1
        top = value if top is None or value > top else top
        if key is not None:
            keys.add(distinct_key(key))
    return Aggregate(total, count, top, len(keys))


def distinct_key(key: Any) -> str:
    """What COUNT DISTINCT compares: the attribute's text (1 and "1" are one value)."""
    return str(key)


def attainment(actual: Decimal, target: Decimal) -> Decimal:
    """actual / target; a non-positive target is a definition error caught earlier."""
    if target <= 0:
        raise ValueError("target must be positive")
    return actual / target


def weighted_attainment(parts: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Weighted mean of (attainment, weight) pairs, in one pass (it runs for every
    participant a load touches)."""
    total = weights = ZERO
    for value, weight in parts:
        total += value * weight
        weights += weight
    return total / weights if weights > 0 else ZERO


@dataclass(frozen=True, slots=True)
class Slab:
    lower: Decimal
    upper: Decimal | None  # None: open-ended (only the last)
    rate: Decimal  # per unit of the payout metric within the band


@dataclass(frozen=True, slots=True)
class PayoutRule:
    metric: str  # the campaign metric the payout is computed from
    rate: Decimal | None = None  # flat rate per unit (when there are no slabs)
    slabs: tuple[Slab, ...] = ()
    mode: SlabMode = "marginal"
    cap: Decimal | None = None
    min_attainment: Decimal = ZERO  # the gate, as a ratio (0.8 = 80 %)


def check_slabs(slabs: Sequence[Slab]) -> None:
    """Slabs start at 0, touch without gaps or overlaps, ascend, and only the last is open."""
    for index, slab in enumerate(slabs):
        where = {"field": f"payout.slabs[{index}]"}
        expected = ZERO if index == 0 else slabs[index - 1].upper
        if slab.lower != expected:
            what = "start at 0" if index == 0 else "start where the previous one ends"
            raise ValidationFailed(
                f"slab {index} must {what} ({expected}), not {slab.lower}",
                code="slab_gap_or_overlap",
                details=where,
            )
        if slab.upper is None and index != len(slabs) - 1:
            raise ValidationFailed(
                f"only the last slab may be open-ended (slab {index} is)",
                code="slab_gap_or_overlap",
                details=where,
            )
        if slab.upper is not None and slab.upper <= slab.lower:
            raise ValidationFailed(
                f"slab {index} must end above its start", code="slab_not_ascending", details=where
            )
        if slab.rate < 0:
            raise ValidationFailed("slab rates must not be negative", details=where)


def gross_payout(value: Decimal, rule: PayoutRule) -> Decimal:
    """The payout before gate, cap and rounding."""
    if value <= 0:
        return ZERO
    if not rule.slabs:
        return value * (rule.rate or ZERO)
    if rule.mode == "retroactive":
        reached = next(s for s in reversed(rule.slabs) if value >= s.lower)
        return value * reached.rate
    total = ZERO
    for slab in rule.slabs:
        if value <= slab.lower:
            break
        top = value if slab.upper is None else min(value, slab.upper)
        total += (top - slab.lower) * slab.rate
    return total


def payout(
    value: Decimal,
    achieved: Decimal,
    rule: PayoutRule,
    reward_type: RewardType,
    currency: str | None,
) -> Decimal:
    """The payout: gate, then rule, then cap, then the one rounding step."""
    if achieved < rule.min_attainment:
        return round_reward(ZERO, reward_type, currency)
    amount = gross_payout(value, rule)
    if rule.cap is not None:
        amount = min(amount, rule.cap)
    return round_reward(amount, reward_type, currency)


def round_reward(amount: Decimal, reward_type: RewardType, currency: str | None) -> Decimal:
    if reward_type == "points":
        return amount.quantize(ONE, rounding=ROUND_HALF_EVEN)
    places = 0 if (currency or "").upper() in ZERO_DECIMAL_CURRENCIES else 2
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def milestones_reached(achieved: Decimal, thresholds_percent: Iterable[Decimal]) -> list[Decimal]:
    """The thresholds (in percent) an attainment ratio is at or above, ascending."""
    percent = achieved * 100
    return sorted(t for t in thresholds_percent if percent >= t)


def crossed(
    before: Decimal, after: Decimal, thresholds_percent: Iterable[Decimal]
) -> list[Decimal]:
    """Thresholds newly reached going from `before` to `after` (ratios)."""
    already = set(milestones_reached(before, thresholds_percent := list(thresholds_percent)))
    return [t for t in milestones_reached(after, thresholds_percent) if t not in already]


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    participant: str
    value: Decimal


def rank(entries: Mapping[str, Decimal]) -> list[Ranked]:
    """Competition ranking, highest first: equal values share a rank (1, 1, 3)."""
    ordered = sorted(entries.items(), key=lambda item: (-item[1], item[0]))
    out: list[Ranked] = []
    for position, (participant, value) in enumerate(ordered, start=1):
        shared = out and out[-1].value == value
        out.append(Ranked(out[-1].rank if shared else position, participant, value))
    return out


def top(ranked: Sequence[Ranked], n: int) -> list[Ranked]:
    """Everyone ranked N or better (a tie at the boundary stays whole)."""
    return [entry for entry in ranked if entry.rank <= n]
