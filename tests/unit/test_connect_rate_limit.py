"""Per-key token buckets."""

from __future__ import annotations

import pytest

from plaudit.connect.rate_limit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(2.0, 3, monotonic=clock)
    taken = [buckets.take("k") for _ in range(4)]
    assert [d.allowed for d in taken] == [True, True, True, False]
    assert [d.remaining for d in taken] == [2, 1, 0, 0]
    assert taken[3].retry_after_s == 1  # 0.5 s, rounded up to a whole second
    clock.now += 0.5
    assert buckets.take("k").allowed
    assert not buckets.take("k").allowed
    clock.now += 100  # never more than the burst
    assert [buckets.take("k").allowed for _ in range(4)] == [True, True, True, False]


def test_keys_are_independent_and_retry_after_is_whole_seconds() -> None:
    clock = Clock()
    buckets = TokenBuckets(0.1, 1, monotonic=clock)
    assert buckets.take("a").allowed
    refused = buckets.take("a")
    assert not refused.allowed
    assert refused.retry_after_s == 10
    assert buckets.take("b").allowed
    clock.now += 9.5
    assert buckets.take("a").retry_after_s == 1


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(1.0, 2, monotonic=clock)
    for i in range(10_001):
        buckets.take(f"k{i}")
    clock.now += 5
    buckets.take("fresh")
    buckets.take("fresh2")
    assert len(buckets._buckets) <= 2


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_refuses_limits_that_cannot_work(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        TokenBuckets(rate, burst)
