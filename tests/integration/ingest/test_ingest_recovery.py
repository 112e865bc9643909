"""A request stored but left unprocessed (the process stopped in between) is finished later."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.domain.ids import new_id
from plaudit.store.ingest_tables import ingest_requests
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.engagement.factories import make_employee
from tests.integration.ingest.helpers import assert_nothing_lost, create_source, deal, receipt


async def test_requests_left_received_are_processed_once(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    source = await create_source(client, org)
    body = orjson.dumps([deal("D-1", "ada@example.com"), deal("D-2", "ada@example.com")])
    request_id = new_id("rcp")
    stored_at = container.clock.now() - timedelta(minutes=5)
    row = {
        "id": request_id,
        "environment_id": env,
        "source_id": source["id"],
        "received_at": stored_at,
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
    assert (await receipt(client, org, request_id))["results"] == []

    assert await container.ingest.recover(timedelta(minutes=1)) >= 1
    done = await receipt(client, org, request_id)
    assert (done["status"], done["loaded"]) == ("processed", 2)
    # Processed once: a second sweep finds nothing of this source to do.
    await container.ingest.recover(timedelta(minutes=1))
    await assert_nothing_lost(client, org, source["id"], sent=2)
