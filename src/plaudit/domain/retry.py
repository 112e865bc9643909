"""When to try a failed delivery again."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

# Delay before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
# 24 h. Ten attempts spread over about three days (the Standard Webhooks example).
DEFAULT_SCHEDULE_S: Final[tuple[float, ...]] = (
    0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
)  # fmt: skip
MAX_ATTEMPTS_LIMIT: Final = 50
MAX_DELAY_S: Final = 7 * 86400
JITTER: Final = 0.1  # +/-10 %: spreads a recovering endpoint's retries apart
RETRY_AFTER_MIN_S: Final = 1.0
RETRY_AFTER_MAX_S: Final = 3600.0


def validate_schedule(schedule: Sequence[float]) -> tuple[float, ...]:
    """A user-supplied schedule: 1-50 delays of 0 s to 7 days, first one usually 0."""
    if not 1 <= len(schedule) <= MAX_ATTEMPTS_LIMIT:
        raise ValueError(f"a retry schedule has 1 to {MAX_ATTEMPTS_LIMIT} delays")
    for delay in schedule:
        if not 0 <= delay <= MAX_DELAY_S:
            raise ValueError(f"each delay is between 0 and {MAX_DELAY_S} seconds")
    return tuple(float(d) for d in schedule)


def next_delay(
    schedule: Sequence[float], attempts_made: int, rng: random.Random | None = None
) -> timedelta | None:
    """Delay before the next attempt after `attempts_made` attempts, or None when exhausted."""
    if attempts_made >= len(schedule):
        return None
    base = schedule[attempts_made]
    spread = (rng or random).uniform(-JITTER, JITTER) * base
    return timedelta(seconds=max(0.0, base + spread))


def bounded_retry_after(value: str | None) -> timedelta | None:
    """`Retry-After` in seconds (an HTTP date is not honoured: clocks differ), clamped."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return timedelta(seconds=min(max(seconds, RETRY_AFTER_MIN_S), RETRY_AFTER_MAX_S))
