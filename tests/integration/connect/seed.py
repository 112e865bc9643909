"""An environment with a little of everything Connect reads, made through the admin API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from plaudit.app_container import Container
from plaudit.domain.api_keys import Environment, Scope
from plaudit.tenancy.models import CreatedOrganization
from tests.integration.conftest import bearer


@dataclass(frozen=True)
class Seeded:
    ada: str
    bob: str
    cyd: str
    group_id: str
    recognition_id: str
    reward_id: str
    redemption_id: str
    voucher_code: str


async def connect_headers(
    container: Container,
    org: CreatedOrganization,
    env: Environment = Environment.PRODUCTION,
    scopes: tuple[Scope, ...] = (Scope.CONNECT_READ,),
) -> dict[str, str]:
    key = await container.tenancy.create_key(org.id, env, "connect", scopes)
    return {"Authorization": f"Bearer {key.secret}"}


async def _post(
    client: httpx.AsyncClient,
    org: CreatedOrganization,
    path: str,
    body: dict[str, Any],
    method: str = "POST",
) -> dict[str, Any]:
    response = await client.request(method, path, headers=bearer(org), json=body)
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


async def seed(client: httpx.AsyncClient, org: CreatedOrganization) -> Seeded:
    ada = await _post(
        client,
        org,
        "/api/v1/employees",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "department": "Engineering",
            "birth_date": "1990-12-10",
            "hire_date": "2020-01-06",
        },
    )
    bob = await _post(
        client, org, "/api/v1/employees", {"name": "Bob Babbage", "department": "Sales"}
    )
    cyd = await _post(
        client,
        org,
        "/api/v1/employees",
        {"name": "Cyd Charisse", "department": "Sales", "status": "inactive"},
    )
    group = await _post(client, org, "/api/v1/groups", {"name": "Analytical", "kind": "team"})
    await _post(
        client, org, f"/api/v1/groups/{group['id']}/members", {"employee_ids": [ada["id"]]}, "PUT"
    )
    recognition = await _post(
        client,
        org,
        "/api/v1/recognitions",
        {
            "giver_id": bob["id"],
            "receiver_ids": [ada["id"]],
            "message": "Great notes",
            "points": 20,
        },
    )
    await _post(
        client, org, f"/api/v1/employees/{ada['id']}/points", {"kind": "earn", "points": 100}
    )
    reward = await _post(
        client,
        org,
        "/api/v1/rewards",
        {"name": "Book token", "point_cost": 30, "value": {"amount": "25.00", "currency": "EUR"}},
    )
    redemption = await _post(
        client, org, "/api/v1/redemptions", {"employee_id": ada["id"], "reward_id": reward["id"]}
    )
    return Seeded(
        ada=ada["id"],
        bob=bob["id"],
        cyd=cyd["id"],
        group_id=group["id"],
        recognition_id=recognition["id"],
        reward_id=reward["id"],
        redemption_id=redemption["id"],
        voucher_code=redemption["voucher"]["code"],
    )
