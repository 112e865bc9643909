"""Which milestones fall on an employee's local date (pure: no clock, no I/O).

An occurrence key names one milestone exactly once per employee and kind: the calendar
year for anniversaries and birthdays ("2026"), the day offset for onboarding ("30").

Someone born or hired on 29 February celebrates on 28 February in common years: it keeps
the day inside February (as most HR and payroll systems do) and in the same calendar year,
so the yearly occurrence key still names exactly one day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The easternmost offset in use (Pacific/Kiritimati): no local calendar is further ahead.
LATEST_UTC_OFFSET: Final = timedelta(hours=14)


class MilestoneKind(StrEnum):
    WORK_ANNIVERSARY = "work_anniversary"
    BIRTHDAY = "birthday"
    ONBOARDING = "onboarding"

    @property
    def event_type(self) -> str:
        return f"milestone.{self.value}"


@dataclass(frozen=True, slots=True)
class DueMilestone:
    kind: MilestoneKind
    occurrence: str  # the exactly-once key within (employee, kind)
    occurred_on: date
    count: int  # years for an anniversary, days since hire for onboarding, 0 for a birthday


def yearly_date(original: date, year: int) -> date:
    """`original`'s month and day in `year`; 29 February becomes 28 February in common years."""
    try:
        return original.replace(year=year)
    except ValueError:  # only 29 February has no counterpart in some years
        return date(year, 2, 28)


def due_on(
    local_date: date,
    *,
    hire_date: date | None,
    birth_date: date | None,
    onboarding_offsets: Iterable[int],
) -> list[DueMilestone]:
    """Every milestone that falls on `local_date` for an employee with these dates."""
    due: list[DueMilestone] = []
    year = local_date.year
    if hire_date is not None:
        years = year - hire_date.year
        if years >= 1 and yearly_date(hire_date, year) == local_date:
            due.append(DueMilestone(MilestoneKind.WORK_ANNIVERSARY, str(year), local_date, years))
        days = (local_date - hire_date).days
        if days >= 1 and days in set(onboarding_offsets):
            due.append(DueMilestone(MilestoneKind.ONBOARDING, str(days), local_date, days))
    # A birth date later than the local date's year is bad data, not a birthday.
    if (
        birth_date is not None
        and year > birth_date.year
        and yearly_date(birth_date, year) == local_date
    ):
        due.append(DueMilestone(MilestoneKind.BIRTHDAY, str(year), local_date, 0))
    return due


def local_date_at(instant: datetime, time_zone: str) -> date:
    """The calendar date in `time_zone` at `instant`; an unknown zone counts as UTC."""
    try:
        zone: ZoneInfo | timezone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return instant.astimezone(zone).date()


def latest_local_date(instant: datetime) -> date:
    """The furthest-ahead calendar date any time zone has reached at `instant`."""
    return (instant.astimezone(UTC) + LATEST_UTC_OFFSET).date()
