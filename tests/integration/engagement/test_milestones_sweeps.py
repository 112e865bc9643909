"""Automatic sweeps across every environment: catch-up after downtime and the worker loop.

A whole-database sweep would touch every employee of the shared session database, so
these tests run a container of their own on a fresh database (SQLite file, or a new
PostgreSQL database on the same server) with a hand-moved clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Connection, select

from plaudit.app import build_container
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.engagement.milestone_sweeper import MilestoneSweeper
from plaudit.engagement.milestones import MilestoneService
from plaudit.events.log import EventLog
from plaudit.store import migrate
from plaudit.store.engagement_tables import milestone_runs
from plaudit.store.tables import events
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.test_milestones_exactly_once import FailingHook

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def own(own_database_url: str, clock: ManualClock) -> AsyncIterator[Container]:
    container = build_container(Settings(database_url=SecretStr(own_database_url)), clock=clock)
    await migrate.upgrade(container.db)
    try:
        yield container
    finally:
        await container.db.dispose()


async def milestone_data(container: Container) -> list[tuple[str, str, str]]:
    """(type, employee id, occurred_on) of every milestone event, in the order stored."""

    def read(conn: Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute(
            select(events.c.type, events.c.data)
            .where(events.c.type.like("milestone.%"))
            .order_by(events.c.id)
        )
        return [(r.type, r.data["employee"]["id"], r.data["occurred_on"]) for r in rows]

    return await container.db.read_with(read)


async def run_rows(container: Container) -> list[Any]:
    return await container.db.read_with(
        lambda conn: conn.execute(select(milestone_runs).order_by(milestone_runs.c.run_date)).all()
    )


async def test_sweeps_catch_up_after_downtime_up_to_a_week(
    own: Container, clock: ManualClock
) -> None:
    org = await own.tenancy.create_organization("Catch-up")
    prod = org.environment_ids[Environment.PRODUCTION]
    staging = org.environment_ids[Environment.STAGING]
    today = await make_employee(own, prod, birth_date=date(1990, 6, 1))
    anniversary = await make_employee(own, staging, hire_date=date(2020, 6, 10))
    long_ago = await make_employee(own, prod, birth_date=date(1990, 6, 3))

    first = await own.milestones.run_for()
    assert first.raised == {"birthday": 1}
    # Down for eleven days: the next sweep covers the last week, not the first days.
    clock.set(T0 + timedelta(days=11))
    second = await own.milestones.run_for()
    assert second.raised == {"work_anniversary": 1}
    assert await milestone_data(own) == [
        ("milestone.birthday", today.id, "2026-06-01"),
        ("milestone.work_anniversary", anniversary.id, "2026-06-10"),
    ]
    rows = await run_rows(own)
    assert [(r.run_date, r.status, r.raised) for r in rows] == [
        (date(2026, 6, 1), "finished", 1),
        (date(2026, 6, 12), "finished", 1),
    ]
    assert rows[1].started_at == T0 + timedelta(days=11)

    # Older ones are a backfill by hand.
    backfill = await own.milestones.run_for(date(2026, 6, 3))
    assert backfill.raised == {"birthday": 1}
    assert (await milestone_data(own))[-1] == ("milestone.birthday", long_ago.id, "2026-06-03")


async def test_a_sweep_that_died_is_covered_by_the_next_one(
    own: Container, clock: ManualClock
) -> None:
    org = await own.tenancy.create_organization("Crash")
    env_id = org.environment_ids[Environment.PRODUCTION]
    await own.milestones.run_for()  # the last sweep that finished: 1 June 12:00
    missed = await make_employee(own, env_id, birth_date=date(1990, 6, 4))

    clock.set(T0 + timedelta(days=4))  # 5 June: 4 June is due
    event_log = EventLog(own.catalog, own.clock, own.operational_catalog)
    event_log.subscribe(FailingHook(fail_on=1))
    with pytest.raises(RuntimeError, match="worker died"):
        await MilestoneService(own.db, own.clock, event_log).run_for()
    assert [(r.run_date, r.status) for r in await run_rows(own)] == [
        (date(2026, 6, 1), "finished"),
        (date(2026, 6, 5), "running"),
    ]

    # Two days later "yesterday" is 6 June, but the sweep resumes from 1 June.
    clock.set(T0 + timedelta(days=6))
    resumed = await own.milestones.run_for()
    assert resumed.raised == {"birthday": 1}
    assert await milestone_data(own) == [("milestone.birthday", missed.id, "2026-06-04")]


async def test_the_worker_sweeps_every_interval_and_stops_when_asked(
    own: Container, clock: ManualClock
) -> None:
    org = await own.tenancy.create_organization("Worker")
    env_id = org.environment_ids[Environment.PRODUCTION]
    first = await make_employee(own, env_id, birth_date=date(1990, 6, 1))
    second = await make_employee(own, env_id, birth_date=date(1990, 6, 2))
    sweeper = MilestoneSweeper(own.milestones, interval_s=0.02)
    stopping = asyncio.Event()
    task = asyncio.create_task(sweeper.run(stopping))
    try:
        await wait_for_events(own, 1)
        clock.set(T0 + timedelta(days=1))
        await wait_for_events(own, 2)
        await asyncio.sleep(0.1)  # several more sweeps of the same days
    finally:
        stopping.set()
        await asyncio.wait_for(task, 5)
    assert await milestone_data(own) == [
        ("milestone.birthday", first.id, "2026-06-01"),
        ("milestone.birthday", second.id, "2026-06-02"),
    ]
    assert sweeper.name == "milestones"


async def wait_for_events(container: Container, count: int) -> None:
    for _ in range(250):
        if len(await milestone_data(container)) >= count:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"fewer than {count} milestone events after 5 s")


async def test_every_sweep_also_covers_the_previous_local_day(
    own: Container, clock: ManualClock
) -> None:
    org = await own.tenancy.create_organization("Yesterday")
    env_id = org.environment_ids[Environment.PRODUCTION]
    await own.milestones.run_for()  # finished at 1 June 12:00
    # Added to the directory late, on 1 June, with a birthday on 31 May.
    late = await make_employee(own, env_id, birth_date=date(1990, 5, 31))
    clock.advance(timedelta(hours=1))
    report = await own.milestones.run_for()
    assert report.raised == {"birthday": 1}
    assert await milestone_data(own) == [("milestone.birthday", late.id, "2026-05-31")]
