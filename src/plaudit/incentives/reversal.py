"""Revoking payouts, before or after approval.

* A payout waiting for approval is `revoked`: it was never paid.
* An approved payout is `reversed`: a points payout gets a counter-entry in the ledger (an
  `adjust` of minus its points, reason `payout_reversal`, source the payout), and a cash
  payout's record is marked reversed (`reversed_at`) for payroll to claw back. The ledger
  never goes below zero: points already spent make the reversal a 409
  `payout_points_spent` and nothing is written.
* The catalog has no event for this (`incentive.payout_processed` is only ever `approved`,
  `points.earned` only credits), so none is raised: the payout's status, `reversed_at`
  and `reversal_entry_id`, read over the admin and Connect APIs, are the record.

`revoke_many` decides each payout on its own (a savepoint each): one that cannot be
revoked is reported in its result and leaves the others alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.errors import ClientError, Conflict, NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.directory import load_employees
from plaudit.engagement.ledger import post_entry
from plaudit.incentives.awards import WAITING
from plaudit.store.incentive_tables import campaign_payouts

APPROVED = "approved"
REVOKED = "revoked"
REVERSED = "reversed"
REVERSAL_REASON = "payout_reversal"


@dataclass(frozen=True, slots=True)
class RevokeResult:
    payout_id: str
    row: Any | None  # the payout after the change
    error: ClientError | None


def revoke_one(conn: Connection, environment_id: str, payout_id: str, now: datetime) -> Any:
    """Revoke a waiting payout or reverse an approved one; returns the changed row."""
    row = _locked(conn, environment_id, payout_id)
    if row.status == WAITING:
        _set(conn, payout_id, status=REVOKED, decided_at=now)
    elif row.status == APPROVED:
        entry_id = None
        if row.reward_type == "points":
            entry_id = _debit(conn, environment_id, row, now)
        _set(conn, payout_id, status=REVERSED, reversed_at=now, reversal_entry_id=entry_id)
    else:
        raise Conflict(
            f"payout {payout_id} is already {row.status}",
            code="payout_decided",
            details={"payout_id": payout_id, "status": row.status},
        )
    return _locked(conn, environment_id, payout_id)


def revoke_many(
    conn: Connection, environment_id: str, payout_ids: Sequence[str], now: datetime
) -> list[RevokeResult]:
    out: list[RevokeResult] = []
    for payout_id in dict.fromkeys(payout_ids):
        try:
            with conn.begin_nested():
                out.append(
                    RevokeResult(payout_id, revoke_one(conn, environment_id, payout_id, now), None)
                )
        except ClientError as error:
            out.append(RevokeResult(payout_id, None, error))
    return out


def _debit(conn: Connection, environment_id: str, row: Any, now: datetime) -> str:
    employee = load_employees(conn, environment_id, [row.employee_id], require_active=False)
    try:
        entry = post_entry(
            conn,
            employee[row.employee_id],
            kind="adjust",
            amount=-row.points,
            reason=REVERSAL_REASON,
            now=now,
            source=("payout", row.id),
        )
    except Conflict as error:
        if error.code != "insufficient_points":
            raise
        raise Conflict(
            f"payout {row.id} cannot be reversed: {row.points} points were credited and "
            f"the balance is lower now (already spent); the ledger never goes below zero",
            code="payout_points_spent",
            details={"payout_id": row.id, **(error.details or {})},
        ) from error
    return entry.id


def _locked(conn: Connection, environment_id: str, payout_id: str) -> Any:
    query = select(campaign_payouts).where(
        campaign_payouts.c.environment_id == environment_id,
        campaign_payouts.c.id == payout_id,
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # two revocations of one payout take turns
    row = conn.execute(query).first() if can_name_anything(payout_id) else None
    if row is None:
        raise NotFound(
            f"no payout {payout_id}", code="payout_not_found", details={"payout_id": payout_id}
        )
    return row


def _set(conn: Connection, payout_id: str, **values: Any) -> None:
    conn.execute(
        campaign_payouts.update().where(campaign_payouts.c.id == payout_id).values(**values)
    )
