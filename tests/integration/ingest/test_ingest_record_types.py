"""`employee` (an HRIS sync through the employee import) and `event` (published to the event
log and delivered by the outbound pipeline) end to end."""

from __future__ import annotations

import json

import httpx

from plaudit.app_container import Container
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.delivery_helpers import create_endpoint
from tests.integration.ingest.helpers import assert_nothing_lost, create_source, push, receipt
from tests.integration.receiver import Receiver

HRIS_TEMPLATE = """{
  "external_id": worker.id,
  "email": $lowercase(worker.work_email),
  "name": worker.first & " " & worker.last,
  "department": org.dept,
  "status": worker.active ? "active" : "inactive",
  "manager": org.manager_id
}"""


def worker(
    worker_id: str, first: str, *, active: bool = True, manager: str | None = None
) -> dict[str, object]:
    return {
        "worker": {
            "id": worker_id,
            "first": first,
            "last": "Lovelace",
            "work_email": f"{first}@Example.com",
            "active": active,
        },
        "org": {"dept": "Engineering", "manager_id": manager},
    }


async def test_hris_employees_are_upserted_through_the_employee_import(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization
) -> None:
    source = await create_source(client, org, record_type="employee", template=HRIS_TEMPLATE)
    first = await push(
        client,
        source,
        [worker("W-1", "ada"), worker("W-2", "bob", manager="W-1"), worker("W-3", "x" * 300)],
    )
    assert first.status_code == 202
    assert (first.json()["accepted"], first.json()["rejected"]) == (2, 1)
    detail = await receipt(client, org, first.json()["receipt_id"])
    ada, _bob, bad = detail["results"]
    assert ada["target_id"].startswith("usr_")
    assert bad["stage"] == "load"
    assert "name" in bad["reason"]
    listed = await client.get("/api/v1/employees", params={"limit": 50}, headers=bearer(org))
    by_external = {e["external_id"]: e for e in listed.json()["data"]}
    assert by_external["W-1"]["email"] == "ada@example.com"
    assert by_external["W-2"]["manager_id"] == ada["target_id"]
    # The next sync deactivates W-2: an update, and `employee.deactivated` is raised.
    second = await push(client, source, [worker("W-2", "bob", active=False, manager="W-1")])
    assert second.json()["accepted"] == 1
    events = await client.get(
        "/api/v1/events", params={"type": "employee.deactivated"}, headers=bearer(org)
    )
    [deactivated] = events.json()["data"]
    assert deactivated["data"]["employee"]["external_id"] == "W-2"
    assert deactivated["data"]["reason"] == "imported"
    await assert_nothing_lost(client, org, source["id"], sent=4)


async def test_event_records_are_published_and_delivered(
    client: httpx.AsyncClient,
    container: Container,
    org: CreatedOrganization,
    receiver: Receiver,
) -> None:
    await create_endpoint(client, org, receiver.url("/inbound-events"))
    source = await create_source(
        client,
        org,
        record_type="event",
        template="""{
          "type": "milestone.birthday",
          "idempotency_key": "bday-" & person.id,
          "data": {
            "employee": {"id": person.id, "external_id": null, "email": null, "name": person.name},
            "occurred_on": day
          }
        }""",
    )
    sample = {"person": {"id": "usr_1", "name": "Ada"}, "day": "2026-12-04"}
    response = await push(client, source, [sample, {**sample, "day": "Dec 4"}, sample])
    assert response.status_code == 202
    # One published; one breaks the catalog schema; one repeats the idempotency key.
    assert (response.json()["accepted"], response.json()["rejected"]) == (2, 1)
    detail = await receipt(client, org, response.json()["receipt_id"])
    published, invalid, repeated = detail["results"]
    assert published["target_id"].startswith("evt_")
    assert repeated["target_id"] == published["target_id"]
    assert invalid["reason_code"] == "invalid_event_data"
    [delivered] = await receiver.wait_for(1, "/inbound-events")
    body = json.loads(delivered.body)
    assert body["type"] == "milestone.birthday"
    assert body["data"]["occurred_on"] == "2026-12-04"


async def test_sources_cannot_forge_operational_events(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    source = await create_source(
        client, org, record_type="event", template='{"type": kind, "data": {}}'
    )
    response = await push(client, source, {"kind": "endpoint.disabled"})
    assert response.json()["rejected"] == 1
    detail = await receipt(client, org, response.json()["receipt_id"])
    assert detail["results"][0]["reason_code"] == "unknown_event_type"
