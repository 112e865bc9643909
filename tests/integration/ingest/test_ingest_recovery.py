"""A request stored but left unprocessed (the process stopped in between) is finished later."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import orjson
from sqlalchemy import func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.ingest.models import load_source
from plaudit.store.ingest_tables import ingest_requests, transactions
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.ingest.helpers import (
    assert_nothing_lost,
    create_source,
    deal,
    receipt,
    source_for_ada,
)


async def test_requests_left_received_are_processed_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    source = await create_source(client, org)
    body = orjson.dumps([deal("D-1", "ada@example.com"), deal("D-2", "ada@example.com")])
    request_id = await store_unprocessed(container, env, source["id"], body)
    assert (await receipt(client, org, request_id))["results"] == []

    assert await container.ingest.recover(timedelta(minutes=1)) >= 1
    done = await receipt(client, org, request_id)
    assert (done["status"], done["loaded"]) == ("processed", 2)
    # Processed once: a second sweep finds nothing of this source to do.
    await container.ingest.recover(timedelta(minutes=1))
    await assert_nothing_lost(client, org, source["id"], sent=2)


async def store_unprocessed(container: Container, env: str, source_id: str, body: bytes) -> str:
    """A request as a process leaves it that stopped between storing and processing it."""
    request_id = new_id("rcp")
    row = {
        "id": request_id,
        "environment_id": env,
        "source_id": source_id,
        "received_at": container.clock.now() - timedelta(minutes=5),
        "headers": [["content-type", "application/json"]],
        "body": body,
        "content_type": "application/json",
        "size": len(body),
        "status": "received",
        "records": 0,
        "loaded": 0,
        "rejected": 0,
        "duplicates": 0,
    }
    await container.db.write(lambda c: c.execute(ingest_requests.insert(), [row]))
    return request_id


async def test_a_request_left_stored_is_processed_once_by_racing_workers(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    """Two workers recovering the same request at once load it once."""
    env, created = await source_for_ada(client, container, org)
    body = orjson.dumps([deal(f"D-{n}", "ada@example.com") for n in range(20)])
    request_id = await store_unprocessed(container, env, created["id"], body)
    source = await container.db.read_with(
        lambda c: load_source(c, source_id=created["id"], environment_id=env)
    )
    assert source is not None
    headers = {"content-type": "application/json"}

    receipts = await asyncio.gather(
        *(
            container.ingest.process(source, request_id, headers, body, "application/json")
            for _ in range(3)
        )
    )

    assert sorted(r.loaded for r in receipts) == [0, 0, 20]
    done = await receipt(client, org, request_id)
    assert (done["status"], done["records"], done["loaded"]) == ("processed", 20, 20)
    assert len(done["results"]) == 20
    stored = await container.db.read_with(
        lambda c: c.execute(
            select(func.count()).where(transactions.c.source_id == created["id"])
        ).scalar_one()
    )
    assert stored == 20
    await container.ingest.recover(timedelta(minutes=1))  # a later sweep: nothing to do
    await assert_nothing_lost(client, org, created["id"], sent=20)
