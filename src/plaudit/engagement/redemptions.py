"""Redeeming a reward: points and stock debited, a voucher issued, two events raised.

All of it is one write unit, in this order: the employee (active), the reward (exists,
active), one conditional stock decrement (`stock IS NULL OR stock > 0`), the spend entry
(its conditional balance update refuses to go below zero), the redemption, the voucher and
`reward.redeemed` + `voucher.issued`. Any refusal raises before the commit, so a 409 leaves
stock, ledger and event log untouched. On PostgreSQL parallel redemptions queue on the
reward row and then on the employee's account row, always in that order (no deadlock),
and each re-checks the stock and balance the previous one left.

An `Idempotency-Key` is stored on the redemption: a retry with the same key returns the
first redemption, and a concurrent twin loses on the unique key and is rolled back.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, update

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, InvalidRequest, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.engagement.directory import EmployeeRecord, load_employee
from plaudit.engagement.ledger import PointEntry, post_entry
from plaudit.engagement.redemption_records import (
    Redemption,
    get_redemption,
    list_redemptions,
    redemption_by_key,
)
from plaudit.engagement.rewards import Reward, find_reward, reward_record
from plaudit.engagement.vouchers import (
    Voucher,
    get_voucher,
    issue_voucher,
    list_vouchers,
    voucher_expiry,
)
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft, rfc3339
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.database import Database
from plaudit.store.engagement_tables import redemptions, rewards
from plaudit.store.pagination import Page

# Printable ASCII without spaces: what UUIDs and the usual client-made keys are.
_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


class _KeyTaken(Exception):
    """A concurrent request with the same Idempotency-Key committed first."""


class RedemptionService:
    def __init__(self, db: Database, clock: Clock, event_log: EventLog) -> None:
        self._db = db
        self._clock = clock
        self._event_log = event_log

    async def redeem(
        self,
        environment_id: str,
        employee_id: str,
        reward_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> Redemption:
        if idempotency_key is not None and not _KEY.fullmatch(idempotency_key):
            raise InvalidRequest(
                "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
                code="invalid_idempotency_key",
            )
        now = self._clock.now()

        def unit(conn: Connection) -> Redemption:
            if idempotency_key is not None:
                earlier = redemption_by_key(conn, environment_id, idempotency_key)
                if earlier is not None:
                    return _replay(earlier, employee_id, reward_id)
            employee = load_employee(conn, environment_id, employee_id)
            reward = _take_one(conn, environment_id, reward_id)
            return self._record(conn, employee, reward, idempotency_key, now)

        try:
            return await self._db.write(unit)
        except _KeyTaken:
            assert idempotency_key is not None
            earlier = await self._db.read_with(
                lambda conn: redemption_by_key(conn, environment_id, idempotency_key)
            )
            assert earlier is not None
            return _replay(earlier, employee_id, reward_id)

    def _record(
        self,
        conn: Connection,
        employee: EmployeeRecord,
        reward: Reward,
        idempotency_key: str | None,
        now: datetime,
    ) -> Redemption:
        redemption_id = new_id("rdm")
        entry = post_entry(
            conn,
            employee,
            kind="spend",
            amount=-reward.point_cost,
            reason="redemption",
            now=now,
            source=("redemption", redemption_id),
        )
        row: dict[str, Any] = {
            "id": redemption_id,
            "environment_id": employee.environment_id,
            "employee_id": employee.id,
            "reward_id": reward.id,
            "points_spent": reward.point_cost,
            "point_entry_id": entry.id,
            "idempotency_key": idempotency_key,
            "created_at": now,
        }
        inserted = conn.execute(
            insert_or_ignore(conn, redemptions).values(**row).returning(redemptions.c.id)
        ).first()
        if inserted is None:
            raise _KeyTaken()  # rolls back our stock and points; the twin's result stands
        voucher = issue_voucher(
            conn,
            environment_id=employee.environment_id,
            redemption_id=redemption_id,
            employee_id=employee.id,
            value=reward.value,
            expires_at=voucher_expiry(now, reward.voucher_valid_days),
            now=now,
        )
        drafts = self._event_log.prepare(
            [_reward_redeemed(employee, reward, entry, voucher), _voucher_issued(employee, voucher)]
        )
        self._event_log.store(conn, employee.environment_id, drafts)
        return Redemption(**row, voucher=voucher)

    async def get(self, environment_id: str, redemption_id: str) -> Redemption:
        return await self._db.read_with(
            lambda conn: get_redemption(conn, environment_id, redemption_id)
        )

    async def list(
        self,
        environment_id: str,
        *,
        employee_id: str | None,
        reward_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Redemption]:
        """Redemptions, newest first."""
        return await self._db.read_with(
            lambda conn: list_redemptions(
                conn,
                environment_id,
                employee_id=employee_id,
                reward_id=reward_id,
                limit=limit,
                cursor=cursor,
            )
        )

    async def vouchers(
        self,
        environment_id: str,
        *,
        employee_id: str | None,
        code: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Voucher]:
        return await self._db.read_with(
            lambda conn: list_vouchers(
                conn, environment_id, employee_id=employee_id, code=code, limit=limit, cursor=cursor
            )
        )

    async def voucher(self, environment_id: str, voucher_id: str) -> Voucher:
        return await self._db.read_with(lambda conn: get_voucher(conn, environment_id, voucher_id))


def _take_one(conn: Connection, environment_id: str, reward_id: str) -> Reward:
    """Decrement the reward's stock by one and return the reward as locked.

    The values come from the UPDATE's RETURNING, i.e. after any concurrent price change
    committed before us, so the cost charged is the cost in force.
    """
    found = find_reward(conn, environment_id, reward_id)
    if found is None:
        raise ValidationFailed(
            f"reward_id: no reward {reward_id} in this environment",
            code="unknown_reward",
            details={"field": "reward_id", "reward_id": reward_id},
        )
    taken = conn.execute(
        update(rewards)
        .where(
            rewards.c.id == reward_id,
            rewards.c.active.is_(True),
            (rewards.c.stock.is_(None)) | (rewards.c.stock > 0),
        )
        .values(stock=rewards.c.stock - 1)  # NULL (unlimited) stays NULL
        .returning(*rewards.c)
    ).first()
    if taken is not None:
        return reward_record(taken)
    now_found = find_reward(conn, environment_id, reward_id) or found
    if not now_found.active:
        raise Conflict(
            f"reward {reward_id} is retired and cannot be redeemed",
            code="reward_inactive",
            details={"reward_id": reward_id},
        )
    raise Conflict(
        f"reward {reward_id} is out of stock",
        code="out_of_stock",
        details={"reward_id": reward_id, "stock": now_found.stock},
    )


def _replay(earlier: Redemption, employee_id: str, reward_id: str) -> Redemption:
    if (earlier.employee_id, earlier.reward_id) != (employee_id, reward_id):
        raise Conflict(
            "this Idempotency-Key was already used for another redemption request",
            code="idempotency_key_reused",
            details={"redemption_id": earlier.id},
        )
    return replace(earlier, replayed=True)


def _reward_redeemed(
    employee: EmployeeRecord, reward: Reward, entry: PointEntry, voucher: Voucher
) -> EventDraft:
    return EventDraft(
        type="reward.redeemed",
        data={
            "redemption_id": entry.source_id,
            "employee": employee.ref(),
            "reward": {"id": reward.id, "name": reward.name, "value": reward.value.to_json()},
            "points_spent": -entry.amount,
            "voucher_id": voucher.id,
            "created_at": rfc3339(entry.created_at),
        },
    )


def _voucher_issued(employee: EmployeeRecord, voucher: Voucher) -> EventDraft:
    return EventDraft(
        type="voucher.issued",
        data={
            "voucher_id": voucher.id,
            "redemption_id": voucher.redemption_id,
            "employee": employee.ref(),
            "code": voucher.code,
            "value": voucher.value.to_json(),
            "expires_at": rfc3339(voucher.expires_at) if voucher.expires_at else None,
            "created_at": rfc3339(voucher.created_at),
        },
    )
