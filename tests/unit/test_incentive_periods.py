"""Campaign periods: recurrence, time zones, late dates, bad periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from plaudit.domain.errors import ValidationFailed
from plaudit.domain.incentive_periods import Period, Schedule


def test_single_period_and_bounds() -> None:
    schedule = Schedule(date(2026, 1, 1), date(2026, 3, 31), "UTC")
    assert schedule.period_on(date(2026, 2, 1)) == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert schedule.period_on(date(2025, 12, 31)) is None
    assert schedule.period_on(date(2026, 4, 1)) is None


def test_weekly_cut_at_the_end() -> None:
    schedule = Schedule(date(2026, 1, 1), date(2026, 1, 17), "UTC", "weekly")
    assert schedule.period_on(date(2026, 1, 8)) == Period(date(2026, 1, 8), date(2026, 1, 14))
    assert schedule.period_on(date(2026, 1, 16)) == Period(date(2026, 1, 15), date(2026, 1, 17))


def test_monthly_and_quarterly_from_the_start_day() -> None:
    monthly = Schedule(date(2026, 1, 15), date(2026, 12, 31), "UTC", "monthly")
    assert monthly.period_on(date(2026, 2, 14)) == Period(date(2026, 1, 15), date(2026, 2, 14))
    assert monthly.period_on(date(2026, 2, 15)) == Period(date(2026, 2, 15), date(2026, 3, 14))
    assert monthly.period_on(date(2026, 12, 20)) == Period(date(2026, 12, 15), date(2026, 12, 31))
    quarterly = Schedule(date(2026, 1, 1), date(2026, 12, 31), "UTC", "quarterly")
    assert quarterly.period_on(date(2026, 5, 5)) == Period(date(2026, 4, 1), date(2026, 6, 30))


def test_time_zone_decides_the_period_of_an_instant() -> None:
    schedule = Schedule(date(2026, 1, 1), date(2026, 12, 31), "America/New_York", "monthly")
    # 02:00 UTC on 1 February is still 31 January in New York.
    instant = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
    assert schedule.period_at(instant) == Period(date(2026, 1, 1), date(2026, 1, 31))


def test_periods_ended_by() -> None:
    schedule = Schedule(date(2026, 1, 1), date(2026, 3, 31), "UTC", "monthly")
    assert schedule.periods_ended_by(datetime(2026, 1, 31, 23, tzinfo=UTC)) == []
    ended = schedule.periods_ended_by(datetime(2026, 3, 1, tzinfo=UTC))
    assert ended == [
        Period(date(2026, 1, 1), date(2026, 1, 31)),
        Period(date(2026, 2, 1), date(2026, 2, 28)),
    ]


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(date(2026, 2, 1), date(2026, 1, 1), "UTC"),
        Schedule(date(2026, 1, 1), date(2026, 2, 1), "Mars/Olympus"),
        Schedule(date(2026, 1, 30), date(2026, 6, 1), "UTC", "monthly"),
    ],
)
def test_bad_periods_are_refused(schedule: Schedule) -> None:
    with pytest.raises(ValidationFailed) as caught:
        schedule.check()
    assert caught.value.code == "invalid_period"
