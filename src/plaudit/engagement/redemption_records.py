"""Redemptions as stored and read back, each with the voucher it issued."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from plaudit.domain.errors import NotFound
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.vouchers import Voucher, voucher_of_redemptions
from plaudit.store.engagement_tables import redemptions
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row, to_json


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    environment_id: str
    employee_id: str
    reward_id: str
    points_spent: int
    point_entry_id: str
    idempotency_key: str | None
    created_at: datetime
    voucher: Voucher | None
    replayed: bool = False  # True when an Idempotency-Key found an earlier redemption

    def to_json(self) -> dict[str, Any]:
        voucher = self.voucher.to_json() if self.voucher else None
        return to_json(self, omit=("environment_id", "replayed"), voucher=voucher)


def redemption_record(row: Row[Any], voucher: Voucher | None) -> Redemption:
    return from_row(Redemption, row, voucher=voucher)


def redemption_by_key(conn: Connection, environment_id: str, key: str) -> Redemption | None:
    row = conn.execute(
        select(redemptions).where(
            redemptions.c.environment_id == environment_id,
            redemptions.c.idempotency_key == key,
        )
    ).first()
    if row is None:
        return None
    return redemption_record(row, voucher_of_redemptions(conn, [row.id]).get(row.id))


def get_redemption(conn: Connection, environment_id: str, redemption_id: str) -> Redemption:
    if not can_name_anything(redemption_id):
        raise NotFound("no such redemption", code="redemption_not_found")
    row = conn.execute(
        select(redemptions).where(
            redemptions.c.environment_id == environment_id,
            redemptions.c.id == redemption_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"no redemption {redemption_id}", code="redemption_not_found")
    return redemption_record(row, voucher_of_redemptions(conn, [row.id]).get(row.id))


def list_redemptions(
    conn: Connection,
    environment_id: str,
    *,
    employee_id: str | None,
    reward_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Redemption]:
    """Redemptions, newest first."""
    query = select(redemptions).where(redemptions.c.environment_id == environment_id)
    query = keyset(query, redemptions.c.id, "desc", cursor, limit)
    if not all(can_name_anything(f) for f in (employee_id or "", reward_id or "")):
        return Page([], None)  # no row has such an id
    if employee_id is not None:
        query = query.where(redemptions.c.employee_id == employee_id)
    if reward_id is not None:
        query = query.where(redemptions.c.reward_id == reward_id)

    def build(shown: Sequence[Row[Any]]) -> list[Redemption]:
        issued = voucher_of_redemptions(conn, [row.id for row in shown])
        return [redemption_record(row, issued.get(row.id)) for row in shown]

    return page_of(conn.execute(query).all(), limit, "desc", build)
