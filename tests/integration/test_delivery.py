"""Outbound delivery end to end: real app, real database, real receivers on loopback."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest
import trustme
from standardwebhooks.webhooks import Webhook

from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import (
    FAST_RETRIES,
    birthday,
    create_endpoint,
    events_of_type,
    messages_of,
    only_message,
    publish,
    wait_for_message,
)
from tests.integration.receiver import Receiver


@pytest.fixture
async def tls_receiver(tls_ca: trustme.CA) -> AsyncIterator[Receiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = await Receiver().start(tls=context)
    yield server
    await server.stop()


async def test_event_arrives_signed_over_tls_and_verifies_with_the_reference_library(
    client: httpx.AsyncClient, org: CreatedOrganization, tls_receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, tls_receiver.url("/ok"))
    assert endpoint["secret"].startswith("whsec_")
    event_id = await publish(client, org)
    [request] = await tls_receiver.wait_for(1)
    body = json.loads(request.body)
    assert body["type"] == "milestone.birthday"
    assert body["data"] == birthday()
    assert body["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    verified = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert verified == body
    message = await only_message(client, org, event_id)
    assert request.webhook_id == message["id"]
    done = await wait_for_message(client, org, message["id"], "succeeded")
    assert done["attempts"][0]["status_code"] == 200
    assert done["attempts"][0]["outcome"] == "success"


async def test_fan_out_creates_one_message_per_matching_endpoint_in_the_event_transaction(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    everything = await create_endpoint(client, org, receiver.url("/ok?all"))
    birthdays = await create_endpoint(
        client, org, receiver.url("/ok?birthdays"), event_types=["milestone.birthday"]
    )
    surveys = await create_endpoint(
        client, org, receiver.url("/ok?surveys"), event_types=["survey.published"]
    )
    event_id = await publish(client, org)
    # Rows exist as soon as the publish call returns: they were written with the event.
    created = await messages_of(client, org, event_id=event_id)
    assert {m["endpoint_id"] for m in created} == {everything["id"], birthdays["id"]}
    assert surveys["id"] not in {m["endpoint_id"] for m in created}
    await receiver.wait_for(2)


async def test_staging_endpoints_never_see_production_events(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    from plaudit.domain.api_keys import Environment

    response = await client.post(
        "/api/v1/endpoints",
        json={"url": receiver.url("/ok?staging")},
        headers=bearer(org, Environment.STAGING),
    )
    assert response.status_code == 201
    await publish(client, org)
    staging_messages = await client.get(
        "/api/v1/messages", headers=bearer(org, Environment.STAGING)
    )
    assert staging_messages.json()["data"] == []


async def test_failures_retry_with_the_same_webhook_id_until_success(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/flaky/2"), retry_schedule=FAST_RETRIES)
    event_id = await publish(client, org)
    requests = await receiver.wait_for(3, "/flaky")
    assert len({r.webhook_id for r in requests}) == 1
    message = await only_message(client, org, event_id)
    done = await wait_for_message(client, org, message["id"], "succeeded")
    assert [a["status_code"] for a in done["attempts"]] == [500, 500, 200]
    assert [a["attempt"] for a in done["attempts"]] == [1, 2, 3]
    assert done["attempts"][0]["response_body"] == "flaky"


async def test_cookies_a_receiver_sets_are_never_sent_back(
    client: httpx.AsyncClient, org: CreatedOrganization, tls_receiver: Receiver
) -> None:
    # A host name, not an IP address: a default cookie jar would keep this cookie.
    await create_endpoint(client, org, tls_receiver.url("/cookie"))
    await publish(client, org)
    await tls_receiver.wait_for(1, "/cookie")
    await publish(client, org)
    requests = await tls_receiver.wait_for(2, "/cookie")
    assert all("cookie" not in r.headers for r in requests)


async def test_exhausted_message_is_failed_and_reported_then_recovered_by_resend(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    watcher = await create_endpoint(
        client,
        org,
        receiver.url("/ok?ops"),
        event_types=["message.attempt.exhausted", "message.attempt.recovered"],
    )
    endpoint = await create_endpoint(
        client, org, receiver.url("/status/500"), retry_schedule=[0, 0.1]
    )
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    failed = await wait_for_message(client, org, message["id"], "failed")
    assert len(failed["attempts"]) == 2
    [exhausted] = await events_of_type(client, org, "message.attempt.exhausted")
    assert exhausted["data"]["message_id"] == message["id"]
    assert exhausted["data"]["attempts"] == 2
    assert exhausted["data"]["last_status_code"] == 500
    ops = await receiver.wait_for(1, "/ok")
    assert json.loads(ops[0].body)["type"] == "message.attempt.exhausted"
    assert watcher["id"] != endpoint["id"]

    # The receiver is fixed; a resend delivers with the same webhook-id.
    patched = await client.patch(
        f"/api/v1/endpoints/{endpoint['id']}",
        json={"url": receiver.url("/ok?fixed")},
        headers=bearer(org),
    )
    assert patched.status_code == 200, patched.text
    resent = await client.post(f"/api/v1/messages/{message['id']}/resend", headers=bearer(org))
    assert resent.status_code == 202
    await wait_for_message(client, org, message["id"], "succeeded")
    fixed = [r for r in receiver.requests if r.path == "/ok" and r.webhook_id == message["id"]]
    assert len(fixed) == 1
    [recovered] = await events_of_type(client, org, "message.attempt.recovered")
    assert recovered["data"]["message_id"] == message["id"]


async def test_gone_disables_the_endpoint_and_reenabling_resumes(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, receiver.url("/status/410"))
    await publish(client, org)
    await receiver.wait_for(1, "/status/410")
    for _ in range(100):
        current = (
            await client.get(f"/api/v1/endpoints/{endpoint['id']}", headers=bearer(org))
        ).json()
        if not current["enabled"]:
            break
        await __import__("asyncio").sleep(0.05)
    assert current["enabled"] is False
    assert current["disabled_reason"] == "gone"
    [disabled] = await events_of_type(client, org, "endpoint.disabled")
    assert disabled["data"]["endpoint_id"] == endpoint["id"]
    assert disabled["data"]["reason"] == "gone"

    # While disabled nothing is sent; the message waits. Fix and re-enable: it arrives.
    second = await publish(client, org)
    message = await only_message(client, org, second)
    assert message["status"] == "pending"
    response = await client.patch(
        f"/api/v1/endpoints/{endpoint['id']}",
        json={"enabled": True, "url": receiver.url("/ok?back")},
        headers=bearer(org),
    )
    assert response.json()["enabled"] is True
    assert response.json()["disabled_reason"] is None
    await wait_for_message(client, org, message["id"], "succeeded")


async def test_redirects_are_failures_and_never_followed(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/status/302"), retry_schedule=[0])
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    failed = await wait_for_message(client, org, message["id"], "failed")
    assert [a["outcome"] for a in failed["attempts"]] == ["redirect"]
    assert failed["attempts"][0]["response_headers"]["location"] == "/status/302"
    assert len(receiver.for_path("/status/302")) == 1


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    await create_endpoint(client, org, receiver.url("/throttle/1"), retry_schedule=FAST_RETRIES)
    await publish(client, org)
    first, second = await receiver.wait_for(2, "/throttle", timeout=10)
    assert second.at - first.at >= 0.95


async def test_field_selection_shapes_the_body_and_the_signature_covers_it(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(
        client, org, receiver.url("/ok?fields"), fields={"exclude": ["data.employee.email"]}
    )
    await publish(client, org)
    [request] = await receiver.wait_for(1, "/ok")
    body = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert "email" not in body["data"]["employee"]
    assert body["data"]["employee"]["name"] == "Ada"


async def test_template_shapes_the_body(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    template = '{"kind": type, "who": data.employee.email, "on": data.occurred_on}'
    endpoint = await create_endpoint(client, org, receiver.url("/ok?tpl"), template=template)
    await publish(client, org)
    [request] = await receiver.wait_for(1, "/ok")
    body = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert body == {"kind": "milestone.birthday", "who": "ada@example.com", "on": "2026-12-04"}


async def test_rotated_secret_signs_beside_the_old_one(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, receiver.url("/ok?rot"))
    rotated = await client.post(
        f"/api/v1/endpoints/{endpoint['id']}/secret/rotate",
        json={"overlap_s": 3600},
        headers=bearer(org),
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    await publish(client, org)
    [request] = await receiver.wait_for(1, "/ok")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint["secret"]).verify(request.body, request.headers)
    Webhook(new_secret).verify(request.body, request.headers)
    current = await client.get(f"/api/v1/endpoints/{endpoint['id']}/secret", headers=bearer(org))
    assert current.json()["secret"] == new_secret


async def test_test_event_goes_to_that_endpoint_only_marked_as_test(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    target = await create_endpoint(client, org, receiver.url("/ok?target"))
    await create_endpoint(client, org, receiver.url("/ok?bystander"))
    response = await client.post(
        f"/api/v1/endpoints/{target['id']}/test",
        json={"event_type": "recognition.awarded"},
        headers=bearer(org),
    )
    assert response.status_code == 202, response.text
    [request] = await receiver.wait_for(1, "/ok")
    assert request.headers["plaudit-test"] == "true"
    body = Webhook(target["secret"]).verify(request.body, request.headers)
    assert body["type"] == "recognition.awarded"
    assert body["data"]["receivers"]
    assert len(await messages_of(client, org)) == 1


async def test_replay_event_to_one_endpoint(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    first = await create_endpoint(client, org, receiver.url("/ok?first"))
    event_id = await publish(client, org)
    await receiver.wait_for(1, "/ok")
    late = await create_endpoint(client, org, receiver.url("/ok?late"))
    replay = await client.post(
        f"/api/v1/events/{event_id}/replay", json={"endpoint_id": late["id"]}, headers=bearer(org)
    )
    assert replay.status_code == 202, replay.text
    [message_id] = replay.json()["message_ids"]
    await wait_for_message(client, org, message_id, "succeeded")
    replay_all = await client.post(f"/api/v1/events/{event_id}/replay", headers=bearer(org))
    assert len(replay_all.json()["message_ids"]) == 2
    await receiver.wait_for(4, "/ok")
    again = [r for r in receiver.requests if r.webhook_id == message_id]
    assert len(again) == 2  # the replay kept the webhook-id, so the receiver can dedupe
    assert first["id"] != late["id"]


async def test_recover_job_resends_every_failed_message_with_progress(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, org, receiver.url("/status/500"), retry_schedule=[0])
    event_ids = [await publish(client, org, data=birthday(f"usr_{i}")) for i in range(5)]
    for event_id in event_ids:
        message = await only_message(client, org, event_id)
        await wait_for_message(client, org, message["id"], "failed")
    await client.patch(
        f"/api/v1/endpoints/{endpoint['id']}",
        json={"url": receiver.url("/ok?recovered")},
        headers=bearer(org),
    )
    started = await client.post(
        f"/api/v1/endpoints/{endpoint['id']}/recover",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=bearer(org),
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    for _ in range(200):
        job = (await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(org))).json()
        if job["status"] == "succeeded":
            break
        await __import__("asyncio").sleep(0.05)
    assert job["status"] == "succeeded"
    assert job["total"] == 5
    assert job["processed"] == 5
    await receiver.wait_for(5, "/ok")


async def test_attempts_and_stats(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(
        client, org, receiver.url("/flaky/1"), retry_schedule=FAST_RETRIES
    )
    event_id = await publish(client, org)
    message = await only_message(client, org, event_id)
    await wait_for_message(client, org, message["id"], "succeeded")
    attempts = await client.get(f"/api/v1/endpoints/{endpoint['id']}/attempts", headers=bearer(org))
    assert [a["status_code"] for a in attempts.json()["data"]] == [200, 500]
    failed_only = await client.get(
        f"/api/v1/endpoints/{endpoint['id']}/attempts",
        params={"status_code": 500},
        headers=bearer(org),
    )
    assert len(failed_only.json()["data"]) == 1
    stats = (
        await client.get(f"/api/v1/endpoints/{endpoint['id']}/stats", headers=bearer(org))
    ).json()
    assert stats["attempts"] == 2
    assert stats["success_rate"] == 0.5
    assert stats["latency_ms"]["p50"] is not None
    assert stats["backlog"] == 0


async def test_delivery_metrics_are_exported(
    client: httpx.AsyncClient, org: CreatedOrganization, receiver: Receiver
) -> None:
    def sample(text: str, name: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(name)]
        assert lines, f"{name} missing from /metrics"
        return float(lines[0].rsplit(" ", 1)[1])

    before = (await client.get("/metrics")).text
    await create_endpoint(client, org, receiver.url("/ok?metrics"))
    event_id = await publish(client, org)
    await wait_for_message(
        client, org, (await only_message(client, org, event_id))["id"], "succeeded"
    )
    after = (await client.get("/metrics")).text
    delivered = "plaudit_messages_delivered_total"
    success = 'plaudit_delivery_attempts_total{outcome="success"}'
    assert sample(after, delivered) >= sample(before, delivered) + 1
    assert sample(after, success) >= 1
    sample(after, "plaudit_messages_pending")
    sample(after, "plaudit_oldest_pending_message_age_seconds")
    sample(after, "plaudit_delivery_duration_seconds_count")
