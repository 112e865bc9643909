"""`leaderboard.updated` is coalesced: at most one per board per interval; a change held
back is announced by the sweep once the interval has passed; per-group boards and shared
ranks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.clock import ManualClock
from plaudit.incentives.engine import IncentiveEngine
from plaudit.ingest.transactions import TransactionInput, TransactionLog, TransactionState
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import events_of_type
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import start_campaign

WHEN = datetime(2026, 2, 1, 12, tzinfo=UTC)


async def test_one_event_per_interval_and_the_sweep_catches_up(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada")
    bo = await make_employee(container, env, name="Bo")
    cy = await make_employee(container, env, name="Cy")
    group = await client.post(
        "/api/v1/groups", json={"name": "North", "kind": "team"}, headers=bearer(org)
    )
    group_id = group.json()["id"]
    await client.put(
        f"/api/v1/groups/{group_id}/members",
        json={"employee_ids": [ada.id, cy.id]},
        headers=bearer(org),
    )
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id, cy.id],
        leaderboards=[
            {"rank_by": "revenue", "top_n": 2, "min_interval_s": 60},
            {"rank_by": "attainment", "top_n": 1, "group_id": group_id, "min_interval_s": 60},
        ],
    )
    everyone, north = campaign["leaderboards"]
    # Ahead of the real clock, so the workers' own sweep (real time) finds nothing due.
    clock = ManualClock(container.clock.now() + timedelta(days=1))
    engine = IncentiveEngine(container.event_log, clock)
    log = TransactionLog()  # the test's own log: the app's engine keeps the real clock
    log.subscribe(engine)

    async def load(external_id: str, who: str, value: str) -> None:
        state = TransactionState(who, "revenue", Decimal(value), "EUR", WHEN, {"stage": "won"})
        item = TransactionInput(external_id, "create", state)
        now = clock.now()
        await container.db.write(lambda c: log.apply(c, env, "src_lb", [item], now=now))

    async def boards() -> list[dict[str, Any]]:
        found = await events_of_type(client, org, "leaderboard.updated")
        return [e["data"] for e in reversed(found)]  # oldest first

    await load("T-1", ada.id, "500")
    first = await boards()
    assert [b["leaderboard_id"] for b in first] == [everyone["id"], north["id"]]
    assert first[1]["group_id"] == group_id
    assert [(t["rank"], t["employee"]["id"]) for t in first[1]["top"]] == [(1, ada.id)]

    clock.advance(timedelta(seconds=10))
    await load("T-2", bo.id, "500")  # Bo ties Ada: changed, but inside the interval
    await load("T-3", cy.id, "100")
    assert len(await boards()) == 2
    assert await container.db.write(engine.sweep_pending) == 0  # still inside the interval

    clock.advance(timedelta(seconds=60))
    assert await container.db.write(engine.sweep_pending) == 1
    assert await container.db.write(engine.sweep_pending) == 0
    latest = (await boards())[-1]
    assert latest["leaderboard_id"] == everyone["id"]
    assert [(t["rank"], t["employee"]["id"], t["value"]) for t in latest["top"]] == sorted(
        [(1, ada.id, "500"), (1, bo.id, "500")]
    )
    # A change that leaves the top N as announced raises nothing.
    clock.advance(timedelta(seconds=120))
    await load("T-4", cy.id, "1")
    assert len(await boards()) == 3
