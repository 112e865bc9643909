from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer


def birthday(user: str = "usr_1") -> dict[str, Any]:
    return {
        "employee": {"id": user, "external_id": "E-1", "email": "ada@example.com", "name": "Ada"},
        "occurred_on": "2026-12-04",
    }


async def publish(
    client: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any], **kw: Any
) -> httpx.Response:
    return await client.post("/api/v1/events", json=body, headers=bearer(org, **kw))


async def test_publish_stores_event_and_answers_202(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await publish(client, org, {"type": "milestone.birthday", "data": birthday()})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"].startswith("evt_")
    assert body["type"] == "milestone.birthday"
    assert body["schema_version"] == 1
    fetched = await client.get(f"/api/v1/events/{body['id']}", headers=bearer(org))
    assert fetched.status_code == 200
    assert fetched.json()["data"] == birthday()


async def test_invalid_data_is_400_naming_the_path_and_stores_nothing(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    data = birthday()
    del data["employee"]["email"]
    response = await publish(client, org, {"type": "milestone.birthday", "data": data})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_event_data"
    assert error["details"][0]["path"] == "data.employee.email"
    assert "data.employee.email" in error["message"]
    listed = await client.get("/api/v1/events", headers=bearer(org))
    assert listed.json()["data"] == []


async def test_unknown_type_is_400(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    response = await publish(client, org, {"type": "cake.eaten", "data": {}})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_event_type"
    assert "milestone.birthday" in response.json()["error"]["details"]["known_types"]


async def test_idempotency_key_returns_first_event_and_stores_nothing_new(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    body = {"type": "milestone.birthday", "data": birthday(), "idempotency_key": "k-1"}
    first = await publish(client, org, body)
    second = await publish(client, org, body)
    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    listed = await client.get("/api/v1/events", headers=bearer(org))
    assert [e["id"] for e in listed.json()["data"]] == [first.json()["id"]]


async def test_idempotency_key_reused_with_other_body_is_409(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    await publish(
        client, org, {"type": "milestone.birthday", "data": birthday(), "idempotency_key": "k"}
    )
    clash = await publish(
        client,
        org,
        {"type": "milestone.birthday", "data": birthday("usr_2"), "idempotency_key": "k"},
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_key_reused"


async def test_concurrent_requests_with_one_idempotency_key_store_one_event(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    body = {"type": "milestone.birthday", "data": birthday(), "idempotency_key": "race"}
    responses = await asyncio.gather(*(publish(client, org, body) for _ in range(8)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await client.get("/api/v1/events", headers=bearer(org))
    assert len(listed.json()["data"]) == 1


async def test_idempotency_keys_are_per_environment(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    body = {"type": "milestone.birthday", "data": birthday(), "idempotency_key": "same"}
    prod = await publish(client, org, body)
    staging = await publish(client, org, body, env=Environment.STAGING)
    assert prod.json()["id"] != staging.json()["id"]


async def test_staging_and_production_share_no_events(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    prod = await publish(client, org, {"type": "milestone.birthday", "data": birthday()})
    staging_view = await client.get(
        f"/api/v1/events/{prod.json()['id']}", headers=bearer(org, Environment.STAGING)
    )
    assert staging_view.status_code == 404
    assert staging_view.json()["error"]["code"] == "not_found"
    listed = await client.get("/api/v1/events", headers=bearer(org, Environment.STAGING))
    assert listed.json()["data"] == []


async def test_other_organizations_events_are_invisible(
    client: httpx.AsyncClient, org: CreatedOrganization, container: Container
) -> None:
    other = await container.tenancy.create_organization("Other")
    mine = await publish(client, org, {"type": "milestone.birthday", "data": birthday()})
    response = await client.get(f"/api/v1/events/{mine.json()['id']}", headers=bearer(other))
    assert response.status_code == 404


async def test_list_filters_by_type_and_time_and_paginates_without_gaps(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    ids = []
    for i in range(7):
        r = await publish(client, org, {"type": "milestone.birthday", "data": birthday(f"usr_{i}")})
        ids.append(r.json()["id"])
    onboarding = {
        "employee": birthday()["employee"],
        "days_since_hire": 30,
        "hire_date": "2026-11-04",
        "occurred_on": "2026-12-04",
    }
    other = await publish(client, org, {"type": "milestone.onboarding", "data": onboarding})
    assert other.status_code == 202, other.text

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"type": "milestone.birthday", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/events", params=params, headers=bearer(org))).json()
        seen += [e["id"] for e in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3

    ascending = await client.get(
        "/api/v1/events", params={"order": "asc", "limit": 100}, headers=bearer(org)
    )
    assert [e["id"] for e in ascending.json()["data"]] == [*ids, other.json()["id"]]

    created = [e["created_at"] for e in ascending.json()["data"]]
    window = await client.get(
        "/api/v1/events",
        params={"since": created[2], "until": created[5], "order": "asc"},
        headers=bearer(org),
    )
    assert [e["id"] for e in window.json()["data"]] == ids[2:5]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"type": "nope.nope"}, "unknown_event_type"),
        ({"since": "2026-12-05T00:00:00Z", "until": "2026-12-04T00:00:00Z"}, "invalid_time_range"),
        ({"since": "2026-12-05T00:00:00"}, "invalid_time"),
    ],
)
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, org: CreatedOrganization, params: dict[str, str], code: str
) -> None:
    response = await client.get("/api/v1/events", params=params, headers=bearer(org))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_event_types_lists_the_catalog(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await client.get("/api/v1/event-types", headers=bearer(org))
    assert response.status_code == 200
    types = response.json()["data"]
    assert len(types) == 17
    awarded = next(t for t in types if t["name"] == "recognition.awarded")
    assert awarded["category"] == "recognition"
    assert awarded["schema"]["$id"] == "urn:plaudit:event:recognition.awarded:v1"
    assert awarded["example"]["receivers"]
    one = await client.get("/api/v1/event-types/survey.completed", headers=bearer(org))
    assert one.json()["name"] == "survey.completed"
    missing = await client.get("/api/v1/event-types/nope", headers=bearer(org))
    assert missing.status_code == 404
