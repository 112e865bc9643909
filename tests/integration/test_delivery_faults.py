"""Receivers that hang, reset, babble or never stop; isolation, FIFO, rate limits."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from plaudit.tenancy.models import CreatedOrganization
from tests.integration.delivery_helpers import (
    FAST_RETRIES,
    birthday,
    create_endpoint,
    messages_of,
    only_message,
    publish,
    wait_for_message,
)
from tests.integration.receiver import Receiver


async def test_a_hanging_endpoint_does_not_delay_a_healthy_one(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    hanging = await create_endpoint(
        client, org, receiver.url("/hang"), timeout_s=2, retry_schedule=[0]
    )
    await create_endpoint(client, org, receiver.url("/ok?healthy"))
    started = time.monotonic()
    for i in range(10):
        await publish(client, org, data=birthday(f"usr_{i}"))
    healthy = await receiver.wait_for(10, "/ok", timeout=5)
    assert max(r.at for r in healthy) - started < 1.5  # well before the 2 s timeout ends
    assert len(receiver.for_path("/hang")) >= 1
    for message in await messages_of(client, org, endpoint_id=hanging["id"]):
        failed = await wait_for_message(client, org, message["id"], "failed", timeout=10)
        assert failed["attempts"][0]["outcome"] == "timeout"
        assert 1900 <= failed["attempts"][0]["duration_ms"] < 4000


@pytest.mark.parametrize(
    ("path", "outcome"),
    [
        ("/reset", "connection_error"),
        ("/garbage", "connection_error"),
        ("/status/500", "http_error"),
    ],
)
async def test_misbehaving_receivers_produce_recorded_retryable_attempts(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    receiver: Receiver,
    path: str,
    outcome: str,
) -> None:
    await create_endpoint(client, org, receiver.url(path), retry_schedule=[0, 0.1])
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    failed = await wait_for_message(client, org, message["id"], "failed")
    assert [a["outcome"] for a in failed["attempts"]] == [outcome, outcome]
    assert failed["attempts"][0]["error"] or failed["attempts"][0]["status_code"]


async def test_an_endless_body_is_cut_at_the_cap(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/endless"), timeout_s=5)
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    done = await wait_for_message(client, org, message["id"], "succeeded")
    attempt = done["attempts"][0]
    assert len(attempt["response_body"]) == 4096
    assert attempt["duration_ms"] < 2000


async def test_a_body_that_trickles_forever_ends_at_the_timeout(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/drip"), timeout_s=2, retry_schedule=[0])
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    failed = await wait_for_message(client, org, message["id"], "failed", timeout=10)
    attempt = failed["attempts"][0]
    assert attempt["outcome"] == "timeout"
    assert 1900 <= attempt["duration_ms"] < 4000


async def test_fifo_endpoint_delivers_in_order_one_at_a_time(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(
        client, org, receiver.url("/flaky/1"), fifo=True, retry_schedule=FAST_RETRIES
    )
    event_ids = [await publish(client, org, data=birthday(f"usr_{i}")) for i in range(4)]
    order = [(await only_message(client, org, e))["id"] for e in event_ids]
    requests = await receiver.wait_for(8, "/flaky", timeout=10)
    # Each message fails once then succeeds; the next starts only after that success.
    assert [r.webhook_id for r in requests] == [m for m in order for _ in range(2)]


async def test_fifo_can_be_turned_on_with_a_backlog(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, receiver.url("/ok?fifo"), enabled=False)
    event_ids = [await publish(client, org, data=birthday(f"usr_{i}")) for i in range(5)]
    order = [(await only_message(client, org, e))["id"] for e in event_ids]
    response = await client.patch(
        f"/api/v1/endpoints/{endpoint['id']}",
        json={"fifo": True, "enabled": True},
        headers={"Authorization": f"Bearer {org.keys[next(iter(org.keys))].secret}"},
    )
    assert response.status_code == 200, response.text
    requests = await receiver.wait_for(5, "/ok")
    assert [r.webhook_id for r in requests] == order


async def test_rate_limit_spreads_deliveries(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/ok?limited"), rate_limit_per_s=4)
    for i in range(10):
        await publish(client, org, data=birthday(f"usr_{i}"))
    requests = await receiver.wait_for(10, "/ok", timeout=10)
    times = sorted(r.at for r in requests)
    # A bucket of 4 then 4 per second: ten deliveries need at least ~1.5 s.
    assert times[-1] - times[0] >= 1.3
    # And never more than burst + rate * elapsed within any window.
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < 1.0]
        assert len(in_window) <= 4 + 4 + 1


async def test_bodies_are_the_wire_contract(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/ok?contract"))
    await publish(client, org)
    [request] = await receiver.wait_for(1, "/ok")
    assert set(json.loads(request.body)) == {"type", "timestamp", "data"}
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["user-agent"].startswith("Plaudit")
    await asyncio.sleep(0)
