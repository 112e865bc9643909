"""Shared steps of the inbound tests: sources, pushes, receipts, counts."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
import orjson

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.factories import make_employee

DEAL_TEMPLATE = """{
  "external_id": id,
  "action": $exists(action) ? action : "create",
  "employee": {"email": owner},
  "metric": "revenue",
  "value": amount,
  "currency": currency,
  "occurred_at": closed_at,
  "attributes": {"stage": stage}
}"""


async def create_source(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    *,
    record_type: str = "transaction",
    template: str = DEAL_TEMPLATE,
    verification: dict[str, Any] | None = None,
    dedupe: dict[str, Any] | None = None,
    name: str = "CRM deals",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "kind": "webhook",
        "record_type": record_type,
        "template": template,
        "verification": verification or {"type": "none"},
    }
    if dedupe is not None:
        body["dedupe"] = dedupe
    response = await client.post("/api/v1/sources", json=body, headers=bearer(org))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def source_for_ada(
    client: httpx.AsyncClient, container: Container, org: CreatedOrganization, **options: Any
) -> tuple[str, dict[str, Any]]:
    """(environment id, a new source) once employee ada@example.com exists."""
    env = org.environment_ids[Environment.PRODUCTION]
    await make_employee(container, env, email="ada@example.com")
    return env, await create_source(client, org, **options)


def path_of(source: dict[str, Any]) -> str:
    url: str = source["ingest_url"]
    return url[url.index("/ingest/") :]


async def push(
    client: httpx.AsyncClient,
    source: dict[str, Any],
    body: bytes | Any,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return await client.post(
        path_of(source),
        content=raw,
        headers={"content-type": content_type, **(headers or {})},
    )


async def receipt(
    client: httpx.AsyncClient, org: CreatedOrganization, receipt_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/receipts/{receipt_id}", headers=bearer(org))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def records(
    client: httpx.AsyncClient, org: CreatedOrganization, source_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/sources/{source_id}/records",
        params={"limit": 200, **params},
        headers=bearer(org),
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def assert_nothing_lost(
    client: httpx.AsyncClient, org: CreatedOrganization, source_id: str, sent: int
) -> dict[str, int]:
    """received = loaded + rejected + duplicates, per request and over the source."""
    response = await client.get(
        f"/api/v1/sources/{source_id}/receipts", params={"limit": 200}, headers=bearer(org)
    )
    assert response.status_code == 200
    totals = {"records": 0, "loaded": 0, "rejected": 0, "duplicates": 0}
    for item in response.json()["data"]:
        assert item["records"] == item["loaded"] + item["rejected"] + item["duplicates"], item
        for name in totals:
            totals[name] += item[name]
    every = await records(client, org, source_id, status="any")
    assert len(every) == totals["records"] == sent
    assert totals["records"] == totals["loaded"] + totals["rejected"] + totals["duplicates"]
    by_status = {s: sum(1 for r in every if r["status"] == s) for s in ("loaded", "rejected")}
    assert by_status["loaded"] == totals["loaded"]
    assert by_status["rejected"] == totals["rejected"]
    return totals


def deal(
    deal_id: str, owner: str, amount: Any = 100, *, action: str | None = None, **extra: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": deal_id,
        "owner": owner,
        "amount": amount,
        "currency": "EUR",
        "closed_at": "2026-03-03T12:00:00Z",
        "stage": "won",
        **extra,
    }
    if action is not None:
        found["action"] = action
    return found


def hmac_signature(
    secret: str, content: bytes, algorithm: str = "sha256", hex_: bool = True
) -> str:
    digest = hmac.new(secret.encode(), content, getattr(hashlib, algorithm)).digest()
    return digest.hex() if hex_ else base64.b64encode(digest).decode()
