"""Shared steps of the delivery tests: endpoints, events, waiting for message states."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from plaudit.app import build_container, running
from plaudit.app_container import Container
from plaudit.config import Settings
from plaudit.domain.clock import Clock
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer

FAST_RETRIES = [0, 0.1, 0.1, 0.1]


def birthday(user: str = "usr_1") -> dict[str, Any]:
    return {
        "employee": {"id": user, "external_id": "E-1", "email": "ada@example.com", "name": "Ada"},
        "occurred_on": "2026-12-04",
    }


@asynccontextmanager
async def own_plaudit(database_url: str, clock: Clock | None = None) -> AsyncIterator[Container]:
    """Plaudit on a database of the test's own, sending to loopback, with no workers."""
    settings = Settings(
        database_url=database_url,  # type: ignore[arg-type]
        outbound_allow_http=True,
        outbound_allow_cidrs="127.0.0.0/8",
    )
    container = build_container(settings, clock=clock)
    async with running(container, with_workers=False):
        yield container


async def create_endpoint(
    client: httpx.AsyncClient, org: CreatedOrganization, url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/endpoints", json={"url": url, **fields}, headers=bearer(org)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def publish(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    event_type: str = "milestone.birthday",
    data: dict[str, Any] | None = None,
) -> str:
    response = await client.post(
        "/api/v1/events", json={"type": event_type, "data": data or birthday()}, headers=bearer(org)
    )
    assert response.status_code == 202, response.text
    event_id: str = response.json()["id"]
    return event_id


async def messages_of(
    client: httpx.AsyncClient, org: CreatedOrganization, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/messages", params={"limit": 200, **params}, headers=bearer(org)
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def wait_for_message(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    message_id: str,
    status: str,
    timeout: float = 10.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"/api/v1/messages/{message_id}", headers=bearer(org))
        assert response.status_code == 200, response.text
        message: dict[str, Any] = response.json()
        if message["status"] == status:
            return message
        if time.monotonic() > deadline:
            raise AssertionError(f"message {message_id} is {message['status']}, not {status}")
        await asyncio.sleep(0.05)


async def only_message(
    client: httpx.AsyncClient, org: CreatedOrganization, event_id: str, timeout: float = 5.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = await messages_of(client, org, event_id=event_id)
        if found:
            assert len(found) == 1, found
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no message for {event_id}")
        await asyncio.sleep(0.05)


async def events_of_type(
    client: httpx.AsyncClient, org: CreatedOrganization, event_type: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/events", params={"type": event_type, "limit": 200}, headers=bearer(org)
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found
