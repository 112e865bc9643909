"""The points ledger: immutable entries and a balance that never goes below zero.

Each employee's `point_accounts` row is both the lock that serializes their entries and
the running sum of them. A debit is one conditional UPDATE (`balance + amount >= 0`), so
parallel spends on PostgreSQL queue on the row and the second one re-checks the balance
the first one left; on SQLite the single writer gives the same order. Entries are only
ever inserted, each with the balance it left behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, select, update

from plaudit.domain.errors import Conflict, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import EmployeeRecord
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import point_accounts, point_entries
from plaudit.store.rows import from_row, to_json

EntryKind = Literal["earn", "spend", "adjust", "expire"]
# Reasons a credit can carry in `points.earned` (its catalog schema lists the same).
EARN_REASONS = ("recognition", "payout", "adjustment", "milestone", "other")
MAX_ENTRY_POINTS = 10_000_000


@dataclass(frozen=True, slots=True)
class PointEntry:
    id: str
    environment_id: str
    employee_id: str
    kind: str
    amount: int
    balance_after: int
    reason: str
    source_type: str | None
    source_id: str | None
    note: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        source = {"type": self.source_type, "id": self.source_id} if self.source_type else None
        return to_json(self, omit=("environment_id", "source_type", "source_id"), source=source)


def point_entry(row: Row[Any]) -> PointEntry:
    return from_row(PointEntry, row)


def post_entry(
    conn: Connection,
    employee: EmployeeRecord,
    *,
    kind: EntryKind,
    amount: int,
    reason: str,
    now: datetime,
    source: tuple[str, str] | None = None,
    note: str | None = None,
) -> PointEntry:
    """Append one entry in the caller's write transaction and move the balance.

    `amount` is signed (earn > 0; spend and expire < 0; adjust either way). A debit the
    balance cannot cover raises Conflict `insufficient_points`; the caller's transaction
    then rolls back, so nothing of the action is written.
    """
    _check_amount(kind, amount)
    conn.execute(
        insert_or_ignore(conn, point_accounts).values(
            employee_id=employee.id,
            environment_id=employee.environment_id,
            balance=0,
            updated_at=now,
        )
    )
    balance_after = conn.execute(
        update(point_accounts)
        .where(
            point_accounts.c.employee_id == employee.id,
            point_accounts.c.balance + amount >= 0,
        )
        .values(balance=point_accounts.c.balance + amount, updated_at=now)
        .returning(point_accounts.c.balance)
    ).scalar_one_or_none()
    if balance_after is None:
        balance = balance_of(conn, employee.id)
        raise Conflict(
            f"employee {employee.id} has {balance} points; {-amount} needed",
            code="insufficient_points",
            details={"employee_id": employee.id, "balance": balance, "required": -amount},
        )
    entry = PointEntry(
        id=new_id("pts"),
        environment_id=employee.environment_id,
        employee_id=employee.id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        reason=reason,
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        note=note,
        created_at=now,
    )
    conn.execute(
        point_entries.insert().values(
            id=entry.id,
            environment_id=entry.environment_id,
            employee_id=entry.employee_id,
            kind=entry.kind,
            amount=entry.amount,
            balance_after=entry.balance_after,
            reason=entry.reason,
            source_type=entry.source_type,
            source_id=entry.source_id,
            note=entry.note,
            created_at=entry.created_at,
        )
    )
    return entry


def balance_of(conn: Connection, employee_id: str) -> int:
    balance = conn.execute(
        select(point_accounts.c.balance).where(point_accounts.c.employee_id == employee_id)
    ).scalar_one_or_none()
    return int(balance or 0)


def points_earned(entry: PointEntry, employee: EmployeeRecord) -> EventDraft:
    """The `points.earned` event for a credit."""
    reason = entry.reason if entry.reason in EARN_REASONS else "other"
    return EventDraft(
        type="points.earned",
        data={
            "entry_id": entry.id,
            "employee": employee.ref(),
            "points": entry.amount,
            "reason": reason,
            "source": (
                {"type": entry.source_type, "id": entry.source_id} if entry.source_type else None
            ),
            "balance_after": entry.balance_after,
            "created_at": rfc3339(entry.created_at),
        },
    )


def _check_amount(kind: EntryKind, amount: int) -> None:
    if amount == 0 or abs(amount) > MAX_ENTRY_POINTS:
        raise ValidationFailed(
            f"points must be between 1 and {MAX_ENTRY_POINTS}",
            code="invalid_points",
            details={"field": "points", "value": abs(amount)},
        )
    if (kind == "earn" and amount < 0) or (kind in ("spend", "expire") and amount > 0):
        raise ValueError(f"a {kind} entry cannot move {amount} points")
