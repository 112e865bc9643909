"""The budget period is the calendar month in UTC, whatever zone `now` is given in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from plaudit.engagement.giving_budget import GivingBudget, budget_month


@pytest.mark.parametrize(
    ("instant", "month"),
    [
        (datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC), "2026-01"),
        (datetime(2026, 2, 1, 0, 0, tzinfo=UTC), "2026-02"),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "2026-12"),
        # Already February in Paris, still January in UTC.
        (datetime(2026, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2026-01"),
        # Still December 31st in New York, already January in UTC.
        (datetime(2026, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))), "2027-01"),
    ],
)
def test_budget_month_is_the_utc_calendar_month(instant: datetime, month: str) -> None:
    assert budget_month(instant) == month


def test_budget_month_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        budget_month(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("budget", "given", "remaining"), [(None, 40, None), (100, 40, 60), (30, 40, 0)]
)
def test_remaining_is_never_negative(budget: int | None, given: int, remaining: int | None) -> None:
    assert GivingBudget("usr_1", "2026-01", budget, given).remaining == remaining
