"""The monthly giving budget: how many points an employee may hand out per calendar month.

The budget is a per-environment setting (None = no cap); usage is one `giving_budget_usage`
row per (giver, UTC month). Spending is a single conditional UPDATE
(`points_given + n <= budget`): on PostgreSQL concurrent awards by one giver queue on that
row and each re-checks the sum the previous one left; SQLite's single writer gives the
same order. So no interleaving of requests can overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.settings import read_settings
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees, giving_budget_usage


def budget_month(now: datetime) -> str:
    """The budget period `now` falls in: its calendar month in UTC, as YYYY-MM."""
    if now.tzinfo is None:
        raise ValueError("budget_month needs an aware datetime")
    return now.astimezone(UTC).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class GivingBudget:
    employee_id: str
    month: str
    budget: int | None  # None = no cap
    given: int

    @property
    def remaining(self) -> int | None:
        # The budget may have been lowered below what was already given this month.
        return None if self.budget is None else max(self.budget - self.given, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "month": self.month,
            "budget": self.budget,
            "given": self.given,
            "remaining": self.remaining,
        }


def points_given(conn: Connection, employee_id: str, month: str) -> int:
    given = conn.execute(
        select(giving_budget_usage.c.points_given).where(
            giving_budget_usage.c.employee_id == employee_id,
            giving_budget_usage.c.month == month,
        )
    ).scalar_one_or_none()
    return int(given or 0)


def consume_budget(
    conn: Connection, giver_id: str, *, budget: int | None, points: int, now: datetime
) -> None:
    """Count `points` against the giver's budget for the month of `now`, in the caller's
    transaction; Conflict `giving_budget_exceeded` when they do not fit (nothing counted).

    Usage is recorded even without a cap, so the month's total is known if one is set later.
    """
    if points <= 0:
        return
    month = budget_month(now)
    conn.execute(
        insert_or_ignore(conn, giving_budget_usage).values(
            employee_id=giver_id, month=month, points_given=0
        )
    )
    usage = giving_budget_usage.c
    spend = (
        update(giving_budget_usage)
        .where(usage.employee_id == giver_id, usage.month == month)
        .values(points_given=usage.points_given + points)
        .returning(usage.points_given)
    )
    if budget is not None:
        spend = spend.where(usage.points_given + points <= budget)
    if conn.execute(spend).scalar_one_or_none() is not None:
        return
    state = GivingBudget(giver_id, month, budget, points_given(conn, giver_id, month))
    raise Conflict(
        f"giver {giver_id} has {state.remaining} of {budget} points left to give in {month};"
        f" this recognition needs {points}",
        code="giving_budget_exceeded",
        details={**state.to_json(), "requested": points},
    )


def read_budget(
    conn: Connection, environment_id: str, employee_id: str, now: datetime
) -> GivingBudget:
    month = budget_month(now)
    return GivingBudget(
        employee_id=employee_id,
        month=month,
        budget=read_settings(conn, environment_id).monthly_giving_budget,
        given=points_given(conn, employee_id, month),
    )


class GivingBudgetService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(
        self, environment_id: str, employee_id: str, *, now: datetime | None = None
    ) -> GivingBudget:
        """The employee's budget for the month of `now` (default: the clock's month)."""
        at = now or self._clock.now()

        def unit(conn: Connection) -> GivingBudget:
            found = conn.execute(
                select(employees.c.id).where(
                    employees.c.environment_id == environment_id, employees.c.id == employee_id
                )
            ).first()
            if found is None:
                raise NotFound(f"no employee {employee_id}")
            return read_budget(conn, environment_id, employee_id, at)

        if not can_name_anything(employee_id):
            raise NotFound(f"no employee {employee_id!r}")
        return await self._db.read_with(unit)
