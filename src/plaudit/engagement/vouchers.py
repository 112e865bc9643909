"""Vouchers: the code an employee gets for a redemption, and its storage.

A code is 16 Crockford base32 characters from `secrets` (80 random bits: unguessable) in
groups of four, e.g. `7KQ2-MX4P-9TZC-A1B3`. The alphabet has no I, L, O or U, so a code
read aloud or typed from paper survives; `normalize_code` maps the usual slips back.
Codes are unique across the whole store; a clash (practically never) draws a new one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Connection, Row, select

from plaudit.domain.errors import NotFound
from plaudit.domain.ids import new_id
from plaudit.domain.text_rules import can_name_anything
from plaudit.engagement.money import Money
from plaudit.store.conflicts import insert_or_ignore
from plaudit.store.engagement_tables import vouchers
from plaudit.store.pagination import Page, keyset, page_of
from plaudit.store.rows import from_row, to_json

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH: Final = 16
GROUP: Final = 4
MAX_ATTEMPTS: Final = 5
_SLIPS: Final = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def new_voucher_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize_code(typed: str) -> str:
    """A code as a person may type it (any case, I/L for 1, O for 0, spaces) in stored form."""
    raw = typed.upper().translate(_SLIPS)
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def voucher_expiry(issued_at: datetime, valid_days: int | None) -> datetime | None:
    """The end (UTC) of the `valid_days`-th day after issue; None when it never expires."""
    if valid_days is None:
        return None
    last_day = issued_at.astimezone(UTC).date() + timedelta(days=valid_days)
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Voucher:
    id: str
    environment_id: str
    redemption_id: str
    employee_id: str
    code: str
    value: Money
    expires_at: datetime | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return to_json(self, omit=("environment_id",), value=self.value.to_json())


def voucher_record(row: Row[Any]) -> Voucher:
    return from_row(Voucher, row, value=Money(amount=row.value_amount, currency=row.currency))


def issue_voucher(
    conn: Connection,
    *,
    environment_id: str,
    redemption_id: str,
    employee_id: str,
    value: Money,
    expires_at: datetime | None,
    now: datetime,
    generate: Callable[[], str] = new_voucher_code,
) -> Voucher:
    """Insert a voucher with a fresh code, in the caller's write transaction."""
    voucher_id = new_id("vch")
    for _ in range(MAX_ATTEMPTS):
        code = generate()
        # ON CONFLICT DO NOTHING rather than catching the error: on PostgreSQL a failed
        # statement would abort the caller's whole transaction.
        inserted = conn.execute(
            insert_or_ignore(conn, vouchers)
            .values(
                id=voucher_id,
                environment_id=environment_id,
                redemption_id=redemption_id,
                employee_id=employee_id,
                code=code,
                value_amount=value.amount,
                currency=value.currency,
                expires_at=expires_at,
                created_at=now,
            )
            .returning(vouchers.c.id)
        ).first()
        if inserted is not None:
            return Voucher(
                id=voucher_id,
                environment_id=environment_id,
                redemption_id=redemption_id,
                employee_id=employee_id,
                code=code,
                value=value,
                expires_at=expires_at,
                created_at=now,
            )
    raise RuntimeError(f"no unique voucher code after {MAX_ATTEMPTS} attempts")


def voucher_of_redemptions(conn: Connection, redemption_ids: list[str]) -> dict[str, Voucher]:
    rows = conn.execute(select(vouchers).where(vouchers.c.redemption_id.in_(redemption_ids)))
    return {row.redemption_id: voucher_record(row) for row in rows}


def list_vouchers(
    conn: Connection,
    environment_id: str,
    *,
    employee_id: str | None,
    code: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Voucher]:
    """Vouchers, newest first; `code` as a person typed it (see `normalize_code`)."""
    query = select(vouchers).where(vouchers.c.environment_id == environment_id)
    query = keyset(query, vouchers.c.id, "desc", cursor, limit)
    if not all(can_name_anything(f) for f in (employee_id or "", code or "")):
        return Page([], None)  # no row has such a value
    if employee_id is not None:
        query = query.where(vouchers.c.employee_id == employee_id)
    if code is not None:
        query = query.where(vouchers.c.code == normalize_code(code))
    rows = conn.execute(query).all()
    return page_of(rows, limit, "desc", lambda shown: [voucher_record(r) for r in shown])


def get_voucher(conn: Connection, environment_id: str, voucher_id: str) -> Voucher:
    if not can_name_anything(voucher_id):
        raise NotFound("no such voucher", code="voucher_not_found")
    row = conn.execute(
        select(vouchers).where(
            vouchers.c.environment_id == environment_id, vouchers.c.id == voucher_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no voucher {voucher_id}", code="voucher_not_found")
    return voucher_record(row)
