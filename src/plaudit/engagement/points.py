"""Points over the API: grant, adjust and expire; balance, entries and a ledger audit.

The rules of the request (documented on the route):
* `earn`: `points` >= 1 credited, with a `reason` from the `points.earned` catalog enum
  (default `other`); raises `points.earned`.
* `adjust`: `points` signed and non-zero; a credit raises `points.earned` with reason
  `adjustment`, a debit below zero is 409 `insufficient_points`.
* `expire`: `points` >= 1 is the number of points to expire (stored as a negative entry);
  more than the balance is 409 `insufficient_points`.
Spends happen only through redemptions. Every write names an active employee; anything
refused writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, func, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import EmployeeRecord, employee_record
from plaudit.engagement.ledger import (
    EARN_REASONS,
    MAX_ENTRY_POINTS,
    EntryKind,
    PointEntry,
    balance_of,
    point_entry,
    points_earned,
    post_entry,
)
from plaudit.events.log import EventLog
from plaudit.store.database import Database
from plaudit.store.engagement_tables import employees, point_accounts, point_entries
from plaudit.store.pagination import Page, keyset, page_of

GrantKind = Literal["earn", "adjust", "expire"]


@dataclass(frozen=True, slots=True)
class Balance:
    employee_id: str
    balance: int
    # Present when asked to verify: the sum of every entry, which must equal `balance`.
    entries_sum: int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"employee_id": self.employee_id, "balance": self.balance}
        if self.entries_sum is not None:
            body["entries_sum"] = self.entries_sum
            body["consistent"] = self.entries_sum == self.balance
        return body


@dataclass(frozen=True, slots=True)
class LedgerAudit:
    accounts_checked: int
    mismatches: list[Balance]

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts_checked": self.accounts_checked,
            "consistent": not self.mismatches,
            "mismatches": [m.to_json() for m in self.mismatches],
        }


class PointsService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def post(
        self,
        environment_id: str,
        employee_id: str,
        *,
        kind: GrantKind,
        points: int,
        reason: str | None = None,
        note: str | None = None,
        source: tuple[str, str] | None = None,
    ) -> PointEntry:
        amount, entry_reason = _signed(kind, points, reason)
        now = self._clock.now()

        def unit(conn: Connection) -> PointEntry:
            employee = _path_employee(conn, environment_id, employee_id, require_active=True)
            entry = post_entry(
                conn,
                employee,
                kind=kind,
                amount=amount,
                reason=entry_reason,
                now=now,
                source=source,
                note=note,
            )
            if entry.amount > 0:
                drafts = self._event_log.prepare([points_earned(entry, employee)])
                self._event_log.store(conn, environment_id, drafts)
            return entry

        return await self._db.write(unit)

    async def balance(self, environment_id: str, employee_id: str, *, verify: bool) -> Balance:
        def unit(conn: Connection) -> Balance:
            _path_employee(conn, environment_id, employee_id, require_active=False)
            balance = balance_of(conn, employee_id)
            if not verify:
                return Balance(employee_id, balance)
            total = conn.execute(
                select(func.coalesce(func.sum(point_entries.c.amount), 0)).where(
                    point_entries.c.employee_id == employee_id
                )
            ).scalar_one()
            return Balance(employee_id, balance, int(total))

        return await self._db.read_with(unit)

    async def entries(
        self,
        environment_id: str,
        employee_id: str,
        *,
        kind: EntryKind | None,
        limit: int,
        cursor: str | None,
    ) -> Page[PointEntry]:
        """The employee's entries, newest first."""
        query = select(point_entries).where(
            point_entries.c.environment_id == environment_id,
            point_entries.c.employee_id == employee_id,
        )
        if kind is not None:
            query = query.where(point_entries.c.kind == kind)
        query = keyset(query, point_entries.c.id, "desc", cursor, limit)

        def unit(conn: Connection) -> Page[PointEntry]:
            _path_employee(conn, environment_id, employee_id, require_active=False)
            rows = conn.execute(query).all()
            return page_of(rows, limit, "desc", lambda shown: [point_entry(r) for r in shown])

        return await self._db.read_with(unit)

    async def audit(self, environment_id: str) -> LedgerAudit:
        """Every account of the environment against the sum of its entries."""
        sums = (
            select(
                point_entries.c.employee_id,
                func.sum(point_entries.c.amount).label("total"),
            )
            .where(point_entries.c.environment_id == environment_id)
            .group_by(point_entries.c.employee_id)
            .subquery()
        )
        query = (
            select(point_accounts.c.employee_id, point_accounts.c.balance, sums.c.total)
            .select_from(
                point_accounts.outerjoin(sums, sums.c.employee_id == point_accounts.c.employee_id)
            )
            .where(point_accounts.c.environment_id == environment_id)
            .order_by(point_accounts.c.employee_id)
        )

        def unit(conn: Connection) -> LedgerAudit:
            rows = conn.execute(query).all()
            mismatches = [
                Balance(row.employee_id, int(row.balance), int(row.total or 0))
                for row in rows
                if int(row.balance) != int(row.total or 0)
            ]
            return LedgerAudit(accounts_checked=len(rows), mismatches=mismatches)

        return await self._db.read_with(unit)


def _signed(kind: GrantKind, points: int, reason: str | None) -> tuple[int, str]:
    """The signed entry amount and stored reason for a request, or a 422 naming the rule."""
    if reason is not None and kind != "earn":
        raise ValidationFailed(
            f"reason: only an earn entry takes a reason ({kind} entries are recorded as "
            f"{'adjustment' if kind == 'adjust' else 'expiry'})",
            code="reason_not_allowed",
            details={"field": "reason", "kind": kind},
        )
    if kind == "adjust":
        if points == 0 or abs(points) > MAX_ENTRY_POINTS:
            raise _bad_points(
                f"points: an adjustment moves between 1 and {MAX_ENTRY_POINTS} points "
                f"either way (negative to debit); got {points}",
                points,
            )
        return points, "adjustment"
    if not 1 <= points <= MAX_ENTRY_POINTS:
        what = "to credit" if kind == "earn" else "to expire"
        raise _bad_points(
            f"points: give the number of points {what}, between 1 and {MAX_ENTRY_POINTS}; "
            f"got {points}",
            points,
        )
    if kind == "expire":
        return -points, "expiry"
    chosen = reason or "other"
    if chosen not in EARN_REASONS:
        raise ValidationFailed(
            f"reason must be one of {', '.join(EARN_REASONS)}; got {chosen!r}",
            code="invalid_reason",
            details={"field": "reason", "allowed": list(EARN_REASONS)},
        )
    return points, chosen


def _bad_points(message: str, points: int) -> ValidationFailed:
    return ValidationFailed(
        message, code="invalid_points", details={"field": "points", "value": points}
    )


def _path_employee(
    conn: Connection, environment_id: str, employee_id: str, *, require_active: bool
) -> EmployeeRecord:
    """The employee named in the URL: 404 when there is none, as for any path resource."""
    if not can_name_anything(employee_id):
        raise NotFound("no such employee", code="employee_not_found")
    row = conn.execute(
        select(employees).where(
            employees.c.environment_id == environment_id, employees.c.id == employee_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no employee {employee_id}", code="employee_not_found")
    employee = employee_record(row)
    if require_active and not employee.active:
        raise Conflict(
            f"employee {employee_id} is deactivated",
            code="employee_inactive",
            details={"field": "employee_id", "employee_ids": [employee_id]},
        )
    return employee
