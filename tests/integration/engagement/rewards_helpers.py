"""Shared steps of the points, rewards and redemption tests, all through the public API
except the row counts that prove a refused request wrote nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import Connection, func, select

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment
from plaudit.store.engagement_tables import point_entries
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer
from tests.integration.engagement.store_snapshot import Rows, environment_rows


def env_id(org: CreatedOrganization) -> str:
    return org.environment_ids[Environment.PRODUCTION]


async def grant(
    client: httpx.AsyncClient, org: CreatedOrganization, employee_id: str, points: int
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/employees/{employee_id}/points",
        headers=bearer(org),
        json={"kind": "earn", "points": points},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def balance(client: httpx.AsyncClient, org: CreatedOrganization, employee_id: str) -> int:
    response = await client.get(
        f"/api/v1/employees/{employee_id}/points/balance",
        headers=bearer(org),
        params={"verify": "true"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["consistent"] is True, body
    return int(body["balance"])


def reward_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Bookstore gift card",
        "description": "Any bookstore in the chain",
        "point_cost": 30,
        "value": {"amount": "25.00", "currency": "EUR"},
        "stock": None,
        "voucher_valid_days": 365,
        "active": True,
    } | overrides


async def create_reward(
    client: httpx.AsyncClient, org: CreatedOrganization, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/rewards", headers=bearer(org), json=reward_body(**overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def events_of(
    client: httpx.AsyncClient, org: CreatedOrganization, event_type: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/events", headers=bearer(org), params={"type": event_type, "limit": 200}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def written(container: Container, org: CreatedOrganization) -> Rows:
    """What the organization's production environment holds: compared before and after a
    refused request to prove it wrote nothing."""
    return await environment_rows(container, env_id(org))


async def entries_sum(container: Container, employee_id: str) -> int:
    def unit(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(point_entries.c.amount), 0)).where(
                    point_entries.c.employee_id == employee_id
                )
            ).scalar_one()
        )

    return await container.db.read_with(unit)


def outcomes(responses: list[httpx.Response]) -> Counter[str]:
    """Parallel responses tallied: `created` or `<status> <error code>`."""
    return Counter(
        "created" if r.status_code == 201 else f"{r.status_code} {r.json()['error']['code']}"
        for r in responses
    )
