"""Fresh messages handed to the local dispatcher: leased in the event's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from plaudit.app_container import Container
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.delivery.fanout import FanOut
from plaudit.delivery.handoff import Handoff
from plaudit.delivery.models import ClaimedMessage
from plaudit.delivery.wakeup import Wakeup
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import SystemClock
from plaudit.domain.event_catalog import default_catalog
from plaudit.events.log import EventLog
from plaudit.events.models import EventDraft
from plaudit.store.tables import endpoints, messages
from plaudit.tenancy.models import CreatedOrganization


class Taker:
    """Stands in for a dispatcher at the handoff boundary (the `Receiver` protocol)."""

    worker = "test-worker"

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.offered: list[ClaimedMessage] = []

    def accepting(self, endpoint_id: str) -> bool:
        return self.accept

    def offer(self, batch: Sequence[ClaimedMessage]) -> None:
        self.offered.extend(batch)


def birthday() -> dict[str, Any]:
    return {
        "employee": {"id": "usr_1", "external_id": None, "email": "a@example.com", "name": "A"},
        "occurred_on": "2026-12-04",
    }


async def publish_through(
    container: Container, env: str, taker: Taker, wakeup: Wakeup | None = None
) -> tuple[str, list[dict[str, Any]]]:
    handoff = Handoff(lease=timedelta(seconds=120))
    handoff.attach(taker)
    log = EventLog(default_catalog(), SystemClock())
    log.subscribe(FanOut(wakeup or Wakeup(), frozenset(), handoff))
    prepared = log.prepare([EventDraft("milestone.birthday", birthday())])
    [event] = await container.db.write(lambda conn: log.store(conn, env, prepared))
    async with container.db.read() as conn:
        rows = (await conn.execute(select(messages).where(messages.c.event_id == event.id))).all()
    return event.id, [dict(r._mapping) for r in rows]


@pytest.fixture
def env(org: CreatedOrganization) -> str:
    return org.environment_ids[Environment.PRODUCTION]


async def test_messages_are_leased_to_the_taker_and_offered_after_commit(
    container: Container, env: str
) -> None:
    endpoint, _ = await container.endpoints.create(
        env, EndpointSpec(url="http://127.0.0.1:9/a", enabled=True)
    )
    taker = Taker(accept=True)
    event_id, rows = await publish_through(container, env, taker)
    [row] = rows
    assert row["lease_owner"] == "test-worker"
    assert row["lease_expires_at"] is not None
    [offered] = taker.offered
    assert offered.id == row["id"]
    assert offered.event_id == event_id
    assert offered.endpoint_id == endpoint.id
    assert offered.data() == birthday()


async def test_no_taker_capacity_leaves_the_message_for_claiming(
    container: Container, env: str
) -> None:
    await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/b", enabled=True))
    taker = Taker(accept=False)
    _, [row] = await publish_through(container, env, taker)
    # Not leased to the taker; the session's own dispatcher may already have claimed it.
    assert row["lease_owner"] != taker.worker
    assert taker.offered == []


@pytest.mark.parametrize(
    "spec",
    [
        EndpointSpec(url="http://127.0.0.1:9/c", fifo=True),
        EndpointSpec(url="http://127.0.0.1:9/d", rate_limit_per_s=5),
        EndpointSpec(url="http://127.0.0.1:9/e", enabled=False),
    ],
)
async def test_fifo_rate_limited_and_disabled_endpoints_are_never_handed_over(
    container: Container, env: str, spec: EndpointSpec
) -> None:
    await container.endpoints.create(env, spec)
    taker = Taker(accept=True)
    _, [row] = await publish_through(container, env, taker)
    assert row["lease_owner"] != taker.worker  # left for claiming (by any worker)
    assert taker.offered == []


@pytest.mark.parametrize(
    ("spec", "room", "woken"),
    [
        (EndpointSpec(url="http://127.0.0.1:9/g"), True, False),  # handed over: no claim
        (EndpointSpec(url="http://127.0.0.1:9/h"), False, True),  # no room here: claim it
        (EndpointSpec(url="http://127.0.0.1:9/i", fifo=True), True, True),  # always claimed
        (EndpointSpec(url="http://127.0.0.1:9/j", enabled=False), True, False),
        (EndpointSpec(url="http://127.0.0.1:9/k"), True, "paused"),
    ],
)
async def test_workers_are_woken_only_for_messages_they_can_claim_now(
    container: Container, env: str, spec: EndpointSpec, room: bool, woken: bool | str
) -> None:
    # A disabled endpoint's messages are announced when it is re-enabled, a paused one's
    # found by the workers' poll when the pause ends: waking every worker for each of
    # them made every event cost a claim.
    endpoint, _ = await container.endpoints.create(env, spec)
    if woken == "paused":
        async with container.db.transaction() as conn:
            until = datetime.now(UTC) + timedelta(minutes=1)
            await conn.execute(
                update(endpoints).where(endpoints.c.id == endpoint.id).values(paused_until=until)
            )
        woken = False
    wakeup = Wakeup()
    listener = wakeup.listen()
    await publish_through(container, env, Taker(accept=room), wakeup)
    assert await listener.wait(0.01) is woken


async def test_a_rolled_back_event_offers_nothing(container: Container, env: str) -> None:
    await container.endpoints.create(env, EndpointSpec(url="http://127.0.0.1:9/f"))
    taker = Taker(accept=True)
    handoff = Handoff(lease=timedelta(seconds=120))
    handoff.attach(taker)
    log = EventLog(default_catalog(), SystemClock())
    log.subscribe(FanOut(Wakeup(), frozenset(), handoff))
    prepared = log.prepare([EventDraft("milestone.birthday", birthday())])

    def store_then_fail(conn: Any) -> None:
        log.store(conn, env, prepared)
        raise RuntimeError("the domain change failed after appending")

    with pytest.raises(RuntimeError):
        await container.db.write(store_then_fail)
    assert taker.offered == []
