"""Campaign periods: a campaign runs from a start date to an end date (both inclusive, local
to the campaign's time zone) and may recur weekly, monthly or quarterly inside that span.

Each recurrence is one period with its own progress, milestones, leaderboards and payouts.
Periods are consecutive and never overlap by construction; the last is cut at the end date.
A transaction belongs to the period holding its `occurred_at` seen in the campaign's time
zone, so a late transaction dated in an earlier period updates that earlier period.
Monthly and quarterly periods start on the start date's day of month, which must be 1-28 so
every month has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plaudit.domain.errors import ValidationFailed

Recurrence = Literal["none", "weekly", "monthly", "quarterly"]
RECURRENCES: tuple[Recurrence, ...] = ("none", "weekly", "monthly", "quarterly")
_MONTHS = {"monthly": 1, "quarterly": 3}


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive

    def starts_at(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.start, time(), zone)

    def ends_at(self, zone: ZoneInfo) -> datetime:
        """The instant the period is over (local midnight after its last day)."""
        return datetime.combine(self.end + timedelta(days=1), time(), zone)


@dataclass(frozen=True, slots=True)
class Schedule:
    start: date
    end: date
    time_zone: str
    recurrence: Recurrence = "none"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def check(self) -> None:
        if self.end < self.start:
            raise ValidationFailed(
                f"the period ends ({self.end}) before it starts ({self.start})",
                code="invalid_period",
                details={"field": "period"},
            )
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(
                f"unknown time zone {self.time_zone!r}",
                code="invalid_period",
                details={"field": "period.time_zone"},
            ) from None
        if self.recurrence in _MONTHS and self.start.day > 28:
            raise ValidationFailed(
                "monthly and quarterly periods must start on day 1-28 of a month",
                code="invalid_period",
                details={"field": "period.start"},
            )

    def period_on(self, day: date) -> Period | None:
        """The period holding a local date, or None outside the campaign."""
        if not self.start <= day <= self.end:
            return None
        if self.recurrence == "none":
            return Period(self.start, self.end)
        if self.recurrence == "weekly":
            index = (day - self.start).days // 7
            begin = self.start + timedelta(days=7 * index)
            return Period(begin, min(begin + timedelta(days=6), self.end))
        step = _MONTHS[self.recurrence]
        months = (day.year - self.start.year) * 12 + day.month - self.start.month
        index = months // step
        begin = _add_months(self.start, index * step)
        if begin > day:
            index -= 1
            begin = _add_months(self.start, index * step)
        after = _add_months(self.start, (index + 1) * step)
        return Period(begin, min(after - timedelta(days=1), self.end))

    def period_at(self, instant: datetime) -> Period | None:
        return self.period_on(instant.astimezone(self.zone).date())

    def periods_ended_by(self, instant: datetime) -> list[Period]:
        """Every period that is over at `instant`, oldest first."""
        out: list[Period] = []
        day = self.start
        while day <= self.end:
            period = self.period_on(day)
            assert period is not None
            if period.ends_at(self.zone) > instant:
                break
            out.append(period)
            day = period.end + timedelta(days=1)
        return out

    def span(self) -> tuple[datetime, datetime]:
        """The whole campaign as UTC-comparable instants [from, until)."""
        return Period(self.start, self.end).starts_at(self.zone), Period(
            self.start, self.end
        ).ends_at(self.zone)


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, day.day)
