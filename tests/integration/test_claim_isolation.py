"""An endpoint that cannot take messages now (disabled, paused, saturated) never holds up
the others, however large its backlog: its due messages are skipped without being walked.

On a database of its own (no session dispatcher claiming), with tiny claim limits so a
backlog of a few thousand is many times the claim's window.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text, update

from plaudit.app_container import Container
from plaudit.delivery.claim_queries import due_by_endpoint, due_in_window
from plaudit.delivery.claims import PG_INDEXES_ONLY, Claimer, ClaimLimits
from plaudit.delivery.endpoint_models import EndpointSpec
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.domain.event_catalog import default_catalog
from plaudit.events.models import EventDraft
from plaudit.store.tables import endpoints
from tests.integration.delivery_helpers import own_plaudit
from tests.integration.postgres_plans import plan_of, rows_read

LIMITS = ClaimLimits(batch=4, per_endpoint=4, lease=timedelta(seconds=60))
CLOGGED_TYPE = "milestone.work_anniversary"
HEALTHY_TYPE = "milestone.birthday"


@dataclass
class Setup:
    container: Container
    clock: ManualClock
    environment_id: str
    clogged: str
    healthy: str

    async def publish(self, event_type: str, count: int) -> None:
        drafts = [EventDraft(event_type, _data(event_type))] * count
        for start in range(0, count, 500):
            async with self.container.db.transaction() as conn:
                await self.container.event_log.append_many(
                    conn, self.environment_id, drafts[start : start + 500]
                )

    async def set_clogged(self, **values: Any) -> None:
        async with self.container.db.transaction() as conn:
            await conn.execute(
                update(endpoints).where(endpoints.c.id == self.clogged).values(**values)
            )

    async def claim(self, saturated: tuple[str, ...] = ()) -> list[str]:
        claimer = Claimer(self.container.db, self.clock, LIMITS)
        claimed = await claimer.claim("w1", LIMITS.batch, saturated)
        return [m.endpoint_id for m in claimed.messages]


def _data(event_type: str) -> dict[str, Any]:
    return dict(default_catalog().get(event_type).example)


@pytest.fixture
async def setup(own_database_url: str) -> AsyncIterator[Setup]:
    clock = ManualClock(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    async with own_plaudit(own_database_url, clock) as container:
        org = await container.tenancy.create_organization("Isolation")
        env = org.environment_ids[Environment.PRODUCTION]
        clogged, _ = await container.endpoints.create(
            env, EndpointSpec(url="http://127.0.0.1:9/clogged", event_types=[CLOGGED_TYPE])
        )
        healthy, _ = await container.endpoints.create(
            env, EndpointSpec(url="http://127.0.0.1:9/healthy", event_types=[HEALTHY_TYPE])
        )
        yield Setup(container, clock, env, clogged.id, healthy.id)


@pytest.mark.parametrize("state", ["disabled", "paused", "saturated", "failing and probed"])
async def test_a_clogged_endpoint_never_keeps_the_others_waiting(setup: Setup, state: str) -> None:
    await setup.publish(CLOGGED_TYPE, 200)  # 25 times the claim's window
    setup.clock.advance(timedelta(seconds=1))
    await setup.publish(HEALTHY_TYPE, 3)
    saturated: tuple[str, ...] = ()
    if state == "disabled":
        await setup.set_clogged(enabled=False)
    elif state == "paused":
        await setup.set_clogged(paused_until=setup.clock.now() + timedelta(minutes=1))
    elif state == "saturated":
        saturated = (setup.clogged,)
    else:  # failing: probed one message at a time, so the claim has room for the others
        await setup.set_clogged(consecutive_failures=9)

    claimed = await setup.claim(saturated)

    healthy = [endpoint for endpoint in claimed if endpoint == setup.healthy]
    assert len(healthy) == 3, claimed
    assert claimed.count(setup.clogged) == (1 if state == "failing and probed" else 0)


async def test_a_claim_does_the_same_work_whatever_the_clogged_backlog(
    setup: Setup, is_postgres: bool
) -> None:
    # SQLite counts the virtual machine steps of a claim: deterministic, unlike time.
    if is_postgres:
        pytest.skip("PostgreSQL's plan is checked in the next test")
    await setup.set_clogged(enabled=False)
    work = []
    for added in (100, 1900):  # a backlog of 100, then of 2000
        await setup.publish(CLOGGED_TYPE, added)
        await setup.publish(HEALTHY_TYPE, 3)
        async with _sqlite_steps(setup.container) as steps:
            assert await setup.claim() == [setup.healthy] * 3
        work.append(steps[0])
    small, large = work
    assert large < small * 1.5, work  # 20 times the backlog, about the same work


async def test_on_postgresql_the_claim_reads_only_ready_endpoints_messages(
    setup: Setup, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("SQLite is checked in the previous test")
    await setup.publish(CLOGGED_TYPE, 2000)
    await setup.set_clogged(enabled=False)
    # Statistics gathered before the healthy endpoint had messages, as autovacuum may
    # have: with an `=` on the endpoint, PostgreSQL then judged the due index, filtered
    # for the endpoint, the quick way to its messages, and walked the whole backlog.
    async with setup.container.db.transaction() as conn:
        await conn.execute(text("ANALYZE messages"))
    await setup.publish(HEALTHY_TYPE, 3)
    params = {  # a worker's defaults: the planner weighs a larger LIMIT differently
        "c_now": setup.clock.now(),
        "c_limit": 1024,
        "c_per_endpoint": 512,
        "c_saturated": [],
        "c_endpoint": None,
    }
    async with setup.container.db.transaction() as conn:
        plan = await plan_of(conn, due_by_endpoint("postgresql", False), params)
    read = rows_read(plan, "messages")
    assert read <= 3, read  # the healthy endpoint's three, none of the 2000


async def test_on_postgresql_the_window_reads_no_more_than_its_size(
    setup: Setup, is_postgres: bool
) -> None:
    # Under the claim's own planner settings (indexes only: with statistics stale enough,
    # bench/claims.py saw the planner fetch all 100 000 due rows through a bitmap and sort
    # them, 50-80 ms a claim), the window is an ordered walk that stops at its size.
    if not is_postgres:
        pytest.skip("SQLite walks the due index in order by itself")
    await setup.publish(CLOGGED_TYPE, 2000)
    await setup.set_clogged(enabled=False)
    params = {
        "c_now": setup.clock.now(),
        "c_limit": 4,
        "c_window": 8,
        "c_per_endpoint": 4,
        "c_saturated": [],
    }
    async with setup.container.db.transaction() as conn:
        await conn.execute(PG_INDEXES_ONLY)
        plan = await plan_of(conn, due_in_window("postgresql"), params)
    assert rows_read(plan, "messages") == 8


@asynccontextmanager
async def _sqlite_steps(container: Container) -> AsyncIterator[list[int]]:
    """Counts the SQLite writer's virtual machine steps, in tens (SQLite counts them per
    statement run), meanwhile."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0  # carry on

    def handler(on: bool) -> Callable[[Connection], None]:
        def set_handler(conn: Connection) -> None:
            raw: Any = conn.connection.dbapi_connection
            raw.set_progress_handler(tick if on else None, 10)

        return set_handler

    await container.db.write(handler(True))
    try:
        yield counted
    finally:
        await container.db.write(handler(False))
