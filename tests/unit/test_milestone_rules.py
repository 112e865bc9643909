"""Which milestones fall on a local date: leap years, 29 February, year one, offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from plaudit.domain.milestone_rules import (
    DueMilestone,
    MilestoneKind,
    due_on,
    latest_local_date,
    local_date_at,
    yearly_date,
)

DEFAULT_OFFSETS = (1, 30, 90)


def due(
    local: date,
    *,
    hire: date | None = None,
    birth: date | None = None,
    offsets: tuple[int, ...] = DEFAULT_OFFSETS,
) -> list[DueMilestone]:
    return due_on(local, hire_date=hire, birth_date=birth, onboarding_offsets=offsets)


def test_anniversary_counts_full_years_from_year_one() -> None:
    assert due(date(2026, 5, 4), hire=date(2025, 5, 4)) == [
        DueMilestone(MilestoneKind.WORK_ANNIVERSARY, "2026", date(2026, 5, 4), 1)
    ]
    assert due(date(2026, 5, 4), hire=date(2016, 5, 4))[0].count == 10
    assert due(date(2026, 5, 5), hire=date(2016, 5, 4)) == []


def test_hire_day_itself_is_no_milestone() -> None:
    assert due(date(2026, 5, 4), hire=date(2026, 5, 4), birth=date(2026, 5, 4)) == []


def test_hire_date_in_the_future_raises_nothing() -> None:
    assert due(date(2026, 5, 4), hire=date(2027, 5, 4)) == []
    assert due(date(2026, 5, 4), hire=date(2026, 5, 5)) == []
    assert due(date(2026, 6, 3), hire=date(2026, 5, 5), offsets=(-1, 0)) == []


def test_birthday_on_the_day_without_age() -> None:
    assert due(date(2026, 11, 27), birth=date(1990, 11, 27)) == [
        DueMilestone(MilestoneKind.BIRTHDAY, "2026", date(2026, 11, 27), 0)
    ]
    assert due(date(2026, 11, 26), birth=date(1990, 11, 27)) == []
    # A birth date in the future is bad data, not a birthday.
    assert due(date(2026, 11, 27), birth=date(2030, 11, 27)) == []


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (date(2025, 2, 28), True),  # common year: celebrated on 28 February
        (date(2025, 3, 1), False),
        (date(2028, 2, 29), True),  # leap year: the real day
        (date(2028, 2, 28), False),  # ... and not also the day before
        (date(2100, 2, 28), True),  # 2100 is not a leap year
    ],
)
def test_29_february_is_celebrated_on_28_february_in_common_years(
    local: date, expected: bool
) -> None:
    leapling = date(2024, 2, 29)
    anniversary = due(local, hire=leapling, offsets=())
    birthday = due(local, birth=date(1996, 2, 29))
    assert bool(anniversary) is expected
    assert bool(birthday) is expected
    if expected:
        assert anniversary[0].occurrence == str(local.year)
        assert anniversary[0].count == local.year - 2024
        assert birthday[0].kind is MilestoneKind.BIRTHDAY


def test_28_february_birthday_is_not_moved_in_leap_years() -> None:
    assert due(date(2028, 2, 28), birth=date(1990, 2, 28))
    assert not due(date(2028, 2, 29), birth=date(1990, 2, 28))


def test_yearly_date() -> None:
    assert yearly_date(date(2024, 2, 29), 2025) == date(2025, 2, 28)
    assert yearly_date(date(2024, 2, 29), 2028) == date(2028, 2, 29)
    assert yearly_date(date(2020, 12, 31), 2021) == date(2021, 12, 31)


def test_onboarding_offsets_are_days_after_hire() -> None:
    hired = date(2026, 1, 31)
    assert due(date(2026, 2, 1), hire=hired) == [
        DueMilestone(MilestoneKind.ONBOARDING, "1", date(2026, 2, 1), 1)
    ]
    assert due(date(2026, 3, 2), hire=hired)[0].occurrence == "30"
    assert due(date(2026, 5, 1), hire=hired)[0].occurrence == "90"
    assert due(date(2026, 3, 3), hire=hired) == []
    assert due(date(2026, 2, 7), hire=hired, offsets=(7, 14)) == [
        DueMilestone(MilestoneKind.ONBOARDING, "7", date(2026, 2, 7), 7)
    ]
    assert due(date(2026, 2, 1), hire=hired, offsets=()) == []


def test_onboarding_across_29_february() -> None:
    assert due(date(2024, 3, 30), hire=date(2024, 2, 29))[0].occurrence == "30"
    assert due(date(2024, 3, 29), hire=date(2024, 2, 28)) == [
        DueMilestone(MilestoneKind.ONBOARDING, "30", date(2024, 3, 29), 30)
    ]


def test_several_milestones_on_one_day() -> None:
    # Hired on their birthday one year ago, with a 365-day onboarding checkpoint.
    found = due(date(2026, 7, 1), hire=date(2025, 7, 1), birth=date(1980, 7, 1), offsets=(365,))
    assert {(m.kind, m.occurrence) for m in found} == {
        (MilestoneKind.WORK_ANNIVERSARY, "2026"),
        (MilestoneKind.ONBOARDING, "365"),
        (MilestoneKind.BIRTHDAY, "2026"),
    }


def test_local_date_depends_on_the_time_zone() -> None:
    instant = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    assert local_date_at(instant, "UTC") == date(2026, 3, 1)
    assert local_date_at(instant, "Pacific/Kiritimati") == date(2026, 3, 2)  # UTC+14
    assert local_date_at(instant, "Pacific/Pago_Pago") == date(2026, 3, 1)  # UTC-11
    assert local_date_at(datetime(2026, 3, 1, 5, tzinfo=UTC), "Pacific/Pago_Pago") == date(
        2026, 2, 28
    )
    assert local_date_at(instant, "Not/AZone") == date(2026, 3, 1)


def test_latest_local_date_is_kiritimati() -> None:
    assert latest_local_date(datetime(2026, 3, 1, 9, 59, tzinfo=UTC)) == date(2026, 3, 1)
    assert latest_local_date(datetime(2026, 3, 1, 10, 0, tzinfo=UTC)) == date(2026, 3, 2)
