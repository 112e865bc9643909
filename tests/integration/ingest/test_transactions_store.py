"""The transaction store contract: upsert by external id, revisions, before/after, hooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Connection, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.ingest.transactions import (
    TransactionChange,
    TransactionInput,
    TransactionLog,
    TransactionState,
    decimal_text,
)
from plaudit.store.ingest_tables import transactions
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee

WHEN = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def state(employee_id: str, value: str, metric: str = "revenue") -> TransactionState:
    return TransactionState(
        employee_id=employee_id,
        metric=metric,
        value=Decimal(value),
        currency="EUR",
        occurred_at=WHEN,
        attributes={"stage": "won"},
    )


async def test_create_update_correction_delete_and_hooks(
    container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    alice = await make_employee(container, env, name="Alice")
    bob = await make_employee(container, env, name="Bob")
    log = TransactionLog()
    seen: list[list[TransactionChange]] = []

    def hook(conn: Connection, changes: Sequence[TransactionChange]) -> None:
        seen.append(list(changes))

    log.subscribe(hook)

    async def apply(*inputs: TransactionInput) -> list[TransactionChange]:
        now = container.clock.now()
        return await container.db.write(lambda c: log.apply(c, env, "src_x", inputs, now=now))

    first = await apply(
        TransactionInput("D-1", "create", state(alice.id, "100.50")),
        TransactionInput("D-2", "create", state(alice.id, "7")),
    )
    assert [(c.kind, c.revision, c.before) for c in first] == [
        ("created", 1, None),
        ("created", 1, None),
    ]
    # Re-sending is harmless: unchanged, and hooks hear nothing.
    again = await apply(TransactionInput("D-1", "create", state(alice.id, "100.5")))
    assert again[0].kind == "unchanged"
    assert len(seen) == 1
    # A late correction moves the deal to Bob with a new value, in place.
    late = await apply(TransactionInput("D-1", "update", state(bob.id, "120")))
    assert late[0].kind == "updated"
    assert late[0].revision == 2
    assert late[0].before == state(alice.id, "100.50")
    assert late[0].after == state(bob.id, "120")
    # Delete, delete again, then revive in one batch (applied in order).
    batch = await apply(
        TransactionInput("D-2", "delete", None),
        TransactionInput("D-2", "delete", None),
        TransactionInput("NOPE", "delete", None),
        TransactionInput("D-2", "update", state(bob.id, "8")),
    )
    assert [c.kind for c in batch] == ["deleted", "unchanged", "unchanged", "created"]
    assert batch[0].before == state(alice.id, "7")
    assert batch[0].after is None
    assert batch[3].before is None
    assert batch[3].revision == 3
    assert [c.kind for c in seen[-1]] == ["deleted", "created"]

    rows = await container.db.read_with(
        lambda c: c.execute(
            select(transactions)
            .where(transactions.c.environment_id == env)
            .order_by(transactions.c.external_id)
        ).all()
    )
    assert [(r.external_id, r.employee_id, r.value, r.status, r.revision) for r in rows] == [
        ("D-1", bob.id, "120", "active", 2),
        ("D-2", bob.id, "8", "active", 3),
    ]


async def test_a_failing_hook_rolls_the_load_back(
    container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    alice = await make_employee(container, env)
    log = TransactionLog()

    def broken(conn: Connection, changes: Sequence[TransactionChange]) -> None:
        raise RuntimeError("engine down")

    log.subscribe(broken)
    now = container.clock.now()
    item = TransactionInput("D-9", "create", state(alice.id, "1"))
    with pytest.raises(RuntimeError):
        await container.db.write(lambda c: log.apply(c, env, "src_y", [item], now=now))
    count = await container.db.read_with(
        lambda c: c.execute(
            select(transactions.c.id).where(transactions.c.environment_id == env)
        ).all()
    )
    assert count == []


@pytest.mark.parametrize(
    ("raw", "text"),
    [("1E+3", "1000"), ("12.500", "12.5"), ("-0.00", "0"), ("0.001", "0.001"), ("42", "42")],
)
def test_decimal_text(raw: str, text: str) -> None:
    assert decimal_text(Decimal(raw)) == text
