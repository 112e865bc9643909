"""Claim leases: a claimed message is due again exactly when its lease ends, or at once when
its worker gives it back. On a database of its own (no session dispatcher claiming)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from plaudit.app_container import Container
from plaudit.delivery.claims import Claimer, ClaimLimits
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.store.tables import messages
from tests.integration.delivery_helpers import birthday, own_plaudit

LEASE = timedelta(seconds=60)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))


@pytest.fixture
async def quiet(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Container]:
    async with own_plaudit(f"sqlite:///{tmp_path / 'leases.db'}", clock) as container:
        yield container


async def three_due(container: Container) -> set[str]:
    org = await container.tenancy.create_organization("Leases")
    env = org.environment_ids[Environment.PRODUCTION]
    await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/hook"))
    for _ in range(3):
        await container.events.publish(env, "milestone.birthday", birthday())
    async with container.db.read() as conn:
        return {row[0] for row in await conn.execute(select(messages.c.id))}


async def test_a_claimed_message_is_due_when_its_lease_ends_or_when_given_back(
    quiet: Container, clock: ManualClock
) -> None:
    ids = await three_due(quiet)
    claimer = Claimer(quiet.db, clock, ClaimLimits(batch=10, per_endpoint=10, lease=LEASE))

    first = await claimer.claim("w1", 10)
    assert {m.id for m in first.messages} == ids
    async with quiet.db.read() as conn:
        rows = (await conn.execute(select(messages).where(messages.c.id.in_(ids)))).all()
    for row in rows:
        assert row.lease_owner == "w1"
        assert row.next_attempt_at == row.lease_expires_at == clock.now() + LEASE

    clock.advance(LEASE - timedelta(seconds=1))
    assert (await claimer.claim("w2", 10)).messages == []  # all in flight

    given_back = sorted(ids)[:1]
    await claimer.release("w1", given_back)
    assert [m.id for m in (await claimer.claim("w2", 10)).messages] == given_back

    clock.advance(timedelta(seconds=1, microseconds=1))  # w1's other leases have run out
    taken_over = {m.id for m in (await claimer.claim("w3", 10)).messages}
    assert taken_over == ids - set(given_back)
