"""Incentive maths: aggregation, attainment, slabs, gate, cap, rounding, milestones, ranking."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.incentive_rules import (
    Aggregate,
    MetricDefinition,
    PayoutRule,
    Ranked,
    Slab,
    attainment,
    check_slabs,
    crossed,
    fold,
    gross_payout,
    milestones_reached,
    payout,
    rank,
    round_reward,
    top,
    weighted_attainment,
)

TIERS = (
    Slab(D(0), D(10000), D("0.05")),
    Slab(D(10000), D(25000), D("0.07")),
    Slab(D(25000), None, D("0.10")),
)


def test_fold_gives_every_aggregation() -> None:
    agg = fold([(D("10"), "a"), (D("2.5"), "b"), (D("7"), "a")])
    assert agg.value("sum") == D("19.5")
    assert agg.value("count") == 3
    assert agg.value("avg") == D("6.5")
    assert agg.value("max") == D("10")
    assert agg.value("count_distinct") == 2


def test_empty_aggregate_is_zero_everywhere() -> None:
    for aggregation in ("sum", "count", "avg", "max", "count_distinct"):
        assert Aggregate().value(aggregation) == 0  # type: ignore[arg-type]


def test_shifting_sum_and_count_matches_a_fresh_fold() -> None:
    rng = random.Random(7)
    values = [D(rng.randint(-500, 5000)) / 100 for _ in range(50)]
    running = Aggregate()
    for value in values:
        running = running.shifted(value, 1)
    for value in values[:20]:
        running = running.shifted(value, -1)
    fresh = fold((v, None) for v in values[20:])
    assert (running.sum, running.count) == (fresh.sum, fresh.count)
    assert running.value("avg") == fresh.value("avg")


def test_metric_filters_on_metric_and_attributes() -> None:
    metric = MetricDefinition(
        "won", "revenue", "sum", D(100), filters={"stage": "won", "region": "EU"}
    )
    assert metric.takes("revenue", {"stage": "won", "region": "EU", "x": 1})
    assert not metric.takes("revenue", {"stage": "lost", "region": "EU"})
    assert not metric.takes("revenue", {"stage": "won"})
    assert not metric.takes("calls", {"stage": "won", "region": "EU"})
    assert metric.needs_rescan() is False
    assert not MetricDefinition("m", "x", "max", D(1)).needs_rescan()
    assert MetricDefinition("m", "x", "count_distinct", D(1)).needs_rescan()


def test_attainment_and_weights() -> None:
    assert attainment(D(125), D(100)) == D("1.25")
    with pytest.raises(ValueError, match="positive"):
        attainment(D(1), D(0))
    # 120 % weighted 3 and 80 % weighted 1: (3.6 + 0.8) / 4 = 1.1
    assert weighted_attainment([(D("1.2"), D(3)), (D("0.8"), D(1))]) == D("1.1")
    assert weighted_attainment([]) == 0


def test_marginal_slabs_pay_each_band_at_its_rate() -> None:
    rule = PayoutRule("revenue", slabs=TIERS, mode="marginal")
    assert gross_payout(D(30000), rule) == D(2050)
    assert gross_payout(D(10000), rule) == D(500)
    assert gross_payout(D(5000), rule) == D(250)
    assert gross_payout(D(0), rule) == 0
    assert gross_payout(D(-10), rule) == 0


def test_retroactive_slabs_pay_everything_at_the_reached_rate() -> None:
    rule = PayoutRule("revenue", slabs=TIERS, mode="retroactive")
    assert gross_payout(D(30000), rule) == D(3000)
    assert gross_payout(D(25000), rule) == D(2500)
    assert gross_payout(D(24999), rule) == D("1749.93")
    assert gross_payout(D(9999), rule) == D("499.95")


def test_flat_rate_gate_and_cap() -> None:
    rule = PayoutRule("revenue", rate=D("0.1"), cap=D(1000), min_attainment=D("0.8"))
    assert payout(D(5000), D("0.79"), rule, "cash", "USD") == D("0.00")
    assert payout(D(5000), D("0.8"), rule, "cash", "USD") == D("500.00")
    assert payout(D(50000), D("2"), rule, "cash", "USD") == D("1000.00")


def test_one_rounding_rule_half_even_to_minor_unit_or_whole_points() -> None:
    assert round_reward(D("10.125"), "cash", "EUR") == D("10.12")
    assert round_reward(D("10.135"), "cash", "EUR") == D("10.14")
    assert round_reward(D("10.5"), "cash", "JPY") == D("10")
    assert round_reward(D("11.5"), "cash", "JPY") == D("12")
    assert round_reward(D("2.5"), "points", None) == D("2")
    assert round_reward(D("3.5"), "points", None) == D("4")
    rule = PayoutRule("n", rate=D("0.333"))
    assert payout(D(10), D(1), rule, "points", None) == D(3)


@pytest.mark.parametrize(
    ("slabs", "code"),
    [
        ((Slab(D(1), None, D(1)),), "slab_gap_or_overlap"),
        ((Slab(D(0), D(10), D(1)), Slab(D(11), None, D(1))), "slab_gap_or_overlap"),
        ((Slab(D(0), D(10), D(1)), Slab(D(9), None, D(1))), "slab_gap_or_overlap"),
        ((Slab(D(0), None, D(1)), Slab(D(10), None, D(1))), "slab_gap_or_overlap"),
        ((Slab(D(0), D(0), D(1)),), "slab_not_ascending"),
        ((Slab(D(0), D(10), D(-1)),), "validation_error"),
    ],
)
def test_bad_slabs_are_refused(slabs: tuple[Slab, ...], code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_slabs(slabs)
    assert caught.value.code == code


def test_good_slabs_pass() -> None:
    check_slabs(TIERS)
    check_slabs((Slab(D(0), D(5), D(1)), Slab(D(5), D(6), D(2))))


def test_milestones_reached_and_crossed() -> None:
    thresholds = [D(150), D(50), D(100)]
    assert milestones_reached(D("0.49"), thresholds) == []
    assert milestones_reached(D("1.0"), thresholds) == [D(50), D(100)]
    assert crossed(D("0.4"), D("1.6"), thresholds) == [D(50), D(100), D(150)]
    assert crossed(D("0.6"), D("1.2"), thresholds) == [D(100)]
    assert crossed(D("1.2"), D("0.6"), thresholds) == []


def test_competition_ranking_shares_ranks_and_top_keeps_ties() -> None:
    ranked = rank({"c": D(5), "a": D(9), "b": D(9), "d": D(1)})
    assert ranked == [
        Ranked(1, "a", D(9)),
        Ranked(1, "b", D(9)),
        Ranked(3, "c", D(5)),
        Ranked(4, "d", D(1)),
    ]
    assert [e.participant for e in top(ranked, 1)] == ["a", "b"]
    assert [e.participant for e in top(ranked, 3)] == ["a", "b", "c"]
    tied = rank({"x": D(1), "y": D(1), "z": D(1)})
    assert [e.rank for e in tied] == [1, 1, 1]
    assert top(rank({}), 3) == []
