"""Retention: events, their messages and attempts age out; nothing still in delivery does.

Each test runs Plaudit with its workers on a database of its own (retention deletes by age,
and the clock here jumps months ahead), delivering to a real receiver on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from plaudit.app import create_app
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.events.retention import Pruned, Retention
from plaudit.store.engagement_tables import milestone_occurrences
from plaudit.store.tables import events, message_attempts, messages
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.connect.seed import connect_headers
from tests.integration.delivery_helpers import create_endpoint, publish, wait_for_message
from tests.integration.engagement.factories import make_employee
from tests.integration.receiver import Receiver

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 90
AGED = timedelta(days=DAYS, hours=1)


@dataclass
class Plaudit:
    client: httpx.AsyncClient
    container: Container
    clock: ManualClock
    org: CreatedOrganization

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.org)

    def retention(self, batch: int = 500) -> Retention:
        return Retention(self.container.db, self.clock, days=DAYS, batch=batch)

    async def count(self, table: Any, *conditions: Any) -> int:
        async with self.container.db.read() as conn:
            query = select(func.count()).select_from(table).where(*conditions)
            return int((await conn.execute(query)).scalar_one())


def _settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=SecretStr(database_url),
        outbound_allow_http=True,
        outbound_allow_cidrs="127.0.0.0/8",
        delivery_poll_interval_s=0.05,
        retention_days=DAYS,
        **overrides,
    )


@asynccontextmanager
async def _running(database_url: str, **overrides: Any) -> AsyncIterator[Plaudit]:
    clock = ManualClock(T0)
    app = create_app(_settings(database_url, **overrides), clock=clock)
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        org = await container.tenancy.create_organization("Retention Org")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as http:
            yield Plaudit(http, container, clock, org)


@pytest.fixture
async def plaudit(own_database_url: str) -> AsyncIterator[Plaudit]:
    async with _running(own_database_url) as running:
        yield running


async def _delivered_and_failed(p: Plaudit, receiver: Receiver) -> tuple[str, str, str]:
    """One event delivered to one endpoint and failed (one attempt, exhausted) at another.
    The failure raises a second event, the `message.attempt.exhausted` notice."""
    good = await create_endpoint(p.client, p.org, receiver.url("/ok"))
    await create_endpoint(p.client, p.org, receiver.url("/status/500"), retry_schedule=[0])
    event_id = await publish(p.client, p.org)
    found = await _messages(p, event_id)
    by_endpoint = {m["endpoint_id"]: m["id"] for m in found}
    delivered = by_endpoint.pop(good["id"])
    (failed,) = by_endpoint.values()
    await wait_for_message(p.client, p.org, delivered, "succeeded")
    await wait_for_message(p.client, p.org, failed, "failed")
    return event_id, delivered, failed


async def _messages(p: Plaudit, event_id: str) -> list[dict[str, Any]]:
    response = await p.client.get(
        "/api/v1/messages", params={"event_id": event_id}, headers=p.headers
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def test_an_aged_event_goes_with_its_messages_and_attempts(
    plaudit: Plaudit, receiver: Receiver
) -> None:
    p = plaudit
    old_event, delivered, failed = await _delivered_and_failed(p, receiver)
    p.clock.advance(AGED - timedelta(hours=2))
    recent_event = await publish(p.client, p.org)  # inside the period when pruned below
    await receiver.wait_for(2, "/ok")

    p.clock.advance(timedelta(hours=2))
    pruned = await p.retention().prune()

    assert pruned == Pruned(events=2, messages=2, attempts=2)
    for path in (
        f"/api/v1/events/{old_event}",
        f"/api/v1/messages/{delivered}",
        f"/api/v1/messages/{failed}",
    ):
        response = await p.client.get(path, headers=p.headers)
        assert response.status_code == 404, (path, response.text)
    assert (
        await p.count(message_attempts, message_attempts.c.message_id.in_([delivered, failed])) == 0
    )
    # The newer event and its delivery history are untouched.
    assert (
        await p.client.get(f"/api/v1/events/{recent_event}", headers=p.headers)
    ).status_code == 200
    assert len(await _messages(p, recent_event)) == 2
    # Nothing more has aged: a second run deletes nothing.
    assert await p.retention().prune() == Pruned()


async def test_an_event_still_in_delivery_is_kept_until_its_messages_settle(
    plaudit: Plaudit, receiver: Receiver
) -> None:
    p = plaudit
    # A disabled endpoint's messages wait, pending, for as long as it stays disabled.
    waiting = await create_endpoint(p.client, p.org, receiver.url("/ok"), enabled=False)
    event_id = await publish(p.client, p.org)
    (message,) = await _messages(p, event_id)
    p.clock.advance(AGED)

    assert await p.retention().prune() == Pruned()
    assert (await p.client.get(f"/api/v1/events/{event_id}", headers=p.headers)).status_code == 200

    response = await p.client.patch(
        f"/api/v1/endpoints/{waiting['id']}", json={"enabled": True}, headers=p.headers
    )
    assert response.status_code == 200, response.text
    await wait_for_message(p.client, p.org, message["id"], "succeeded")
    # Delivered just now: it stays a full period from this attempt.
    assert await p.retention().prune() == Pruned()
    p.clock.advance(AGED)
    assert await p.retention().prune() == Pruned(events=1, messages=1, attempts=1)


async def test_an_event_with_one_pending_message_keeps_its_settled_ones_too(
    plaudit: Plaudit, receiver: Receiver
) -> None:
    # The event, its delivery history and its pending message stay together until all settle.
    p = plaudit
    await create_endpoint(p.client, p.org, receiver.url("/ok"))
    await create_endpoint(p.client, p.org, receiver.url("/ok"), enabled=False)
    event_id = await publish(p.client, p.org)

    async def statuses() -> set[str]:
        return {m["status"] for m in await _messages(p, event_id)}

    await _until(statuses, {"succeeded", "pending"})
    p.clock.advance(AGED)

    assert await p.retention().prune() == Pruned()
    assert await statuses() == {"succeeded", "pending"}
    assert await p.count(message_attempts) == 1


async def test_large_backlogs_are_pruned_in_batches(plaudit: Plaudit, receiver: Receiver) -> None:
    p = plaudit
    await _aged_deliveries(p, receiver, 7)

    assert await p.retention(batch=3).prune() == Pruned(events=7, messages=7, attempts=7)
    assert await p.count(events) == 0
    assert await p.count(messages) == 0


async def test_a_pruned_message_or_event_cannot_be_resent_or_replayed(
    plaudit: Plaudit, receiver: Receiver
) -> None:
    p = plaudit
    event_id, _delivered, failed = await _delivered_and_failed(p, receiver)
    p.clock.advance(AGED)
    await p.retention().prune()

    resend = await p.client.post(f"/api/v1/messages/{failed}/resend", headers=p.headers)
    assert resend.status_code == 404, resend.text
    replay = await p.client.post(f"/api/v1/events/{event_id}/replay", headers=p.headers)
    assert replay.status_code == 404, replay.text


async def test_a_resent_message_stays_a_full_period_after_its_last_attempt(
    plaudit: Plaudit, receiver: Receiver
) -> None:
    p = plaudit
    event_id, _delivered, failed = await _delivered_and_failed(p, receiver)
    p.clock.advance(AGED)
    # The endpoint still fails: the resent message is tried again now, and fails again.
    resend = await p.client.post(f"/api/v1/messages/{failed}/resend", headers=p.headers)
    assert resend.status_code == 202, resend.text
    await receiver.wait_for(2, "/status/500")
    await wait_for_message(p.client, p.org, failed, "failed")

    # Only the first exhaustion's notice goes: it has no messages of its own.
    assert await p.retention().prune() == Pruned(events=1)
    assert len(await _messages(p, event_id)) == 2

    # The event, and what the second failure raised: its exhaustion notice and, the endpoint
    # having failed since T0, `endpoint.disabled`.
    p.clock.advance(AGED)
    assert await p.retention().prune() == Pruned(events=3, messages=2, attempts=3)


async def test_a_resend_racing_the_pruner_keeps_its_message(
    plaudit: Plaudit, is_postgres: bool, receiver: Receiver
) -> None:
    # A resend that has restarted the message but not yet committed when the pruner reaches
    # it: the pruner waits for it and then keeps the message, never deleting it after the fact.
    if not is_postgres:
        pytest.skip("SQLite has one writer: a resend and the pruner never overlap")
    p = plaudit
    event_id, delivered, failed = await _delivered_and_failed(p, receiver)
    p.clock.advance(AGED)
    async with p.container.db.transaction() as resend:
        await resend.execute(
            update(messages)
            .where(messages.c.id == failed)
            .values(status="pending", next_attempt_at=p.clock.now() + timedelta(days=1))
        )
        pruning = asyncio.ensure_future(p.retention().prune())
        await asyncio.sleep(0.3)
        assert not pruning.done()  # waiting for the resend's row lock
    pruned = await pruning

    assert pruned == Pruned(events=1)  # only the exhaustion notice: the event stays whole
    kept = {m["id"]: m["status"] for m in await _messages(p, event_id)}
    assert kept == {delivered: "succeeded", failed: "pending"}


async def test_finished_recovery_jobs_age_out(plaudit: Plaudit, receiver: Receiver) -> None:
    p = plaudit
    bad = await create_endpoint(p.client, p.org, receiver.url("/status/500"), retry_schedule=[0])
    event_id = await publish(p.client, p.org)
    (message,) = await _messages(p, event_id)
    await wait_for_message(p.client, p.org, message["id"], "failed")
    started = await p.client.post(
        f"/api/v1/endpoints/{bad['id']}/recover",
        json={"since": (T0 - timedelta(days=1)).isoformat()},
        headers=p.headers,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    await _until(lambda: _job_status(p, job_id), "succeeded")
    await wait_for_message(p.client, p.org, message["id"], "failed")
    p.clock.advance(AGED)

    # The event and the notices of both exhaustions.
    assert await p.retention().prune() == Pruned(events=3, messages=1, attempts=2, jobs=1)
    assert (await p.client.get(f"/api/v1/jobs/{job_id}", headers=p.headers)).status_code == 404


async def test_aged_events_leave_the_connect_feed_and_a_cursor_past_them_still_works(
    plaudit: Plaudit,
) -> None:
    p = plaudit
    headers = await connect_headers(p.container, p.org)
    feed_type = "shoutout.posted"
    example = dict(p.container.catalog.get(feed_type).example)

    async def publish_one() -> str:
        response = await p.client.post(
            "/api/v1/events", json={"type": feed_type, "data": example}, headers=p.headers
        )
        assert response.status_code == 202, response.text
        event_id: str = response.json()["id"]
        return event_id

    async def feed(after: str | None = None) -> dict[str, Any]:
        params = {"type": feed_type, **({"after": after} if after else {})}
        response = await p.client.get("/connect/v1/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ids(after: str | None = None) -> list[str]:
        return [event["id"] for event in (await feed(after))["data"]]

    # On PostgreSQL the feed holds an event back while an older write transaction is open
    # anywhere on the server (see the Connect feed's tests): wait for it as a poller would.
    old = await publish_one()
    await _until(ids, [old])
    cursor = (await feed())["next_cursor"]
    p.clock.advance(AGED)
    new = await publish_one()
    assert (await p.retention().prune()).events == 1

    await _until(ids, [new])  # from the start: the aged event is gone
    await _until(lambda: ids(cursor), [new])  # a cursor taken before the pruning still works


async def test_a_milestone_occurrence_outlives_its_event_and_is_still_raised_once(
    plaudit: Plaudit,
) -> None:
    p = plaudit
    env = p.org.environment_ids[Environment.PRODUCTION]
    await make_employee(p.container, env, birth_date=date(1990, T0.month, T0.day))
    await p.container.milestones.run_for(T0.date())
    linked = milestone_occurrences.c.event_id.isnot(None)
    assert await p.count(milestone_occurrences, linked) == 1
    p.clock.advance(AGED)

    assert await p.retention().prune() == Pruned(events=1)
    assert await p.count(milestone_occurrences, ~linked) == 1
    again = await p.container.milestones.run_for(T0.date())
    assert again.to_json()["raised"]["birthday"] == 0
    assert await p.count(events) == 0


async def test_retention_off_keeps_everything(plaudit: Plaudit, receiver: Receiver) -> None:
    p = plaudit
    await create_endpoint(p.client, p.org, receiver.url("/ok"))
    await publish(p.client, p.org)
    await receiver.wait_for(1, "/ok")
    await _settled(p)
    p.clock.advance(timedelta(days=3650))

    off = Retention(p.container.db, p.clock, days=0)
    assert not off.enabled
    assert await off.prune() == Pruned()
    assert (await p.count(events), await p.count(messages)) == (1, 1)


async def test_workers_prune_on_their_own_and_count_it(
    own_database_url: str, receiver: Receiver
) -> None:
    async with _running(own_database_url, retention_interval_s=0.05) as p:
        await create_endpoint(p.client, p.org, receiver.url("/ok"))
        event_id = await publish(p.client, p.org)
        (message,) = await _messages(p, event_id)
        await wait_for_message(p.client, p.org, message["id"], "succeeded")
        p.clock.advance(AGED)
        await _until(lambda: p.count(events), 0)
        metrics = (await p.client.get("/metrics")).text
    assert 'plaudit_retention_deleted_total{kind="events"} 1.0' in metrics
    assert 'plaudit_retention_deleted_total{kind="attempts"} 1.0' in metrics


async def test_two_workers_pruning_at_once_delete_each_row_once(
    plaudit: Plaudit, is_postgres: bool, receiver: Receiver
) -> None:
    if not is_postgres:
        pytest.skip("SQLite has one writer: pruning runs one batch at a time anyway")
    p = plaudit
    await _aged_deliveries(p, receiver, 40)

    runs = await asyncio.gather(*(p.retention(batch=5).prune() for _ in range(3)))
    rest = await p.retention().prune()
    assert sum(runs, Pruned()) + rest == Pruned(events=40, messages=40, attempts=40)


async def _aged_deliveries(p: Plaudit, receiver: Receiver, count: int) -> None:
    """`count` events delivered to one endpoint, then aged past the period."""
    await create_endpoint(p.client, p.org, receiver.url("/ok"))
    for _ in range(count):
        await publish(p.client, p.org)
    await receiver.wait_for(count, "/ok")
    await _settled(p)
    p.clock.advance(AGED)


async def _settled(p: Plaudit) -> None:
    await _until(lambda: p.count(messages, messages.c.status == "pending"), 0)


async def _job_status(p: Plaudit, job_id: str) -> str:
    response = await p.client.get(f"/api/v1/jobs/{job_id}", headers=p.headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def _until(read: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (value := await read()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        await asyncio.sleep(0.05)
