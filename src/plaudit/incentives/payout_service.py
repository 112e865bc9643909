"""Payouts over the API and the workers' period-end run (see `plaudit.incentives.payouts`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from plaudit.domain.clock import Clock
from plaudit.domain.errors import NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.incentives.payouts import approve, settle_due
from plaudit.incentives.reversal import RevokeResult, revoke_many, revoke_one
from plaudit.runtime.background import every
from plaudit.store.database import Database
from plaudit.store.engagement_tables import group_members
from plaudit.store.incentive_tables import campaign_payouts
from plaudit.store.pagination import Page, keyset, page_of

log = logging.getLogger("plaudit.incentives")


@dataclass(frozen=True, slots=True)
class PayoutFilter:
    employee_id: str | None = None
    group_id: str | None = None
    campaign_id: str | None = None
    status: str | None = None
    period_start: date | None = None
    kind: str | None = None


def payout_json(row: Any) -> dict[str, Any]:
    amount = None if row.amount is None else {"amount": row.amount, "currency": row.currency}
    return {
        "id": row.id,
        "campaign_id": row.campaign_id,
        "employee_id": row.employee_id,
        "period": {"start": row.period_start, "end": row.period_end},
        "status": row.status,
        "kind": row.kind,
        "threshold_percent": row.award_key if row.kind == "milestone" else None,
        "leaderboard_id": row.award_key if row.kind == "rank" else None,
        "rank": row.rank,
        "reward_type": row.reward_type,
        "points": row.points,
        "amount": amount,
        "value": row.value,
        "attainment": row.attainment,
        "point_entry_id": row.point_entry_id,
        "calculated_at": row.calculated_at,
        "decided_at": row.decided_at,
        "reversed_at": row.reversed_at,
        "reversal_entry_id": row.reversal_entry_id,
    }


class PayoutService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    def _store(self, conn: Connection, environment_id: str, drafts: list[EventDraft]) -> None:
        if drafts:
            self._event_log.store(conn, environment_id, self._event_log.prepare(drafts))

    async def settle(self) -> int:
        """Calculate the payouts of every ended period not yet settled; returns periods."""
        now = self._clock.now()

        def unit(conn: Connection) -> int:
            settled = settle_due(conn, now)
            for environment_id, drafts in settled:
                self._store(conn, environment_id, drafts)
            return len(settled)

        count: int = await self._db.write(unit)
        return count

    async def approve(self, environment_id: str, payout_ids: Sequence[str]) -> int:
        now = self._clock.now()

        def unit(conn: Connection) -> int:
            self._store(conn, environment_id, approve(conn, environment_id, payout_ids, now))
            return len(set(payout_ids))

        count: int = await self._db.write(unit)
        return count

    async def revoke(self, environment_id: str, payout_ids: Sequence[str]) -> list[RevokeResult]:
        """Revoke or reverse each payout on its own; a result per payout."""
        now = self._clock.now()
        results: list[RevokeResult] = await self._db.write(
            lambda conn: revoke_many(conn, environment_id, payout_ids, now)
        )
        return results

    async def revoke_one(self, environment_id: str, payout_id: str) -> dict[str, Any]:
        """Revoke a waiting payout or reverse an approved one (4xx and nothing written)."""
        now = self._clock.now()
        row = await self._db.write(lambda conn: revoke_one(conn, environment_id, payout_id, now))
        return payout_json(row)

    async def get(self, environment_id: str, payout_id: str) -> dict[str, Any]:
        def unit(conn: Connection) -> dict[str, Any]:
            if not can_name_anything(payout_id):
                raise NotFound(f"no payout {payout_id!r}", code="payout_not_found")
            row = conn.execute(
                select(campaign_payouts).where(
                    campaign_payouts.c.id == payout_id,
                    campaign_payouts.c.environment_id == environment_id,
                )
            ).first()
            if row is None:
                raise NotFound(f"no payout {payout_id}", code="payout_not_found")
            return payout_json(row)

        return await self._db.read_with(unit)

    async def list(
        self, environment_id: str, where: PayoutFilter, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        t = campaign_payouts.c

        def unit(conn: Connection) -> Page[dict[str, Any]]:
            named = (where.employee_id, where.group_id, where.campaign_id)
            if not all(can_name_anything(i) for i in named if i is not None):
                return Page(items=[], next_cursor=None)  # no row has such an id
            query = select(campaign_payouts).where(t.environment_id == environment_id)
            if where.employee_id is not None:
                query = query.where(t.employee_id == where.employee_id)
            if where.group_id is not None:
                members = select(group_members.c.employee_id).where(
                    group_members.c.group_id == where.group_id
                )
                query = query.where(t.employee_id.in_(members))
            if where.campaign_id is not None:
                query = query.where(t.campaign_id == where.campaign_id)
            if where.status is not None:
                query = query.where(t.status == where.status)
            if where.kind is not None:
                query = query.where(t.kind == where.kind)
            if where.period_start is not None:
                query = query.where(t.period_start == where.period_start)
            rows = conn.execute(keyset(query, t.id, "desc", cursor, limit)).all()
            return page_of(
                rows,
                limit,
                "desc",
                lambda shown: [payout_json(r) for r in shown],
                lambda item: str(item["id"]),
            )

        return await self._db.read_with(unit)


class PayoutScheduler:
    """The workers' period-end run: every interval, settle what has ended (once, whichever
    worker claims it first)."""

    name = "payouts"

    def __init__(self, service: PayoutService, interval_s: float) -> None:
        self._service = service
        self._interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        async def settle() -> None:
            if settled := await self._service.settle():
                log.info("payout periods settled", extra={"count": settled})

        await every(
            self._interval_s, stopping, settle, logger=log, failure="payout settlement failed"
        )
