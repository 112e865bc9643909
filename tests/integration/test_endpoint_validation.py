"""Endpoint configuration: bad input is a 422 naming the problem, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from plaudit.app import create_app
from plaudit.config import Settings
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer


@pytest.fixture(scope="module")
async def strict_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with production outbound rules: https only, no private addresses."""
    app: FastAPI = create_app(
        Settings(database_url=database_url),  # type: ignore[arg-type]
        with_workers=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://plaudit.test") as http:
            yield http


async def _refused(
    http: httpx.AsyncClient, org: CreatedOrganization, body: dict[str, Any], code: str
) -> dict[str, Any]:
    response = await http.post("/api/v1/endpoints", json=body, headers=bearer(org))
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    listed = await http.get("/api/v1/endpoints", headers=bearer(org))
    assert listed.json()["data"] == []
    return error


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://crm.example.com/hook", "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://user:pw@crm.example.com/hook", "credentials"),
        ("not a url", ""),
        ("https://no-such-host.invalid/hook", "resolve"),
    ],
)
async def test_refused_urls(
    strict_client: httpx.AsyncClient, org: CreatedOrganization, url: str, reason: str
) -> None:
    error = await _refused(strict_client, org, {"url": url}, "invalid_url")
    assert reason in error["message"].lower()


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"headers": {"Host": "evil.example"}}, "reserved_header"),
        ({"headers": {"Content-Length": "1"}}, "reserved_header"),
        ({"headers": {"webhook-signature": "v1,x"}}, "reserved_header"),
        ({"headers": {"X-Ok": "line\r\nbreak"}}, "invalid_headers"),
        ({"event_types": ["cake.eaten"]}, "unknown_event_type"),
        ({"template": '{"a": '}, "invalid_template"),
        ({"template": "a", "fields": {"include": ["data"]}}, "invalid_shaping"),
        ({"fields": {"include": ["data"], "exclude": ["type"]}}, "validation_error"),
        ({"retry_schedule": []}, "invalid_retry_schedule"),
        ({"retry_schedule": [0, -5]}, "invalid_retry_schedule"),
        ({"timeout_s": 0}, "validation_error"),
        ({"rate_limit_per_s": -1}, "validation_error"),
        ({"secret": "not-a-secret"}, "invalid_secret"),
        ({"surprise": True}, "validation_error"),
    ],
)
async def test_refused_settings(
    client: httpx.AsyncClient, org: CreatedOrganization, extra: dict[str, Any], code: str
) -> None:
    await _refused(client, org, {"url": "http://127.0.0.1:9/hook", **extra}, code)


async def test_template_error_carries_its_position(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    error = await _refused(
        client,
        org,
        {"url": "http://127.0.0.1:9/", "template": '{"a": type,, }'},
        "invalid_template",
    )
    assert isinstance(error["details"]["position"], int)


async def test_patch_rules(client: httpx.AsyncClient, org: CreatedOrganization) -> None:
    created = await client.post(
        "/api/v1/endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=bearer(org)
    )
    endpoint_id = created.json()["id"]
    null_url = await client.patch(
        f"/api/v1/endpoints/{endpoint_id}", json={"url": None}, headers=bearer(org)
    )
    assert null_url.status_code == 422
    bad_header = await client.patch(
        f"/api/v1/endpoints/{endpoint_id}", json={"headers": {"Host": "x"}}, headers=bearer(org)
    )
    assert bad_header.status_code == 422
    unchanged = await client.get(f"/api/v1/endpoints/{endpoint_id}", headers=bearer(org))
    assert unchanged.json()["headers"] == {}
    ok = await client.patch(
        f"/api/v1/endpoints/{endpoint_id}",
        json={"headers": {"X-Tenant": "acme"}, "description": "CRM"},
        headers=bearer(org),
    )
    assert ok.status_code == 200
    assert ok.json()["headers"] == {"x-tenant": "acme"}
    assert ok.json()["url"] == "http://127.0.0.1:9/hook"


async def test_endpoints_of_other_environments_are_not_found(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    from plaudit.domain.api_keys import Environment

    created = await client.post(
        "/api/v1/endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=bearer(org)
    )
    endpoint_id = created.json()["id"]
    staging = bearer(org, Environment.STAGING)
    for method, path in [
        ("GET", f"/api/v1/endpoints/{endpoint_id}"),
        ("GET", f"/api/v1/endpoints/{endpoint_id}/secret"),
        ("DELETE", f"/api/v1/endpoints/{endpoint_id}"),
        ("GET", f"/api/v1/endpoints/{endpoint_id}/attempts"),
    ]:
        response = await client.request(method, path, headers=staging)
        assert response.status_code == 404, (method, path)


async def test_delete_cancels_pending_messages(
    client: httpx.AsyncClient, org: CreatedOrganization
) -> None:
    created = await client.post(
        "/api/v1/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "enabled": False},
        headers=bearer(org),
    )
    endpoint_id = created.json()["id"]
    await client.post(
        "/api/v1/events",
        json={
            "type": "milestone.birthday",
            "data": {
                "employee": {"id": "usr_1", "external_id": None, "email": None, "name": "A"},
                "occurred_on": "2026-12-04",
            },
        },
        headers=bearer(org),
    )
    deleted = await client.delete(f"/api/v1/endpoints/{endpoint_id}", headers=bearer(org))
    assert deleted.status_code == 204
    messages = await client.get("/api/v1/messages", headers=bearer(org))
    assert [m["status"] for m in messages.json()["data"]] == ["cancelled"]
    assert (
        await client.get(f"/api/v1/endpoints/{endpoint_id}", headers=bearer(org))
    ).status_code == 404
