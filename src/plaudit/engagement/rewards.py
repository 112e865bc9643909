"""The rewards catalog: what points buy, at what cost, with how much stock.

Rewards are never deleted: retiring one (`active = false`) keeps its redemptions and
vouchers meaningful and stops new redemptions (409 `reward_inactive`). Stock is either a
count that redemptions decrement with a conditional update, or null for unlimited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, select, update

from plaudit.domain.clock import Clock
from plaudit.domain.errors import Conflict, NotFound, ValidationFailed
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.ledger import MAX_ENTRY_POINTS
from plaudit.engagement.money import Money
from plaudit.store.database import Database
from plaudit.store.engagement_tables import rewards
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row, to_json

MAX_STOCK: Final = 1_000_000_000
MAX_VALID_DAYS: Final = 3650
# Fields a PATCH may set; `add_stock` is the race-free restock (added to what is left).
EDITABLE: Final = frozenset(
    {"name", "description", "point_cost", "value", "stock", "voucher_valid_days", "active"}
)


@dataclass(frozen=True, slots=True)
class Reward:
    id: str
    environment_id: str
    name: str
    description: str
    point_cost: int
    value: Money
    stock: int | None
    voucher_valid_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self, omit=("environment_id",), value=self.value.to_json())


@dataclass(frozen=True, slots=True)
class RewardSpec:
    name: str
    description: str
    point_cost: int
    value: Money
    stock: int | None
    voucher_valid_days: int | None
    active: bool


def reward_record(row: Row[Any]) -> Reward:
    return from_row(Reward, row, value=Money(amount=row.value_amount, currency=row.currency))


def find_reward(conn: Connection, environment_id: str, reward_id: str) -> Reward | None:
    if not can_name_anything(reward_id):
        return None
    row = conn.execute(
        select(rewards).where(rewards.c.environment_id == environment_id, rewards.c.id == reward_id)
    ).first()
    return reward_record(row) if row is not None else None


def _require(conn: Connection, environment_id: str, reward_id: str) -> Reward:
    found = find_reward(conn, environment_id, reward_id)
    if found is None:
        raise NotFound(f"no reward {reward_id!r}", code="reward_not_found")
    return found


class RewardService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(self, environment_id: str, spec: RewardSpec) -> Reward:
        _check(spec)
        now = self._clock.now()
        reward_id = new_id("rwd")

        def unit(conn: Connection) -> Reward:
            conn.execute(
                rewards.insert().values(
                    id=reward_id,
                    environment_id=environment_id,
                    **_columns(spec),
                    created_at=now,
                    updated_at=now,
                )
            )
            return _require(conn, environment_id, reward_id)

        return await self._db.write(unit)

    async def get(self, environment_id: str, reward_id: str) -> Reward:
        return await self._db.read_with(lambda conn: _require(conn, environment_id, reward_id))

    async def list(
        self, environment_id: str, *, active: bool | None, limit: int, cursor: str | None
    ) -> Page[Reward]:
        query = select(rewards).where(rewards.c.environment_id == environment_id)
        if active is not None:
            query = query.where(rewards.c.active.is_(active))
        query = keyset(query, rewards.c.id, "asc", cursor, limit)

        def unit(conn: Connection) -> Page[Reward]:
            rows = conn.execute(query).all()
            return page_of(rows, limit, "asc", lambda shown: [reward_record(r) for r in shown])

        return await self._db.read_with(unit)

    async def update(
        self,
        environment_id: str,
        reward_id: str,
        changes: Mapping[str, Any],
        *,
        add_stock: int | None = None,
    ) -> Reward:
        """Set the given fields; `add_stock` adds to the stock left, whatever redemptions
        took meanwhile (setting `stock` replaces it)."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        if add_stock is not None and "stock" in changes:
            raise ValidationFailed(
                "give either stock (the new count) or add_stock (a restock), not both",
                code="conflicting_fields",
                details={"fields": ["stock", "add_stock"]},
            )
        now = self._clock.now()

        def unit(conn: Connection) -> Reward:
            current = _require(conn, environment_id, reward_id)
            merged = RewardSpec(
                name=changes.get("name", current.name),
                description=changes.get("description", current.description),
                point_cost=changes.get("point_cost", current.point_cost),
                value=changes.get("value", current.value),
                stock=changes.get("stock", current.stock),
                voucher_valid_days=changes.get("voucher_valid_days", current.voucher_valid_days),
                active=changes.get("active", current.active),
            )
            _check(merged)
            # Only the fields asked for: an untouched stock keeps what redemptions leave.
            wanted = {"value_amount", "currency"} if "value" in changes else set()
            wanted |= set(changes) - {"value"}
            values = {key: v for key, v in _columns(merged).items() if key in wanted}
            values["updated_at"] = now
            if add_stock is not None:
                _restock(conn, current, add_stock)
            conn.execute(update(rewards).where(rewards.c.id == reward_id).values(**values))
            return _require(conn, environment_id, reward_id)

        return await self._db.write(unit)

    async def retire(self, environment_id: str, reward_id: str) -> Reward:
        return await self.update(environment_id, reward_id, {"active": False})


def _restock(conn: Connection, current: Reward, add: int) -> None:
    if not 1 <= add <= MAX_STOCK:
        raise ValidationFailed(
            f"add_stock must be between 1 and {MAX_STOCK}; got {add}",
            code="invalid_stock",
            details={"field": "add_stock", "value": add},
        )
    # Relative, so a redemption committed between our read and this write is not undone.
    added = conn.execute(
        update(rewards)
        .where(
            rewards.c.id == current.id,
            rewards.c.stock.is_not(None),
            rewards.c.stock <= MAX_STOCK - add,
        )
        .values(stock=rewards.c.stock + add)
        .returning(rewards.c.id)
    ).first()
    if added is None:
        if current.stock is None:
            raise Conflict(
                f"reward {current.id} has unlimited stock; set stock to a number first",
                code="unlimited_stock",
                details={"reward_id": current.id},
            )
        raise ValidationFailed(
            f"stock would exceed {MAX_STOCK}",
            code="invalid_stock",
            details={"field": "add_stock", "value": add},
        )


def _check(spec: RewardSpec) -> None:
    problems: list[tuple[str, str]] = []
    if not spec.name.strip():
        problems.append(("name", "name must not be blank"))
    if not 1 <= spec.point_cost <= MAX_ENTRY_POINTS:
        problems.append(("point_cost", f"point_cost must be between 1 and {MAX_ENTRY_POINTS}"))
    if spec.stock is not None and not 0 <= spec.stock <= MAX_STOCK:
        problems.append(("stock", f"stock must be between 0 and {MAX_STOCK} (null: unlimited)"))
    if spec.voucher_valid_days is not None and not 1 <= spec.voucher_valid_days <= MAX_VALID_DAYS:
        problems.append(
            (
                "voucher_valid_days",
                f"voucher_valid_days must be between 1 and {MAX_VALID_DAYS} (null: never expires)",
            )
        )
    if problems:
        raise ValidationFailed(
            "; ".join(message for _, message in problems),
            code="invalid_reward",
            details=[{"field": field, "message": message} for field, message in problems],
        )


def _columns(spec: RewardSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description,
        "point_cost": spec.point_cost,
        "value_amount": spec.value.amount,
        "currency": spec.value.currency,
        "stock": spec.stock,
        "voucher_valid_days": spec.voucher_valid_days,
        "active": spec.active,
    }
