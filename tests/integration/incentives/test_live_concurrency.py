"""Loads racing for the same participants (parallel pushes to two sources) lose no update:
the live numbers still equal a full recompute (on PostgreSQL the loads really overlap)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.incentives.helpers import start_campaign
from tests.integration.incentives.test_live_progress import live_and_recomputed
from tests.integration.ingest.helpers import create_source, deal, push


async def test_parallel_loads_for_one_participant_lose_nothing(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    ada = await make_employee(container, env, name="Ada", email="ada@example.com")
    bo = await make_employee(container, env, name="Bo", email="bo@example.com")
    campaign = await start_campaign(
        client,
        org,
        [ada.id, bo.id],
        metrics=[
            {"key": "revenue", "source_metric": "revenue", "aggregation": "sum", "target": "1"},
            {"key": "biggest", "source_metric": "revenue", "aggregation": "max", "target": "1"},
        ],
    )
    sources = [await create_source(client, org, name=f"CRM {n}") for n in range(2)]

    async def send(n: int) -> None:
        source = sources[n % 2]
        answer = await push(
            client,
            source,
            [
                deal(f"D-{n}-a", "ada@example.com", n + 1),
                deal(f"D-{n}-b", "bo@example.com", 2 * n + 1),
            ],
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["accepted"] == 2, answer.text

    await asyncio.gather(*(send(n) for n in range(24)))
    live, fresh = await live_and_recomputed(container, campaign["id"])
    assert live == fresh
    by_metric = {(key[2], key[3]): value for key, value in live.items()}
    assert by_metric[(ada.id, "revenue")] == Decimal(sum(range(1, 25)))
    assert by_metric[(bo.id, "biggest")] == Decimal(47)
