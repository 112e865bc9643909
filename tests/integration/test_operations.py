"""Health, readiness, metrics, request ids and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from plaudit.app import create_app
from plaudit.config import Settings
from plaudit.domain.event_catalog import default_catalog
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

UNREACHABLE_DATABASE = "postgresql://nobody@127.0.0.1:1/none"


def birthday(**extra: Any) -> dict[str, Any]:
    body = {
        "type": "milestone.birthday",
        "data": dict(default_catalog().get("milestone.birthday").example),
    }
    return {**body, **extra}


# --- health and readiness ------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_the_database_is_reachable(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ready"}


@pytest.fixture
async def unreachable() -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database does not answer. No lifespan: the engine connects lazily."""
    application = create_app(
        Settings(database_url=UNREACHABLE_DATABASE, migrate_on_start=False)  # type: ignore[arg-type]
    )
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as http:
            yield http
    finally:
        await application.state.container.db.dispose()


async def test_readyz_is_503_when_the_database_is_unreachable(
    unreachable: httpx.AsyncClient,
) -> None:
    response = await unreachable.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "database_unavailable",
            "message": "the database cannot be reached",
            "details": None,
        }
    }
    assert "nobody" not in response.text
    # Liveness does not depend on the database: the process itself is fine.
    assert (await unreachable.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/endpoints", None),
        ("POST", "/api/v1/events", {"type": "milestone.birthday", "data": {}}),
        ("GET", "/connect/v1/campaigns", None),
    ],
)
async def test_requests_meeting_an_unreachable_database_are_told_to_retry(
    unreachable: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    """Not a 500: the database being away is no bug, and the client should try again."""
    headers = {"Authorization": "Bearer plk_live_nobody"}
    response = await unreachable.request(method, path, json=body, headers=headers)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "nobody" not in response.text


# --- metrics ----------------------------------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


async def test_metrics_count_requests_and_appended_events(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    before = (await client.get("/metrics")).text
    first = await client.post(
        "/api/v1/events", json=birthday(idempotency_key="metrics-1"), headers=bearer(org)
    )
    assert first.status_code == 202
    replay = await client.post(
        "/api/v1/events", json=birthday(idempotency_key="metrics-1"), headers=bearer(org)
    )
    assert replay.status_code == 202
    rejected = await client.post("/api/v1/events", json={"type": "x"}, headers=bearer(org))
    assert rejected.status_code == 422

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert "# TYPE plaudit_http_requests_total counter" in text
    assert "# TYPE plaudit_events_appended_total counter" in text
    assert "plaudit_http_request_duration_seconds_bucket" in text

    appended = "plaudit_events_appended_total"
    assert (
        sample(text, appended, type="milestone.birthday")
        - sample(before, appended, type="milestone.birthday")
        == 1
    )  # the replay appended nothing
    requests = "plaudit_http_requests_total"
    accepted = {"method": "POST", "route": "/api/v1/events", "status": "202"}
    assert sample(text, requests, **accepted) - sample(before, requests, **accepted) == 2
    invalid = {"method": "POST", "route": "/api/v1/events", "status": "422"}
    assert sample(text, requests, **invalid) - sample(before, requests, **invalid) == 1
    scrape = {"method": "GET", "route": "/metrics", "status": "200"}
    assert sample(text, requests, **scrape) - sample(before, requests, **scrape) == 1


async def test_metrics_label_unknown_routes_as_unmatched(client: httpx.AsyncClient) -> None:
    # Arbitrary paths must not become label values (unbounded cardinality).
    await client.get("/no/such/path/3f9a")
    text = (await client.get("/metrics")).text
    assert "/no/such/path/3f9a" not in text
    assert (
        sample(text, "plaudit_http_requests_total", method="GET", route="unmatched", status="404")
        >= 1
    )


# --- request ids --------------------------------------------------------------------------------

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    ("method", "path", "status", "auth"),
    [
        ("GET", "/healthz", 200, False),
        ("GET", "/readyz", 200, False),
        ("GET", "/metrics", 200, False),
        ("GET", "/openapi.json", 200, False),
        ("GET", "/api/v1/events", 200, True),
        ("GET", "/api/v1/events", 401, False),
        ("GET", "/api/v1/events/evt_nope", 404, True),
        ("GET", "/nowhere", 404, False),
        ("DELETE", "/api/v1/events", 405, True),
    ],
)
async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    method: str,
    path: str,
    status: int,
    auth: bool,
) -> None:
    response = await client.request(method, path, headers=bearer(org) if auth else {})
    assert response.status_code == status
    assert GENERATED_ID.match(response.headers["x-request-id"])


async def test_refusals_by_the_body_guard_carry_a_request_id(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    response = await client.post(
        "/api/v1/events",
        content=b"x",
        headers={**bearer(org), "Content-Type": "text/plain", "X-Request-Id": "guard-1"},
    )
    assert response.status_code == 415
    assert response.headers["x-request-id"] == "guard-1"


async def test_request_ids_are_unique(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    "incoming", ["req-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 128, "with space"]
)
async def test_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize("incoming", ["a" * 129, "tab\there", ""])
async def test_unsafe_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"] != incoming
    assert GENERATED_ID.match(response.headers["x-request-id"])


# --- OpenAPI --------------------------------------------------------------------------------------


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_openapi_lists_the_event_routes(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    assert set(paths["/api/v1/events"]) == {"get", "post"}
    assert set(paths["/api/v1/events/{event_id}"]) == {"get"}
    assert set(paths["/api/v1/event-types"]) == {"get"}
    assert set(paths["/api/v1/event-types/{name}"]) == {"get"}
    assert openapi["info"]["title"] == "Plaudit"


async def test_openapi_documents_the_error_responses_of_publishing(
    openapi: dict[str, Any],
) -> None:
    post = openapi["paths"]["/api/v1/events"]["post"]
    responses = post["responses"]
    assert "202" in responses
    for status in ("400", "401", "403", "409", "413", "415", "422"):
        assert status in responses, status
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, status
        assert responses[status]["description"]
    error_body = openapi["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    assert error_body["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    detail = openapi["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "details"}
    assert set(detail["required"]) == {"code", "message"}
    request = post["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/PublishEventIn"}


async def test_openapi_declares_bearer_security(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert len(schemes) == 1
    (name, scheme), *_ = schemes.items()
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for path, method in [
        ("/api/v1/events", "post"),
        ("/api/v1/events", "get"),
        ("/api/v1/events/{event_id}", "get"),
        ("/api/v1/event-types", "get"),
    ]:
        assert openapi["paths"][path][method]["security"] == [{name: []}], (path, method)
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert "security" not in openapi["paths"][open_path]["get"]
