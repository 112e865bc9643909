"""Every milestone is raised exactly once: run twice, run concurrently, die half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import Connection

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.engagement.milestones import MilestoneService
from plaudit.events.log import EventLog
from plaudit.events.models import StoredEvent
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.engagement.milestone_helpers import (
    milestone_events,
    occurrence_rows,
    raised_keys,
)

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
DAY = date(2026, 5, 20)


async def staff(container: Container, org: CreatedOrganization, count: int) -> list[str]:
    """`count` employees per environment, each with an anniversary and a birthday on DAY."""
    ids = []
    for env_id in org.environment_ids.values():
        for i in range(count):
            employee = await make_employee(
                container,
                env_id,
                name=f"Employee {i}",
                hire_date=date(2020 + i % 5, 5, 20),
                birth_date=date(1980 + i, 5, 20),
            )
            ids.append(employee.id)
    return ids


async def assert_each_raised_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization, per_env: int
) -> None:
    for env in Environment:
        events = await milestone_events(client, org, env=env)
        counted = raised_keys(events)
        assert len(counted) == 2 * per_env, counted
        assert set(counted.values()) == {1}, counted
        rows = await occurrence_rows(container, org.environment_ids[env])
        assert len(rows) == 2 * per_env
        assert {row.event_id for row in rows} == {event["id"] for event in events}


async def test_running_twice_raises_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    await staff(container, org, 3)
    scope = list(org.environment_ids.values())
    first = await container.milestones.run_for(DAY, NOW, environment_ids=scope)
    assert first.raised == {"work_anniversary": 6, "birthday": 6}
    again = await container.milestones.run_for(DAY, NOW, environment_ids=scope)
    assert sum(again.raised.values()) == 0
    assert again.already_raised == 12
    # The automatic sweep on the same local day finds them raised too.
    automatic = await container.milestones.run_for(None, NOW, environment_ids=scope)
    assert sum(automatic.raised.values()) == 0
    await assert_each_raised_once(client, container, org, 3)


async def test_concurrent_runs_raise_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    await staff(container, org, 8)
    scope = list(org.environment_ids.values())
    # Two "workers": separate services over the same database, small batches so their
    # transactions interleave (PostgreSQL runs them on separate connections).
    workers = [
        MilestoneService(container.db, container.clock, container.event_log, batch_size=3)
        for _ in range(2)
    ]
    reports = await asyncio.gather(
        *(w.run_for(DAY, NOW, environment_ids=scope) for w in workers),
        container.milestones.run_for(None, NOW, environment_ids=scope),
    )
    assert sum(sum(r.raised.values()) for r in reports) == 32
    assert sum(r.already_raised for r in reports) == 64
    await assert_each_raised_once(client, container, org, 8)


class FailingHook:
    """Fails the transaction of the `fail_on`-th batch of events, as a dying worker would."""

    def __init__(self, fail_on: int) -> None:
        self.calls = 0
        self._fail_on = fail_on

    def __call__(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.calls += 1
        if self.calls == self._fail_on:
            raise RuntimeError("worker died")


async def test_a_run_dying_half_way_loses_and_repeats_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    await staff(container, org, 3)
    scope = [org.environment_ids[Environment.PRODUCTION], org.environment_ids[Environment.STAGING]]
    event_log = EventLog(container.catalog, container.clock, container.operational_catalog)
    hook = FailingHook(fail_on=3)
    event_log.subscribe(hook)
    dying = MilestoneService(container.db, container.clock, event_log, page_size=2, batch_size=2)

    with pytest.raises(RuntimeError, match="worker died"):
        await dying.run_for(DAY, NOW, environment_ids=scope)

    # The two batches before the failure are stored whole; the failed one left nothing.
    rows = [
        row
        for env_id in org.environment_ids.values()
        for row in await occurrence_rows(container, env_id)
    ]
    assert len(rows) == 4
    assert all(row.event_id is not None for row in rows)
    stored = [e for env in Environment for e in await milestone_events(client, org, env=env)]
    assert {e["id"] for e in stored} == {row.event_id for row in rows}

    rerun = await container.milestones.run_for(DAY, NOW, environment_ids=scope)
    assert sum(rerun.raised.values()) == 8
    assert rerun.already_raised == 4
    await assert_each_raised_once(client, container, org, 3)
